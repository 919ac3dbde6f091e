"""κ suggestions from the database: calibration samples that end without a verdict count as errors, the
split is the same on every recomputation, and the admin says why a tier gets no κ."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from review import services as review_services
from review.models import Escalation
from vifsite.errors import InputError
from vifsite.vif import services
from vifsite.vif.models import KappaSuggestion, UnresolvedSample


@pytest.fixture
def samples(record, settings):
    """Every witness recorded is a calibration sample."""
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0

    def make(n, confidence, *, correct=None, model_id="m5", tier="critical"):
        items = record(n, confidence=confidence, task_criticality=tier, model_id=model_id)
        if correct is not None:
            for item in items:
                services.outcome_record(witness=item.witness, correct=correct, source="human",
                                        recorded_by="user:rita")
        return [item.witness for item in items]

    return make


def escalate(witness, *, hours=1):
    now = timezone.now()
    return Escalation.objects.create(witness=witness, interpretation="A bright spot at 1200 ms.",
                                     criticality=witness.task_criticality, due_at=now + timedelta(hours=hours),
                                     hard_due_at=now + timedelta(hours=2 * hours))


def test_expired_calibration_samples_count_as_errors(samples):
    samples(200, 0.99, correct=True)
    samples(200, 0.7, correct=False)
    waiting = samples(30, 0.99)  # confident, sent for a spot check, and nobody decides them
    for witness in waiting:
        escalate(witness)
    [before] = services.kappa_suggestions_compute()
    assert before.suggested == Decimal("0.71")  # open items count for nothing yet

    counts = review_services.sla_sweep(now=timezone.now() + timedelta(hours=3))
    assert counts["expired"] == 30
    assert UnresolvedSample.objects.filter(reason="expired", recorded_by="system:sla").count() == 30
    [after] = services.kappa_suggestions_compute()
    assert after.pk == before.pk and after.suggested is None
    evidence = after.evidence
    assert evidence["samples"] == 430 and evidence["unresolved"] == 30
    top = next(t for t in evidence["tested"] if t["kappa"] == 0.99)
    assert top["accepted"] == 230 and top["errors"] == 30  # counted as wrong answers
    assert evidence["why_none"]["code"] == "every_threshold_failed"
    assert "30 calibration samples without a label" in evidence["why_none"]["message"]
    with pytest.raises(InputError, match="without a label"):
        services.kappa_suggestion_apply(suggestion=after, reason="try", changed_by="user:ada")

    # A label that arrives later replaces the note: these 30 turn out right, and κ comes back.
    for witness in waiting:
        services.outcome_record(witness=witness, correct=True, source="automatic", recorded_by="agent:checker")
    [labelled] = services.kappa_suggestions_compute()
    assert labelled.suggested == Decimal("0.71") and labelled.evidence["unresolved"] == 0


def test_a_request_for_more_analysis_leaves_the_sample_unresolved(samples, admin_user):
    [witness] = samples(1, 0.93)
    escalation = escalate(witness)
    review_services.escalation_decide(escalation_id=escalation.pk, reviewer=admin_user, decision="needs_analysis",
                                      comment="Need the gathers before I can tell.")
    note = UnresolvedSample.objects.get(witness=witness)
    assert note.reason == "needs_analysis" and note.recorded_by == "user:ada"
    assert note.confidence_micros == 930_000 and note.criticality == "critical" and note.model_id == "m5"
    assert services.calibration_sample_unresolved(witness=witness, reason="expired", recorded_by="x") == note


def test_items_that_are_not_calibration_samples_leave_no_note(record, settings, admin_user):
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    [expiring, sent_back] = [item.witness for item in record(2, confidence=0.6, task_criticality="critical")]
    escalate(expiring)
    review_services.sla_sweep(now=timezone.now() + timedelta(hours=3))
    review_services.escalation_decide(escalation_id=escalate(sent_back).pk, reviewer=admin_user,
                                      decision="needs_analysis", comment="More data.")
    assert not UnresolvedSample.objects.exists()
    assert Escalation.objects.filter(status__in=["expired", "needs_analysis"]).count() == 2


def test_a_decided_sample_is_no_unresolved_one(samples, admin_user):
    [witness] = samples(1, 0.9)
    escalation = escalate(witness)
    review_services.escalation_decide(escalation_id=escalation.pk, reviewer=admin_user, decision="reject",
                                      comment="Wrong horizon.")
    assert services.calibration_sample_unresolved(witness=witness, reason="expired", recorded_by="x") is None
    assert not UnresolvedSample.objects.exists()


def test_recomputing_gives_the_same_suggestion(samples):
    samples(50, 0.99, correct=False, tier="routine")  # an over-confident top bin: half of it wrong
    samples(50, 0.99, correct=True, tier="routine")
    samples(360, 0.9, correct=True, tier="routine")
    samples(40, 0.9, correct=False, tier="routine")
    [first] = services.kappa_suggestions_compute()
    evidence = first.evidence
    # The walk stops at the top bin; the split sequence certifies everything (error 18 % ≤ α = 0.30).
    assert first.suggested == Decimal("0.5") and evidence["certified_by"] == ["split"]
    assert evidence["tested"][0]["walk"] == "failed"
    assert evidence["split"]["order_samples"] + evidence["split"]["test_samples"] == 500
    [second] = services.kappa_suggestions_compute()
    assert second.suggested == first.suggested and second.evidence == evidence


def test_the_admin_says_why_a_tier_gets_no_kappa(samples, admin_user, client):
    samples(300, 0.95, correct=True)
    samples(200, 0.95, correct=False)  # base error 0.4 against α = 0.05
    samples(10, 0.95, model_id="m6", correct=True)  # too few
    services.kappa_suggestions_compute()
    floor = KappaSuggestion.objects.get(model_id="m5")
    few = KappaSuggestion.objects.get(model_id="m6")
    assert floor.evidence["why_none"]["code"] == "every_threshold_failed"
    assert floor.evidence["floor"] == pytest.approx((0.4 - 0.05) / 0.95)
    assert few.evidence["why_none"]["code"] == "too_few_samples"
    client.force_login(admin_user)
    page = client.get(reverse("admin:vif_kappasuggestion_changelist")).content.decode()
    assert "at least 37% of items must go to a human" in page and "at least 37%" in page
    assert "Too few samples to test any κ" in page
    detail = client.get(reverse("admin:vif_kappasuggestion_change", args=[floor.pk])).content.decode()
    assert "The base error μ = 0.400 exceeds α = 0.05" in detail
    asked = client.post(reverse("admin:vif_kappasuggestion_changelist"),
                        {"action": "apply_suggestions", "_selected_action": [few.pk]}).content.decode()
    assert "Too few samples to test any κ" in asked
