from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from vifsite.vif import services
from vifsite.vif.models import AgentKey


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    """Each test gets its own signing key and checkpoints."""
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    return settings.VIFSITE_LEDGER_DIR


def witness_input(**overrides):
    return {"model_id": "gpt-test", "model_provider": "openai", "prompt": "Describe inline 120.",
            "output": "A bright spot at crossline 300, 1200 ms.", "confidence": 0.9, "task_criticality": "important",
            **overrides}


@pytest.fixture
def record(db):
    def make(n=1, writer="agent:bot", **overrides):
        return services.witness_record_many(items=[witness_input(**overrides) for _ in range(n)], writer=writer)

    return make


@pytest.fixture
def checker(db) -> APIClient:
    """An automatic checker's key: may record outcomes."""
    _, key = AgentKey.objects.create_key(name="checker", can_record_outcomes=True,
                                         expiry_date=timezone.now() + timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def scraper(db) -> APIClient:
    _, key = AgentKey.objects.create_key(name="prometheus", can_read_metrics=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client
