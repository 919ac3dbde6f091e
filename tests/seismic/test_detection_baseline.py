"""Witnesses of the anomaly detector recorded before it was made faster replay bit for bit.

detection_baseline.json holds witnesses written by the code before the dip-steered background, the
envelopes and the running medians were made faster and before a timeslice's envelope got a second
method: detect_amplitude_anomalies with the dip-steered background on inlines and crosslines (dead traces,
windows, both spreads) and on timeslices (their envelope by FFT, which those witnesses do not name), and
the bright-spot and flat-spot checks of verify_feature_hypothesis, on the small synthetic survey and the
shared real files. Every one must come out the same to the last bit; the checks below fail if a step's
last bit changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seismic import detection, dip, tools
from vifsite.vif import replay
from vifsite.vif import services as vif_services

BASELINE = json.loads((Path(__file__).parent / "detection_baseline.json").read_text())
SURVEYS = ["synthetic", "f3", "f3_withdead", "f3_sparse", "penobscot_xl1155"]


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def _survey(name: str, synthetic_survey, register):
    return synthetic_survey if name == "synthetic" else register(name)


def _hash(tool_id: str, survey, parameters: dict[str, Any]) -> str:
    return tools._result_hash(tools._finite(tools.COMPUTE[tool_id](survey, parameters)))


def _replays(entry: dict[str, Any], survey) -> bool:
    parameters = {**entry["parameters"], "survey_id": survey.pk}
    witness = vif_services.witness_record_tool(tool_id=entry["tool_id"], parameters=parameters,
                                               result_hash=entry["tool_results_hash"], writer="agent:bot")
    outcome = replay.replay_tool(witness, runs=2)
    return bool(outcome["matches"] and outcome["deterministic"])


def test_the_baseline_covers_what_changed():
    entries = BASELINE["witnesses"]
    anomalies = [e["parameters"] for e in entries if e["tool_id"] == "detect_amplitude_anomalies"]
    assert {p["section_type"] for p in anomalies} == {"inline", "crossline", "timeslice"}
    assert all(p["background"] == "dip_steered" and "envelope" not in p for p in anomalies)
    assert {e["survey"] for e in entries} == set(SURVEYS)
    assert any(e["result_total"] for e in entries if e["parameters"].get("section_type") == "timeslice")
    assert {e["parameters"].get("feature_type") for e in entries} >= {"bright_spot", "flat_spot"}


@pytest.mark.parametrize("name", SURVEYS)
def test_witnesses_recorded_before_replay_bit_for_bit(name, synthetic_survey, register):
    survey = _survey(name, synthetic_survey, register)
    entries = [e for e in BASELINE["witnesses"] if e["survey"] == name]
    assert entries
    failures = [e["parameters"] for e in entries if not _replays(e, survey)]
    assert failures == []


def test_a_timeslice_witness_that_names_no_envelope_is_the_ffts_and_the_filters_answer_differs(synthetic_survey):
    entries = [e for e in BASELINE["witnesses"] if e["survey"] == "synthetic"
               and e["parameters"].get("section_type") == "timeslice"]
    assert entries
    for entry in entries:
        parameters = {**entry["parameters"], "survey_id": synthetic_survey.pk}
        assert _hash(entry["tool_id"], synthetic_survey, {**parameters, "envelope": "fft"}) == \
            entry["tool_results_hash"]
        assert _hash(entry["tool_id"], synthetic_survey, {**parameters, "envelope": "fir"}) != \
            entry["tool_results_hash"]


def _perturbed(function):
    """``function`` with every element of its answer one unit in the last place larger."""
    def changed(*args, **kwargs):
        out = np.asarray(function(*args, **kwargs))
        return np.nextafter(out, np.inf).astype(out.dtype)
    return changed


@pytest.mark.parametrize(("module", "name", "section_type"), [
    (detection, "slab_envelope", "timeslice"),
    (detection, "padded_envelope", "inline"),
    (dip, "horizon_times", "inline"),
    (dip, "steered_median", "inline"),
])
def test_a_step_changed_in_its_last_bit_fails_the_replay(monkeypatch, synthetic_survey, module, name, section_type):
    """The replays above can fail: a step whose answer is one unit in the last place off is seen."""
    entry = next(e for e in BASELINE["witnesses"] if e["survey"] == "synthetic"
                 and e["parameters"].get("section_type") == section_type and e["result_total"])
    assert _replays(entry, synthetic_survey)
    detection.forget_results()
    monkeypatch.setattr(module, name, _perturbed(getattr(module, name)))
    assert not _replays(entry, synthetic_survey)
    detection.forget_results()
