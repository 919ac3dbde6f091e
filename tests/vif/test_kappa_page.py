"""Per-model κ: the gate takes the most specific policy, a model's suggestion changes that model's gate only,
the κ page's preview counts what the gate would have done, and only staff who may change κ policies apply."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from vifsite.errors import Conflict
from vifsite.vif import kappa_page, services
from vifsite.vif.models import KappaPolicy, KappaPolicyChange, KappaSuggestion


def policy(criticality, threshold, *, domain="", model_id=""):
    found = KappaPolicy.objects.filter(criticality=criticality, domain=domain, model_id=model_id).first()
    return services.kappa_policy_set(
        policy=found or KappaPolicy(criticality=criticality, domain=domain, model_id=model_id, threshold=threshold),
        threshold=Decimal(str(threshold)), reason="test", changed_by="user:test")


def kappa(criticality, domain="", model_id=""):
    return services.gate_decide(confidence_micros=500_000, criticality=criticality, domain=domain,
                                model_id=model_id).threshold_micros / 1e6


@pytest.fixture
def suggestion(record, settings):
    """critical, model m5: 200 right at 0.99 and 200 wrong at 0.7 (κ 0.71 certified)."""
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0
    for confidence, correct in ((0.99, True), (0.7, False)):
        for item in record(200, confidence=confidence, task_criticality="critical", model_id="m5"):
            services.outcome_record(witness=item.witness, correct=correct, source="human", recorded_by="user:rita")
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    [found] = services.kappa_suggestions_compute()
    assert found.suggested == Decimal("0.71") and (found.model_id, found.domain) == ("m5", "")
    return found


def test_the_gate_takes_the_most_specific_policy(db):
    policy("critical", 0.80, model_id="m1")
    policy("critical", 0.90, domain="medical", model_id="m1")
    policy("critical", 0.99, domain="financial", model_id="m2")
    assert kappa("critical") == 0.95  # seeded tier default
    assert kappa("critical", "medical") == 0.98  # seeded domain policy
    assert kappa("critical", "medical", "m1") == 0.90  # criticality + domain + model
    # The model's κ and the domain's both apply: the stricter governs (the seeded critical.financial 0.97).
    assert kappa("critical", "financial", "m1") == 0.97
    assert kappa("critical", "", "m1") == 0.80  # the model's κ where no domain policy applies
    assert kappa("critical", "legal", "m1") == 0.80
    assert kappa("critical", "medical", "m2") == 0.98  # m2 has a κ only in financial
    assert kappa("critical", "financial", "m2") == 0.99
    assert kappa("critical", "", "m3") == 0.95
    policy("critical", 0.99, model_id="m4")
    assert kappa("critical", "financial", "m4") == 0.99  # the model's κ is the stricter here
    result = services.gate_decide(confidence_micros=850_000, criticality="critical", domain="legal",
                                  model_id="m1")
    assert result.passed and result.policy == "critical@m1" and "of m1" in result.reason


def test_applying_a_models_suggestion_changes_that_models_gate_only(suggestion, record):
    tier = KappaPolicy.objects.get(criticality="critical", domain="", model_id="")
    applied = services.kappa_suggestion_apply(suggestion=suggestion, reason="Q4 samples", changed_by="user:ada")
    assert (applied.criticality, applied.domain, applied.model_id) == ("critical", "", "m5")
    assert applied.threshold == Decimal("0.71") and applied.changes.get().old_threshold is None
    tier.refresh_from_db()
    assert tier.threshold == Decimal("0.95") and not tier.changes.filter(changed_by="user:ada").exists()
    [m5] = record(1, confidence=0.8, task_criticality="critical", model_id="m5")
    [m6] = record(1, confidence=0.8, task_criticality="critical", model_id="m6")
    assert m5.gate.passed and m5.witness.kappa_threshold == 0.71 and m5.gate.policy == "critical@m5"
    assert not m6.gate.passed and m6.witness.kappa_threshold == 0.95 and m6.gate.policy == "critical"
    # Applying again moves nothing else; the history of the model's policy grows.
    services.kappa_suggestion_apply(suggestion=suggestion, reason="again", changed_by="user:ada")
    assert KappaPolicy.objects.filter(model_id="m5").count() == 1 and applied.changes.count() == 2


def test_a_suggestion_recomputed_since_the_page_was_read_is_not_applied(suggestion):
    with pytest.raises(Conflict, match="recomputed since you looked"):
        services.kappa_suggestion_apply(suggestion=suggestion, reason="r", changed_by="user:ada",
                                        expected=Decimal("0.8"))
    assert not KappaPolicy.objects.filter(model_id="m5").exists()


def test_automatic_application_sets_the_models_kappa(record, settings):
    settings.VIFSITE_KAPPA_AUTO_MIN, settings.VIFSITE_KAPPA_AUTO_MAX = 0.5, 0.99
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0
    for confidence, correct in ((0.99, True), (0.7, False)):
        for item in record(200, confidence=confidence, task_criticality="critical", model_id="m7"):
            services.outcome_record(witness=item.witness, correct=correct, source="human", recorded_by="user:rita")
    settings.VIFSITE_KAPPA_AUTO_APPLY = True
    services.kappa_suggestions_compute()
    assert KappaPolicy.objects.get(criticality="critical", model_id="m7").threshold == Decimal("0.71")
    assert KappaPolicy.objects.get(criticality="critical", domain="", model_id="").threshold == Decimal("0.95")


def test_the_preview_regates_the_last_30_days_of_the_scope(suggestion, record):
    policy("critical", 0.90, domain="medical", model_id="m5")  # m5 in medical keeps its own κ
    recorded = (record(7, confidence=0.96, task_criticality="critical", model_id="m5")  # passes now and after
                + record(5, confidence=0.8, task_criticality="critical", model_id="m5")  # only after
                + record(3, confidence=0.6, task_criticality="critical", model_id="m5")  # neither
                + record(4, confidence=0.8, task_criticality="critical", model_id="m5", domain="financial")
                + record(2, confidence=0.95, task_criticality="critical", model_id="m5", domain="medical")
                + record(6, confidence=0.8, task_criticality="critical", model_id="m6"))  # another model
    assert len(recorded) == 27
    page = kappa_page.suggestion_page(suggestion)
    preview = page["preview"]
    # The fixture's 400 calibration samples are m5 critical witnesses too: 200 at 0.99, 200 at 0.7.
    rows = {r.domain: r for r in preview.rows}
    assert set(rows) == {""}  # financial keeps its stricter 0.97, medical m5's own 0.90
    plain = rows[""]
    assert (plain.items, plain.now_pass, plain.after_pass) == (415, 207, 212)
    assert plain.current == Decimal("0.95") and plain.current_key == "critical"
    assert preview.elsewhere == [("financial", 4, "critical.financial"), ("medical", 2, "critical.medical@m5")]
    assert preview.items == 415 and preview.after_below == 203 and preview.now_below == 208
    assert preview.sentence().startswith("415 items in the last 30 days: at κ 0.71, 212 would pass the gate and 203 "
                                         "go to a human; now (κ 0.95) 207 and 208.")
    codes = [w.code for w in page["warnings"]]
    assert "large_drop" in codes and "domain_override" in codes  # 0.95 → 0.71; critical.financial 0.97 stays


def test_the_preview_counts_only_the_30_days_before_its_time(suggestion, record):
    cut = timezone.now()
    later = record(3, confidence=0.8, task_criticality="critical", model_id="m5")
    policies = list(KappaPolicy.objects.all())

    def items(now):
        return kappa_page.preview(criticality="critical", domain="", model_id="m5", threshold=Decimal("0.71"),
                                  policies=policies, now=now).items

    assert items(cut) == 400  # the calibration samples; the three recorded after the cut are not yet there
    assert items(cut + timedelta(days=30)) == 3  # the samples are now more than 30 days old
    assert items(max(w.witness.created_at for w in later)) == 403


# --- the page -------------------------------------------------------------------------------------------

def staff(django_user_model, name, *perms):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123", is_staff=True)
    user.user_permissions.add(*(Permission.objects.get(content_type__app_label="vif", codename=p) for p in perms))
    return user


def test_a_viewer_sees_the_page_and_cannot_apply(client, django_user_model, suggestion):
    client.force_login(staff(django_user_model, "vic", "view_kappasuggestion"))
    url = reverse("kappa:suggestion", args=[suggestion.pk])
    page = client.get(url).content.decode()
    assert "critical tasks in every domain, of model m5 only" in page and 'id="apply-form"' not in page
    assert "needs the permission to change κ policies" in page and "0.710000" not in page
    refused = client.post(url, {"reason": "forged", "expected": "0.71"})
    assert refused.status_code == 403 and not KappaPolicy.objects.filter(model_id="m5").exists()
    assert reverse("kappa:index") in client.get(reverse("kappa:index")).content.decode()  # the nav link


def test_a_person_without_the_view_permission_is_refused(client, django_user_model, suggestion, reviewer):
    for user in (staff(django_user_model, "sid"), reviewer):
        client.force_login(user)
        for url in (reverse("kappa:index"), reverse("kappa:suggestion", args=[suggestion.pk]),
                    reverse("kappa:table-csv", args=[suggestion.pk, "curve"])):
            response = client.get(url)
            assert response.status_code == 403 and "ask an admin" in response.content.decode(), url
        assert reverse("kappa:index") not in client.get(reverse("seismic:survey-list")).content.decode()


def test_staff_who_may_change_policies_apply_with_a_reason_through_the_page(client, django_user_model, suggestion):
    client.force_login(staff(django_user_model, "kai", "view_kappasuggestion", "change_kappapolicy"))
    url = reverse("kappa:suggestion", args=[suggestion.pk])
    page = client.get(url).content.decode()
    assert 'id="apply-form"' in page and "Apply κ 0.71" in page
    missing = client.post(url, {"reason": " ", "expected": "0.710000"})
    assert missing.status_code == 400 and "needs a reason" in missing.content.decode()
    done = client.post(url, {"reason": "Q4 samples", "expected": "0.710000"}, follow=True).content.decode()
    assert "κ for critical tasks in every domain, of model m5 only (every version) is now 0.71; it was 0.95" in done
    change = KappaPolicyChange.objects.get(policy__model_id="m5")
    assert change.changed_by == "user:kai" and change.reason.startswith("Q4 samples")
    assert 'id="history-table"' in done and "Q4 samples" in done
    history = client.get(reverse("kappa:table-csv", args=[suggestion.pk, "history"])).content.decode()
    assert history.splitlines()[1].endswith(",user:kai,,0.71,Q4 samples (Learn-then-Test suggestion from 400 "
                                            "calibration samples of m5)")


def test_the_csv_tables_are_the_pages_numbers(client, admin_user, suggestion):
    client.force_login(admin_user)
    curve = client.get(reverse("kappa:table-csv", args=[suggestion.pk, "curve"]))
    assert curve["Content-Type"].startswith("text/csv") and "attachment" in curve["Content-Disposition"]
    rows = [line.split(",") for line in curve.content.decode().splitlines()]
    assert rows[0][:3] == ["kappa", "accepted", "errors"] and len(rows) == 102
    at = {r[0]: r for r in rows[1:]}
    assert at["0.71"][1:4] == ["200", "0", "0"] and at["0.70"][1:4] == ["400", "200", "0.5"]
    assert "walk" in at["0.71"][6]
    preview = client.get(reverse("kappa:table-csv", args=[suggestion.pk, "preview"])).content.decode()
    assert preview.splitlines()[1] == ",400,0.95,critical,200,200,0.71,200,200,200,200"
    assert client.get(reverse("kappa:table-csv", args=[suggestion.pk, "nope"])).status_code == 404
    index = client.get(reverse("kappa:index-csv")).content.decode()
    assert index.splitlines()[1].startswith("critical,,m5,,400,0.71,0.95,critical,,")


def test_why_there_is_no_suggestion_is_on_the_page(client, admin_user, record, settings):
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0
    for item in record(10, confidence=0.95, task_criticality="critical", model_id="m9"):
        services.outcome_record(witness=item.witness, correct=True, source="human", recorded_by="user:rita")
    [none] = services.kappa_suggestions_compute()
    client.force_login(admin_user)
    page = client.get(reverse("kappa:suggestion", args=[none.pk])).content.decode()
    assert 'id="why-none"' in page and "Too few samples to test any κ" in page
    assert 'id="apply-form"' not in page
    index = client.get(reverse("kappa:index")).content.decode()
    assert "why none" in index and "No suggestion: no calibration sample of this tier has a label yet" in index


def test_the_index_and_the_admin_list_cost_a_fixed_number_of_queries(client, admin_user, suggestion,
                                                                      django_assert_max_num_queries):
    client.force_login(admin_user)
    client.get(reverse("kappa:index"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("admin:vif_kappasuggestion_changelist"))
    for i in range(5):
        KappaSuggestion.objects.create(criticality="routine", model_id=f"x{i}", evidence={"samples": 1})
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(reverse("admin:vif_kappasuggestion_changelist")).content.decode()
    assert "0.95 (critical)" in page and "0.70 (routine)" in page
    with django_assert_max_num_queries(8):
        client.get(reverse("kappa:index"))
