"""Idempotency-Key on witness POSTs: a retried request replays the original answer instead of recording a
second witness; the same key with another body is a 409; keys are per principal and last 24 hours."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.vif.conftest import witness_input
from vifsite.vif.models import AgentKey, IdempotentRequest, Witness

WITNESSES = reverse("api:vif:witness-create")
BATCH = reverse("api:vif:witness-batch")


def test_a_retried_witness_post_replays_the_original_answer(agent):
    first = agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="op-1")
    again = agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="op-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Witness.objects.count() == 1


def test_a_retried_batch_replays_every_vif_id(agent):
    body = {"witnesses": [witness_input(prompt=f"p{i}") for i in range(3)]}
    first = agent.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = agent.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert [w["vif_id"] for w in again.json()["witnesses"]] == [w["vif_id"] for w in first.json()["witnesses"]]
    assert Witness.objects.count() == 3


def test_the_same_key_with_a_different_body_is_a_409(agent):
    agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="op-1")
    other = agent.post(WITNESSES, witness_input(prompt="something else"), format="json", HTTP_IDEMPOTENCY_KEY="op-1")
    assert other.status_code == 409 and "different request" in other.json()["detail"]
    on_batch = agent.post(BATCH, {"witnesses": [witness_input()]}, format="json", HTTP_IDEMPOTENCY_KEY="op-1")
    assert on_batch.status_code == 409
    assert Witness.objects.count() == 1


def test_keys_are_per_principal(agent):
    _, other_key = AgentKey.objects.create_key(name="other-bot", expiry_date=timezone.now() + timedelta(days=1))
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    assert agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert other.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Witness.objects.count() == 2


def test_a_key_older_than_24_hours_records_again(agent):
    first = agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and again.json()["vif_id"] != first.json()["vif_id"]
    assert Witness.objects.count() == 2 and IdempotentRequest.objects.count() == 1


def test_a_refused_request_keeps_nothing_so_its_key_can_be_sent_again(agent):
    bad = agent.post(WITNESSES, witness_input(confidence=2), format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert bad.status_code == 400 and not IdempotentRequest.objects.exists()
    bad = agent.post(WITNESSES, witness_input(task_criticality="routine", domain="x", prompt_hash="zz"),
                     format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert bad.status_code == 400 and not IdempotentRequest.objects.exists()
    good = agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert good.status_code == 201 and Witness.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "caf\u00e9"])
def test_a_malformed_key_is_a_400(agent, key):
    response = agent.post(WITNESSES, witness_input(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert not Witness.objects.exists()


def test_without_a_key_every_post_records(agent):
    for _ in range(2):
        assert agent.post(WITNESSES, witness_input(), format="json").status_code == 201
    assert Witness.objects.count() == 2 and not IdempotentRequest.objects.exists()


def test_the_schema_documents_the_header(agent):
    schema = agent.get(reverse("api:schema") + "?format=json").json()
    for path in (WITNESSES, BATCH):
        operation = schema["paths"][path]["post"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
        assert "200" in operation["responses"]
