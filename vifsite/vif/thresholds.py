"""κ suggested from outcomes with a statistical guarantee (Learn-then-Test). Plain numpy/scipy.

For a tier with target risk α (the error rate among accepted items it tolerates) and δ = 0.05, each κ
of a grid fixed in advance (0.99, 0.98, …, 0.50) carries the hypothesis "the error among items with
confidence ≥ κ exceeds α". With m accepted samples of which k are wrong its p-value is the exact binomial
P[Bin(m, α) ≤ k]; a p-value ≤ δ' is the same as a one-sided Clopper–Pearson (1 − δ') upper bound ≤ α.
Two fixed sequences test these hypotheses, each at δ/2 (Bonferroni between them):

1. The walk, on all labels: from κ = 0.99 down, skipping thresholds with fewer accepted samples than the
   label-free n_start = max(⌈ln δ' / ln(1 − α)⌉, min(n_power, ⌊n / 4⌋)) (n_power: the smallest m at which
   a tier erring at α/2 passes with probability ≥ ½), stopping at the first failure. Strong when the
   error falls as κ rises; an over-confident top bin stops it at once.
2. The split sequence (MAPIE's ``split_fixed_sequence``): the labels are split by a hash of each sample's
   id (the same split on every recomputation; a new sample never moves an old one), 20 % to order and
   80 % to test. The order is by p-value on the first part, ascending (the strongest evidence first; on
   a tie the larger coverage first), leaving out thresholds whose test part could not pass even with no
   error (fewer than ⌈ln δ' / ln(1 − α)⌉ accepted); the second part tests them in that order and stops at
   the first failure. The order never sees the labels that test it, so the sequence is valid whatever the
   shape of the risk in κ: it passes an over-confident top bin by and tests the thresholds below.

Each sequence keeps its family-wise error at δ/2 whether or not the risk is monotone in κ, so with
probability at least 1 − δ no κ that either certifies has a true error among accepted items above α
(Angelopoulos et al., Learn then Test, 2021; Bauer, 1991). The suggestion is the certified κ with the
most coverage (the lowest); none certified means "send every item of this tier to a human". In simulation
(tests/vif/test_thresholds.py: five outcome curves, n = 200 … 5000, α = 0.05 … 0.30) the pair covered more
than the walk alone, the split sequence alone or Holm over the grid.

Calibration samples without a label (the review expired or asked for more analysis) are counted as
errors: a label can only lower a p-value by being "correct", so whatever made them go unlabelled, a κ
certified with them as errors is certified for their true labels too.

The floor: when the base error μ of a tier exceeds α, accepting a fraction c of items with error at most
α leaves at least μ − αc errors among the 1 − c sent to a human, so c ≤ (1 − μ)/(1 − α): at least
(μ − α)/(1 − α) of items must go to a human whatever κ is.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

GRID = tuple(round(0.99 - 0.01 * i, 2) for i in range(50))  # 0.99 … 0.50
DELTA = 0.05
TARGET_RISK = {"critical": 0.05, "important": 0.15, "routine": 0.30, "low_stakes": 0.40}
ORDER_FRACTION = 0.2  # of the labels, to order the split sequence; the rest test it
_SPLIT_SALT = "vifsite kappa order split v1"
_UNKEYED_SEED = 20_251_115  # positions stand in for ids when none are given


def _stats() -> Any:
    """scipy.stats, imported when first needed: importing it costs half a second, which every management
    command and task worker would pay at start-up (the admin imports this module)."""
    from scipy import stats

    return stats


@lru_cache(maxsize=64)
def n_power(alpha: float, delta: float = DELTA, limit: int = 200_000) -> int:
    """Smallest m at which a tier erring at α/2 passes the test with probability ≥ ½."""
    m = np.arange(1, limit + 1)
    k_max = _stats().binom.ppf(delta, m, alpha)  # smallest k with cdf ≥ δ
    k_max = np.where(_stats().binom.cdf(k_max, m, alpha) <= delta, k_max, k_max - 1)  # largest k with cdf ≤ δ
    power = np.where(k_max >= 0, _stats().binom.cdf(k_max, m, alpha / 2), 0.0)
    hits = np.nonzero(power >= 0.5)[0]
    return int(m[hits[0]]) if hits.size else limit


def min_accepted(alpha: float, delta: float = DELTA) -> int:
    """The fewest accepted samples with which a threshold can pass at all (all of them correct)."""
    return math.ceil(math.log(delta) / math.log(1 - alpha))


def n_start(alpha: float, n: int, delta: float = DELTA) -> int:
    return max(min_accepted(alpha, delta), min(n_power(alpha, delta), n // 4))


def upper_bound(k: int, m: int, delta: float = DELTA) -> float:
    """One-sided Clopper–Pearson (1 − δ) upper bound on an error rate with k errors in m."""
    if m == 0:
        return 1.0
    if k >= m:
        return 1.0
    return float(_stats().beta.ppf(1 - delta, k + 1, m - k))


def p_values(errors: NDArray[Any], accepted: NDArray[Any], alpha: float) -> NDArray[np.float64]:
    """P[Bin(m, α) ≤ k] per threshold; 1 where nothing is accepted."""
    m = np.asarray(accepted)
    return np.asarray(np.where(m > 0, _stats().binom.cdf(errors, np.maximum(m, 1), alpha), 1.0), dtype=np.float64)


# --- Counting: runs × samples in, runs × grid out (a single suggestion is one run) ---------------------

@dataclass(frozen=True)
class Counts:
    accepted: NDArray[np.int64]  # (runs, thresholds): samples with confidence ≥ κ
    errors: NDArray[np.int64]  # of which wrong


def to_micros(confidence: Any) -> NDArray[np.int64]:
    """Confidences in millionths, as stored and as the gate compares them."""
    return np.round(np.asarray(confidence, dtype=np.float64) * 1e6).astype(np.int64)


def count(confidence_micros: NDArray[np.int64], wrong: NDArray[np.bool_], grid: tuple[float, ...] = GRID,
          include: NDArray[np.bool_] | None = None) -> Counts:
    """Accepted samples and errors at every κ of a descending grid, for each run (row) at once."""
    c = np.atleast_2d(confidence_micros)
    w = np.atleast_2d(wrong).astype(bool)
    keep = np.ones_like(w) if include is None else np.atleast_2d(include).astype(bool)
    size, rows = len(grid), c.shape[0]
    ascending = np.array([round(k * 1_000_000) for k in grid[::-1]], dtype=np.int64)
    # Bin b holds the samples accepted by exactly the b lowest thresholds.
    slot = np.arange(rows)[:, None] * (size + 1) + np.searchsorted(ascending, c, side="right")
    per_bin = np.bincount(slot[keep], minlength=rows * (size + 1)).reshape(rows, size + 1)
    wrong_bin = np.bincount(slot[keep & w], minlength=rows * (size + 1)).reshape(rows, size + 1)

    def at_or_above(bins: NDArray[np.int64]) -> NDArray[np.int64]:  # accepted by the j-th highest κ: top j+1 bins
        return np.asarray(np.cumsum(bins[:, ::-1], axis=1)[:, :size], dtype=np.int64)

    return Counts(at_or_above(per_bin), at_or_above(wrong_bin))


# --- The two fixed sequences --------------------------------------------------------------------------

@dataclass(frozen=True)
class Tests:
    """Both sequences' results at every threshold (runs × thresholds)."""

    level: float  # each sequence's share of δ
    walk_start: int
    walk_p: NDArray[np.float64]
    walk_tested: NDArray[np.bool_]
    walk_passed: NDArray[np.bool_]
    split_p: NDArray[np.float64]  # on the test part
    split_order_p: NDArray[np.float64]  # on the order part
    split_rank: NDArray[np.int64]  # place in the learned order; -1: left out
    split_passed: NDArray[np.bool_]

    @property
    def certified(self) -> NDArray[np.bool_]:
        return self.walk_passed | self.split_passed

    def best(self) -> NDArray[np.int64]:
        """Per run, the index of the certified κ with the most coverage (the lowest); -1 when none."""
        certified = self.certified
        last = certified.shape[1] - 1 - np.argmax(certified[:, ::-1], axis=1)
        return np.where(certified.any(axis=1), last, -1)


def fixed_sequence(p_in_order: NDArray[np.float64], level: float) -> NDArray[np.bool_]:
    """Which hypotheses, tested in the given order, pass before the first failure."""
    fails = p_in_order > level
    first = np.where(fails.any(axis=1), np.argmax(fails, axis=1), p_in_order.shape[1])
    return np.asarray(np.arange(p_in_order.shape[1])[None, :] < first[:, None])


def walk(counts: Counts, *, alpha: float, n: int, level: float) -> tuple[NDArray[np.float64], NDArray[np.bool_],
                                                                       NDArray[np.bool_], int]:
    start = n_start(alpha, n, level)
    p = p_values(counts.errors, counts.accepted, alpha)
    tested = counts.accepted >= start
    # Skipped thresholds neither pass nor stop the walk: the grid order restricted to the tested ones.
    passed = tested & fixed_sequence(np.where(tested, p, 0.0), level)
    return p, tested, passed, start


def split_order(order_p: NDArray[np.float64], testable: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Thresholds by p-value on the order part, ascending, ties to the larger coverage; left-out ones last."""
    size = order_p.shape[1]
    key = np.where(testable, order_p, np.inf)
    return np.asarray(size - 1 - np.argsort(key[:, ::-1], axis=1, kind="stable"), dtype=np.int64)


def split_sequence(order_part: Counts, test_part: Counts, *, alpha: float, level: float) -> tuple[
        NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    testable = test_part.accepted >= min_accepted(alpha, level)
    order_p = p_values(order_part.errors, order_part.accepted, alpha)
    test_p = p_values(test_part.errors, test_part.accepted, alpha)
    order = split_order(order_p, testable)
    in_order = np.take_along_axis(np.where(testable, test_p, np.inf), order, axis=1)
    passed_in_order = fixed_sequence(in_order, level)
    passed = np.zeros_like(passed_in_order)
    np.put_along_axis(passed, order, passed_in_order, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(order.shape[1]), order.shape), axis=1)
    return test_p, order_p, np.where(testable, rank, -1), passed & testable


def run_tests(every: Counts, order_part: Counts, test_part: Counts, *, alpha: float, n: int,
              delta: float = DELTA) -> Tests:
    level = delta / 2
    walk_p, walk_tested, walk_passed, start = walk(every, alpha=alpha, n=n, level=level)
    split_p, order_p, rank, split_passed = split_sequence(order_part, test_part, alpha=alpha, level=level)
    return Tests(level, start, walk_p, walk_tested, walk_passed, split_p, order_p, rank, split_passed)


def order_part_of(keys: Iterable[Any] | None, n: int, fraction: float = ORDER_FRACTION) -> NDArray[np.bool_]:
    """Which samples order the split sequence: a hash of each sample's id (a witness id), so the same
    labels always split the same way and the split cannot depend on the labels. Without ids, a seeded
    draw over positions (the same for the same samples in the same order)."""
    if keys is None:
        return np.asarray(np.random.default_rng(_UNKEYED_SEED).random(n) < fraction)
    cut = int(fraction * 2**64)
    digests = np.fromiter((int.from_bytes(hashlib.sha256(f"{_SPLIT_SALT}:{key}".encode()).digest()[:8], "big")
                           for key in keys), dtype=np.uint64, count=n)
    return np.asarray(digests < np.uint64(cut))


# --- One suggestion --------------------------------------------------------------------------------------

def floor(base_error: float, alpha: float) -> float:
    """The fraction of items that must go to a human whatever κ is: (μ − α)/(1 − α) when μ > α."""
    return max(0.0, (base_error - alpha) / (1 - alpha))


@dataclass(frozen=True)
class Suggestion:
    kappa: float | None
    alpha: float
    delta: float
    samples: int
    n_start: int
    accepted: int  # at the suggested κ, over all samples
    errors: int
    tested: list[dict[str, Any]]
    wrong: int = 0  # over all samples, unresolved ones included
    unresolved: int = 0
    order_samples: int = 0
    certified_by: tuple[str, ...] = ()
    bound: float | None = None
    why_none: dict[str, str] | None = None

    @property
    def coverage(self) -> float | None:
        return self.accepted / self.samples if self.samples and self.kappa is not None else None

    @property
    def base_error(self) -> float | None:
        return self.wrong / self.samples if self.samples else None

    @property
    def floor(self) -> float | None:
        return None if self.base_error is None else floor(self.base_error, self.alpha)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suggested_kappa": self.kappa, "alpha": self.alpha, "delta": self.delta, "samples": self.samples,
            "n_start": self.n_start, "accepted": self.accepted, "errors": self.errors,
            "observed_error": (self.errors / self.accepted) if self.accepted else None,
            "upper_bound": self.bound, "coverage": self.coverage, "tested": self.tested,
            "procedure": (f"two fixed sequences at δ/2 each: the walk from κ = 0.99 down on all labels, and a "
                          f"sequence ordered on {ORDER_FRACTION:.0%} of the labels (split by sample id) and tested "
                          f"on the rest"),
            "certified_by": list(self.certified_by),
            "split": {"order_samples": self.order_samples, "test_samples": self.samples - self.order_samples},
            "unresolved": self.unresolved, "base_error": self.base_error, "floor": self.floor,
            "why_none": self.why_none,
            "meaning": ("the highest-coverage κ whose error among accepted items is at most α with probability "
                        f"≥ {1 - self.delta:.2f}" if self.kappa is not None else
                        "no κ on the grid can be shown to keep the error at α: send every item of this tier to a "
                        "human until more calibration samples are labelled"),
        }


def _status(passed: bool, tested: bool, failed_here: bool, left_out: str) -> str:
    if not tested:
        return left_out
    return "passed" if passed else "failed" if failed_here else "not reached"


def _why_none(tests: Tests, every: Counts, *, alpha: float, n: int, test_samples: int, unresolved: int,
              base_error: float, grid: tuple[float, ...]) -> dict[str, str]:
    tried = tests.walk_tested[0] | (tests.split_rank[0] >= 0)
    if not tried.any():
        code = "too_few_samples"
        message = (f"Too few samples to test any κ: {int(every.accepted[0, -1])} of {n} calibration samples have a "
                   f"confidence of at least {grid[-1]:.2f}; the walk needs {tests.walk_start} accepted at a "
                   f"threshold, the split sequence {min_accepted(alpha, tests.level)} accepted among its "
                   f"{test_samples} test samples, all of them correct.")
    else:
        code = "every_threshold_failed"
        accepted, errors = every.accepted[0], every.errors[0]
        rate = np.where(tried & (accepted > 0), errors / np.maximum(accepted, 1), np.inf)
        j = int(np.argmin(rate))
        message = (f"Every κ tested failed: none can be shown to keep the error among accepted items at most "
                   f"α = {alpha:.2f} (the lowest observed error is {rate[j]:.3f}, at κ = {grid[j]:.2f} with "
                   f"{int(accepted[j])} accepted).")
    if base_error > alpha:
        message += (f" The base error μ = {base_error:.3f} exceeds α = {alpha:.2f}: whatever κ, at least "
                    f"{floor(base_error, alpha):.0%} of items must go to a human ((μ − α)/(1 − α)).")
    if unresolved:
        message += (f" {unresolved} calibration samples without a label (expired, or sent back for more analysis) "
                    "count as errors.")
    return {"code": code, "message": message}


def suggest(confidence: Any, correct: Any, *, alpha: float, delta: float = DELTA, grid: tuple[float, ...] = GRID,
            keys: Iterable[Any] | None = None, unresolved: Any = None) -> Suggestion:
    """The Learn-then-Test κ for labelled calibration samples (confidence in [0, 1], correct 0/1). ``keys``:
    each sample's id (the witness id), which decides its part of the split; ``unresolved``: samples without a
    label, counted as errors whatever ``correct`` says."""
    c = to_micros(confidence)
    n = int(c.size)
    missing = np.zeros(n, dtype=bool) if unresolved is None else np.asarray(unresolved, dtype=bool)
    wrong = (np.asarray(correct, dtype=np.int64) == 0) | missing
    ordering = order_part_of(keys, n)
    every, test_part = count(c, wrong, grid), count(c, wrong, grid, ~ordering)
    tests = run_tests(every, count(c, wrong, grid, ordering), test_part, alpha=alpha, n=n, delta=delta)
    level = tests.level
    walk_fails = np.flatnonzero(tests.walk_tested[0] & (tests.walk_p[0] > level))
    rank = tests.split_rank[0]
    split_fails = rank[(rank >= 0) & (tests.split_p[0] > level)]
    first_split_fail = int(split_fails.min()) if split_fails.size else -1
    tested = []
    for j, kappa in enumerate(grid):
        if not (tests.walk_tested[0, j] or rank[j] >= 0):
            continue
        tested.append({
            "kappa": kappa, "accepted": int(every.accepted[0, j]), "errors": int(every.errors[0, j]),
            "p_value": float(tests.walk_p[0, j]),
            "walk": _status(bool(tests.walk_passed[0, j]), bool(tests.walk_tested[0, j]),
                            bool(walk_fails.size and walk_fails[0] == j), "skipped"),
            "split_rank": int(rank[j]) if rank[j] >= 0 else None, "order_p_value": float(tests.split_order_p[0, j]),
            "test_accepted": int(test_part.accepted[0, j]), "test_errors": int(test_part.errors[0, j]),
            "test_p_value": float(tests.split_p[0, j]),
            "split": _status(bool(tests.split_passed[0, j]), bool(rank[j] >= 0), int(rank[j]) == first_split_fail,
                             "left out"),
        })
    start, order_samples, total_wrong, unresolved_count = tests.walk_start, int(ordering.sum()), int(wrong.sum()), \
        int(missing.sum())
    best = int(tests.best()[0])
    if best < 0:
        why = _why_none(tests, every, alpha=alpha, n=n, test_samples=n - order_samples, unresolved=unresolved_count,
                        base_error=total_wrong / n if n else 0.0, grid=grid)
        return Suggestion(None, alpha, delta, n, start, 0, 0, tested, total_wrong, unresolved_count, order_samples,
                          why_none=why)
    by = tuple(name for name, passed in (("walk", tests.walk_passed), ("split", tests.split_passed))
               if passed[0, best])
    # The bound the certifying test checked (≤ α): all labels for the walk, the test part for the split sequence.
    used = every if "walk" in by else test_part
    bound = upper_bound(int(used.errors[0, best]), int(used.accepted[0, best]), level)
    return Suggestion(grid[best], alpha, delta, n, start, int(every.accepted[0, best]), int(every.errors[0, best]),
                      tested, total_wrong, unresolved_count, order_samples, by, bound)


# --- For people: the risk–coverage curve and κ as text ---------------------------------------------------

CURVE_GRID = tuple(round(1.0 - 0.01 * i, 2) for i in range(101))  # 1.00 … 0.00: every κ an admin could set


@dataclass(frozen=True)
class RiskCoverage:
    """Per κ of a descending grid: how many samples a gate at κ accepts, how many of those are wrong, the
    error among them with its one-sided Clopper–Pearson upper bound at ``level``, and the coverage."""

    kappa: tuple[float, ...]
    accepted: NDArray[np.int64]
    errors: NDArray[np.int64]
    samples: int
    level: float

    @property
    def error(self) -> NDArray[np.float64]:
        """Error among accepted; NaN where nothing is accepted."""
        m = self.accepted
        return np.asarray(np.where(m > 0, self.errors / np.maximum(m, 1), np.nan), dtype=np.float64)

    @property
    def upper(self) -> NDArray[np.float64]:
        """The (1 − level) upper bound of the error among accepted; NaN where nothing is accepted, 1 where all
        accepted are wrong."""
        m, k = self.accepted, self.errors
        some = (m > 0) & (k < m)
        bound = np.where(some, _stats().beta.ppf(1 - self.level, k + 1, np.maximum(m - k, 1)), 1.0)
        return np.asarray(np.where(m > 0, bound, np.nan), dtype=np.float64)

    @property
    def coverage(self) -> NDArray[np.float64]:
        return np.asarray(self.accepted / self.samples if self.samples else np.zeros(len(self.kappa)),
                          dtype=np.float64)

    def at(self, kappa: float) -> int | None:
        """The grid index of ``kappa`` (to 2 decimals), or None when it is not on the grid."""
        for index, value in enumerate(self.kappa):
            if abs(value - kappa) < 5e-7:
                return index
        return None

    def rows(self) -> list[dict[str, Any]]:
        error, upper, coverage = self.error, self.upper, self.coverage
        return [{"kappa": k, "accepted": int(self.accepted[j]), "errors": int(self.errors[j]),
                 "error": None if np.isnan(error[j]) else float(error[j]),
                 "upper_bound": None if np.isnan(upper[j]) else float(upper[j]),
                 "coverage": float(coverage[j])} for j, k in enumerate(self.kappa)]


def risk_coverage(confidence: Any, correct: Any, *, unresolved: Any = None, grid: tuple[float, ...] = CURVE_GRID,
                  delta: float = DELTA) -> RiskCoverage:
    """The risk–coverage curve of labelled calibration samples, counted as ``suggest`` counts them (samples
    without a label are errors; a gate at κ accepts a confidence ≥ κ, compared in millionths). The bound is
    at δ/2, the level each of the two sequences tests at: where it is at most α, the walk's test at that κ
    passes."""
    c = to_micros(confidence)
    missing = np.zeros(c.size, dtype=bool) if unresolved is None else np.asarray(unresolved, dtype=bool)
    wrong = (np.asarray(correct, dtype=np.int64) == 0) | missing
    counted = count(c, wrong, grid)
    return RiskCoverage(grid, counted.accepted[0], counted.errors[0], int(c.size), delta / 2)


def kappa_text(value: Any) -> str:
    """κ for people: two decimals, or three when the third is not zero (0.95, 0.975, 0.60), never six."""
    if value is None:
        return "—"
    rounded = Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    text = f"{rounded:.3f}"
    return text[:-1] if text.endswith("0") else text
