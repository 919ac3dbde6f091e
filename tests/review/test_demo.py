"""First run: `bootstrap_demo` makes the demo accounts and, through the real submission path, a review
queue with every reason to escalate, labelled calibration samples and a κ suggestion; once only, or
not at all with VIFSITE_DEMO=false. A login lands reviewers on the queue."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from review import services
from review.models import REVIEWERS_GROUP, SENIOR_GROUP, Decision, Escalation
from seismic.models import Extraction, Survey
from vifsite.vif import ledger, monitoring
from vifsite.vif.models import AgentKey, KappaSuggestion, Outcome, Witness

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_ledger_no_sampling")]


def bootstrap(capsys) -> str:
    call_command("bootstrap_demo")
    return capsys.readouterr().out


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        Survey, Extraction, Witness, Escalation, Decision, Outcome, AgentKey, KappaSuggestion)}


def test_the_demo_fills_the_queue_with_every_reason_to_escalate_all_witnessed(capsys, django_user_model):
    out = bootstrap(capsys)
    users = {u.username: u for u in django_user_model.objects.prefetch_related("groups")}
    assert {g.name for g in users["reviewer"].groups.all()} == {REVIEWERS_GROUP}
    assert {g.name for g in users["reviewer2"].groups.all()} == {REVIEWERS_GROUP}
    assert {g.name for g in users["senior"].groups.all()} == {SENIOR_GROUP}
    assert users["admin"].is_superuser and all(name in out for name in users)

    escalations = list(Escalation.objects.select_related("witness", "submitted_key"))
    assert len(escalations) >= 25
    reasons = {r["code"] for e in escalations for r in e.reasons}
    assert reasons == set(Escalation.Reason.values)
    assert any(e.criticality == "critical" and e.approvals_needed == 2 for e in escalations)
    assert any(r["code"] == Escalation.Reason.SPOT_CHECK and e.witness.calibration_sample
               for e in escalations for r in e.reasons)
    key = AgentKey.objects.get(name="demo-agent")
    assert key.owner is None and all(e.submitted_key == key and e.submitted_owner_id is None for e in escalations)
    # Witnessed for real: each links its audit and its extraction, and the ledger verifies.
    for e in escalations:
        assert e.witness.sequence and e.witness.parent_id and e.extraction_ids
        assert e.witness.context_snapshot == [{"id": f"extraction:{pk}", "sha256": sha} for pk, sha in
                                              Extraction.objects.filter(pk__in=e.extraction_ids)
                                              .values_list("pk", "array_sha256")]
    verification = ledger.verify()
    assert verification.ok, verification.problem

    report = monitoring.calibration_report()
    assert report["n"] >= 200 and report["status"] != "INSUFFICIENT_DATA" and report["ece"] > 0
    assert Outcome.objects.filter(calibration_sample=True, source=Outcome.Source.AUTOMATIC).count() == report["n"]
    assert KappaSuggestion.objects.filter(suggested__isnull=False).exists()


def test_the_demo_reviewer_can_decide_a_demo_item(capsys, django_user_model):
    bootstrap(capsys)
    reviewer = django_user_model.objects.get(username="reviewer")
    item = Escalation.objects.filter(status=Escalation.Status.PENDING, approvals_needed=1).first()
    decided = services.escalation_decide(escalation_id=item.pk, reviewer=reviewer, decision="approve",
                                         comment="Checked.")
    assert decided["status"] == Escalation.Status.APPROVED
    # The critical item the senior reviewer approved first waits for a second reviewer: the demo reviewer.
    waiting = Escalation.objects.get(decisions__final=False)
    assert services.escalation_decide(escalation_id=waiting.pk, reviewer=reviewer,
                                      decision="approve")["status"] == Escalation.Status.APPROVED


def test_a_second_run_adds_nothing(capsys):
    bootstrap(capsys)
    before = counts()
    out = bootstrap(capsys)
    assert counts() == before and "Accounts created" not in out and "nothing added" in out


@pytest.mark.parametrize("how", ["env", "flag"])
def test_with_the_demo_off_there_are_accounts_only(capsys, monkeypatch, django_user_model, how):
    if how == "env":
        monkeypatch.setenv("VIFSITE_DEMO", "false")
        call_command("bootstrap_demo")
    else:
        call_command("bootstrap_demo", no_demo=True)
    assert "senior" in capsys.readouterr().out
    assert django_user_model.objects.filter(groups__name=REVIEWERS_GROUP).count() == 2
    assert not Survey.objects.exists() and not Escalation.objects.exists() and not Witness.objects.exists()


def log_in(client, username: str, next_url: str = ""):
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": username, "password": "pw-123-secret"}, follow=True)


@pytest.fixture
def people(django_user_model):
    rita = django_user_model.objects.create_user("rita", "", "pw-123-secret")
    rita.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    django_user_model.objects.create_user("pat", "", "pw-123-secret")


def test_a_reviewer_lands_on_the_queue_and_others_on_the_surveys(client, people):
    assert log_in(client, "rita").redirect_chain[-1][0] == reverse("review:queue")
    client.logout()
    # A first visit starts at the front door (the login then carries next=/): still the queue for a reviewer.
    assert log_in(client, "rita", "/").redirect_chain[-1][0] == reverse("review:queue")
    client.logout()
    assert log_in(client, "pat").redirect_chain[-1][0] == reverse("seismic:survey-list")


def test_a_login_still_goes_where_next_says(client, people):
    assert log_in(client, "rita", reverse("review:calibration")).redirect_chain[-1][0] == reverse("review:calibration")
    assert client.get(reverse("home"), {"next": "https://evil.example/"}).url == reverse("review:queue")
