"""verify_feature_hypothesis names the anomaly background its bright-spot and flat-spot checks used.

Their anomaly steps (``inline_anomaly``, ``crossline_anomaly``) run the anomaly detector on the inline and
crossline through the location, with the dip-steered background as the anomalies tool does. A new witness
names it (``background``); one recorded before (no ``background`` among its parameters, like the
bright-spot witness in stats_baseline.json, or a flat-spot one that names only ``flat_spot_method``)
replays with the lateral background it was made by, bit for bit. A fault's or a channel's check runs no
detector, and its witness names no method."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seismic import detection, tools, verification
from vifsite.vif import replay
from vifsite.vif import services as vif_services
from vifsite.vif.models import Witness

BASELINE = json.loads((Path(__file__).parent / "stats_baseline.json").read_text())
TOOL = "verify_feature_hypothesis"
# The bright spot of the small synthetic survey (``synthetic_survey``): inline 1020, crossline 2014, 196 ms.
AT = {"inline": 1020.0, "crossline": 2014.0, "sample": 196.0}


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def _hash(survey, parameters: dict) -> str:
    return tools._result_hash(tools._finite(tools.COMPUTE[TOOL](survey, parameters)))


def _replays(result: dict) -> Witness:
    witness = Witness.objects.get(vif_id=result["provenance"]["vif_id"])
    outcome = replay.replay_tool(witness, runs=2)
    assert outcome["matches"] and outcome["deterministic"] and outcome["differences"] == []
    return witness


def _anomaly_steps(result: dict) -> list[dict]:
    return [step for step in result["steps"] if step["name"] in ("inline_anomaly", "crossline_anomaly")]


def test_a_new_bright_spot_witness_names_the_dip_steered_background_and_replays(synthetic_survey):
    result = tools.hypothesis_verify(survey_id=synthetic_survey.pk, feature_type="bright_spot", **AT,
                                     principal="agent:bot")
    parameters = result["provenance"]["parameters"]
    assert parameters["background"] == detection.DEFAULT_BACKGROUND == "dip_steered"
    assert "flat_spot_method" not in parameters  # a bright spot's check has none
    witness = _replays(result)
    assert witness.tool_parameters["background"] == "dip_steered"
    # The anomaly steps are those of the dip-steered background: the lateral one scores them differently here.
    lateral = tools.COMPUTE[TOOL](synthetic_survey, {**witness.tool_parameters, "background": "lateral"})
    assert [s["score"] for s in _anomaly_steps(lateral)] != [s["score"] for s in _anomaly_steps(result)]
    assert _hash(synthetic_survey, {**witness.tool_parameters, "background": "lateral"}) != witness.tool_results_hash


def test_a_bright_spot_witness_recorded_before_the_background_was_named_replays_with_the_lateral_one(
        synthetic_survey):
    entry = next(e for e in BASELINE["witnesses"] if e["tool_id"] == TOOL and e["survey"] == "synthetic"
                 and e["parameters"]["feature_type"] == "bright_spot")
    parameters = {**entry["parameters"], "survey_id": synthetic_survey.pk}
    assert "background" not in parameters
    witness = vif_services.witness_record_tool(tool_id=TOOL, parameters=parameters,
                                               result_hash=entry["tool_results_hash"], writer="agent:bot")
    outcome = replay.replay_tool(witness, runs=2)
    assert outcome["matches"] and outcome["deterministic"]
    assert _hash(synthetic_survey, {**parameters, "background": "lateral"}) == entry["tool_results_hash"]
    assert _hash(synthetic_survey, {**parameters, "background": "dip_steered"}) != entry["tool_results_hash"]
    # As the tool records it when called the old way, through the same path as every call.
    old = tools.run(TOOL, {key: value for key, value in parameters.items()
                           if key not in ("app_version", "survey_data_sha256")}, principal="agent:bot")
    assert Witness.objects.get(vif_id=old["provenance"]["vif_id"]).tool_results_hash == entry["tool_results_hash"]


def test_a_flat_spot_witness_names_both_methods_and_older_ones_replay_with_what_they_name(synthetic_survey):
    where = {"survey_id": synthetic_survey.pk, "feature_type": "flat_spot", **AT}
    new = tools.hypothesis_verify(**where, principal="agent:bot")
    assert new["provenance"]["parameters"]["background"] == "dip_steered"
    assert new["provenance"]["parameters"]["flat_spot_method"] == verification.FLAT_SPOT_METHOD == 2
    _replays(new)
    # Recorded after the flat-spot method was named and before the background was: method 2, lateral anomalies.
    between = tools.run(TOOL, {**where, "characteristics": {}, "flat_spot_method": 2}, principal="agent:bot")
    # Recorded before either was named: method 1, lateral anomalies.
    first = tools.run(TOOL, {**where, "characteristics": {}}, principal="agent:bot")
    for result, method in ((between, 2), (first, 1)):
        witness = _replays(result)
        assert "background" not in witness.tool_parameters
        assert _hash(synthetic_survey, {**witness.tool_parameters, "background": "lateral",
                                        "flat_spot_method": method}) == witness.tool_results_hash
        assert _hash(synthetic_survey, {**witness.tool_parameters, "background": "dip_steered",
                                        "flat_spot_method": method}) != witness.tool_results_hash
    assert [s["name"] for s in between["steps"]][0] == "flat_event"
    assert [s["name"] for s in first["steps"]][0] == "flatness"
    assert [s["score"] for s in _anomaly_steps(between)] != [s["score"] for s in _anomaly_steps(new)]


@pytest.mark.parametrize("feature", ["fault", "channel"])
def test_a_fault_or_channel_witness_names_no_method(synthetic_survey, feature):
    result = tools.hypothesis_verify(survey_id=synthetic_survey.pk, feature_type=feature, **AT, principal="agent:bot")
    assert not {"background", "flat_spot_method"} & result["provenance"]["parameters"].keys()
    entry = next(e for e in BASELINE["witnesses"] if e["tool_id"] == TOOL and e["survey"] == "synthetic"
                 and e["parameters"]["feature_type"] == feature)
    assert Witness.objects.get(vif_id=result["provenance"]["vif_id"]).tool_results_hash == entry["tool_results_hash"]


def test_the_verifier_takes_a_known_background_only():
    cube = np.zeros((5, 5, 30))
    with pytest.raises(ValueError, match="background"):
        verification.verify(cube, np.ones((5, 5), bool), (2, 2, 15), feature="bright_spot", background="flattened")
