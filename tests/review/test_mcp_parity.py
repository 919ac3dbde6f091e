"""The MCP tools against the REST API in one process: the same descriptions and schemas, the same answers,
the same error messages, and the same key rules (a key revoked while the server runs stops its agent)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import segyio
from django.urls import reverse
from rest_framework.test import APIClient

from review import mcp
from seismic.descriptions import TOOLS
from vifsite.vif.models import AgentKey, Witness

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")


@pytest.fixture
def key(agent_key):
    return AgentKey.objects.get_from_key(agent_key)


def run(name, arguments, key):
    blocks, is_error = mcp.call(name, arguments, key)
    return json.loads(blocks[0]["text"]), is_error, blocks


def section_url(survey_id, kind, number):
    return reverse("api:seismic:section", kwargs={"survey_id": survey_id, "section_type": kind,
                                                  "section_number": str(number)})


def test_every_mcp_tool_is_described_as_in_the_rest_manifest(agent):
    manifest = {t["function"]["name"]: t["function"] for t in agent.get(reverse("api:seismic:tools")).json()["tools"]}
    listed = mcp.tool_list()
    assert [tool["name"] for tool in listed] == list(mcp.MCP_TOOLS)
    for tool in listed:
        assert tool["description"] == manifest[tool["name"]]["description"] == TOOLS[tool["name"]].description
        assert tool["input_schema"] == manifest[tool["name"]]["parameters"]
        assert tool["input_schema"]["type"] == "object"
        assert "What cannot be concluded without other data" in tool["description"]


def test_a_section_over_mcp_is_the_rest_answer_with_the_picture(agent, key, f3, segy_dir):
    rest = agent.get(section_url(f3.pk, "inline", 120)).json()
    answer, is_error, blocks = run("extract_section", {"survey_id": f3.pk, "section_type": "inline",
                                                       "section_number": 120}, key)
    assert not is_error
    assert set(rest) - set(answer) == {"image_url"}
    assert set(rest["provenance"]) == set(answer["provenance"])
    assert answer["statistics"] == rest["statistics"]
    assert answer["provenance"]["data_sha256"] == rest["provenance"]["data_sha256"]
    assert answer["provenance"]["principal"] == rest["provenance"]["principal"] == "agent:bot"
    assert answer["extraction_id"] != rest["extraction_id"]  # each call is its own provenance record
    # The numbers against segyio reading the SEG-Y file the survey was imported from.
    with segyio.open(segy_dir / "f3.sgy", iline=189, xline=193) as f:
        line = segyio.tools.cube(f)[list(f.ilines).index(120)]
    assert answer["statistics"]["rms"] == pytest.approx(float(np.sqrt(np.mean(line.astype(np.float64) ** 2))),
                                                        rel=1e-5)
    png = base64.b64decode(blocks[1]["data"])
    assert blocks[1]["mime_type"] == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    image = agent.get(section_url(f3.pk, "inline", 120) + "image.png")
    assert png == image.content  # the same picture as the REST image at the default clip


def test_a_structured_analysis_is_checked_alike_over_both_doors(agent, key, f3):
    url = reverse("api:seismic:structured-analysis", kwargs={"survey_id": f3.pk})
    template, is_error, _ = run("get_structured_analysis_template", {"survey_id": f3.pk, "focus": "amplitude",
                                                                     "section_type": "inline",
                                                                     "section_number": 120}, key)
    assert not is_error and template["schema"]["properties"]["focus"] == {"const": "amplitude"}
    rms = template["statistics"]["rms"]
    filled = {
        "focus": "amplitude", "extraction_ids": [template["extraction_id"]],
        "observations": [{"description": "The section's RMS amplitude.",
                          "statistics": [{"name": "rms", "value": rms * 1.5}]}],
        "interpretations": [{"hypothesis": "The upper reflectors are brighter", "confidence": "possible",
                             "supporting_evidence": ["percentiles"], "needs_validation": True}],
        "limitations": ["One inline only."],
    }
    answer, is_error, _ = run("submit_structured_analysis", {"survey_id": f3.pk, "analysis": filled}, key)
    wrapped = agent.post(url, {"analysis": filled}, format="json").json()  # the manifest's shape
    bare = agent.post(url, filled, format="json").json()
    assert not is_error and not answer["valid"]
    for rest in (wrapped, bare):
        assert rest["statistic_checks"] == answer["statistic_checks"]
        assert rest["statistic_checks"][0]["verdict"] == "FAIL"  # 1.5 x the RMS is not the RMS
    answer, is_error, _ = run("submit_structured_analysis", {"survey_id": f3.pk, "analysis": "rms is high"}, key)
    rest = agent.post(url, {"analysis": "rms is high"}, format="json")
    assert is_error and rest.status_code == 400 and answer == rest.json()


def _rest(agent, method, path, body=None):
    response = agent.get(path) if method == "GET" else agent.post(path, body, format="json")
    return response.status_code, response.json()


CASES = [
    # (tool, MCP arguments, REST method, REST path (survey id filled in), REST body)
    ("get_survey", {"survey_id": 999}, "GET", "/api/v1/surveys/999/", None),
    ("extract_section", {"section_type": "inline", "section_number": 5000}, "GET",
     "/api/v1/surveys/{id}/sections/inline/5000/", None),
    ("extract_section", {"section_type": "inline", "section_number": 120.5}, "GET",
     "/api/v1/surveys/{id}/sections/inline/120.5/", None),
    ("extract_section", {"section_type": "wiggle", "section_number": 120}, "GET",
     "/api/v1/surveys/{id}/sections/wiggle/120/", None),
    ("extract_section", {"section_type": "inline", "section_number": "abc"}, "GET",
     "/api/v1/surveys/{id}/sections/inline/abc/", None),
    ("extract_section", {"section_type": "inline", "section_number": 120, "sample_min": 900, "sample_max": 100},
     "GET", "/api/v1/surveys/{id}/sections/inline/120/?sample_min=900&sample_max=100", None),
    ("validate_amplitude_claim", {"section_type": "inline", "section_number": 120, "claim_type": "high_amplitude",
                                  "crossline_range": [800, 820]}, "POST",
     "/api/v1/surveys/{id}/validate-amplitude-claim/", None),
    ("detect_amplitude_anomalies", {"section_type": "inline", "section_number": 999}, "POST",
     "/api/v1/surveys/{id}/anomalies/", None),
    ("verify_feature_hypothesis", {"feature_type": "volcano", "location": {"inline": 120, "crossline": 880,
                                                                          "sample": 100}},
     "POST", "/api/v1/surveys/{id}/verify-hypothesis/", None),
    ("verify_feature_hypothesis", {"feature_type": "fault", "location": {"inline": 120, "crossline": 880,
                                                                         "sample": 9999}},
     "POST", "/api/v1/surveys/{id}/verify-hypothesis/", None),
    ("compare_to_reference", {"section_type": "inline", "section_number": 120, "reference_section_type": "timeslice",
                              "reference_section_number": 100}, "POST", "/api/v1/surveys/{id}/compare/", None),
    ("submit_interpretation", {"text": "Bright.", "extraction_ids": [987654], "model_id": "m", "confidence": 0.9,
                               "task_criticality": "routine"}, "POST", "/api/v1/interpretations/", None),
    ("get_escalation", {"escalation_id": 424242}, "GET", "/api/v1/escalations/424242/", None),
]


@pytest.mark.parametrize("tool, arguments, method, path, body", CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)])
def test_errors_carry_the_rest_message(agent, key, f3, tool, arguments, method, path, body):
    arguments = {"survey_id": f3.pk, **arguments}
    rest_body = {k: v for k, v in arguments.items() if k != "survey_id"} if method == "POST" else None
    status, expected = _rest(agent, method, path.replace("{id}", str(f3.pk)), rest_body)
    assert 400 <= status < 500, expected
    answer, is_error, _ = run(tool, arguments, key)
    assert is_error
    if "detail" in expected:
        assert answer == expected  # an InputError: the very body REST answers
    else:
        assert answer["errors"] == expected  # a serializer's field errors, as REST lists them


def test_field_errors_are_the_rest_field_errors(agent, key, f3):
    body = {"section_type": "inline", "section_number": "x", "crossline_range": [880]}
    status, expected = _rest(agent, "POST", f"/api/v1/surveys/{f3.pk}/validate-amplitude-claim/", body)
    answer, is_error, _ = run("validate_amplitude_claim", {"survey_id": f3.pk, **body}, key)
    assert status == 400 and is_error and answer == {"detail": "Invalid arguments.", "errors": expected}
    assert set(expected) == {"section_number", "claim_type", "crossline_range"}


def test_arguments_of_the_wrong_kind_are_tool_errors(key, f3):
    for name, arguments, fragment in [
        ("get_survey", {"survey_id": "1"}, "survey_id must be an integer"),
        ("get_survey", {"survey_id": True}, "survey_id must be an integer"),
        ("extract_section", {"survey_id": f3.pk, "section_type": "inline"}, "section_type and section_number"),
        ("extract_section", {"survey_id": f3.pk, "section_type": "inline", "section_number": None},
         "section_number must be a number"),
        ("get_escalation", {"escalation_id": "7"}, "escalation_id must be an integer"),
        ("no_such_tool", {}, "Unknown tool 'no_such_tool'"),
    ]:
        answer, is_error, _ = run(name, arguments, key)
        assert is_error and fragment in answer["detail"], (name, answer)
    assert not Witness.objects.filter(operation="tool").exists()  # nothing was computed, nothing witnessed


def test_an_agent_sees_only_its_own_escalations_as_over_rest(agent, key, f3):
    other = APIClient()
    _, other_key = AgentKey.objects.create_key(name="other")
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    section = other.get(section_url(f3.pk, "inline", 120)).json()
    submitted = other.post(reverse("api:review:interpretation-submit"), {
        "text": "The bright interval is a gas-charged sand.", "extraction_ids": [section["extraction_id"]],
        "model_id": "m", "confidence": 0.95, "task_criticality": "routine"}, format="json").json()
    escalation = submitted["escalation"]["id"]
    status, expected = _rest(agent, "GET", f"/api/v1/escalations/{escalation}/")
    answer, is_error, _ = run("get_escalation", {"escalation_id": escalation}, key)
    assert status == 403 and is_error and answer == expected
    assert "own submissions" in answer["detail"]


@pytest.mark.parametrize("change, message", [("revoked", "This API key has been revoked."),
                                             ("expired", "This API key has expired."),
                                             ("deleted", "Unknown API key.")])
def test_a_key_revoked_while_the_server_runs_stops_its_agent(agent, key, f3, change, message):
    answer, is_error, _ = run("list_surveys", {}, key)
    assert not is_error and [s["id"] for s in answer] == [f3.pk]
    row = AgentKey.objects.get(pk=key.pk)
    if change == "revoked":
        row.revoked = True
        row.save()
    elif change == "expired":
        AgentKey.objects.filter(pk=key.pk).update(expiry_date="2020-01-01T00:00:00Z")
    else:
        row.delete()
    before = Witness.objects.count()
    for name, arguments in [("list_surveys", {}), ("extract_section", {"survey_id": f3.pk, "section_type": "inline",
                                                                       "section_number": 120})]:
        answer, is_error, _ = run(name, arguments, key)
        assert is_error and answer == {"detail": message}
    assert Witness.objects.count() == before  # the refused calls computed and witnessed nothing
    status, expected = _rest(agent, "GET", "/api/v1/surveys/")
    assert status in (401, 403) and expected["detail"] == message  # REST refuses it in the same words
