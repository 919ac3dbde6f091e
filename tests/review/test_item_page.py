"""An item's page: the rules of a decision (the same through the page and REST), what was typed surviving a
refused decision, four eyes as each reviewer sees it, a human decision over an automatic label, and the
numbers and findings in words."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from review import item_page, services
from review.models import Decision, Escalation
from review.templatetags import review_format as fmt
from vifsite.errors import InputError
from vifsite.vif import monitoring
from vifsite.vif import services as vif_services
from vifsite.vif.models import Outcome

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")

CLAIM = "Inline 120 has an RMS amplitude of 87.5; a bright spot probably sits at crossline 300 around 600 ms."


def person(django_user_model, name, group="reviewers"):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def rita(django_user_model):
    return person(django_user_model, "rita")


def escalate(criticality="routine", text=CLAIM, findings=(), reasons=None, sample=False, settings=None):
    if settings is not None:
        settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0 if sample else 0.0
    [recorded] = vif_services.witness_record_many(items=[{"model_id": "m", "prompt": "p", "output": text,
                                                          "confidence": 0.6, "task_criticality": criticality}],
                                                  writer="agent:bot")
    now = timezone.now()
    escalation = Escalation.objects.create(
        witness=recorded.witness, interpretation=text, criticality=criticality, submitted_by="agent:bot",
        audit={"findings": list(findings), "grounding_score": 0.75}, due_at=now + timedelta(hours=1),
        hard_due_at=now + timedelta(hours=2), approvals_needed=2 if criticality == "critical" else 1,
        reasons=reasons or [{"code": "gate", "why": "Confidence 0.6 is below κ."}])
    return escalation


def url(escalation, query=""):
    return reverse("review:item", kwargs={"escalation_id": escalation.pk}) + (f"?{query}" if query else "")


# --- Deciding --------------------------------------------------------------------------------------

def test_nothing_is_chosen_and_the_revised_text_starts_empty(client, rita):
    escalation = escalate()
    client.force_login(rita)
    page = client.get(url(escalation)).content.decode()
    assert 'id="decision-form"' in page and " checked" not in page
    assert ('<textarea id="revised_text" name="revised_text" rows="4" aria-describedby="revised-hint"></textarea>'
            in page)
    assert "<legend>Your decision" in page  # the radios are grouped under a legend


def test_a_reject_without_a_comment_is_refused_and_what_was_typed_stays(client, rita):
    escalation = escalate()
    client.force_login(rita)
    response = client.post(url(escalation, "criticality=routine"),
                           {"decision": "reject", "comment": "  ", "reviewer_confidence": "0.7", "version": "1"})
    page = response.content.decode()
    assert response.status_code == 400 and "Say why you reject it" in page
    assert 'value="reject" data-key="r" checked' in page and 'value="0.7"' in page
    assert 'action="?criticality=routine"' in page  # the queue's filters are still carried
    assert Escalation.objects.get(pk=escalation.pk).status == "pending" and not Decision.objects.exists()
    api = APIClient()
    api.force_authenticate(rita)
    refused = api.post(reverse("api:review:escalation-decision", kwargs={"escalation_id": escalation.pk}),
                       {"decision": "reject"}, format="json")
    assert refused.status_code == 400 and "Say why you reject it" in refused.json()["detail"]


def test_a_revision_needs_a_comment_and_a_changed_text(client, rita):
    escalation = escalate()
    client.force_login(rita)
    same = "  " + CLAIM.upper().replace(" ", "\n ") + " "
    response = client.post(url(escalation), {"decision": "revise", "comment": "hedge it", "revised_text": same,
                                             "version": "1"})
    page = response.content.decode()
    assert response.status_code == 400 and "The revised text is the claim unchanged" in page
    assert "hedge it</textarea>" in page and 'value="revise" data-key="e" checked' in page
    with pytest.raises(InputError, match="Say what you changed"):
        services.escalation_decide(escalation_id=escalation.pk, reviewer=rita, decision="revise",
                                   revised_text="A possible bright spot.")
    done = client.post(url(escalation), {"decision": "revise", "comment": "hedged", "version": "1",
                                         "revised_text": "A possible bright spot; its cause is uncertain."})
    assert done.status_code == 302
    assert Decision.objects.get().revised_text == "A possible bright spot; its cause is uncertain."


def test_the_revised_text_is_kept_only_for_a_revision(client, rita):
    escalation = escalate()
    client.force_login(rita)
    response = client.post(url(escalation), {"decision": "approve", "revised_text": "something else", "version": "1"})
    assert response.status_code == 302
    assert Decision.objects.get().revised_text == "" and Escalation.objects.get().status == "approved"
    other = escalate()
    services.escalation_decide(escalation_id=other.pk, reviewer=rita, decision="reject", comment="wrong RMS",
                               revised_text="ignored")
    assert Decision.objects.get(escalation=other).revised_text == ""


def test_decide_and_next_goes_to_the_next_item_of_the_same_queue(client, rita):
    first, second = escalate(), escalate()
    escalate(criticality="important")  # filtered out: never the next one
    client.force_login(rita)
    response = client.post(url(first, "criticality=routine"), {"decision": "approve", "version": "1",
                                                               "then": "next"})
    assert response.status_code == 302 and response["Location"] == url(second, "criticality=routine")
    page = client.get(response["Location"]).content.decode()
    assert f'href="{reverse("review:queue")}?criticality=routine"' in page  # back to the same queue
    assert f"Item {first.pk}: Approved." in page


def test_a_missing_item_is_a_404_page(client, rita):
    client.force_login(rita)
    response = client.get(reverse("review:item", kwargs={"escalation_id": 987654}))
    assert response.status_code == 404


# --- Four eyes -------------------------------------------------------------------------------------

def test_four_eyes_as_the_first_approver_the_second_and_everyone_after_see_it(client, django_user_model):
    sara, sven = person(django_user_model, "sara", "senior reviewers"), person(django_user_model, "sven",
                                                                                "senior reviewers")
    escalation = escalate("critical")
    client.force_login(sara)
    client.post(url(escalation), {"decision": "approve", "comment": "the bright spot is there", "version": "1"})
    escalation.refresh_from_db()
    assert escalation.status == "in_review" and escalation.assignee == sven  # goes to another senior reviewer
    mine = client.get(url(escalation)).content.decode()
    assert "You approved this item" in mine and 'id="decision-form"' not in mine
    assert "Awaiting second approval" in mine
    client.force_login(sven)
    theirs = client.get(url(escalation)).content.decode()
    assert "Awaiting second approval" in theirs and "First approval by sara" in theirs
    assert "the bright spot is there" in theirs and 'id="decision-form"' in theirs
    client.post(url(escalation), {"decision": "approve", "comment": "agreed", "version": str(escalation.version)})
    closed = client.get(url(escalation)).content.decode()
    assert Escalation.objects.get(pk=escalation.pk).status == "approved"
    assert "Approved by two reviewers" in closed and "sara" in closed and "sven" in closed and "agreed" in closed
    assert 'id="decision-form"' not in closed


# --- A human decision over an automatic label --------------------------------------------------------

@pytest.mark.parametrize("sample", [True, False])
def test_a_human_decision_supersedes_an_automatic_label_for_calibration(client, rita, settings, sample):
    escalation = escalate(sample=sample, settings=settings,
                          reasons=[{"code": "spot_check", "why": "Drawn at random as a calibration spot check."}])
    vif_services.outcome_record(witness=escalation.witness, correct=True, source="automatic",
                                recorded_by="checker:bot", note="automatic")
    assert monitoring.calibration_report(model="m")["accuracy"] == 1.0
    client.force_login(rita)
    page = client.get(url(escalation)).content.decode()
    assert "Automatic label" in page and "correct</strong>, by checker:bot" in page and 'id="decision-form"' in page
    response = client.post(url(escalation), {"decision": "reject", "comment": "no bright spot there", "version": "1"})
    assert response.status_code == 302, response.content.decode()
    current = Outcome.objects.current().get(witness=escalation.witness)
    assert current.source == "human" and current.correct is False and current.supersedes.source == "automatic"
    assert Outcome.objects.filter(witness=escalation.witness).count() == 2  # the automatic one stays as history
    report = monitoring.calibration_report(model="m")
    assert report["n"] == 1 and report["accuracy"] == 0.0  # one witness, the human's label
    kappa_rows = list(Outcome.objects.current().filter(calibration_sample=True).values_list("correct", flat=True))
    assert kappa_rows == ([False] if sample else [])
    closed = client.get(url(escalation)).content.decode()
    assert "Replaced by the reviewer" in closed


# --- Words and numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "digits", "expected"), [
    (117.74397140502948, 3, "118"), (27.099609375, 3, "27.1"), (0.002816537631741274, 3, "0.00282"),
    (-3.3863823413848877, 3, "−3.39"), (11702.844582374159, 3, "11,700"), (48000, 3, "48,000"),
    (99.96, 3, "100"), (0.0, 3, "0"), (32.96150228501191, 4, "32.96"), (None, 3, ""), ("n/a", 3, "n/a"),
])
def test_sig_formats_to_significant_digits(value, digits, expected):
    assert fmt.sig(value, digits) == expected


def test_ranges_units_changes_and_durations_read_as_people_write_them():
    assert fmt.span_of([26.41, 27.685006530974324], "Hz") == "26.4–27.7\u00a0Hz"
    assert fmt.span_of([580.0, 580.0], "ms") == "580\u00a0ms"
    assert fmt.unit(fmt.sig(27.0996), "Hz") == "27.1\u00a0Hz"
    assert fmt.percent_change(35.0, 87.5) == "−60\u00a0%" and fmt.percent_change(117.7, 67.8) == "+74\u00a0%"
    assert fmt.percent_change(1.0, 0) == ""
    assert fmt.duration(42) == "42\u00a0s" and fmt.duration(timedelta(minutes=42)) == "42\u00a0min"
    assert fmt.duration(3 * 3600 + 300) == "3\u00a0h 5\u00a0min"
    assert fmt.duration(2 * 86400 + 4 * 3600) == "2\u00a0d 4\u00a0h"
    assert fmt.exact(27.099609375) == "27.099609375" and fmt.status_label("needs_analysis") == "needs analysis"


def test_a_finding_says_what_was_claimed_and_what_the_data_show():
    numeric = {"category": "numeric", "severity": "HIGH", "span": "an rms amplitude of 87.5", "message": "…",
               "evidence": {"claimed": 87.5, "presented_as": "RMS", "closest": {"statistic": "rms", "value": 35.0}}}
    assert item_page.what_it_says(numeric) == "RMS claimed 87.5 · measured 35.0 · −60\u00a0%"
    other = {"category": "numeric", "severity": "HIGH", "span": "x", "message": "…",
             "evidence": {"claimed": 75.0, "presented_as": "dominant frequency",
                          "closest": {"statistic": "dominant_frequency_hz", "value": 27.0996}}}
    assert item_page.what_it_says(other) == "dominant frequency claimed 75\u00a0Hz · measured 27.1\u00a0Hz · −64\u00a0%"
    assert item_page.what_it_says({"category": "out_of_scope", "message": "Needs well logs."}) == "Needs well logs."


def test_the_claim_marks_each_finding_in_place_and_lists_the_ones_it_cannot_find():
    text = "Inline 120 has an RMS amplitude of 87.5 <b>; a bright spot sits at crossline 300 around 600 ms."
    findings = [
        {"category": "numeric", "severity": "HIGH", "span": "AN RMS AMPLITUDE OF 87.5", "message": "m"},
        {"category": "feature_fabrication", "severity": "CRITICAL", "span": "bright spot", "message": "m",
         "evidence": {"location": {"inline": 120, "crossline": 300, "sample": 600}}},
        {"category": "overconfidence", "severity": "MEDIUM", "span": "not in the text", "message": "m"},
    ]
    html, views = item_page.findings_view(text, findings, "inline")
    assert '<mark id="claim-span-0" class="finding-mark sev-high"' in html and "an RMS amplitude of 87.5</mark>" in html
    assert "bright spot</mark>" in html and "&lt;b&gt;" in html
    assert [v["placed"] for v in views] == [True, True, False]
    assert views[1]["windows"] == [{"axis": "crossline", "range": [300.0, 300.0]},
                                   {"axis": "sample", "range": [600.0, 600.0]}]
    assert views[1]["severity_words"] == "critical"


def test_confidence_and_calibration_in_words(settings):
    settings.VIFSITE_CALIBRATION_MIN_SAMPLES = 30
    assert item_page.confidence_words("explicit*grounding", {"grounding": 1.0}) == "explicit score × grounding 1.0"
    assert item_page.confidence_words("logprobs", {}) == "token log-probabilities"
    assert item_page.calibration_words({"status": "INSUFFICIENT_DATA", "n": 12, "ece": 0.1}, "m") == \
        "Not enough labelled outcomes to judge the calibration of m (12 of 30)."
