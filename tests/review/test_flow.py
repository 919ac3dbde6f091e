"""The interpretation flow and the review rules through the API."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from review.models import Decision, Escalation, EscalationEvent
from vifsite.vif.models import AgentKey, Outcome, Witness

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")

SUBMIT = reverse("api:review:interpretation-submit")


def _reviewer(django_user_model, name):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123")
    user.groups.add(Group.objects.get(name="reviewers"))
    client = APIClient()
    client.force_authenticate(user)
    return user, client


@pytest.fixture
def rita(django_user_model):
    return _reviewer(django_user_model, "rita")


@pytest.fixture
def sam(django_user_model):
    return _reviewer(django_user_model, "sam")


def extraction(agent, survey, number=120):
    url = reverse("api:seismic:section", kwargs={"survey_id": survey.pk, "section_type": "inline",
                                                 "section_number": str(number)})
    return agent.get(url).json()


def submit(agent, section, text, **extra):
    body = {"text": text, "extraction_ids": [section["extraction_id"]], "model_id": "gpt-test", "confidence": 0.97,
            "task_criticality": "routine", **extra}
    return agent.post(SUBMIT, body, format="json")


def test_a_grounded_confident_routine_interpretation_is_accepted(agent, f3):
    section = extraction(agent, f3)
    text = (f"Inline 120 has an RMS amplitude of {section['statistics']['rms']:.1f}. The reflectors appear "
            "continuous; lithology cannot be determined without well logs.")
    response = submit(agent, section, text)
    data = response.json()
    assert response.status_code == 200 and data["status"] == "accepted", data
    assert data["confidence"]["grounding_score"] == 1.0 and data["confidence"]["score"] == pytest.approx(0.97)
    witness = Witness.objects.get(vif_id=data["vif_id"])
    assert witness.confidence_method == "explicit*grounding" and witness.parent_id is not None
    assert witness.context_snapshot == [{"id": f"extraction:{section['extraction_id']}",
                                         "sha256": section["provenance"]["data_sha256"]}]
    assert not Escalation.objects.exists()


def test_an_invented_number_lowers_the_confidence_and_escalates_with_reasons(agent, f3):
    section = extraction(agent, f3)
    text = f"Inline 120 has an RMS amplitude of {section['statistics']['rms'] * 2:.1f}, possibly a bright interval."
    response = submit(agent, section, text, task_criticality="important")
    data = response.json()
    assert response.status_code == 201 and data["status"] == "escalated"
    assert data["confidence"]["score"] == pytest.approx(0.97 * 0.75)
    codes = {r["code"] for r in data["escalation"]["reasons"]}
    assert codes == {"gate", "contradicted"}
    assert "numeric" in data["explanation"] and data["suggested_tools"]
    escalation = Escalation.objects.get(pk=data["escalation"]["id"])
    assert escalation.due_at - escalation.created_at == pytest.approx(timedelta(hours=4), abs=timedelta(seconds=5))
    assert EscalationEvent.objects.filter(escalation=escalation).count() == 1


def test_hydrocarbon_claims_always_need_a_human(agent, f3):
    section = extraction(agent, f3)
    text = "The bright interval might indicate gas; AVO analysis and well logs would be needed to confirm it."
    data = submit(agent, section, text, confidence=0.99).json()
    assert data["status"] == "escalated"
    assert [r["code"] for r in data["escalation"]["reasons"]] == ["high_stakes"]
    none = submit(agent, section, "Gas presence cannot be established from this section without AVO analysis.",
                  confidence=0.99).json()
    assert none["status"] == "accepted"


def test_bad_confidence_records_nothing(agent, f3):
    section = extraction(agent, f3)
    witnesses = Witness.objects.count()
    response = submit(agent, section, "Inline 120 looks layered, possibly.", confidence="NaN")
    assert response.status_code == 400
    assert Witness.objects.count() == witnesses and not Escalation.objects.exists()


def _escalate(agent, f3, criticality="routine"):
    section = extraction(agent, f3)
    return submit(agent, section, "The bright interval is a gas-charged sand.",
                  task_criticality=criticality).json()["escalation"]["id"]


def test_one_reviewer_decides_and_the_other_gets_a_409_with_the_winner(agent, f3, rita, sam):
    item = _escalate(agent, f3)
    url = reverse("api:review:escalation-decision", kwargs={"escalation_id": item})
    version = agent.get(reverse("api:review:escalation-detail", kwargs={"escalation_id": item})).json()["version"]
    first = rita[1].post(url, {"decision": "reject", "comment": "no support", "version": version}, format="json")
    second = sam[1].post(url, {"decision": "approve", "version": version}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "rejected"
    assert second.status_code == 409 and "rita already decided it: reject" in second.json()["detail"]
    assert Decision.objects.filter(escalation_id=item).count() == 1
    outcome = Outcome.objects.get()
    assert outcome.correct is False and outcome.source == "human" and outcome.recorded_by == "user:rita"
    polled = agent.get(reverse("api:review:escalation-detail", kwargs={"escalation_id": item})).json()
    assert polled["decision"]["decision"] == "reject" and polled["decision"]["reviewer"] == "rita"


def test_critical_items_need_two_different_approvals(agent, f3, rita, sam):
    item = _escalate(agent, f3, "critical")
    url = reverse("api:review:escalation-decision", kwargs={"escalation_id": item})
    first = rita[1].post(url, {"decision": "approve", "reviewer_confidence": 0.8}, format="json").json()
    assert first["status"] == "in_review" and first["approvals"] == 1
    again = rita[1].post(url, {"decision": "approve"}, format="json")
    assert again.status_code == 400 and "different reviewer" in again.json()["detail"]
    final = sam[1].post(url, {"decision": "approve"}, format="json").json()
    assert final["status"] == "approved" and final["approvals"] == 2
    assert Outcome.objects.get().correct is True


def test_a_reviewer_cannot_decide_what_their_own_agent_submitted(f3, rita, agent):
    user, client = rita
    _, key = AgentKey.objects.create_key(name="ritas-bot", owner=user, expiry_date=timezone.now() + timedelta(days=1))
    own = APIClient()
    own.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    item = _escalate(own, f3)
    response = client.post(reverse("api:review:escalation-decision", kwargs={"escalation_id": item}),
                           {"decision": "approve"}, format="json")
    assert response.status_code == 403 and "your own agent key" in response.json()["detail"]


def test_agents_and_non_reviewers_cannot_decide(agent, f3, django_user_model):
    item = _escalate(agent, f3)
    url = reverse("api:review:escalation-decision", kwargs={"escalation_id": item})
    assert agent.post(url, {"decision": "approve"}, format="json").status_code == 403
    outsider = APIClient()
    outsider.force_authenticate(django_user_model.objects.create_user("olga", "o@example.com", "pw-olga-123"))
    assert outsider.post(url, {"decision": "approve"}, format="json").status_code == 403
    assert Escalation.objects.get(pk=item).status == "pending"


def test_claiming_is_first_come_and_a_revision_needs_text(agent, f3, rita, sam):
    item = _escalate(agent, f3)
    claim = reverse("api:review:escalation-claim", kwargs={"escalation_id": item})
    assert rita[1].post(claim).json()["status"] == "in_review"
    lost = sam[1].post(claim)
    assert lost.status_code == 409 and "assigned to rita" in lost.json()["detail"]
    url = reverse("api:review:escalation-decision", kwargs={"escalation_id": item})
    assert rita[1].post(url, {"decision": "revise"}, format="json").status_code == 400
    assert "Say what you changed" in rita[1].post(url, {"decision": "revise", "revised_text": "A possible bright "
                                                   "interval."}, format="json").json()["detail"]
    revised = rita[1].post(url, {"decision": "revise", "revised_text": "A possible bright interval.",
                                 "comment": "gas is not established"},
                           format="json").json()
    assert revised["status"] == "revised" and Outcome.objects.get().note == "A possible bright interval."
    assert [e.to_status for e in EscalationEvent.objects.filter(escalation_id=item)] == \
        ["pending", "pending", "in_review", "revised"]  # created, assigned, claimed, decided
