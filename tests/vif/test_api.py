"""The VIF's REST API: recording witnesses, the gate, outcomes, calibration, metrics, the key."""

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.vif.conftest import witness_input
from vifsite.vif import calibration, ledger, services, signing
from vifsite.vif.models import GateEvent, KappaPolicy, KappaPolicyChange, Outcome, Witness

WITNESSES = reverse("api:vif:witness-create")
BATCH = reverse("api:vif:witness-batch")
GATE = reverse("api:vif:gate")


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def detail(vif_id, name="witness-detail"):
    return reverse(f"api:vif:{name}", kwargs={"vif_id": vif_id})


def test_raw_prompt_and_output_are_hashed_and_not_stored(agent):
    body = witness_input(usage={"prompt_tokens": 12, "completion_tokens": 9})
    response = agent.post(WITNESSES, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    witness = Witness.objects.get(vif_id=data["vif_id"])
    assert witness.prompt_hash == sha(body["prompt"]) and witness.output_hash == sha(body["output"])
    assert witness.prompt_text == "" and witness.output_text == ""
    assert (witness.prompt_tokens, witness.output_tokens, witness.total_tokens) == (12, 9, 21)
    assert not witness.prompt_tokens_estimated
    assert witness.writer == "agent:bot" and witness.operation == "llm"
    assert data["confidence_score"] == 0.9 and data["confidence_method"] == "explicit"
    assert data["confidence_band"] == "B" and data["gate"]["verdict"] == "PASS"
    assert data["routing"]["action"] == "proceed_with_warning"
    assert data["sequence"] == 1


def test_text_is_kept_only_when_asked_and_tokens_are_estimated_without_usage(agent):
    data = agent.post(WITNESSES, witness_input(store_text=True), format="json").json()
    witness = Witness.objects.get(vif_id=data["vif_id"])
    assert witness.output_text.startswith("A bright spot")
    assert witness.prompt_tokens_estimated and data["prompt_tokens_estimated"]


def test_hashes_alone_are_enough(agent):
    body = witness_input(prompt_hash="a" * 64, output_hash="B" * 64, confidence=0.99)
    del body["prompt"], body["output"]
    data = agent.post(WITNESSES, body, format="json").json()
    witness = Witness.objects.get(vif_id=data["vif_id"])
    assert witness.output_hash == "b" * 64 and witness.prompt_tokens is None


@pytest.mark.parametrize("body, fragment", [
    (witness_input(confidence="NaN"), "finite"),
    (witness_input(confidence="Infinity"), "finite"),
    (witness_input(confidence=1.5), "[0, 1]"),
    (witness_input(confidence=None, logprobs=[0.3]), "≤ 0"),
    (witness_input(prompt_hash="xyz", prompt=None), "64 hexadecimal"),
    (witness_input(output_hash=sha("other")), "not the SHA-256"),
    (witness_input(task_criticality="urgent"), "valid choice"),
    (witness_input(tool_parameters={"big": 2 ** 60}), "canonical JSON"),
    (witness_input(parent_vif_id="00000000-0000-0000-0000-000000000000"), "not a recorded witness"),
])
def test_bad_witnesses_get_a_400_and_store_nothing(agent, body, fragment):
    body = {k: v for k, v in body.items() if v is not None}
    response = agent.post(WITNESSES, body, format="json")
    assert response.status_code == 400
    assert fragment in json.dumps(response.json(), ensure_ascii=False)
    assert Witness.objects.count() == 0 and GateEvent.objects.count() == 0


def test_a_nan_literal_in_the_json_body_is_a_400(agent):
    raw = json.dumps(witness_input(confidence=0.5)).replace("0.5", "NaN")
    response = agent.post(WITNESSES, raw, content_type="application/json")
    assert response.status_code == 400 and Witness.objects.count() == 0


def test_confidence_is_computed_from_logprobs_and_the_method_recorded(agent):
    logprobs = [-0.02, -0.1, -0.3]
    body = {k: v for k, v in witness_input(logprobs=logprobs).items() if k != "confidence"}
    data = agent.post(WITNESSES, body, format="json").json()
    assert data["confidence_method"] == "logprobs"
    assert data["confidence_score"] == pytest.approx(np.exp(np.mean(logprobs)), abs=1e-6)


def test_the_gate_abstains_below_kappa_with_a_reason(agent):
    data = agent.post(WITNESSES, witness_input(confidence=0.96, task_criticality="critical", domain="medical"),
                      format="json").json()
    assert data["gate"]["verdict"] == "ABSTAIN" and data["gate"]["threshold"] == 0.98
    assert "below κ = 0.980" in data["gate"]["reason"] and data["routing"]["action"] == "escalate"
    assert data["kappa_gate_passed"] is False
    other = agent.post(GATE, {"confidence": 0.96, "task_criticality": "critical", "domain": "geology"},
                       format="json").json()
    assert other["verdict"] == "PASS" and other["threshold"] == 0.95 and other["policy"] == "critical"
    assert agent.post(GATE, {"confidence": 0.95, "task_criticality": "critical"}, format="json").json()["passed"]


def test_every_gate_evaluation_is_recorded_so_the_abstention_rate_is_real(agent):
    for value in (0.5, 0.9, 0.99, 0.6):
        agent.post(GATE, {"confidence": value, "task_criticality": "important"}, format="json")
    agent.post(WITNESSES, witness_input(confidence=0.7), format="json")
    assert GateEvent.objects.count() == 5 and GateEvent.objects.filter(passed=False).count() == 3
    assert agent.post(GATE, {"confidence": "nan", "task_criticality": "routine"}, format="json").status_code == 400
    assert GateEvent.objects.count() == 5


def test_a_batch_is_recorded_in_one_transaction_or_not_at_all(agent):
    good = [witness_input(confidence=0.5 + i / 100) for i in range(5)]
    response = agent.post(BATCH, {"witnesses": good}, format="json")
    assert response.status_code == 201
    assert [w["sequence"] for w in response.json()["witnesses"]] == [1, 2, 3, 4, 5]
    bad = good[:2] + [witness_input(confidence=2.0)] + good[:2]
    response = agent.post(BATCH, {"witnesses": bad}, format="json")
    assert response.status_code == 400 and response.json()["index"] == 2
    assert Witness.objects.count() == 5
    assert ledger.verify().ok


def test_lineage_links_parent_and_children(agent):
    parent = agent.post(WITNESSES, witness_input(), format="json").json()["vif_id"]
    child = agent.post(WITNESSES, witness_input(parent_vif_id=parent), format="json").json()["vif_id"]
    data = agent.get(detail(parent)).json()
    assert data["children"] == [child]
    assert agent.get(detail(child)).json()["parent_vif_id"] == parent


def test_the_witness_detail_shows_the_vif_fields_and_verifies_its_entry(agent):
    vif_id = agent.post(WITNESSES, witness_input(temperature=0.2, replay_seed=7), format="json").json()["vif_id"]
    data = agent.get(detail(vif_id)).json()
    for name in ("model_id", "model_provider", "prompt_hash", "output_hash", "confidence_score", "confidence_band",
                 "entropy", "task_criticality", "kappa_threshold", "kappa_gate_passed", "replay_seed", "writer",
                 "parent_vif_id"):
        assert name in data
    assert data["ledger"]["verified"] and data["replay_seed"] == 7
    assert agent.get(detail("not-a-uuid")).status_code == 404


def test_an_agent_key_cannot_edit_or_delete_a_witness(agent, admin_user, client):
    vif_id = agent.post(WITNESSES, witness_input(), format="json").json()["vif_id"]
    for method in ("put", "patch", "delete"):
        assert getattr(agent, method)(detail(vif_id), {"confidence": 0.1}, format="json").status_code == 405
    client.force_login(admin_user)
    witness = Witness.objects.get(vif_id=vif_id)
    page = reverse("admin:vif_witness_change", args=[witness.pk])
    assert client.get(page).status_code == 200  # visible ...
    client.post(page, {"model_id": "edited"})
    assert client.post(reverse("admin:vif_witness_delete", args=[witness.pk]), {"post": "yes"}).status_code == 403
    witness.refresh_from_db()
    assert witness.model_id == "gpt-test" and ledger.verify().ok


def test_outcomes_from_people_and_checkers_not_from_the_writer(agent, checker, reviewer, client):
    vif_id = agent.post(WITNESSES, witness_input(), format="json").json()["vif_id"]
    url = detail(vif_id, "witness-outcome")
    assert agent.post(url, {"correct": True}, format="json").status_code == 403  # a plain agent key
    response = checker.post(url, {"correct": False, "note": "contradicted by inline 120"}, format="json")
    assert response.status_code == 201 and response.json()["recorded_by"] == "agent:checker"
    outcome = Outcome.objects.get()
    assert outcome.source == "automatic" and outcome.confidence_micros == 900000 and outcome.model_id == "gpt-test"
    client.force_login(reviewer)
    second = client.post(url, {"correct": True}, content_type="application/json")
    assert second.status_code == 409 and "already has an outcome" in second.json()["detail"]
    own = checker.post(WITNESSES, witness_input(), format="json").json()["vif_id"]
    assert checker.post(detail(own, "witness-outcome"), {"correct": True}, format="json").status_code == 400


def test_the_calibration_endpoint_reports_what_the_pure_functions_compute(db, record, reviewer, client):
    rng = np.random.default_rng(1)
    confidences = np.round(rng.uniform(0.5, 1.0, 120), 2)
    correct = rng.random(120) < confidences - 0.1
    recorded = services.witness_record_many(
        items=[witness_input(confidence=float(c), model_id="m1") for c in confidences], writer="agent:bot")
    for item, ok in zip(recorded, correct, strict=True):
        services.outcome_record(witness=item.witness, correct=bool(ok), source="api", recorded_by="user:rita")
    client.force_login(reviewer)
    data = client.get(reverse("api:vif:calibration"), {"model": "m1", "bins": 10}).json()
    expected = calibration.summary(calibration.Histogram.from_samples(confidences, correct.astype(int)))
    assert data["n"] == 120
    assert data["ece"] == pytest.approx(expected["ece"], abs=1e-12)
    assert data["brier"] == pytest.approx(expected["brier"], abs=1e-12)
    assert data["status"] == expected["status"] and len(data["reliability"]) == 10
    assert data["by_group"][0]["model_id"] == "m1" and data["by_group"][0]["n"] == 120
    assert data["over_time"][0]["n"] == 120
    assert client.get(reverse("api:vif:calibration"), {"window": "soon"}).status_code == 400
    png = client.get(reverse("api:vif:reliability-png"), {"model": "m1"})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    figure = client.get(reverse("api:vif:reliability-figure"), {"model": "m1"}).json()
    assert {trace["type"] for trace in figure["data"]} == {"scatter", "bar"}


def test_metrics_alert_on_band_c_and_kappa_failures(agent, reviewer, client, scraper):
    agent.post(BATCH, {"witnesses": [witness_input(confidence=0.5) for _ in range(3)]
                       + [witness_input(confidence=0.97)]}, format="json")
    client.force_login(reviewer)
    data = client.get(reverse("api:vif:metrics")).json()
    assert data["operations"] == 4 and data["bands"]["C"]["count"] == 3
    assert data["kappa_failure_rate"] == 0.75
    assert data["by_criticality"]["important"]["kappa_failures"] == 3
    assert {alert["kind"] for alert in data["alerts"]} >= {"band_c", "kappa_failures"}
    assert agent.get(reverse("api:vif:metrics")).status_code == 403
    assert scraper.get(reverse("api:vif:metrics"), {"window": "7d"}).status_code == 200


def test_prometheus_text_for_staff_and_metrics_keys_only(agent, scraper, reviewer, admin_user, client):
    agent.post(WITNESSES, witness_input(confidence=0.5), format="json")
    assert agent.get("/metrics").status_code == 403
    client.force_login(reviewer)
    assert client.get("/metrics").status_code == 403
    response = scraper.get("/metrics", HTTP_ACCEPT="text/plain")
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    bands = {s.labels["band"]: s.value for s in families["vif_operations"].samples}
    assert bands == {"A": 0, "B": 0, "C": 1}
    assert families["vif_ledger_length"].samples[0].value == 1
    client.force_login(admin_user)
    assert client.get("/metrics").status_code == 200


def test_the_ledger_key_verifies_entries(agent):
    vif_id = agent.post(WITNESSES, witness_input(), format="json").json()["vif_id"]
    key = agent.get(reverse("api:vif:ledger-key")).json()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key_hex"]))
    entry = agent.get(detail(vif_id)).json()["ledger"]
    assert signing.verify(public, entry["entry_jcs"].encode(), entry["signature"])


def test_everything_needs_authentication(anonymous):
    for url in (WITNESSES, GATE, reverse("api:vif:calibration"), reverse("api:vif:ledger-key"), "/metrics"):
        assert anonymous.get(url).status_code in (401, 403)


def test_kappa_changes_in_the_admin_need_a_reason_and_keep_history(admin_user, client, agent):
    client.force_login(admin_user)
    policy = KappaPolicy.objects.get(criticality="important", domain="")
    url = reverse("admin:vif_kappapolicy_change", args=[policy.pk])
    form = {"criticality": "important", "domain": "", "threshold": "0.900000", "reason": "",
            "changes-TOTAL_FORMS": "1", "changes-INITIAL_FORMS": "1", "changes-MIN_NUM_FORMS": "0",
            "changes-MAX_NUM_FORMS": "1000"}
    response = client.post(url, form)
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    policy.refresh_from_db()
    assert str(policy.threshold) == "0.850000"
    form["reason"] = "Too many wrong acceptances in Q3"
    assert client.post(url, form).status_code == 302
    change = KappaPolicyChange.objects.filter(policy=policy).first()
    assert (str(change.old_threshold), str(change.new_threshold)) == ("0.850000", "0.900000")
    assert change.changed_by == "user:ada" and change.reason == form["reason"]
    assert agent.post(GATE, {"confidence": 0.88, "task_criticality": "important"}, format="json").json()["verdict"] \
        == "ABSTAIN"
    kappas = {p["key"]: p["threshold"] for p in agent.get(reverse("api:vif:kappa-list")).json()}
    assert kappas["important"] == 0.9 and kappas["critical.medical"] == 0.98 and len(kappas) == 8


def test_current_ece_is_recorded_on_new_witnesses(record):
    from django.core.cache import cache

    cache.clear()
    items = record(40, model_id="m2", confidence=0.8)
    for i, item in enumerate(items):
        services.outcome_record(witness=item.witness, correct=i % 2 == 0, source="api", recorded_by="user:rita")
    cache.clear()
    [later] = record(1, model_id="m2")
    assert later.witness.ece_at_time == pytest.approx(0.3)
    assert timezone.now() - later.witness.created_at < timedelta(minutes=1)


def test_metrics_raise_a_cusum_alarm_when_accepted_items_go_wrong(record, reviewer, client):
    items = record(60, confidence=0.99, task_criticality="critical")
    assert all(item.gate.passed for item in items)
    for i, item in enumerate(items):  # one in three accepted critical items wrong, against a target of 5 %
        services.outcome_record(witness=item.witness, correct=i % 3 != 0, source="api", recorded_by="user:rita")
    client.force_login(reviewer)
    data = client.get(reverse("api:vif:metrics")).json()
    assert data["cusum"]["critical"]["alarm"] and data["cusum"]["critical"]["p0"] == pytest.approx(0.05)
    assert data["cusum"]["important"]["n"] == 0 and not data["cusum"]["important"]["alarm"]
    assert any(alert["kind"] == "cusum" and alert["criticality"] == "critical" for alert in data["alerts"])


def test_metrics_alert_when_confidence_falls_below_its_baseline(record, reviewer, client):
    from django.db import models

    record(30, confidence=0.95, task_criticality="routine")
    models.QuerySet(model=Witness).update(created_at=timezone.now() - timedelta(days=3))  # last week's baseline
    record(30, confidence=0.75, task_criticality="routine")
    client.force_login(reviewer)
    data = client.get(reverse("api:vif:metrics")).json()
    assert data["baseline_average_confidence"] == pytest.approx(0.95)
    assert data["average_confidence"] == pytest.approx(0.75)
    assert any(alert["kind"] == "confidence_drop" for alert in data["alerts"])


def test_kappa_suggestions_come_from_calibration_samples_and_apply_with_a_reason(record, admin_user, client,
                                                                                  settings):
    from vifsite.vif.models import KappaSuggestion

    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0
    good = record(200, confidence=0.99, task_criticality="critical", model_id="m3")
    bad = record(200, confidence=0.7, task_criticality="critical", model_id="m3")
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    escalated_only = record(50, confidence=0.99, task_criticality="critical", model_id="m3")
    for items, correct in ((good, True), (bad, False), (escalated_only, False)):
        for item in items:
            services.outcome_record(witness=item.witness, correct=correct, source="human", recorded_by="user:rita")
    [suggestion] = services.kappa_suggestions_compute()
    assert suggestion.suggested == Decimal("0.71")  # the 50 non-sample outcomes are ignored
    assert suggestion.evidence["samples"] == 400 and suggestion.evidence["accepted"] == 200
    assert suggestion.evidence["errors"] == 0 and suggestion.evidence["coverage"] == 0.5
    client.force_login(admin_user)
    changelist = reverse("admin:vif_kappasuggestion_changelist")
    assert "0.71" in client.get(changelist).content.decode()
    asked = client.post(changelist, {"action": "apply_suggestions", "_selected_action": [suggestion.pk]})
    assert asked.status_code == 200 and "reason" in asked.content.decode()
    client.post(changelist, {"action": "apply_suggestions", "_selected_action": [suggestion.pk], "apply": "1",
                             "reason": "Q4 calibration samples"})
    policy = KappaPolicy.objects.get(criticality="critical", domain="", model_id="m3")  # that model's κ only
    assert str(policy.threshold) == "0.710000"
    assert str(KappaPolicy.objects.get(criticality="critical", domain="", model_id="").threshold) == "0.950000"
    change = KappaPolicyChange.objects.filter(policy=policy).first()
    assert change.reason.startswith("Q4 calibration samples") and change.changed_by == "user:ada"
    assert KappaSuggestion.objects.get().applied_at is not None


def test_automatic_application_stays_within_bounds(record, settings):
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0
    settings.VIFSITE_KAPPA_AUTO_APPLY = True
    settings.VIFSITE_KAPPA_AUTO_MIN, settings.VIFSITE_KAPPA_AUTO_MAX = 0.80, 0.99
    for item in record(200, confidence=0.99, task_criticality="critical") + record(200, confidence=0.7,
                                                                                  task_criticality="critical"):
        services.outcome_record(witness=item.witness, correct=item.witness.confidence_micros > 900000, source="human",
                                recorded_by="user:rita")
    services.kappa_suggestions_compute()  # suggests 0.71: below the automatic floor, so nothing changes
    assert str(KappaPolicy.objects.get(criticality="critical", domain="").threshold) == "0.950000"


def test_calibration_leaves_out_human_labels_of_escalated_items(record, settings):
    from vifsite.vif import monitoring

    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 1.0
    sampled = record(5, model_id="m4", confidence=0.9)
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    escalated = record(7, model_id="m4", confidence=0.4)
    checked = record(2, model_id="m4", confidence=0.6)
    for item in sampled + escalated:
        services.outcome_record(witness=item.witness, correct=True, source="human", recorded_by="user:rita")
    for item in checked:
        services.outcome_record(witness=item.witness, correct=False, source="automatic", recorded_by="agent:checker")
    assert monitoring.calibration_report(model="m4")["n"] == 7  # 5 samples + 2 checker labels
    assert monitoring.calibration_report(model="m4", samples_only=True)["n"] == 5
