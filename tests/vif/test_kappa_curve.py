"""The κ page's risk–coverage curve against an independent computation: a loop over the thresholds with numpy
counts, and the Clopper–Pearson bound found as the root of the binomial tail (scipy's brentq), not its beta
quantile. No database."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from vifsite.vif import kappa_page, thresholds


def independent_curve(confidence, correct, unresolved, grid, level):
    c = np.round(np.asarray(confidence) * 1e6).astype(np.int64)
    wrong = (np.asarray(correct) == 0) | np.asarray(unresolved, dtype=bool)
    rows = []
    for kappa in grid:
        accepted = c >= round(kappa * 1e6)
        m, k = int(accepted.sum()), int((accepted & wrong).sum())
        if m == 0:
            rows.append((m, k, None, None, 0.0))
            continue
        # The one-sided (1 − level) upper bound: the p at which seeing k or fewer errors in m has probability level.
        bound = 1.0 if k == m else optimize.brentq(lambda p, m=m, k=k: stats.binom.cdf(k, m, p) - level, k / m,
                                                   1.0, xtol=1e-13)
        rows.append((m, k, k / m, bound, m / c.size))
    return rows


@pytest.mark.parametrize("seed", [1, 7, 2025])
def test_the_curve_matches_an_independent_computation(seed):
    rng = np.random.default_rng(seed)
    n = 700
    confidence = np.clip(np.round(rng.beta(5, 1.6, n), 4), 0, 1)
    correct = (rng.random(n) < confidence * 0.95).astype(int)
    unresolved = rng.random(n) < 0.03
    confidence[:5] = [1.0, 0.0, 0.5, 0.7, 0.99]  # thresholds met exactly
    curve = thresholds.risk_coverage(confidence, correct, unresolved=unresolved)
    assert curve.level == pytest.approx(thresholds.DELTA / 2) and curve.samples == n
    expected = independent_curve(confidence, correct, unresolved, thresholds.CURVE_GRID, curve.level)
    for row, (m, k, error, bound, coverage) in zip(curve.rows(), expected, strict=True):
        assert (row["accepted"], row["errors"]) == (m, k), row["kappa"]
        assert row["coverage"] == pytest.approx(coverage, abs=1e-15)
        if m == 0:
            assert row["error"] is None and row["upper_bound"] is None
        else:
            assert row["error"] == pytest.approx(error, abs=1e-15)
            assert row["upper_bound"] == pytest.approx(bound, abs=1e-9), row["kappa"]
    assert curve.rows()[-1]["coverage"] == 1.0  # κ = 0 accepts every sample


def test_unresolved_samples_count_as_errors_and_nothing_accepted_shows_no_error():
    curve = thresholds.risk_coverage([0.95, 0.95, 0.4], [1, 1, 1], unresolved=[False, True, False])
    at = {row["kappa"]: row for row in curve.rows()}
    assert (at[0.95]["accepted"], at[0.95]["errors"]) == (2, 1)
    assert at[1.0]["accepted"] == 0 and at[1.0]["error"] is None and at[1.0]["upper_bound"] is None
    all_wrong = thresholds.risk_coverage([0.9], [0])
    assert all_wrong.rows()[10]["upper_bound"] == 1.0  # k = m: the bound is 1


def test_the_curve_agrees_with_the_suggestion_at_the_suggested_kappa():
    rng = np.random.default_rng(11)
    confidence = np.round(rng.uniform(0.5, 1.0, 3000), 3)
    correct = (rng.random(3000) < confidence).astype(int)
    found = thresholds.suggest(confidence, correct, alpha=0.15, keys=[f"w{i}" for i in range(3000)])
    assert found.kappa is not None
    curve = thresholds.risk_coverage(confidence, correct)
    row = curve.rows()[curve.at(found.kappa)]
    assert (row["accepted"], row["errors"]) == (found.accepted, found.errors)
    assert row["coverage"] == pytest.approx(found.coverage)
    if "walk" in found.certified_by:  # the walk tests all labels at δ/2: the same bound the curve draws
        assert row["upper_bound"] == pytest.approx(found.bound) and row["upper_bound"] <= 0.15


@pytest.mark.parametrize(("value", "text"), [(0.95, "0.95"), ("0.975000", "0.975"), (0.6, "0.60"), (1, "1.00"),
                                             (0.12345, "0.123"), (None, "—")])
def test_kappa_is_shown_with_two_or_three_decimals(value, text):
    assert thresholds.kappa_text(value) == text


def test_the_figure_marks_the_current_kappa_the_suggestion_and_alpha():
    curve = thresholds.risk_coverage([0.99, 0.9, 0.8, 0.7], [1, 1, 0, 1])
    figure = kappa_page.curve_figure(curve, alpha=0.3, current=0.95, suggested=0.71, certified={0.71: ["walk"]},
                                     title="t")
    lines = [s for s in figure["layout"]["shapes"] if s["x0"] == s["x1"]]
    assert sorted(s["x0"] for s in lines) == [0.71, 0.95]
    assert any(s["y0"] == 0.3 for s in figure["layout"]["shapes"])  # the α line
    error = next(t for t in figure["data"] if t["name"] == "error among accepted")
    assert error["x"] == list(thresholds.CURVE_GRID)
    j = thresholds.CURVE_GRID.index(0.8)
    assert error["y"][j] == pytest.approx(1 / 3) and error["customdata"][j][:2] == [3, 1]
    assert next(t for t in figure["data"] if t["name"] == "certified κ")["x"] == [0.71]
    assert not any(isinstance(v, float) and math.isnan(v) for t in figure["data"] for v in t["y"] if v is not None)
