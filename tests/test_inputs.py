"""Inputs an outsider controls: integers, nesting, windows, booleans, and the shape of every API error."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from review import mcp
from review.consumers import QueueConsumer
from vifsite.vif import confidence
from vifsite.vif.models import AgentKey, GateEvent, Witness

WITNESS = {"model_id": "m", "prompt": "Describe inline 1010.", "output": "Layered reflectors.", "confidence": 0.9,
           "task_criticality": "routine"}


@pytest.fixture(autouse=True)
def own_ledger(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0


@pytest.fixture
def operator(db) -> APIClient:
    """An agent key holding every permission flag."""
    _, key = AgentKey.objects.create_key(name="operator", can_manage_surveys=True, can_record_outcomes=True,
                                         can_read_metrics=True, expiry_date=timezone.now() + timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def section(operator, synthetic_survey) -> dict:
    url = reverse("api:seismic:section", kwargs={"survey_id": synthetic_survey.pk, "section_type": "inline",
                                                 "section_number": "1010"})
    return operator.get(url).json()


def survey_url(name: str, survey) -> str:
    return reverse(f"api:seismic:{name}", kwargs={"survey_id": survey.pk})


def assert_json_error(response, status: int, *words: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    text = json.dumps(body).lower()
    assert all(word.lower() in text for word in words), body
    return body


# --- integers beyond what the ledger can sign (RFC 8785: ±(2⁵³ − 1)) or the database can hold ------------------

BIG = [10**23, 2**53 + 1, 2**53]


@pytest.mark.parametrize("value", BIG)
@pytest.mark.parametrize("name, body", [
    ("vif:witness-create", lambda v, s: {**WITNESS, "top_k": v}),
    ("vif:witness-create", lambda v, s: {**WITNESS, "max_tokens": v}),
    ("vif:witness-create", lambda v, s: {**WITNESS, "replay_seed": v}),
    ("vif:witness-create", lambda v, s: {**WITNESS, "usage": {"prompt_tokens": v}}),
    ("vif:witness-create", lambda v, s: {**WITNESS, "usage": {"total_tokens": v}}),
    ("vif:witness-create", lambda v, s: {**WITNESS, "tool_parameters": {"n": v}}),
    ("vif:witness-batch", lambda v, s: {"witnesses": [{**WITNESS, "top_k": v}]}),
    ("seismic:anomalies", lambda v, s: {"section_type": "inline", "section_number": 1010, "offset": v}),
    ("seismic:anomalies", lambda v, s: {"section_type": "inline", "section_number": 1010, "min_cluster_size": v}),
    ("seismic:verify-hypothesis", lambda v, s: {"feature_type": "bright_spot", "characteristics": {"n": v},
                                                "location": {"inline": 1010, "crossline": 2010, "sample": 400}}),
    ("seismic:compare", lambda v, s: {"section_type": "inline", "section_number": 1010, "reference_survey_id": v,
                                      "reference_section_type": "inline", "reference_section_number": 1011}),
    ("seismic:audit", lambda v, s: {"text": "Inline 1010 is layered.", "extraction_ids": [v]}),
    ("seismic:audit", lambda v, s: {"text": "Inline 1010 is layered.", "survey_id": v}),
    ("review:interpretation-submit", lambda v, s: {"text": "Inline 1010 is layered.", "extraction_ids": [v],
                                                   "model_id": "m", "confidence": 0.9, "task_criticality": "routine"}),
    ("review:interpretation-submit", lambda v, s: {
        "structured": {"observations": [{"description": "Layered."}], "n": v}, "extraction_ids": [s["extraction_id"]],
        "model_id": "m", "confidence": 0.9, "task_criticality": "routine"}),
])
def test_it_refuses_integers_the_ledger_cannot_sign(operator, synthetic_survey, section, name, body, value):
    on_survey = name in ("seismic:anomalies", "seismic:verify-hypothesis", "seismic:compare")
    url = reverse(f"api:{name}", kwargs={"survey_id": synthetic_survey.pk} if on_survey else None)
    assert_json_error(operator.post(url, body(value, section), format="json"), 400)
    assert not Witness.objects.filter(operation=Witness.Operation.LLM).exists()


def test_replay_refuses_integers_the_ledger_cannot_sign(operator):
    vif_id = operator.post(reverse("api:vif:witness-create"), WITNESS, format="json").json()["vif_id"]
    url = reverse("api:vif:witness-replay", kwargs={"vif_id": vif_id})
    for field in ("replay_seed", "top_k", "max_tokens"):
        assert_json_error(operator.post(url, {"output": "x", field: 10**23}, format="json"), 400, field)


def test_every_integer_an_operation_takes_is_bounded_in_the_schema(operator):
    schema = operator.get(reverse("api:schema"), {"format": "json"}).json()
    components = schema["components"]["schemas"]
    unbounded = []

    def walk(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(components[name], name)
                return
            if node.get("type") == "integer" and not node.get("readOnly") and not (
                    "minimum" in node and "maximum" in node):
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            seen: set[str] = set()
            walk(operation.get("parameters", []), f"{method.upper()} {path} parameters")
            walk(operation.get("requestBody", {}), f"{method.upper()} {path} body")
    assert unbounded == []
    top_k = components["WitnessInput"]["properties"]["top_k"]
    assert (top_k["minimum"], top_k["maximum"]) == (0, 2**31 - 1)


# --- deeply nested JSON ----------------------------------------------------------------------------------------

def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(operator, synthetic_survey, depth):
    urls = [reverse("api:vif:witness-create"), reverse("api:vif:witness-batch"), reverse("api:vif:gate"),
            reverse("api:review:interpretation-submit"), reverse("api:seismic:audit"),
            survey_url("structured-analysis", synthetic_survey), survey_url("validate-claim", synthetic_survey),
            reverse("api:review:escalation-decision", kwargs={"escalation_id": 1})]
    for url in urls:
        for body in (nested(depth), json.dumps({**WITNESS, "structured": "X"}).replace('"X"', nested(depth))):
            assert_json_error(operator.post(url, body, content_type="application/json"), 400, "nested")


def test_json_nested_64_deep_is_still_read(operator, synthetic_survey):
    value = json.loads(nested(63))
    body = {"focus": "qc", "extraction_ids": [], "extra": value}
    response = operator.post(survey_url("structured-analysis", synthetic_survey), body, format="json")
    assert response.status_code == 400 and "nested" not in response.content.decode()


def test_a_lone_surrogate_escape_is_a_400_not_a_crash_when_hashed(operator):
    body = json.dumps({**WITNESS, "prompt": "X"}).replace('"X"', '"\\ud800"')
    assert_json_error(operator.post(reverse("api:vif:witness-create"), body, content_type="application/json"), 400,
                      "unicode")


def test_mcp_tool_arguments_are_bounded_in_depth_too(synthetic_survey):
    key, _ = AgentKey.objects.create_key(name="mcp-bot")
    blocks, is_error = mcp.call("submit_structured_analysis", {"survey_id": synthetic_survey.pk,
                                                              "analysis": json.loads(nested(200))}, key)
    assert is_error and "nested" in blocks[0]["text"]


def test_the_queue_feed_never_parses_what_a_browser_sends():
    asyncio.run(QueueConsumer().receive(text_data=nested(100_000)))


# --- windows beyond ten years ------------------------------------------------------------------------------------

@pytest.mark.parametrize("window", ["3903008d", "87601h", "3651d"])
def test_windows_beyond_ten_years_are_a_400_or_a_message(operator, reviewer, client, window):
    reviewer.groups.add(Group.objects.get(name="reviewers"))
    for name in ("metrics", "calibration", "reliability-png", "reliability-figure"):
        assert_json_error(operator.get(reverse(f"api:vif:{name}"), {"window": window}), 400, "window", "3650")
    client.force_login(reviewer)
    response = client.get(reverse("review:calibration"), {"window": window})
    assert response.status_code == 200 and "3650" in response.content.decode()
    assert operator.get(reverse("api:vif:metrics"), {"window": "3650d"}).status_code == 200


def test_the_schema_states_the_window_bound(operator):
    schema = operator.get(reverse("api:schema"), {"format": "json"}).json()
    [window] = [p for p in schema["paths"]["/api/v1/metrics/"]["get"]["parameters"] if p["name"] == "window"]
    assert "3650" in window["description"]


# --- booleans are not confidences --------------------------------------------------------------------------------

@pytest.mark.parametrize("signal", [{"confidence": True}, {"confidence": False}, {"logprobs": [False, False]},
                                    {"logprobs": [{"logprob": False, "top_logprobs": [False]}]},
                                    {"probabilities": [[True, False]]}, {"logits": [True, False]},
                                    {"verbalized_confidence": True}, {"logprobs": ["-0.1"]}])
def test_booleans_are_not_confidences(operator, synthetic_survey, section, signal):
    plain = {k: v for k, v in WITNESS.items() if k != "confidence"}
    assert_json_error(operator.post(reverse("api:vif:witness-create"), {**plain, **signal}, format="json"), 400)
    critical = {"text": "Inline 1010 is layered.", "extraction_ids": [section["extraction_id"]], "model_id": "m",
                "task_criticality": "critical", **signal}
    assert_json_error(operator.post(reverse("api:review:interpretation-submit"), critical, format="json"), 400)
    key, _ = AgentKey.objects.create_key(name="mcp-bot")
    blocks, is_error = mcp.call("submit_interpretation", critical, key)
    assert is_error, blocks
    assert not Witness.objects.filter(operation=Witness.Operation.LLM).exists()


def test_the_gate_refuses_a_boolean_confidence(operator):
    response = operator.post(reverse("api:vif:gate"), {"confidence": True, "task_criticality": "critical"},
                             format="json")
    assert_json_error(response, 400, "confidence")
    assert not GateEvent.objects.exists()


@pytest.mark.parametrize("signals", [{"confidence": True}, {"logprobs": [False]}, {"logits": [[True, False]]},
                                     {"probabilities": [True, False]}, {"logprobs": [{"logprob": True}]}])
def test_compute_refuses_booleans_at_its_own_level(signals):
    with pytest.raises(confidence.ConfidenceError):
        confidence.compute(**signals)


# --- every API error is JSON -------------------------------------------------------------------------------------

def test_every_api_error_is_json_with_debug_off(settings, operator, reviewer, monkeypatch):
    assert settings.DEBUG is False
    witnesses = reverse("api:vif:witness-create")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    too_big = assert_json_error(operator.post(witnesses, {**WITNESS, "output": "x" * 2000}, format="json"), 413)
    assert too_big["limit_bytes"] == 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    form = {"model_id": "m", "prompt": "p", "output": "o", "task_criticality": "routine", "domain": ""}
    assert_json_error(operator.post(witnesses, form), 400, "fields")
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    files = {f"file{i}": open(__file__, "rb") for i in range(3)}
    try:
        assert_json_error(operator.post(reverse("api:seismic:survey-import-create"), files), 400, "files")
    finally:
        for handle in files.values():
            handle.close()
    assert_json_error(operator.get("/api/v1/no-such-thing/"), 404, "/api/v1/no-such-thing/")
    assert_json_error(operator.get("/api/v2/surveys/"), 404)
    assert_json_error(operator.get(witnesses), 405)
    assert_json_error(operator.post(witnesses, "{", content_type="application/json"), 400)
    assert_json_error(operator.post(witnesses, "x", content_type="text/plain"), 415)
    assert_json_error(APIClient().get(witnesses), 401)
    assert_json_error(APIClient().get("/metrics"), 401)
    assert_json_error(APIClient().get(reverse("api:schema")), 401)  # the schema itself is YAML by default
    csrf = APIClient(enforce_csrf_checks=True)
    csrf.force_login(reviewer)
    assert_json_error(csrf.post(reverse("api:vif:gate"), {"confidence": 0.5, "task_criticality": "routine"},
                                format="json"), 403, "csrf")
    monkeypatch.setattr("vifsite.vif.api.views.ledger.site_key", lambda: 1 / 0)
    operator.raise_request_exception = False
    assert_json_error(operator.get(reverse("api:vif:ledger-key")), 500, "internal")


def test_pages_outside_the_api_keep_their_html_errors(client, reviewer):
    client.force_login(reviewer)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
