"""Schemathesis against the OpenAPI schema the site serves, in process (WSGI), as a key holding every permission,
on a tiny survey: no operation answers 5xx, and every status an operation answers is documented in the schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.urls import resolve, reverse
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from vifsite.vif.models import AgentKey

pytestmark = pytest.mark.slow

# Per operation and phase (examples, coverage, fuzzing); a fixed seed makes every run the same run.
CONFIG = {"generation": {"max-examples": 12, "database": "none"}, "seed": 8785}
# The SEG-Y upload queues a real import (OpenVDS's SEGYImport, files on disk) for every example; its input
# checks are covered by tests/seismic/test_api.py and tests/test_inputs.py.
EXCLUDED = ["import_segy"]


def served_schema() -> dict:
    """GET /api/v1/schema/?format=json as the site answers it, asked by a person never saved (no database at
    collection time)."""
    request = APIRequestFactory().get(reverse("api:schema"), {"format": "json"})
    force_authenticate(request, user=User(username="fuzzer"))
    return json.loads(resolve(reverse("api:schema")).func(request).render().content)


schema = schemathesis.openapi.from_dict(served_schema(), config=schemathesis.Config.from_dict(CONFIG)).exclude(
    operation_id=EXCLUDED)


@dataclass
class Site:
    app: WSGIHandler
    headers: dict[str, str]
    ids: dict[str, object]


@pytest.fixture
def site(db, settings, tmp_path, synthetic_survey) -> Site:
    """A tiny survey, an extraction, an escalated interpretation, and the path ids that name them."""
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    _, key = AgentKey.objects.create_key(name="fuzzer", can_manage_surveys=True, can_record_outcomes=True,
                                         can_read_metrics=True, expiry_date=timezone.now() + timedelta(days=1))
    headers = {"Authorization": f"Api-Key {key}"}
    agent = APIClient(headers=headers)
    section = agent.get(reverse("api:seismic:section", kwargs={
        "survey_id": synthetic_survey.pk, "section_type": "inline", "section_number": "1010"})).json()
    submitted = agent.post(reverse("api:review:interpretation-submit"), {
        "text": "Inline 1010 is a gas reservoir.", "extraction_ids": [section["extraction_id"]], "model_id": "m",
        "confidence": 0.5, "task_criticality": "important"}, format="json").json()
    ids = {"survey_id": synthetic_survey.pk, "vif_id": submitted["vif_id"],
           "escalation_id": submitted["escalation"]["id"], "section_number": 1010,
           "extraction_id": section["extraction_id"]}
    return Site(app=WSGIHandler(), headers=headers, ids=ids)


def steer(case, ids: dict[str, object]) -> None:
    """Real ids in paths, and what the schema cannot state (a witness needs a prompt and an output, one way or
    another; an interpretation cites extractions that exist), so examples get past the first check to the code
    behind it. Unknown ids are tested elsewhere, callback URLs in tests/review."""
    for name in case.path_parameters or {}:
        if name in ids:
            case.path_parameters[name] = ids[name]
    bodies = case.body.get("witnesses") if isinstance(case.body, dict) else None
    for body in [case.body, *(bodies if isinstance(bodies, list) else [])]:
        if not isinstance(body, dict):
            continue
        if case.operation.path in ("/api/v1/witnesses/", "/api/v1/witnesses/batch/"):
            body.setdefault("prompt", "Describe inline 1010.")
            body.setdefault("output", "Layered reflectors.")
        if isinstance(body.get("extraction_ids"), list) and body["extraction_ids"]:
            body["extraction_ids"][0] = ids["extraction_id"]
        body.pop("callback_url", None)  # checked by resolving its host name: a test must not ask DNS


@schema.parametrize()
# `site` is set up once per operation: its examples may add to its data, which no check depends on.
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_operation_answers_5xx_or_an_undocumented_status(case, site):
    steer(case, site.ids)
    case.call_and_validate(app=site.app, headers=site.headers, checks=[not_a_server_error, status_code_conformance])
