"""The statistics and tools give today exactly the numbers they gave when witnesses were recorded.

stats_baseline.json was written by the code before the statistics and the tools were made faster:
the statistics of seeded sections (stats_cases.py) and witnesses of extractions and tool calls on
the shared real files and the small synthetic survey. Every one must come out bit for bit the same,
or witnesses already in a ledger would stop replaying.

Tools that correlate (compare_to_reference, the fault and channel checks) sum dot products in OpenBLAS,
whose kernels differ by CPU class in the order of the sums: their three hashes were recorded again with the
kernel class the site now pins (vifsite/__init__.py; first recorded with SkylakeX kernels, they differed from
Haswell's in the last bits). Likewise numpy runs AVX-512 code where the CPU has it, and six anomaly-detection
hashes (five of detect_amplitude_anomalies, one bright-spot verify_feature_hypothesis) first recorded on such
machines differed on one without: they were recorded again with numpy's AVX2 code, which the site now pins
with the BLAS class.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seismic import services, stats
from tests.seismic.stats_cases import CASES, build
from vifsite.vif import replay, signing
from vifsite.vif import services as vif_services

BASELINE = json.loads((Path(__file__).parent / "stats_baseline.json").read_text())
RECORDED = {entry["name"]: entry for entry in BASELINE["arrays"]}


def test_every_case_has_a_recorded_baseline():
    assert sorted(RECORDED) == sorted(case["name"] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_statistics_are_the_recorded_ones_bit_for_bit(case):
    recorded = RECORDED[case["name"]]
    data, live = build(case)
    assert hashlib.sha256(data.astype("<f4").tobytes()).hexdigest() == recorded["data_sha256"], (
        "the case's array is not the one recorded: its generator changed, not the statistics")
    statistics = stats.section_statistics(data, live, vertical=case["vertical"],
                                          sample_interval_s=case.get("interval"))
    assert statistics == recorded["statistics"]
    assert signing.canonical(statistics) == signing.canonical(recorded["statistics"])
    # The same floats down to the sign of a zero, which canonical JSON would not show.
    assert json.dumps(statistics, sort_keys=True) == json.dumps(recorded["statistics"], sort_keys=True)
    result_hash = signing.sha256_hex(signing.canonical({"data_sha256": recorded["data_sha256"],
                                                        "statistics": statistics}))
    assert result_hash == recorded["result_hash"]


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def _replay_recorded(survey_ids: dict[str, int], entries: list[dict[str, Any]]) -> list[str]:
    """Write each recorded witness again (its parameters pointed at this run's surveys) and replay it."""
    failures = []
    for entry in entries:
        parameters = dict(entry["parameters"])
        parameters["survey_id"] = survey_ids[entry["survey"]]
        if "reference_survey_id" in parameters:
            parameters["reference_survey_id"] = survey_ids[entry["survey"]]
        witness = vif_services.witness_record_tool(tool_id=entry["tool_id"], parameters=parameters,
                                                   result_hash=entry["tool_results_hash"], writer="agent:bot")
        outcome = replay.replay_tool(witness)
        if not outcome["matches"]:
            failures.append(f"{entry['tool_id']} {parameters}")
    return failures


@pytest.mark.parametrize("name", ["synthetic", "f3_withdead", "f3_sparse", "penobscot_xl1155"])
def test_witnesses_recorded_before_replay(name, synthetic_survey, register):
    survey = synthetic_survey if name == "synthetic" else register(name)
    entries = [entry for entry in BASELINE["witnesses"] if entry["survey"] == name]
    assert entries
    for entry in entries:
        if entry["tool_id"] != "extract_section":
            continue
        p = entry["parameters"]
        section = services.section_read(survey=survey, kind=p["section_type"], number=p["section_number"],
                                        ranges={axis: tuple(bounds) for axis, bounds in p["ranges"].items()})
        assert services.array_sha256(section.data) == entry["array_sha256"]
        assert services.section_statistics(section) == entry["statistics"]
    assert _replay_recorded({name: survey.pk}, entries) == []


def test_a_changed_statistic_fails_the_replay(synthetic_survey):
    """The check above can fail: a witness whose statistics differ in the last bit does not replay."""
    entry = next(e for e in BASELINE["witnesses"] if e["survey"] == "synthetic" and e["tool_id"] == "extract_section")
    statistics = dict(entry["statistics"])
    statistics["mean"] = float(np.nextafter(statistics["mean"], np.inf))
    changed = {**entry, "tool_results_hash": signing.sha256_hex(signing.canonical(
        {"data_sha256": entry["array_sha256"], "statistics": statistics}))}
    assert _replay_recorded({"synthetic": synthetic_survey.pk}, [changed]) == [
        f"extract_section {dict(entry['parameters'], survey_id=synthetic_survey.pk)}"]
