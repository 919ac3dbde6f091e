"""Outcome curves with known true risk, and the κ procedure run on many simulated tiers at once.

Each curve draws confidences and the probability that an answer at that confidence is wrong; the true
error among accepted items at each κ of the grid (and the share of items accepted) is computed from the
curve itself, not from samples, so a suggestion can be judged against it. The simulation runs the same
counting and testing code as ``thresholds.suggest``, on all runs at once (the split by sample id is a
uniform draw per sample here: a hash of random ids is one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import stats
from scipy.special import expit

from vifsite.vif import thresholds

KAPPAS = np.array(thresholds.GRID)
RUNS = 500
NS = (200, 1000, 5000)
ALPHAS = (0.05, 0.15, 0.30)


@dataclass(frozen=True)
class Curve:
    name: str
    draw: Callable[[np.random.Generator, int, int], tuple[np.ndarray, np.ndarray]]  # confidences, P(wrong)
    risk: np.ndarray  # true error among items with confidence ≥ κ, per grid κ
    coverage: np.ndarray  # share of items with confidence ≥ κ

    def oracle(self, alpha: float) -> tuple[float | None, float]:
        """The best valid κ (the most coverage with a true risk ≤ α) and its coverage; (None, 0) if none."""
        valid = np.flatnonzero(self.risk <= alpha)
        if not valid.size:
            return None, 0.0
        return float(KAPPAS[valid.max()]), float(self.coverage[valid.max()])


def _truth(points: np.ndarray, weights: np.ndarray, wrong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Risk and coverage at every κ from a fine quadrature (points ascending)."""
    mass = np.cumsum(weights[::-1])[::-1]  # weight at or above each point
    errors = np.cumsum((weights * wrong)[::-1])[::-1]
    at = np.searchsorted(points, KAPPAS - 1e-12, side="left")
    inside = at < points.size
    risk = np.where(inside, errors[np.minimum(at, points.size - 1)] / mass[np.minimum(at, points.size - 1)], 0.0)
    return risk, np.where(inside, mass[np.minimum(at, points.size - 1)] / weights.sum(), 0.0)


def _uniform(name: str, wrong: Callable[[np.ndarray], np.ndarray]) -> Curve:
    """Confidences uniform on [0.5, 1]."""
    def draw(rng: np.random.Generator, runs: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        c = rng.uniform(0.5, 1.0, (runs, n))
        return c, wrong(c)

    points = np.linspace(0.5, 1.0, 1_000_001)
    return Curve(name, draw, *_truth(points, np.ones_like(points), wrong(points)))


def well_ranked(c: np.ndarray) -> np.ndarray:
    return 0.4 * ((1 - c) / 0.5) ** 2  # the error falls with confidence


def over_confident(c: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, 0.15 + (1 - c))  # ranked, but 15 points worse than stated everywhere


def over_confident_top(c: np.ndarray) -> np.ndarray:
    # Well ranked, except the most confident 6 % of answers, wrong 35 % of the time.
    return np.where(c >= 0.97, 0.35, 0.3 * ((1 - c) / 0.5) ** 2)


# Verbalised confidence ("about 90 %"): a few levels, the error not monotone in them.
LEVELS = np.array([0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99])
LEVEL_SHARE = np.array([0.05, 0.08, 0.12, 0.15, 0.15, 0.20, 0.15, 0.10])
LEVEL_ERROR = np.array([0.55, 0.45, 0.30, 0.12, 0.20, 0.06, 0.15, 0.03])


def _verbalised() -> Curve:
    def draw(rng: np.random.Generator, runs: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        level = rng.choice(LEVELS.size, size=(runs, n), p=LEVEL_SHARE)
        return LEVELS[level], LEVEL_ERROR[level]

    return Curve("verbalised, non-monotone", draw, *_truth(LEVELS, LEVEL_SHARE, LEVEL_ERROR))


def _sigmoid(mean: float = 1.5, sd: float = 1.2) -> Curve:
    """Calibrated: the confidence is the sigmoid of a normal score, and right that often."""
    def draw(rng: np.random.Generator, runs: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        c = expit(rng.normal(mean, sd, (runs, n)))
        return c, 1 - c

    z = np.linspace(mean - 10 * sd, mean + 10 * sd, 2_000_001)
    c = expit(z)
    return Curve("calibrated sigmoid", draw, *_truth(c, stats.norm.pdf(z, mean, sd), 1 - c))


CURVES = ("well-ranked", "over-confident everywhere", "over-confident at the top", "verbalised, non-monotone",
          "calibrated sigmoid")


@cache
def curves() -> dict[str, Curve]:
    return {curve.name: curve for curve in (
        _uniform("well-ranked", well_ranked), _uniform("over-confident everywhere", over_confident),
        _uniform("over-confident at the top", over_confident_top), _verbalised(), _sigmoid())}


@dataclass(frozen=True)
class Result:
    curve: str
    n: int
    alpha: float
    oracle_kappa: float | None
    oracle_coverage: float
    violations: int  # runs whose suggested κ has a true risk above α
    refused: int  # runs with no suggestion
    coverage: float  # mean over runs, 0 for a refusal
    walk_alone_coverage: float  # the walk at δ alone (the procedure this replaces)
    walk_alone_refused: int
    split_alone_coverage: float  # the split sequence at δ alone
    holm_coverage: float  # Holm over the grid at δ


def holm(counts: thresholds.Counts, *, alpha: float, level: float) -> np.ndarray:
    """Holm's step-down over the grid (thresholds that could pass at all): the alternative not chosen."""
    p = thresholds.p_values(counts.errors, counts.accepted, alpha)
    tried = counts.accepted >= thresholds.min_accepted(alpha, level)
    p = np.where(tried, p, np.inf)
    order = np.argsort(p, axis=1, kind="stable")
    remaining = np.maximum(tried.sum(axis=1, keepdims=True) - np.arange(p.shape[1]), 1)
    fails = np.take_along_axis(p, order, axis=1) > level / remaining
    first = np.where(fails.any(axis=1), np.argmax(fails, axis=1), p.shape[1])
    passed = np.zeros_like(tried)
    np.put_along_axis(passed, order, np.arange(p.shape[1])[None, :] < first[:, None], axis=1)
    return passed & tried


def lowest(passed: np.ndarray) -> np.ndarray:
    """Per run, the index of the passing κ with the most coverage; -1 when none."""
    return np.where(passed.any(axis=1), passed.shape[1] - 1 - np.argmax(passed[:, ::-1], axis=1), -1)


@cache
def simulate(name: str, n: int, alpha: float, runs: int = RUNS) -> Result:
    curve = curves()[name]
    rng = np.random.default_rng([n, round(alpha * 100), CURVES.index(name)])
    confidence, p_wrong = curve.draw(rng, runs, n)
    wrong = rng.random((runs, n)) < p_wrong
    ordering = rng.random((runs, n)) < thresholds.ORDER_FRACTION
    micros = thresholds.to_micros(confidence)
    every = thresholds.count(micros, wrong)
    order_part = thresholds.count(micros, wrong, include=ordering)
    test_part = thresholds.count(micros, wrong, include=~ordering)
    tests = thresholds.run_tests(every, order_part, test_part, alpha=alpha, n=n)
    best = tests.best()
    suggested = best >= 0
    _, _, walked, _ = thresholds.walk(every, alpha=alpha, n=n, level=thresholds.DELTA)
    walk_best = lowest(walked)
    *_, split_passed = thresholds.split_sequence(order_part, test_part, alpha=alpha, level=thresholds.DELTA)
    oracle_kappa, oracle_coverage = curve.oracle(alpha)

    def coverage(index: np.ndarray) -> float:
        return float(np.where(index >= 0, curve.coverage[np.maximum(index, 0)], 0.0).mean())

    return Result(name, n, alpha, oracle_kappa, oracle_coverage,
                  violations=int((suggested & (curve.risk[np.maximum(best, 0)] > alpha)).sum()),
                  refused=int((~suggested).sum()), coverage=coverage(best),
                  walk_alone_coverage=coverage(walk_best), walk_alone_refused=int((walk_best < 0).sum()),
                  split_alone_coverage=coverage(lowest(split_passed)),
                  holm_coverage=coverage(lowest(holm(every, alpha=alpha, level=thresholds.DELTA))))


def table() -> str:
    """The simulation as a Markdown table (for the README and reviews)."""
    lines = ["| curve | n | α | oracle κ (coverage) | coverage | of oracle | no κ | risk > α | walk alone | "
             "split alone | Holm |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in curves():
        for n in NS:
            for alpha in ALPHAS:
                r = simulate(name, n, alpha)
                oracle = "none" if r.oracle_kappa is None else f"{r.oracle_kappa:.2f} ({r.oracle_coverage:.2f})"
                share = f"{r.coverage / r.oracle_coverage:.0%}" if r.oracle_coverage else "—"
                lines.append(f"| {name} | {n} | {alpha:.2f} | {oracle} | {r.coverage:.3f} | {share} | "
                             f"{r.refused / RUNS:.0%} | {r.violations / RUNS:.1%} | {r.walk_alone_coverage:.3f} | "
                             f"{r.split_alone_coverage:.3f} | {r.holm_coverage:.3f} |")
    return "\n".join(lines)
