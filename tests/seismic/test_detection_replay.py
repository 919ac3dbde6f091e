"""The anomalies tool names its background in every witness, and a witness recorded before it did
(no ``background`` among its parameters) replays with the lateral background it was made by, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from review import mcp
from seismic import detection, tools
from seismic.api.serializers import AnomaliesInputSerializer
from vifsite.vif import replay
from vifsite.vif import services as vif_services
from vifsite.vif.models import Witness

BASELINE = json.loads((Path(__file__).parent / "stats_baseline.json").read_text())
TOOL = "detect_amplitude_anomalies"


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def _recorded(survey_name: str) -> list[dict]:
    """Witnesses of the tool on vertical sections, written by the code before it named a background."""
    return [entry for entry in BASELINE["witnesses"] if entry["tool_id"] == TOOL and entry["survey"] == survey_name
            and entry["parameters"]["section_type"] != "timeslice"]


def _hash(survey, parameters: dict) -> str:
    return tools._result_hash(tools._finite(tools.COMPUTE[TOOL](survey, parameters)))


@pytest.mark.parametrize("survey_name", ["synthetic", "penobscot_xl1155"])
def test_a_witness_recorded_before_the_background_was_named_replays_with_the_lateral_one(
        survey_name, synthetic_survey, register):
    survey = synthetic_survey if survey_name == "synthetic" else register(survey_name)
    entries = _recorded(survey_name)
    assert entries
    differs = 0
    for entry in entries:
        parameters = {**entry["parameters"], "survey_id": survey.pk}
        assert "background" not in parameters
        witness = vif_services.witness_record_tool(tool_id=TOOL, parameters=parameters,
                                                   result_hash=entry["tool_results_hash"], writer="agent:bot")
        outcome = replay.replay_tool(witness, runs=2)
        assert outcome["matches"] and outcome["deterministic"], parameters
        assert _hash(survey, {**parameters, "background": "lateral"}) == entry["tool_results_hash"]
        differs += _hash(survey, {**parameters, "background": "dip_steered"}) != entry["tool_results_hash"]
    assert differs, "the dip-steered background answers differently here, so the replay above used the lateral one"


def test_a_new_witness_records_the_dip_steered_background_and_replays(agent, synthetic_survey):
    url = reverse("api:seismic:anomalies", kwargs={"survey_id": synthetic_survey.pk})
    data = agent.post(url, {"section_type": "inline", "section_number": 1020}, format="json").json()
    witness = Witness.objects.get(vif_id=data["provenance"]["vif_id"])
    assert witness.tool_parameters["background"] == "dip_steered" == data["provenance"]["parameters"]["background"]
    assert data["detection"]["background"] == "dip_steered"
    replayed = agent.post(reverse("api:vif:witness-replay", kwargs={"vif_id": str(witness.vif_id)}), {"runs": 2},
                          format="json").json()
    assert replayed["matches"] and replayed["deterministic"]


def test_asking_for_the_lateral_background_gives_the_answer_recorded_before(agent, synthetic_survey):
    url = reverse("api:seismic:anomalies", kwargs={"survey_id": synthetic_survey.pk})
    data = agent.post(url, {"section_type": "inline", "section_number": 1020, "background": "lateral"},
                      format="json").json()
    witness = Witness.objects.get(vif_id=data["provenance"]["vif_id"])
    assert witness.tool_parameters["background"] == "lateral"
    assert "background" not in data["detection"]  # the lateral method's answer carries no new key
    before = next(entry for entry in _recorded("synthetic") if entry["parameters"]["section_number"] == 1020
                  and entry["parameters"]["method"] == "mad" and not entry["parameters"]["ranges"])
    assert witness.tool_results_hash == before["tool_results_hash"]


def test_an_unknown_background_is_refused_and_every_interface_offers_the_same_ones(agent, synthetic_survey):
    url = reverse("api:seismic:anomalies", kwargs={"survey_id": synthetic_survey.pk})
    response = agent.post(url, {"section_type": "inline", "section_number": 1020, "background": "flattened"},
                          format="json")
    assert response.status_code == 400 and "background" in response.content.decode()
    assert set(AnomaliesInputSerializer().fields["background"].choices) == set(detection.BACKGROUNDS)
    assert AnomaliesInputSerializer().fields["background"].default == detection.DEFAULT_BACKGROUND
    schema = next(tool for tool in mcp.tool_list() if tool["name"] == TOOL)["input_schema"]
    assert set(schema["properties"]["background"]["enum"]) == set(detection.BACKGROUNDS)
    with pytest.raises(ValueError, match="background"):
        detection.detect(np.ones((4, 4)), np.ones(4, bool), vertical=True, background="flat")
