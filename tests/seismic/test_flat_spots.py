"""The flat-spot hypothesis verification, measured on synthetic surveys with a planted flat spot (a
flat, strong, positive reflection under the bright spot) that the verifier was not tuned on, as the
fault and channel hypotheses are measured in ``test_detection``: sensitivity at points of the flat
spot (its centre and points drawn from its inline and crossline ranges, so some lie just off its
elliptic edge), specificity at random locations away from the bright spot and at the centre of a
bright spot with no flat spot under it. Each check is run as the verify_feature_hypothesis tool runs
it: a cube of ±10 traces and ±25 samples around the location and the full inline and crossline
through it, the anomaly steps with the dip-steered background (the figures below were first measured
with the lateral one; measured again with the dip-steered one, those of the test seeds are the same).

The check (``flat_spot_method`` 2, ``verification.flat_event``) looks at the flat event itself: the
positive reflection at the location, tracked across the traces where it stays strong, must not
follow the reflectors over it (the structure that traps the fluid) and must vary less than they do.
The first method took the lag between neighbouring traces over the whole window instead, where
dipping reflectors outweigh the flat event, and on gently dipping reflectors it held for any bright
spot; witnesses made with it name no method and still replay with it.

Developed on seeds 200–259 (the generator's defaults otherwise), then measured once on seeds 61–80
(five points on each flat spot, ten empty locations each):

==============================  ===========================  ===========================
                                seeds 200–259 (development)  seeds 61–80 (test)
==============================  ===========================  ===========================
dip 20 ms: sensitivity          0.98 (n = 300)               0.97 (n = 100)
dip 20 ms: specificity          1.00 (n = 600)               1.00 (n = 200)
dip 60 ms: sensitivity          0.97 (n = 300)               0.96 (n = 100)
dip 60 ms: specificity          1.00 (n = 600)               1.00 (n = 200)
dip 120 ms: sensitivity         0.93 (n = 300)               0.93 (n = 100)
dip 120 ms: specificity         1.00 (n = 600)               1.00 (n = 200)
bright spot, no flat spot       60 of 60 not verified        20 of 20 not verified
==============================  ===========================  ===========================

(120 ms across 80 crosslines is about 0.38 samples per trace; the bright spot without a flat spot is
tested at 20 ms, and at 60 and 120 ms it was not verified either: 20 of 20 each.) With the first
method the test seeds gave 1.00, 1.00 and 0.67 sensitivity, and the bright spot without a flat spot
was verified on all 20. The goals (sensitivity > 85 %, specificity > 90 %) are met everywhere, and
the tests gate at them. The misses on the test seeds are points at the flat spot's edge: off its
ellipse, where the bright spot's reflector merges with the contact (steep dip), or where the contact is
weak under a strong positive top. On the development seeds the amplitude-anomaly steps also missed the
anomaly on one survey (five points at 20 ms, one at 60 and at 120 ms), which the first method
missed as well (without the anomaly steps no score reaches 0.7).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from seismic import synthetic, tools, verification
from vifsite.vif import replay, signing
from vifsite.vif.models import Witness

SEEDS = range(61, 81)  # surveys the verifier was not tuned on
SHAPE = (60, 80, 250)
HALF_TRACES, HALF_SAMPLES = 10, 25  # as the tool reads its cube
MARGIN = 8  # traces around the bright spot where no empty location is drawn


def _verify(data: np.ndarray, i: int, x: int, s: int) -> dict[str, Any]:
    lo = (max(0, i - HALF_TRACES), max(0, x - HALF_TRACES), max(0, s - HALF_SAMPLES))
    cube = data[lo[0]:i + HALF_TRACES + 1, lo[1]:x + HALF_TRACES + 1, lo[2]:s + HALF_SAMPLES + 1]
    return verification.verify(
        cube, np.ones(cube.shape[:2], bool), (i - lo[0], x - lo[1], s - lo[2]), feature="flat_spot",
        inline_section=data[i], inline_live=np.ones(data.shape[1], bool),
        crossline_section=data[:, x], crossline_live=np.ones(data.shape[0], bool), full_at=(i, x, s),
        background="dip_steered")


def _volume(seed: int, dip_ms: float, *, flat_spot: bool = True) -> synthetic.Synthetic:
    ni, nx, ns = SHAPE
    return synthetic.generate(synthetic.SyntheticSpec(
        n_inlines=ni, n_crosslines=nx, n_samples=ns, seed=seed, regional_dip_ms=dip_ms,
        flat_spot=synthetic.FlatSpot() if flat_spot else None))


def _outcomes(dip_ms: float, per_survey: int = 5) -> Iterator[tuple[bool, bool]]:
    """(planted, verified) for points on each flat spot and for empty locations."""
    rng = np.random.default_rng(99)
    for seed in SEEDS:
        volume = _volume(seed, dip_ms)
        features = {f["kind"]: f for f in volume.ground_truth["features"]}
        flat, bright = features["flat_spot"], features["bright_spot"]
        first_il, first_xl = volume.spec.first_inline, volume.spec.first_crossline
        s = round(flat["time_ms"] / volume.spec.sample_interval_ms)
        points = [(round(flat["center"]["inline"]) - first_il, round(flat["center"]["crossline"]) - first_xl)]
        while len(points) < per_survey:
            points.append((int(rng.integers(flat["inline_range"][0], flat["inline_range"][1] + 1)) - first_il,
                           int(rng.integers(flat["crossline_range"][0], flat["crossline_range"][1] + 1)) - first_xl))
        for i, x in points:
            yield True, _verify(volume.data, i, x, s)["verified"]
        empty = 0
        while empty < 2 * per_survey:
            i, x, t = int(rng.integers(5, 55)), int(rng.integers(5, 75)), float(rng.uniform(150, 850))
            if (bright["inline_range"][0] - MARGIN <= i + first_il <= bright["inline_range"][1] + MARGIN
                    and bright["crossline_range"][0] - MARGIN <= x + first_xl <= bright["crossline_range"][1] + MARGIN):
                continue
            yield False, _verify(volume.data, i, x, int(t / 4))["verified"]
            empty += 1


def _rates(dip_ms: float) -> tuple[float, int, float, int]:
    by_truth: dict[bool, list[bool]] = {True: [], False: []}
    for planted, verified in _outcomes(dip_ms):
        by_truth[planted].append(verified)
    return (float(np.mean(by_truth[True])), len(by_truth[True]),
            1 - float(np.mean(by_truth[False])), len(by_truth[False]))


def test_no_flat_spot_is_planted_unless_asked_and_the_volume_stays_as_it_was():
    spec = synthetic.SyntheticSpec(n_inlines=30, n_crosslines=40, n_samples=120, seed=3, noise=0.0)
    plain = synthetic.generate(spec)
    assert "flat_spot" not in plain.ground_truth["spec"]
    assert all(f["kind"] != "flat_spot" for f in plain.ground_truth["features"])
    spec.flat_spot = synthetic.FlatSpot()
    with_flat = synthetic.generate(spec)
    flat = next(f for f in with_flat.ground_truth["features"] if f["kind"] == "flat_spot")
    bright = next(f for f in with_flat.ground_truth["features"] if f["kind"] == "bright_spot")
    assert flat["time_ms"] > bright["center"]["time_ms"]  # at the base of the bright spot
    assert bright["inline_range"][0] <= flat["inline_range"][0] <= flat["inline_range"][1] <= bright["inline_range"][1]
    changed = np.nonzero(np.any(with_flat.data != plain.data, axis=2))
    assert changed[0].size  # without noise (scaled by the signal's RMS), only the traces under the flat spot change
    assert flat["inline_range"][0] - 1000 <= changed[0].min() and changed[0].max() <= flat["inline_range"][1] - 1000


@pytest.mark.slow
@pytest.mark.parametrize("dip_ms", [20.0, 60.0])
def test_flat_spot_hypotheses_sensitivity_and_specificity(dip_ms):
    sensitivity, positives, specificity, negatives = _rates(dip_ms)
    assert positives >= 100 and negatives >= 200
    assert sensitivity > 0.85, sensitivity
    assert specificity > 0.90, specificity


@pytest.mark.slow
def test_flat_spots_across_steep_dips_are_found():
    sensitivity, _, specificity, _ = _rates(120.0)
    assert sensitivity > 0.85, sensitivity
    assert specificity > 0.90, specificity


def test_a_bright_spot_without_a_flat_spot_is_not_verified_as_one():
    verified = []
    for seed in SEEDS:
        volume = _volume(seed, 20.0, flat_spot=False)
        spot = next(f for f in volume.ground_truth["features"] if f["kind"] == "bright_spot")
        i = round(spot["center"]["inline"]) - volume.spec.first_inline
        x = round(spot["center"]["crossline"]) - volume.spec.first_crossline
        verified.append(_verify(volume.data, i, x, round(spot["center"]["time_ms"] / 4))["verified"])
    assert 1 - np.mean(verified) > 0.90


def test_the_flat_event_is_flat_where_the_reflectors_over_it_dip_and_a_bright_reflector_follows_them():
    volume = _volume(201, 60.0)
    features = {f["kind"]: f for f in volume.ground_truth["features"]}
    i = round(features["flat_spot"]["center"]["inline"]) - volume.spec.first_inline
    x = round(features["flat_spot"]["center"]["crossline"]) - volume.spec.first_crossline
    on_flat = next(s for s in _verify(volume.data, i, x, round(features["flat_spot"]["time_ms"] / 4))["steps"]
                   if s["name"] == "flat_event")
    assert on_flat["score"] == 1.0 and on_flat["evidence"]["event"]["polarity"] == "positive"
    evidence = on_flat["evidence"]
    assert evidence["discordance"] >= 0.5 and evidence["flatness_ratio"] <= 0.8
    assert abs(evidence["event_dip_samples_per_trace"]["across_crosslines"]) < 0.05
    assert evidence["reflector_dip_samples_per_trace"]["across_crosslines"] > 0.1  # the regional dip, 0.19
    top = round(features["bright_spot"]["center"]["time_ms"] / 4)  # the same volume's bright spot, positive here
    on_top = next(s for s in _verify(volume.data, i, x, top)["steps"] if s["name"] == "flat_event")
    assert on_top["score"] == 0.0 and on_top["evidence"]["discordance"] < 0.25


# verification.verify(..., flat_spot_method=1) on this volume, computed before the second method existed:
# a witness that names no method must keep replaying bit for bit. The first and third were recorded again under
# numpy's pinned AVX2 code (vifsite/__init__.py): first recorded with its AVX-512 code, they differed in the
# last bits on a machine without it.
METHOD_1_RESULTS = {
    (15, 16, 39): "b6a0926544f31405ec6c990f92b842d43e95adbaf0b2282884d4c388619b95f5",
    (5, 30, 60): "6edd0288d248f8ff042b3a646ba42fbafddb3c914048ddc772bd730eff18bc15",
    (15, 16, 34): "52f0dcde532ec7fdd2bc281160bb3d233c8bbf1cb9b97fe15cface2bb93f8dc8",
}


def test_the_first_method_gives_the_results_it_gave():
    volume = synthetic.generate(synthetic.SyntheticSpec(n_inlines=30, n_crosslines=40, n_samples=120, seed=11,
                                                        flat_spot=synthetic.FlatSpot()))
    for (i, x, s), expected in METHOD_1_RESULTS.items():
        lo = (max(0, i - HALF_TRACES), max(0, x - HALF_TRACES), max(0, s - HALF_SAMPLES))
        cube = volume.data[lo[0]:i + HALF_TRACES + 1, lo[1]:x + HALF_TRACES + 1, lo[2]:s + HALF_SAMPLES + 1]
        result = verification.verify(
            cube, np.ones(cube.shape[:2], bool), (i - lo[0], x - lo[1], s - lo[2]), feature="flat_spot",
            inline_section=volume.data[i], inline_live=np.ones(volume.data.shape[1], bool),
            crossline_section=volume.data[:, x], crossline_live=np.ones(volume.data.shape[0], bool), full_at=(i, x, s),
            flat_spot_method=1)
        assert signing.sha256_hex(signing.canonical(result)) == expected, (i, x, s)
    with pytest.raises(ValueError, match="flat_spot_method"):
        verification.verify(cube, np.ones(cube.shape[:2], bool), (0, 0, 0), feature="flat_spot", flat_spot_method=3)


def test_a_flat_spot_witness_names_its_method_and_one_that_names_none_replays_with_the_first(
        synthetic_survey, settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    sample = synthetic_survey.geometry().sample.value(49)
    where = {"survey_id": synthetic_survey.pk, "feature_type": "flat_spot", "inline": 1020.0, "crossline": 2015.0,
             "sample": sample}
    new = tools.hypothesis_verify(**where, principal="agent:bot")
    assert new["provenance"]["parameters"]["flat_spot_method"] == verification.FLAT_SPOT_METHOD == 2
    assert [s["name"] for s in new["steps"]][0] == "flat_event"
    # As the tool recorded it before there was a choice of method.
    old = tools.run("verify_feature_hypothesis", {**where, "characteristics": {}}, principal="agent:bot")
    assert "flat_spot_method" not in old["provenance"]["parameters"]
    assert [s["name"] for s in old["steps"]][0] == "flatness"
    for result in (new, old):
        replayed = replay.replay_tool(Witness.objects.get(vif_id=result["provenance"]["vif_id"]), runs=2)
        assert replayed["matches"] and replayed["deterministic"] and replayed["differences"] == []
    old_witness = Witness.objects.get(vif_id=old["provenance"]["vif_id"])
    again = tools._hypothesis(synthetic_survey, {**old_witness.tool_parameters, "flat_spot_method": 2})
    assert tools._result_hash(tools._finite(again)) != old_witness.tool_results_hash  # the version is needed
    other = tools.hypothesis_verify(**{**where, "feature_type": "bright_spot"}, principal="agent:bot")
    assert "flat_spot_method" not in other["provenance"]["parameters"]  # other features' witnesses stay as they were
