"""Calibration metrics against reference implementations (scikit-learn, uncertainty-calibration)
on the same data, and the fixtures of the specification exactly."""

import time

import numpy as np
import pytest
from calibration import utils as kumar
from sklearn.calibration import calibration_curve

from vifsite.vif import calibration as cal

FIXTURES = [
    ([.25, .25, .55, .75, .75], [0, 0, 1, 1, 1], 2, 0.29),
    ([.1, .2, .3, .4, .65, .7, .8, .9, 1], [0, 0, 0, 0, 1, 1, 1, 1, 1], 3, 0.138889),
    ([1, 1, 1, 1, 1, 1, .5, .55, .45, .95], [1, 1, 1, 1, 1, 1, 0, 1, 0, 1], 10, 0.145),
]


@pytest.mark.parametrize("conf, correct, bins, expected", FIXTURES)
def test_ece_of_the_specified_fixtures(conf, correct, bins, expected):
    hist = cal.Histogram.from_samples(conf, correct)
    assert cal.ece(hist, bins) == pytest.approx(expected, abs=5e-7)


def _data(seed, n=2000, decimals=6):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.beta(5, 2, n), decimals)
    correct = (rng.random(n) < np.clip(conf - 0.08, 0, 1)).astype(int)
    return conf, correct


@pytest.mark.parametrize("seed, decimals, bins", [(0, 6, 10), (1, 2, 10), (2, 1, 10), (3, 2, 7), (4, 3, 15)])
def test_equal_width_bins_match_scikit_learn(seed, decimals, bins):
    # decimals=1 or 2 puts many confidences exactly on bin edges, where conventions differ.
    conf, correct = _data(seed, decimals=decimals)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=bins, strategy="uniform")
    rows = [row for row in cal.reliability_bins(cal.Histogram.from_samples(conf, correct), bins).rows() if row["count"]]
    np.testing.assert_allclose([r["accuracy"] for r in rows], prob_true, rtol=0, atol=1e-12)
    np.testing.assert_allclose([r["mean_confidence"] for r in rows], prob_pred, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed, decimals, bins", [(0, 6, 10), (1, 2, 10), (2, 1, 10), (5, 2, 4), (6, 3, 15)])
def test_ece_mass_ece_and_debiased_l2_match_uncertainty_calibration(seed, decimals, bins):
    conf, correct = _data(seed, decimals=decimals)
    hist = cal.Histogram.from_samples(conf, correct)
    reference_ece = kumar.lower_bound_scaling_ce(conf, correct, p=1, debias=False, num_bins=bins,
                                                 binning_scheme=kumar.get_equal_prob_bins)
    reference_mass = kumar.lower_bound_scaling_ce(conf, correct, p=1, debias=False, num_bins=bins,
                                                  binning_scheme=kumar.get_equal_bins)
    reference_l2 = kumar.lower_bound_scaling_ce(conf, correct, p=2, debias=True, num_bins=bins,
                                                binning_scheme=kumar.get_equal_bins)
    assert cal.ece(hist, bins, "uniform") == pytest.approx(reference_ece, abs=1e-12)
    assert cal.ece(hist, bins, "quantile") == pytest.approx(reference_mass, abs=1e-12)
    assert cal.debiased_l2(hist, bins, "quantile") == pytest.approx(reference_l2, abs=1e-12)


def test_mce_and_brier_against_direct_computation():
    conf, correct = _data(7, decimals=3)
    hist = cal.Histogram.from_samples(conf, correct)
    assert cal.brier(hist) == pytest.approx(np.mean((conf - correct) ** 2), abs=1e-12)
    edges = np.linspace(0, 1, 11)
    index = np.clip(np.searchsorted(edges[1:-1], conf, side="left"), 0, 9)
    gaps = [abs(conf[index == k].mean() - correct[index == k].mean()) for k in range(10) if np.any(index == k)]
    assert cal.mce(hist, 10) == pytest.approx(max(gaps), abs=1e-12)


def test_a_perfectly_calibrated_model_is_within_noise():
    rng = np.random.default_rng(11)
    conf = np.round(rng.uniform(0.5, 1.0, 500), 3)
    correct = (rng.random(500) < conf).astype(int)
    summary = cal.summary(cal.Histogram.from_samples(conf, correct))
    assert 0.01 < summary["null_ece"]["mean"] < 0.07  # plug-in ECE is biased upward: about 0.037 at n = 500
    assert summary["within_noise"]
    overconfident = (rng.random(500) < conf - 0.25).astype(int)
    bad = cal.summary(cal.Histogram.from_samples(conf, overconfident))
    assert not bad["within_noise"] and bad["status"] == cal.POORLY_CALIBRATED


def test_status_thresholds_and_insufficient_data():
    assert cal.status(0.05, 100) == cal.WELL_CALIBRATED
    assert cal.status(0.0500001, 100) == cal.ACCEPTABLE
    assert cal.status(0.2, 100) == cal.POORLY_CALIBRATED
    assert cal.status(0.0, 5) == cal.INSUFFICIENT_DATA


def test_verbalised_levels_table():
    hist = cal.Histogram.from_samples([0.7, 0.7, 0.7, 0.9, 0.9], [1, 0, 1, 1, 1])
    table = cal.per_level_table(hist)
    assert table == [{"confidence": 0.7, "count": 3, "accuracy": pytest.approx(2 / 3),
                      "gap": pytest.approx(0.7 - 2 / 3)},
                     {"confidence": 0.9, "count": 2, "accuracy": 1.0, "gap": pytest.approx(-0.1)}]


def test_a_million_outcomes_are_summarised_in_under_a_second():
    rng = np.random.default_rng(3)
    conf = np.round(rng.beta(6, 2, 1_000_000), 4)
    correct = (rng.random(1_000_000) < conf).astype(np.int8)
    started = time.perf_counter()
    summary = cal.summary(cal.Histogram.from_samples(conf, correct))
    elapsed = time.perf_counter() - started
    assert summary["n"] == 1_000_000 and summary["ece"] < 0.01
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_cusum_alarms_on_drift_long_before_windowed_ece():
    rng = np.random.default_rng(5)
    p0 = 0.05  # critical tier: κ = 0.95
    before = rng.random(400) < p0
    after = rng.random(400) < 0.15  # the error rate triples
    stream = np.concatenate([before, after]).astype(int)
    quiet = cal.bernoulli_cusum(before.astype(int), p0=p0)
    assert not quiet["alarm"]
    drifted = cal.bernoulli_cusum(stream, p0=p0)
    assert drifted["alarm"] and 400 <= drifted["alarm_index"] < 400 + 150
    # A 200-item window of confidence 0.97 and these outcomes: ECE needs most of the window to show it.
    delay_for_ece = next(k for k in range(1, 400) if cal.ece(cal.Histogram.from_samples(
        np.full(200, 0.97), 1 - stream[400 + k - 200:400 + k])) > 0.10 - 1e-12)
    assert drifted["alarm_index"] - 400 < delay_for_ece


def test_equal_mass_bins_with_many_ties_match_the_reference():
    conf = np.array([0.4] * 7 + [0.9] * 5 + [0.6] * 2)
    correct = np.array([1, 0, 1, 1, 0, 1, 1] + [1] * 5 + [0, 0])
    hist = cal.Histogram.from_samples(conf, correct)
    reference = kumar.lower_bound_scaling_ce(conf, correct, p=1, debias=False, num_bins=10,
                                             binning_scheme=kumar.get_equal_bins)
    assert cal.ece(hist, 10, "quantile") == pytest.approx(reference, abs=1e-12)
    assert all(row["count"] > 0 for row in cal.reliability_bins(hist, 10, "quantile").rows())
