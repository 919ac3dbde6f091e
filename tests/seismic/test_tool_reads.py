"""The tools read only what they need, reuse what they read, and answer as before."""

from __future__ import annotations

import numpy as np
import pytest

from seismic import detection, tools, vds


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def _parameters(survey, **overrides):
    return {"survey_id": survey.pk, "section_type": "timeslice", "section_number": survey.sample_first + 40 * 4,
            "ranges": {}, "threshold_std": 2.5, "min_cluster_size": 4, "method": "mad", "offset": 0, "limit": 50,
            "app_version": "x", "survey_data_sha256": survey.data_sha256, **overrides}


def test_a_timeslice_cut_to_ranges_is_searched_as_a_cut_of_the_whole_surveys_slab(synthetic_survey):
    p = _parameters(synthetic_survey, ranges={"inline": [1005, 1030], "crossline": [2003, 2031]})
    result = tools.COMPUTE["detect_amplitude_anomalies"](synthetic_survey, p)
    # The way it was computed before: the whole survey's slab, cut to the section afterwards.
    geometry = synthetic_survey.geometry()
    k = geometry.sample.index_of(p["section_number"])
    whole = vds.read_subset(synthetic_survey.vds_url, geometry, (0, 0, k - 16),
                            (geometry.inline.count, geometry.crossline.count, k + 17))
    cut = whole[5:31, 3:32]
    section = whole[5:31, 3:32, 16]
    live = vds.read_trace_mask(synthetic_survey.vds_url, geometry, (5, 3), (31, 32))
    clusters, info = detection.detect(section, live, vertical=False, threshold_std=2.5, min_cluster_size=4,
                                      amplitude=detection.slab_envelope(cut, 16, 6))
    assert result["detection"] == info
    assert [a["area"] for a in result["anomalies"]] == [c.area for c in clusters]
    assert [a["strength"] for a in result["anomalies"]] == [round(c.strength, 4) for c in clusters]


def test_a_timeslice_of_a_survey_with_one_crossline_is_searched(register):
    survey = register("penobscot_xl1155")  # a 2D-shaped survey: the crossline axis has one value, step 0
    geometry = survey.geometry()
    result = tools.anomalies_detect(survey_id=survey.pk, section_type="timeslice",
                                    section_number=geometry.sample.value(geometry.sample.count // 2),
                                    principal="agent:bot")
    assert result["section_type"] == "timeslice" and result["detection"]["method"] == "mad"
    assert result["total"] == len(result["anomalies"])


def test_hypotheses_at_one_trace_reuse_its_sections_and_answer_as_alone(synthetic_survey):
    geometry = synthetic_survey.geometry()
    reads: dict = {}
    for feature in ("fault", "bright_spot", "flat_spot"):
        for k in (20, 60, 100):
            p = {"feature_type": feature, "inline": 1020.0, "crossline": 2015.0, "sample": geometry.sample.value(k)}
            assert tools._hypothesis(synthetic_survey, p, reads) == tools._hypothesis(synthetic_survey, p)
    assert {key[0] for key in reads} == {"mask", "inline", "crossline"}
    assert len(reads) == 3  # one mask, one inline, one crossline, for nine hypotheses


def test_a_repeated_detection_is_the_first_answer_and_the_callers_own_copy():
    rng = np.random.default_rng(5)
    section = rng.normal(size=(120, 300)).astype(np.float32)
    section[60:64, 140:160] *= 12.0
    live = np.ones(120, dtype=bool)
    first = detection.detect(section, live, vertical=True)
    assert first[0], "the bright patch is found"
    first[0].clear()
    first[1]["residual_centre"] = 0.0
    again = detection.detect(section, live, vertical=True)
    assert again[0] and again[1]["residual_centre"] != 0.0
    assert again == detection._detect(section, live, vertical=True, threshold_std=detection.DEFAULT_THRESHOLD,
                                      min_cluster_size=detection.DEFAULT_MIN_CLUSTER, method="mad",
                                      background_traces=31, min_ratio=detection.DEFAULT_MIN_RATIO,
                                      vertical_tolerance=6, amplitude=None)
    changed = section.copy()
    changed[0, 0] += 1.0
    assert detection.detect(changed, live, vertical=True)[1] != again[1]
    assert detection.detect(section, live, vertical=True, threshold_std=2.0)[1]["threshold_std"] == 2.0
    dead = live.copy()
    dead[3] = False
    assert detection.detect(section, dead, vertical=True)[1] != again[1]
