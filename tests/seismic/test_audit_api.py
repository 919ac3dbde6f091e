"""The interpretation audit and structured analysis through the API."""

import pytest
from django.urls import reverse

from seismic import audit
from vifsite.vif.models import Witness

AUDIT = reverse("api:seismic:audit")


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def extract(agent, survey, kind, number):
    url = reverse("api:seismic:section", kwargs={"survey_id": survey.pk, "section_type": kind,
                                                 "section_number": str(number)})
    return agent.get(url).json()


def test_an_invented_number_and_a_definite_gas_claim_are_found(agent, f3):
    section = extract(agent, f3, "inline", 120)
    rms = section["statistics"]["rms"]
    text = (f"Inline 120 has an RMS amplitude of {rms:.1f}. "
            f"The maximum reaches {section['statistics']['max'] * 3:.0f}. "
            "The bright interval is a gas-charged sand.")
    data = agent.post(AUDIT, {"text": text, "extraction_ids": [section["extraction_id"]]}, format="json").json()
    kinds = {(f["category"], f["severity"]) for f in data["findings"]}
    assert ("numeric", "HIGH") in kinds and ("out_of_scope", "CRITICAL") in kinds
    numeric = next(f for f in data["findings"] if f["category"] == "numeric")
    assert numeric["evidence"]["closest"]["statistic"] in ("max", "max_abs", "p99")
    assert "maximum" in numeric["span"].lower()
    assert 0 <= data["grounding_score"] < 0.5
    assert Witness.objects.filter(tool_ids=["audit_interpretation"]).count() == 1


def test_a_grounded_hedged_answer_passes(agent, f3):
    section = extract(agent, f3, "inline", 120)
    s = section["statistics"]
    text = (f"Inline 120 has an RMS amplitude of {s['rms']:.1f} over {s['live_traces']} live traces. The reflectors "
            "appear continuous; lithology cannot be determined without well logs.")
    data = agent.post(AUDIT, {"text": text, "extraction_ids": [section["extraction_id"]]}, format="json").json()
    assert data["findings"] == [] and data["grounding_score"] == 1.0


def test_a_fabricated_feature_is_critical_and_a_real_one_is_not(agent, synthetic_survey):
    spot = next(f for f in synthetic_survey.ground_truth["features"] if f["kind"] == "bright_spot")
    il, xl = round(spot["center"]["inline"]), round(spot["center"]["crossline"])
    t = round(spot["center"]["time_ms"] / 4) * 4
    section = extract(agent, synthetic_survey, "inline", il)
    real = agent.post(AUDIT, {"text": f"A possible bright spot at crossline {xl}, {t} ms, on inline {il}.",
                              "extraction_ids": [section["extraction_id"]]}, format="json").json()
    assert not [f for f in real["findings"] if f["category"] == "feature_fabrication"]
    fake_t = synthetic_survey.sample_first + 40
    fake = agent.post(AUDIT, {"text": f"There is a bright spot at crossline {xl}, {fake_t:g} ms, on inline {il}.",
                              "extraction_ids": [section["extraction_id"]]}, format="json").json()
    assert any(f["category"] == "feature_fabrication" and f["severity"] == "CRITICAL" for f in fake["findings"])


@pytest.mark.parametrize("body, fragment", [
    ({"text": "", "extraction_ids": []}, "Give the interpretation"),
    ({"text": "Inline 120 looks fine.", "extraction_ids": [987654]}, "No extraction with id 987654"),
    ({"text": "Inline 120 looks fine."}, "extraction_ids"),
])
def test_bad_audit_requests_are_400(agent, db, body, fragment):
    response = agent.post(AUDIT, body, format="json")
    assert response.status_code == 400 and fragment in str(response.json())


def test_the_structured_template_and_a_filled_analysis(agent, f3):
    url = reverse("api:seismic:structured-analysis", kwargs={"survey_id": f3.pk})
    template = agent.get(url, {"focus": "amplitude", "section_type": "inline", "section_number": 120}).json()
    assert template["schema"]["properties"]["focus"] == {"const": "amplitude"}
    assert template["statistics"]["rms"] > 0 and template["confidence_scale"][0] == "definite"
    filled = {
        "focus": "amplitude", "extraction_ids": [template["extraction_id"]],
        "observations": [{"description": "The section's RMS amplitude.",
                          "statistics": [{"name": "rms", "value": template["statistics"]["rms"]}]}],
        "interpretations": [{"hypothesis": "The upper reflectors are brighter than the lower ones",
                             "confidence": "possible", "supporting_evidence": ["percentiles of the section"],
                             "needs_validation": True}],
        "limitations": ["One inline only; no well control."],
    }
    ok = agent.post(url, filled, format="json").json()
    assert ok["valid"] and ok["statistic_checks"][0]["verdict"] == "PASS"
    filled["observations"][0]["statistics"][0]["value"] *= 1.5
    wrong = agent.post(url, filled, format="json").json()
    assert not wrong["valid"] and wrong["statistic_checks"][0]["verdict"] == "FAIL" and wrong["problems"]


@pytest.mark.parametrize("change, fragment", [
    (lambda a: a.pop("limitations"), "'limitations' is a required property"),
    (lambda a: a.update(limitations=[]), "limitations"),
    (lambda a: a["interpretations"][0].update(supporting_evidence=[]), "supporting_evidence"),
    (lambda a: a["interpretations"][0].update(confidence="sure"), "confidence"),
    (lambda a: a.update(focus="geology"), "focus must be one of"),
])
def test_a_malformed_analysis_is_a_400_naming_the_problem(agent, f3, change, fragment):
    url = reverse("api:seismic:structured-analysis", kwargs={"survey_id": f3.pk})
    template = agent.get(url, {"focus": "qc", "section_type": "inline", "section_number": 120}).json()
    filled = {"focus": "qc", "extraction_ids": [template["extraction_id"]],
              "observations": [{"description": "Few dead traces."}],
              "interpretations": [{"hypothesis": "Data quality is adequate", "confidence": "probable",
                                   "supporting_evidence": ["no dead traces"], "needs_validation": False}],
              "limitations": ["Single line."]}
    change(filled)
    response = agent.post(url, filled, format="json")
    assert response.status_code == 400 and fragment in str(response.json())


def test_sentences_and_numbers_are_parsed_without_the_corpus():
    context = audit.Context(inline=audit.Axis(100, 200, 1), crossline=audit.Axis(300, 400, 1),
                            sample=audit.Axis(0, 2000, 4), extractions=[
                                {"id": 1, "kind": "inline", "number": 150, "ranges": {"crossline": [300, 400],
                                                                                    "sample": [0, 2000]},
                                 "statistics": {"rms": 1000.0, "max": 5000.0, "min": -4000.0,
                                                "dominant_frequency_hz": 25.0}}])
    result = audit.audit("On inline 150 the RMS is 1,020 and the dominant frequency 25 Hz. The maximum is 9000. "
                         "Crossline 450 may show the same.", context)
    found = {(f["category"], f["span"].split()[-1]) for f in result["findings"]}
    assert ("numeric", "9000") in found
    assert any(f["category"] == "location" and f["severity"] == "HIGH" for f in result["findings"])
    assert len(result["findings"]) == 2  # 1,020 is within 5 % of 1000; 25 Hz matches
