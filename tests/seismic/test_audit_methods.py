"""The interpretation audit and the structured analysis judge features with the tools' current methods,
name them in their witnesses, and replay older witnesses with the methods those were made by.

A new audit_interpretation or validate_structured_analysis witness names ``background`` ("dip_steered":
the anomaly detector behind the bright-spot check and the strongest-anomaly comparison),
``flat_spot_method`` (2: the flat reflection itself, as verify_feature_hypothesis checks it) and
``envelope`` ("fir": a cited timeslice's envelope for its anomalies). One that names none was recorded
before and replays, bit for bit, with the lateral background, flat-spot method 1 and the FFT envelope.
The two differ where it matters: at the top of a bright spot with no flat spot under it, the first
flat-spot method confirms a claimed flat spot and the second does not."""

from __future__ import annotations

import pytest

from seismic import detection, services, synthetic, tools, vds, verification
from vifsite.vif import replay
from vifsite.vif.models import Witness

PRINCIPAL = "agent:bot"
# The bright spot of the small synthetic survey (``synthetic_survey``, no flat spot under it).
IL, XL, T = 1020, 2014, 196
FLAT_SPOT_AT_THE_TOP = f"A flat spot lies at crossline {XL}, {T} ms, on inline {IL}."


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


@pytest.fixture(scope="module")
def flat_spot_volume(tmp_path_factory):
    """The small synthetic survey's twin with a flat spot planted under its bright spot."""
    out = tmp_path_factory.mktemp("flat")
    volume = synthetic.generate(synthetic.SyntheticSpec(n_inlines=40, n_crosslines=36, n_samples=160, seed=3,
                                                        flat_spot=synthetic.FlatSpot()))
    synthetic.write_segy(volume, out / "flat.sgy")
    vds.segy_import(str(out / "flat.sgy"), str(out / "flat.vds"))
    return volume, out / "flat.vds"


@pytest.fixture
def flat_spot_survey(flat_spot_volume, db):
    volume, path = flat_spot_volume
    survey = services.survey_register_vds(url=str(path), name="flat spot", restrict_to_roots=False)
    survey.ground_truth = volume.ground_truth
    survey.save(update_fields=["ground_truth"])
    return survey


def _extraction(survey, kind: str = "inline", number: float = IL) -> int:
    return services.section_extract(survey=survey, kind=kind, number=number, principal=PRINCIPAL)[1].pk


def _fabrications(result: dict) -> list[dict]:
    return [f for f in result["findings"] if f["category"] == "feature_fabrication"]


def _replays(result: dict) -> Witness:
    witness = Witness.objects.get(vif_id=result["provenance"]["vif_id"])
    outcome = replay.replay_tool(witness, runs=2)
    assert outcome["matches"] and outcome["deterministic"] and outcome["differences"] == []
    return witness


def _hash(tool_id: str, survey, parameters: dict) -> str:
    return tools._result_hash(tools._finite(tools.COMPUTE[tool_id](survey, parameters)))


OLD = {"background": "lateral", "flat_spot_method": 1, "envelope": "fft"}
NEW = {"background": "dip_steered", "flat_spot_method": 2, "envelope": "fir"}


def _checking(methods: dict) -> dict:
    """The methods the feature checker takes (a cited timeslice's envelope is not one)."""
    return {name: methods[name] for name in ("background", "flat_spot_method")}


def test_a_new_audit_names_its_methods_replays_and_does_not_take_a_bright_spot_for_a_flat_spot(synthetic_survey):
    ids = [_extraction(synthetic_survey)]
    result = tools.interpretation_audit(text=FLAT_SPOT_AT_THE_TOP, extraction_ids=ids, principal=PRINCIPAL)
    parameters = result["provenance"]["parameters"]
    assert parameters["background"] == detection.DEFAULT_BACKGROUND == NEW["background"]
    assert parameters["flat_spot_method"] == verification.FLAT_SPOT_METHOD == NEW["flat_spot_method"]
    assert parameters["envelope"] == detection.ENVELOPE == NEW["envelope"]
    witness = _replays(result)
    [finding] = _fabrications(result)
    assert finding["severity"] == "CRITICAL" and finding["evidence"]["feature"] == "flat_spot"
    assert finding["evidence"]["tool"] == "verify_feature_hypothesis"
    assert finding["evidence"]["best_score"] < verification.VERIFIED_AT
    # The verdict is the flat-spot tool's: what an agent calling it at the same point is told.
    direct = tools.hypothesis_verify(survey_id=synthetic_survey.pk, feature_type="flat_spot", inline=IL,
                                     crossline=XL, sample=T, principal=PRINCIPAL)
    assert direct["score"] == finding["evidence"]["best_score"] and not direct["verified"]
    assert _hash("audit_interpretation", synthetic_survey, {**witness.tool_parameters, **OLD}) != \
        witness.tool_results_hash


def test_an_audit_witness_recorded_before_the_methods_were_named_replays_with_the_old_ones(synthetic_survey):
    ids = [_extraction(synthetic_survey)]
    # As the audit recorded its witnesses before: the text, the extractions, no method.
    old = tools.run("audit_interpretation", {"survey_id": synthetic_survey.pk, "text": FLAT_SPOT_AT_THE_TOP,
                                             "extraction_ids": ids}, principal=PRINCIPAL)
    witness = _replays(old)
    assert not OLD.keys() & witness.tool_parameters.keys()
    assert _hash("audit_interpretation", synthetic_survey, {**witness.tool_parameters, **OLD}) == \
        witness.tool_results_hash
    assert _hash("audit_interpretation", synthetic_survey, {**witness.tool_parameters, **NEW}) != \
        witness.tool_results_hash
    # The first flat-spot method took the bright spot's top for a flat spot: no finding then.
    assert _fabrications(old) == []


def test_the_audit_confirms_a_flat_spot_claimed_on_the_flat_reflection_and_not_one_at_the_top(flat_spot_survey):
    features = {f["kind"]: f for f in flat_spot_survey.ground_truth["features"]}
    flat, bright = features["flat_spot"], features["bright_spot"]
    il, xl = round(flat["center"]["inline"]), round(flat["center"]["crossline"])
    on_flat, on_top = round(flat["time_ms"] / 4) * 4, round(bright["center"]["time_ms"] / 4) * 4
    assert on_flat - on_top >= 12  # a few samples apart: the top is not within reach of the flat reflection
    ids = [_extraction(flat_spot_survey, number=il)]

    def audit(time_ms: int, methods: dict | None = None) -> dict:
        text = f"A flat spot lies at crossline {xl}, {time_ms} ms, on inline {il}."
        if methods is None:
            return tools.interpretation_audit(text=text, extraction_ids=ids, principal=PRINCIPAL)
        return tools.COMPUTE["audit_interpretation"](flat_spot_survey, {"text": text, "extraction_ids": ids,
                                                                       **methods})

    assert _fabrications(audit(on_flat)) == []
    assert [f["severity"] for f in _fabrications(audit(on_top))] == ["CRITICAL"]
    assert _fabrications(audit(on_top, OLD)) == []  # the first method confirmed it


def test_a_flat_spot_claimed_without_a_time_is_looked_for_along_the_whole_trace(flat_spot_survey):
    flat = next(f for f in flat_spot_survey.ground_truth["features"] if f["kind"] == "flat_spot")
    il, xl = round(flat["center"]["inline"]), round(flat["center"]["crossline"])
    check = tools._feature_checker(flat_spot_survey, **_checking(NEW))
    supported, evidence = check("flat_spot", {"inline": il, "crossline": xl})
    # The second method reaches 2 samples from a point: the points tried are 5 samples apart, and the best
    # is on the flat reflection.
    assert supported and abs(evidence["at_sample"] - flat["time_ms"]) <= 2 * 4
    geometry = flat_spot_survey.geometry()
    assert evidence["positions_checked"] == len(range(10, geometry.sample.count - 10, 5))
    _, old_evidence = tools._feature_checker(flat_spot_survey, **_checking(OLD))("flat_spot",
                                                                                {"inline": il, "crossline": xl})
    assert old_evidence["positions_checked"] == len(range(10, geometry.sample.count - 10, 10))


def test_the_bright_spot_check_and_the_strongest_anomaly_use_the_named_background(synthetic_survey):
    point = {"inline": float(IL), "crossline": float(XL), "sample": float(T)}
    section = services.section_read(survey=synthetic_survey, kind="inline", number=IL)
    evidence = {}
    for background in ("lateral", "dip_steered"):
        supported, evidence[background] = tools._feature_checker(
            synthetic_survey, background=background)("bright_spot", point)
        assert supported
        clusters, _ = detection.detect(section.data, section.live, vertical=True, background=background)
        assert evidence[background]["anomaly"]["strength"] in [c.strength for c in clusters]
    assert evidence["lateral"] != evidence["dip_steered"]
    extraction = {"id": _extraction(synthetic_survey), "kind": "inline", "number": float(IL), "ranges": {}}
    tool = tools.anomalies_detect(survey_id=synthetic_survey.pk, section_type="inline", section_number=IL,
                                  principal=PRINCIPAL)  # the tool's default: dip-steered
    found = tools._audit_data(synthetic_survey, background="dip_steered")["anomalies"](extraction)
    assert [(a.ranges["crossline"], a.ranges["sample"]) for a in found] == [
        (tuple(a["crossline_range"]), tuple(a["sample_range"])) for a in tool["anomalies"]]


def _filled(extraction_id: int, statistics: dict) -> dict:
    return {"focus": "amplitude", "extraction_ids": [extraction_id],
            "observations": [{"description": "The section's RMS amplitude.",
                              "statistics": [{"name": "rms", "value": statistics["rms"],
                                              "extraction_id": extraction_id}]}],
            "interpretations": [{"hypothesis": FLAT_SPOT_AT_THE_TOP.rstrip("."), "confidence": "probable",
                                 "supporting_evidence": ["a flat reflection under the bright area"],
                                 "needs_validation": True}],
            "limitations": ["One inline only; no well control."]}


def test_a_structured_analysis_names_its_methods_and_an_older_one_replays_with_the_old_ones(synthetic_survey):
    _, extraction = services.section_extract(survey=synthetic_survey, kind="inline", number=IL, principal=PRINCIPAL)
    filled = _filled(extraction.pk, extraction.statistics)
    new = tools.structured_validate(survey_id=synthetic_survey.pk, filled=filled, principal=PRINCIPAL)
    assert {k: new["provenance"]["parameters"][k] for k in NEW} == NEW
    _replays(new)
    assert not new["valid"] and [f["severity"] for f in _fabrications(new)] == ["HIGH"]  # hedged: HIGH
    old = tools.run("validate_structured_analysis", {"survey_id": synthetic_survey.pk, "analysis": filled},
                    principal=PRINCIPAL)
    witness = _replays(old)
    assert not OLD.keys() & witness.tool_parameters.keys()
    assert _hash("validate_structured_analysis", synthetic_survey, {**witness.tool_parameters, **OLD}) == \
        witness.tool_results_hash
    assert old["valid"] and _fabrications(old) == []
