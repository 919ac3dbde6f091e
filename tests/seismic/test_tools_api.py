"""The anti-hallucination tools through the API: contracts, numbers against segyio, bad input,
witnesses and replay."""

import numpy as np
import pytest
import segyio
from django.urls import reverse

from vifsite.vif.models import Witness


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def url(name, survey):
    return reverse(f"api:seismic:{name}", kwargs={"survey_id": survey.pk})


def spot(survey):
    return next(f for f in survey.ground_truth["features"] if f["kind"] == "bright_spot")


def test_a_statistic_claim_on_real_f3_is_checked_against_segyio(agent, f3, segy_dir):
    with segyio.open(str(segy_dir / "f3.sgy")) as f:
        window = f.iline[120][880 - 875:886 - 875 + 1, 100 // 4 - 1:200 // 4].astype(np.float64)
    body = {"section_type": "inline", "section_number": 120, "claim_type": "amplitude_statistic",
            "statistic": "rms", "value": float(np.sqrt(np.mean(window ** 2))) * 1.03,
            "crossline_range": [880, 886], "sample_range": [100, 200]}
    data = agent.post(url("validate-claim", f3), body, format="json").json()
    assert data["verdict"] == "PASS", data
    assert data["evidence"]["recomputed"]["rms"] == pytest.approx(np.sqrt(np.mean(window ** 2)), rel=1e-9)
    assert data["evidence"]["recomputed"]["mean"] == pytest.approx(window.mean(), rel=1e-9)
    assert data["evidence"]["live_samples"] == window.size and data["evidence"]["tolerance"] == 0.05
    body["value"] *= 1.1
    assert agent.post(url("validate-claim", f3), body, format="json").json()["verdict"] == "FAIL"
    witness = Witness.objects.get(vif_id=data["provenance"]["vif_id"])
    assert witness.tool_ids == ["validate_amplitude_claim"] and witness.tool_parameters["statistic"] == "rms"


def test_a_high_amplitude_claim_on_the_bright_spot_passes_and_off_it_fails(agent, synthetic_survey):
    feature = spot(synthetic_survey)
    il = round(feature["center"]["inline"])
    xl, t = round(feature["center"]["crossline"]), round(feature["center"]["time_ms"] / 4) * 4
    body = {"section_type": "inline", "section_number": il, "claim_type": "high_amplitude",
            "crossline_range": [xl - 3, xl + 3], "sample_range": [t - 12, t + 12]}
    on = agent.post(url("validate-claim", synthetic_survey), body, format="json").json()
    assert on["verdict"] == "PASS" and on["evidence"]["contrast"] > 1.5 and 0.5 < on["confidence"] <= 0.99
    body["sample_range"] = [synthetic_survey.sample_first, synthetic_survey.sample_first + 40]
    assert agent.post(url("validate-claim", synthetic_survey), body, format="json").json()["verdict"] == "FAIL"


def test_anomalies_come_in_the_stable_contract_and_are_witnessed(agent, synthetic_survey):
    feature = spot(synthetic_survey)
    il = round(feature["center"]["inline"])
    response = agent.post(url("anomalies", synthetic_survey), {"section_type": "inline", "section_number": il},
                          format="json")
    data = response.json()
    assert response.status_code == 200 and data["total"] >= 1
    first = data["anomalies"][0]
    assert set(first) >= {"inline_range", "crossline_range", "sample_range", "centroid", "peak_amplitude",
                          "mean_amplitude", "area", "strength"}
    assert first["inline_range"] == [il, il]
    assert feature["crossline_range"][0] - 3 <= first["centroid"]["crossline"] <= feature["crossline_range"][1] + 3
    assert feature["time_range_ms"][0] <= first["centroid"]["sample"] <= feature["time_range_ms"][1]
    replayed = agent.post(reverse("api:vif:witness-replay", kwargs={"vif_id": data["provenance"]["vif_id"]}),
                          {"runs": 2}, format="json").json()
    assert replayed["matches"] and replayed["deterministic"]
    page = agent.post(url("anomalies", synthetic_survey), {"section_type": "inline", "section_number": il,
                                                           "limit": 1, "offset": 0}, format="json").json()
    assert len(page["anomalies"]) == 1 and page["limit"] == 1


def test_a_hypothesis_is_verified_through_several_views(agent, synthetic_survey):
    feature = spot(synthetic_survey)
    location = {"inline": round(feature["center"]["inline"]), "crossline": round(feature["center"]["crossline"]),
                "sample": round(feature["center"]["time_ms"] / 4) * 4}
    data = agent.post(url("verify-hypothesis", synthetic_survey), {"feature_type": "bright_spot",
                                                                   "location": location}, format="json").json()
    assert data["verified"] and data["score"] >= 0.7
    assert [s["name"] for s in data["steps"]] == ["inline_anomaly", "crossline_anomaly", "timeslice_contrast"]
    assert all({"name", "score", "evidence"} <= set(s) for s in data["steps"])
    elsewhere = {**location, "sample": synthetic_survey.sample_first + 40}
    other = agent.post(url("verify-hypothesis", synthetic_survey), {"feature_type": "bright_spot",
                                                                    "location": elsewhere}, format="json").json()
    assert not other["verified"]


def test_comparing_across_surveys_warns_and_normalises(agent, synthetic_survey, f3):
    body = {"section_type": "inline", "section_number": 120, "reference_survey_id": synthetic_survey.pk,
            "reference_section_type": "inline", "reference_section_number": 1010}
    data = agent.post(url("compare", f3), body, format="json").json()
    assert data["normalised"] and any("different surveys" in w for w in data["warnings"])
    assert any("resampled" in w for w in data["warnings"])
    same = agent.post(url("compare", f3), {"section_type": "inline", "section_number": 120,
                                           "reference_section_type": "inline", "reference_section_number": 120},
                      format="json").json()
    assert same["verdict"] == "similar" and same["correlation"] == pytest.approx(1.0)


@pytest.mark.parametrize("name, body, fragment", [
    ("validate-claim", {"section_type": "inline", "section_number": 120, "claim_type": "high_amplitude",
                        "crossline_range": [800, 820]}, "outside the survey"),
    ("validate-claim", {"section_type": "inline", "section_number": 120, "claim_type": "high_amplitude"},
     "window"),
    ("validate-claim", {}, "required"),
    ("validate-claim", {"section_type": "inline", "section_number": 120, "claim_type": "amplitude_statistic",
                        "crossline_range": [880, 886]}, "statistic"),
    ("validate-claim", {"section_type": "inline", "section_number": 120, "claim_type": "high_amplitude",
                        "inline_range": [111, 115]}, "fixes the inline"),
    ("anomalies", {"section_type": "inline", "section_number": 999}, "valid inline"),
    ("anomalies", {"section_type": "inline", "section_number": 120, "limit": 500}, "limit"),
    ("verify-hypothesis", {"feature_type": "volcano", "location": {"inline": 120, "crossline": 880, "sample": 100}},
     "feature_type must be one of"),
    ("verify-hypothesis", {"feature_type": "fault", "location": {"inline": 120, "crossline": 880, "sample": 9999}},
     "sample 9999"),
    ("verify-hypothesis", {"feature_type": "fault"}, "location"),
    ("compare", {"section_type": "inline", "section_number": 120, "reference_section_type": "timeslice",
                 "reference_section_number": 100}, "vertical section"),
])
def test_bad_tool_input_is_a_400_naming_the_problem(agent, f3, name, body, fragment):
    response = agent.post(url(name, f3), body, format="json")
    assert response.status_code == 400, response.json()
    assert fragment in str(response.json())
    assert not Witness.objects.filter(operation="tool").exclude(tool_ids=["extract_section"]).exists()


def test_an_unknown_survey_is_a_404(agent, db):
    response = agent.post(reverse("api:seismic:anomalies", kwargs={"survey_id": 999}),
                          {"section_type": "inline", "section_number": 1}, format="json")
    assert response.status_code == 404


def test_the_tools_are_in_the_manifest_with_what_they_cannot_establish(agent):
    tools = {t["function"]["name"]: t for t in agent.get(reverse("api:seismic:tools")).json()["tools"]}
    for name in ("validate_amplitude_claim", "detect_amplitude_anomalies", "verify_feature_hypothesis",
                 "compare_to_reference"):
        assert "cannot be concluded" in tools[name]["function"]["description"]


def test_tools_on_the_real_penobscot_line(agent, register, segy_dir):
    survey = register("penobscot_xl1155")
    with segyio.open(str(segy_dir / "penobscot_xl1155.sgy"), ignore_geometry=True) as f:
        traces = f.trace.raw[:].astype(np.float64)
        inlines = f.attributes(segyio.TraceField.INLINE_3D)[:]
        samples = f.samples
    keep = (inlines >= 1200) & (inlines <= 1300)
    window = traces[keep][:, (samples >= 1000) & (samples <= 2000)]
    body = {"section_type": "crossline", "section_number": 1155, "claim_type": "amplitude_statistic",
            "statistic": "std", "value": float(window.std()), "inline_range": [1200, 1300],
            "sample_range": [1000, 2000]}
    data = agent.post(url("validate-claim", survey), body, format="json").json()
    assert data["verdict"] == "PASS" and data["evidence"]["live_samples"] == window.size
    assert data["evidence"]["recomputed"]["std"] == pytest.approx(window.std(), rel=1e-9)
    anomalies = agent.post(url("anomalies", survey), {"section_type": "crossline", "section_number": 1155},
                           format="json").json()
    assert anomalies["total"] == len(anomalies["anomalies"]) or anomalies["next_offset"] == 50
    for anomaly in anomalies["anomalies"]:
        assert anomaly["crossline_range"] == [1155, 1155] and 1000 <= anomaly["centroid"]["inline"] <= 1600
        assert anomaly["strength"] >= 3.0
