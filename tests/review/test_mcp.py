"""The MCP server as a subprocess, spoken to with the SDK's client over stdio."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from django.conf import settings

from tests.processes import manage

pytestmark = pytest.mark.slow

SETUP = """
from datetime import timedelta
from django.utils import timezone
from vifsite.vif.models import AgentKey
from django.core.management import call_command
call_command("make_synthetic_survey", name="mcp", size="30x30x100", seed=4)
_, key = AgentKey.objects.create_key(name="mcp-bot", expiry_date=timezone.now() + timedelta(days=1))
print(key)
"""


@pytest.fixture
def site(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage(url, tmp_path, "migrate", "--noinput")
    key = manage(url, tmp_path, "shell", "-v", "0", "-c", SETUP, timeout=300).stdout.strip().splitlines()[-1]
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(tmp_path), "VIFSITE_Q_SYNC": "true",
           "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_MCP_KEY": key}
    return url, tmp_path, env


def session_run(env, scenario):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable,
                                   args=[str(Path(settings.BASE_DIR) / "manage.py"), "mcp_server"], env=env)

    async def main():
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await scenario(session)

    return anyio.run(main)


def payload(result):
    return json.loads(result.content[0].text)


def test_the_tools_their_schemas_and_a_full_loop(site):
    url, data_dir, env = site

    async def scenario(session):
        listed = await session.list_tools()
        names = [tool.name for tool in listed.tools]
        extract = next(tool for tool in listed.tools if tool.name == "extract_section")
        surveys = payload(await session.call_tool("list_surveys", {}))
        survey = surveys[0]
        section = await session.call_tool("extract_section", {"survey_id": survey["id"], "section_type": "inline",
                                                               "section_number": 1015})
        stats = payload(section)
        claim = await session.call_tool("validate_amplitude_claim", {
            "survey_id": survey["id"], "section_type": "inline", "section_number": 1015,
            "claim_type": "amplitude_statistic", "statistic": "rms", "value": stats["statistics"]["rms"],
            "crossline_range": [2000, 2029]})
        submitted = await session.call_tool("submit_interpretation", {
            "text": "The bright interval is a gas-charged sand.", "extraction_ids": [stats["extraction_id"]],
            "model_id": "m", "confidence": 0.95, "task_criticality": "routine"})
        escalation = payload(submitted)["escalation"]["id"]
        polled = await session.call_tool("get_escalation", {"escalation_id": escalation})
        return names, extract, section, stats, claim, submitted, polled

    names, extract, section, stats, claim, submitted, polled = session_run(env, scenario)
    assert names == ["list_surveys", "get_survey", "extract_section", "validate_amplitude_claim",
                     "detect_amplitude_anomalies", "verify_feature_hypothesis", "compare_to_reference",
                     "get_structured_analysis_template", "submit_structured_analysis", "audit_interpretation",
                     "submit_interpretation", "get_escalation"]
    assert extract.input_schema["required"] == ["survey_id", "section_type", "section_number"]
    assert "What cannot be concluded" in extract.description
    assert not section.is_error and section.content[1].type == "image"
    assert base64.b64decode(section.content[1].data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert stats["provenance"]["vif_id"] and stats["statistics"]["live_traces"] == 30
    assert payload(claim)["verdict"] == "PASS"
    assert not submitted.is_error and payload(submitted)["status"] == "escalated"
    assert payload(polled)["status"] == "pending"
    out = manage(url, data_dir, "shell", "-v", "0", "-c",
                 "from vifsite.vif.models import Witness; from review.models import Escalation; "
                 "print(sorted(set(Witness.objects.values_list('writer', flat=True))), Escalation.objects.count())")
    assert out.stdout.strip() == "['agent:mcp-bot'] 1"  # witnessed as the key's agent, and in the review queue


def test_errors_are_tool_errors_with_the_rest_messages_and_the_server_survives(site):
    _, _, env = site

    async def scenario(session):
        unknown = await session.call_tool("get_survey", {"survey_id": 999})
        outside = await session.call_tool("extract_section", {"survey_id": 1, "section_type": "inline",
                                                               "section_number": 5000})
        bad = await session.call_tool("verify_feature_hypothesis", {"survey_id": 1, "feature_type": "volcano",
                                                                    "location": {"inline": 1010, "crossline": 2010,
                                                                                 "sample": 100}})
        nonsense = await session.call_tool("no_such_tool", {})
        still = await session.call_tool("list_surveys", {})
        return unknown, outside, bad, nonsense, still

    unknown, outside, bad, nonsense, still = session_run(env, scenario)
    assert unknown.is_error and payload(unknown)["detail"] == "No survey with id 999."
    assert outside.is_error and "inline 5000 is not in this survey: valid inline numbers are 1000 to 1029" \
        in payload(outside)["detail"]
    assert bad.is_error and "feature_type must be one of" in payload(bad)["detail"]
    assert nonsense.is_error and not still.is_error and len(payload(still)) == 1


def test_a_bad_key_stops_the_server_with_a_message(site):
    url, data_dir, _ = site
    result = manage(url, data_dir, "mcp_server", "--key", "nope.nope", check=False)
    assert result.returncode != 0 and "Unknown API key" in result.stderr
