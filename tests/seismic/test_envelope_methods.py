"""The tools name the envelope a timeslice's anomalies were found with, and replay each witness with its own.

A new detect_amplitude_anomalies witness names ``envelope`` ("fir": the Hilbert filter,
``detection.filtered_envelope``); one that names none was recorded before there was a choice and replays
with the FFT envelope of the ±16-sample slab, bit for bit (tests/seismic/test_detection_baseline.py and
test_stats_baseline.py hold those). The audit and the structured analysis name it too, for a cited
timeslice's anomalies; a feature hypothesis runs the detector on vertical sections only and names none."""

from __future__ import annotations

import pytest
from django.urls import reverse

from seismic import detection, services, tools
from vifsite.vif import replay
from vifsite.vif.models import Witness

PRINCIPAL = "agent:bot"
TOOL = "detect_amplitude_anomalies"
# The small synthetic survey's bright spot (``synthetic_survey``): inline 1020, crossline 2014, 196 ms.
IL, XL, T = 1020, 2014, 196.0


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def _hash(survey, parameters: dict) -> str:
    return tools._result_hash(tools._finite(tools.COMPUTE[TOOL](survey, parameters)))


def _replays(vif_id: str) -> Witness:
    witness = Witness.objects.get(vif_id=vif_id)
    outcome = replay.replay_tool(witness, runs=2)
    assert outcome["matches"] and outcome["deterministic"] and outcome["differences"] == []
    return witness


def test_a_new_timeslice_witness_names_the_filter_replays_and_finds_the_bright_spot(agent, synthetic_survey):
    url = reverse("api:seismic:anomalies", kwargs={"survey_id": synthetic_survey.pk})
    data = agent.post(url, {"section_type": "timeslice", "section_number": T}, format="json").json()
    assert data["provenance"]["parameters"]["envelope"] == detection.ENVELOPE == "fir"
    assert data["detection"]["envelope"] == "fir"
    witness = _replays(data["provenance"]["vif_id"])
    assert witness.tool_parameters["envelope"] == "fir"
    [spot] = data["anomalies"]
    assert spot["inline_range"][0] <= IL <= spot["inline_range"][1]
    assert spot["crossline_range"][0] <= XL <= spot["crossline_range"][1]
    # The FFT envelope, which a witness naming none replays with, answers otherwise here: the replay above
    # used the filter.
    assert _hash(synthetic_survey, {**witness.tool_parameters, "envelope": "fft"}) != witness.tool_results_hash
    assert _hash(synthetic_survey, {k: v for k, v in witness.tool_parameters.items() if k != "envelope"}) == \
        _hash(synthetic_survey, {**witness.tool_parameters, "envelope": "fft"})


def test_the_fft_envelopes_answer_carries_no_new_key_and_is_the_one_recorded_before(synthetic_survey):
    parameters = {"survey_id": synthetic_survey.pk, "section_type": "timeslice", "section_number": T, "ranges": {},
                  "threshold_std": 3.0, "min_cluster_size": 10, "method": "mad", "offset": 0, "limit": 50,
                  "background": "dip_steered"}
    old = tools.COMPUTE[TOOL](synthetic_survey, parameters)
    assert "envelope" not in old["detection"]
    new = tools.COMPUTE[TOOL](synthetic_survey, {**parameters, "envelope": "fir"})
    assert new["detection"]["envelope"] == "fir"
    assert old["notes"] == new["notes"]
    # Both find the one bright spot, with nearly the same strength.
    assert len(old["anomalies"]) == len(new["anomalies"]) == 1
    assert new["anomalies"][0]["strength"] == pytest.approx(old["anomalies"][0]["strength"], rel=0.1)


def test_a_vertical_sections_answer_does_not_depend_on_the_envelope_it_names(synthetic_survey):
    result = tools.anomalies_detect(survey_id=synthetic_survey.pk, section_type="inline", section_number=IL,
                                    principal=PRINCIPAL)
    witness = _replays(result["provenance"]["vif_id"])
    assert witness.tool_parameters["envelope"] == "fir" and "envelope" not in result["detection"]
    for envelope in detection.ENVELOPES:
        assert _hash(synthetic_survey, {**witness.tool_parameters, "envelope": envelope}) == witness.tool_results_hash


def test_the_audits_timeslice_anomalies_use_the_named_envelope(synthetic_survey):
    _, extraction = services.section_extract(survey=synthetic_survey, kind="timeslice", number=T,
                                             principal=PRINCIPAL)
    cited = {"id": extraction.pk, "kind": "timeslice", "number": T, "ranges": {}}
    strengths = {}
    for envelope in detection.ENVELOPES:
        found = tools._audit_data(synthetic_survey, background="dip_steered", envelope=envelope)["anomalies"](cited)
        tool = tools.COMPUTE[TOOL](synthetic_survey, {
            "section_type": "timeslice", "section_number": T, "ranges": {}, "threshold_std": 3.0,
            "min_cluster_size": 10, "method": "mad", "offset": 0, "limit": 50, "envelope": envelope})
        strengths[envelope] = [a.strength for a in found]
        assert strengths[envelope] == [a["strength"] for a in tool["anomalies"]]
    assert strengths["fir"] != strengths["fft"]
    # An audit names the envelope, and one that names none replays with the FFT's.
    text = f"A bright spot lies on the timeslice at {T:g} ms."
    new = tools.interpretation_audit(text=text, extraction_ids=[extraction.pk], principal=PRINCIPAL)
    assert new["provenance"]["parameters"]["envelope"] == "fir"
    _replays(new["provenance"]["vif_id"])
    old = tools.run("audit_interpretation", {"survey_id": synthetic_survey.pk, "text": text,
                                             "extraction_ids": [extraction.pk]}, principal=PRINCIPAL)
    assert "envelope" not in _replays(old["provenance"]["vif_id"]).tool_parameters


def test_a_feature_hypothesis_names_no_envelope(synthetic_survey):
    for feature in ("bright_spot", "flat_spot", "fault"):
        result = tools.hypothesis_verify(survey_id=synthetic_survey.pk, feature_type=feature, inline=IL,
                                         crossline=XL, sample=T, principal=PRINCIPAL)
        assert "envelope" not in result["provenance"]["parameters"]


def test_the_reviewers_timeslice_plot_shows_what_the_tool_reports(synthetic_survey):
    section = services.section_read(survey=synthetic_survey, kind="timeslice", number=T)
    shown = tools.section_anomalies(synthetic_survey, section)
    reported = tools.anomalies_detect(survey_id=synthetic_survey.pk, section_type="timeslice", section_number=T,
                                      principal=PRINCIPAL)
    assert [round(c.strength, 4) for c in shown] == [a["strength"] for a in reported["anomalies"]]
