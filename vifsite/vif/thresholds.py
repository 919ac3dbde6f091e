"""κ suggested from outcomes with a statistical guarantee (Learn-then-Test). Plain numpy/scipy.

For a tier with target risk α (the error rate among accepted items it tolerates) and δ = 0.05:

1. A descending grid fixed in advance, κ = 0.99, 0.98, …, 0.50.
2. A label-free minimum number of accepted samples,
   n_start = max(⌈ln δ / ln(1 − α)⌉, min(n_power, ⌊n / 4⌋)),
   where n_power is the smallest m at which a tier running at half its target risk passes the test
   with probability at least ½. Thresholds with fewer accepted samples are skipped: at the top of the
   grid nothing could pass, and stopping there would never suggest anything.
3. Walking down, each κ with m accepted samples of which k are wrong is tested with the exact
   binomial p-value P[Bin(m, α) ≤ k] ≤ δ (the one-sided Clopper–Pearson upper bound on the error
   among accepted stays ≤ α); the walk stops at the first failure. The last κ that passed is the
   suggestion; none passing means "send every item of this tier to a human".

Fixed-sequence testing keeps the family-wise error at δ: with probability at least 1 − δ the
suggested κ's true risk is at most α (Angelopoulos et al., Learn then Test, 2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

GRID = tuple(round(0.99 - 0.01 * i, 2) for i in range(50))  # 0.99 … 0.50
DELTA = 0.05
TARGET_RISK = {"critical": 0.05, "important": 0.15, "routine": 0.30, "low_stakes": 0.40}


@lru_cache(maxsize=64)
def n_power(alpha: float, delta: float = DELTA, limit: int = 200_000) -> int:
    """Smallest m at which a tier erring at α/2 passes the test with probability ≥ ½."""
    m = np.arange(1, limit + 1)
    k_max = stats.binom.ppf(delta, m, alpha)  # smallest k with cdf ≥ δ
    k_max = np.where(stats.binom.cdf(k_max, m, alpha) <= delta, k_max, k_max - 1)  # largest k with cdf ≤ δ
    power = np.where(k_max >= 0, stats.binom.cdf(k_max, m, alpha / 2), 0.0)
    hits = np.nonzero(power >= 0.5)[0]
    return int(m[hits[0]]) if hits.size else limit


def n_start(alpha: float, n: int, delta: float = DELTA) -> int:
    return max(math.ceil(math.log(delta) / math.log(1 - alpha)), min(n_power(alpha, delta), n // 4))


def upper_bound(k: int, m: int, delta: float = DELTA) -> float:
    """One-sided Clopper–Pearson (1 − δ) upper bound on an error rate with k errors in m."""
    if m == 0:
        return 1.0
    if k >= m:
        return 1.0
    return float(stats.beta.ppf(1 - delta, k + 1, m - k))


@dataclass(frozen=True)
class Suggestion:
    kappa: float | None
    alpha: float
    delta: float
    samples: int
    n_start: int
    accepted: int
    errors: int
    tested: list[dict[str, Any]]

    @property
    def coverage(self) -> float | None:
        return self.accepted / self.samples if self.samples and self.kappa is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "suggested_kappa": self.kappa, "alpha": self.alpha, "delta": self.delta, "samples": self.samples,
            "n_start": self.n_start, "accepted": self.accepted, "errors": self.errors,
            "observed_error": (self.errors / self.accepted) if self.accepted else None,
            "upper_bound": upper_bound(self.errors, self.accepted, self.delta) if self.kappa is not None else None,
            "coverage": self.coverage, "tested": self.tested,
            "meaning": ("the highest-coverage κ whose error among accepted items is at most α with probability "
                        f"≥ {1 - self.delta:.2f}" if self.kappa is not None else
                        "no κ on the grid can be shown to keep the error at α: send every item of this tier to a "
                        "human until more calibration samples are labelled"),
        }


def suggest(confidence: Any, correct: Any, *, alpha: float, delta: float = DELTA,
            grid: tuple[float, ...] = GRID) -> Suggestion:
    """The Learn-then-Test κ for labelled calibration samples (confidence in [0, 1], correct 0/1)."""
    c = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=np.int64)
    n = int(c.size)
    start = n_start(alpha, n, delta)
    order = np.argsort(-c, kind="stable")
    sorted_c = c[order]
    errors_cum = np.concatenate([[0], np.cumsum(1 - y[order])])
    last: tuple[float, int, int] | None = None
    tested = []
    for kappa in grid:
        # Accepted: confidence ≥ κ (compared in millionths, as stored).
        m = int(np.searchsorted(-np.round(sorted_c * 1e6), -round(kappa * 1e6), side="right"))
        if m < start:
            continue
        k = int(errors_cum[m])
        p_value = float(stats.binom.cdf(k, m, alpha))
        tested.append({"kappa": kappa, "accepted": m, "errors": k, "p_value": p_value})
        if p_value > delta:
            break
        last = (kappa, m, k)
    if last is None:
        return Suggestion(None, alpha, delta, n, start, 0, 0, tested)
    return Suggestion(last[0], alpha, delta, n, start, last[1], last[2], tested)
