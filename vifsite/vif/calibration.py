"""Calibration metrics: ECE (equal-width and equal-mass bins), MCE, Brier, debiased L2 error,
reliability bins, a null band from consistency resampling, and a Bernoulli CUSUM. Plain numpy.

Conventions (one for everything here):

- Confidences are integers in millionths (``confidence.MICROS``), so 0.7 is exactly 700000 and a
  verbalised 0.7 never lands on the wrong side of a bin edge through float rounding.
- Equal-width bins are right-closed: bin k of B holds (k/B, (k+1)/B], and the first bin is [0, 1/B]
  (1.0 sits in the top bin). Computed in integers: k = max(0, ceil(c·B / 10⁶) − 1).
- Equal-mass bins: sort the samples, split them into B runs as ``numpy.array_split`` does, put an
  edge halfway between the last value of one run and the first of the next, right-closed as above
  (ties at an edge stay together in the lower bin). This is the construction of Kumar et al.'s
  ``uncertainty-calibration`` package.
- ECE = Σ_k (n_k / n) |mean confidence_k − accuracy_k|; MCE = max_k over non-empty bins of the same
  gap; Brier = mean (c − y)²; debiased L2 = sqrt(max(0, Σ_k (n_k/n) [(gap_k)² − a_k(1 − a_k)/(n_k − 1)]))
  with bins of one sample contributing 0 (Kumar, Liang & Ma 2019).

Everything works on a histogram of distinct confidence values (value, count, number correct), which
is what the database hands over, so a million outcomes with a few thousand distinct confidences are
summarised in milliseconds, and the consistency resampling draws Binomial(count, value) per value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vifsite.vif.confidence import MICROS

WELL_CALIBRATED, ACCEPTABLE, POORLY_CALIBRATED, INSUFFICIENT_DATA = (
    "WELL_CALIBRATED", "ACCEPTABLE", "POORLY_CALIBRATED", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class Histogram:
    """Distinct confidences (millionths, ascending), how many samples have each, how many were correct."""

    micros: np.ndarray  # int64
    count: np.ndarray  # int64
    correct: np.ndarray  # int64

    @property
    def n(self) -> int:
        return int(self.count.sum())

    @property
    def values(self) -> np.ndarray:
        return self.micros / MICROS

    @classmethod
    def from_samples(cls, confidence: Any, correct: Any) -> Histogram:
        """From per-sample confidences (floats in [0, 1]) and 0/1 outcomes."""
        c = np.asarray(confidence, dtype=np.float64)
        y = np.asarray(correct)
        if c.shape != y.shape or c.ndim != 1:
            raise ValueError("confidence and correct must be 1-D and of equal length")
        if c.size and (not np.all(np.isfinite(c)) or c.min() < 0 or c.max() > 1):
            raise ValueError("confidences must be finite and in [0, 1]")
        return cls.from_micros(np.rint(c * MICROS).astype(np.int64), y.astype(np.int64))

    @classmethod
    def from_micros(cls, micros: Any, correct: Any) -> Histogram:
        m = np.asarray(micros, dtype=np.int64)
        y = np.asarray(correct, dtype=np.int64)
        values, inverse = np.unique(m, return_inverse=True)
        count = np.bincount(inverse, minlength=values.size).astype(np.int64)
        positive = np.bincount(inverse, weights=y, minlength=values.size).astype(np.int64)
        return cls(values, count, positive)

    @classmethod
    def from_rows(cls, rows: Any) -> Histogram:
        """From (micros, count, correct) rows, e.g. a GROUP BY over stored outcomes."""
        array = np.asarray(list(rows), dtype=np.int64).reshape(-1, 3)
        order = np.argsort(array[:, 0], kind="stable")
        array = array[order]
        return cls(array[:, 0].copy(), array[:, 1].copy(), array[:, 2].copy())


def equal_width_bin_index(micros: np.ndarray, bins: int) -> np.ndarray:
    """Right-closed equal-width bin of each confidence, exactly, in integers."""
    upper = -((-micros * bins) // MICROS)  # ceil(c·B / 10⁶)
    return np.maximum(upper - 1, 0)


def equal_mass_bin_index(hist: Histogram, bins: int) -> np.ndarray:
    """Equal-mass bin of each distinct value (see the module docstring)."""
    n = hist.n
    bins = max(1, min(bins, n))
    # array_split: the first n % bins runs hold n // bins + 1 samples, the rest n // bins.
    sizes = np.full(bins, n // bins, dtype=np.int64)
    sizes[: n % bins] += 1
    boundaries = np.cumsum(sizes)[:-1]  # first sample index of runs 1..bins-1
    cumulative = np.cumsum(hist.count)
    # Value index holding sample position p is searchsorted(cumulative, p, 'right').
    last_of_run = np.searchsorted(cumulative, boundaries - 1, side="right")
    first_of_next = np.searchsorted(cumulative, boundaries, side="right")
    doubled_edges = np.unique(hist.micros[last_of_run] + hist.micros[first_of_next])  # 2 × edge, exact
    # Right-closed: a value v belongs to the first edge e with v ≤ e, i.e. 2v ≤ doubled edge.
    return np.searchsorted(doubled_edges, 2 * hist.micros, side="left")


@dataclass(frozen=True)
class Bins:
    """Per-bin sums; ``lower``/``upper`` are the bin's edges (for equal mass: the values it holds)."""

    lower: np.ndarray
    upper: np.ndarray
    count: np.ndarray
    confidence_sum: np.ndarray
    correct_sum: np.ndarray

    @property
    def n(self) -> int:
        return int(self.count.sum())

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for k in range(self.count.size):
            n_k = int(self.count[k])
            out.append({
                "lower": float(self.lower[k]), "upper": float(self.upper[k]), "count": n_k,
                "mean_confidence": float(self.confidence_sum[k] / n_k) if n_k else None,
                "accuracy": float(self.correct_sum[k] / n_k) if n_k else None,
            })
        return out


def _aggregate(hist: Histogram, index: np.ndarray, size: int, correct: np.ndarray | None = None) -> tuple:
    positive = hist.correct if correct is None else correct
    count = np.bincount(index, weights=hist.count, minlength=size)
    confidence_sum = np.bincount(index, weights=hist.count * hist.values, minlength=size)
    correct_sum = np.bincount(index, weights=positive, minlength=size)
    return count, confidence_sum, correct_sum


def reliability_bins(hist: Histogram, bins: int = 10, strategy: str = "uniform") -> Bins:
    if strategy == "uniform":
        index = equal_width_bin_index(hist.micros, bins)
        count, conf, corr = _aggregate(hist, index, bins)
        edges = np.arange(bins + 1) / bins
        return Bins(edges[:-1], edges[1:], count, conf, corr)
    if strategy == "quantile":
        if hist.n == 0:
            return Bins(*(np.zeros(0) for _ in range(5)))
        _, index = np.unique(equal_mass_bin_index(hist, bins), return_inverse=True)  # no empty bins
        size = int(index.max()) + 1
        count, conf, corr = _aggregate(hist, index, size)
        lower = np.array([hist.values[index == k].min() for k in range(size)])
        upper = np.array([hist.values[index == k].max() for k in range(size)])
        return Bins(lower, upper, count, conf, corr)
    raise ValueError("strategy must be 'uniform' or 'quantile'")


def _gaps(count: np.ndarray, confidence_sum: np.ndarray, correct_sum: np.ndarray) -> np.ndarray:
    safe = np.where(count > 0, count, 1)
    return np.where(count > 0, confidence_sum / safe - correct_sum / safe, 0.0)


def ece_from(count: np.ndarray, confidence_sum: np.ndarray, correct_sum: np.ndarray) -> float:
    n = count.sum()
    if n == 0:
        return float("nan")
    return float(np.sum(count / n * np.abs(_gaps(count, confidence_sum, correct_sum))))


def ece(hist: Histogram, bins: int = 10, strategy: str = "uniform") -> float:
    b = reliability_bins(hist, bins, strategy)
    return ece_from(b.count, b.confidence_sum, b.correct_sum)


def mce(hist: Histogram, bins: int = 10, strategy: str = "uniform") -> float:
    b = reliability_bins(hist, bins, strategy)
    if b.n == 0:
        return float("nan")
    gaps = np.abs(_gaps(b.count, b.confidence_sum, b.correct_sum))
    return float(gaps[b.count > 0].max())


def brier(hist: Histogram) -> float:
    if hist.n == 0:
        return float("nan")
    v = hist.values
    # Σ over samples of (c − y)² = Σ_values [count·c² − 2c·correct + correct]
    total = np.sum(hist.count * v * v - 2 * v * hist.correct + hist.correct)
    return float(total / hist.n)


def debiased_l2(hist: Histogram, bins: int = 10, strategy: str = "quantile") -> float:
    b = reliability_bins(hist, bins, strategy)
    n = b.n
    if n == 0:
        return float("nan")
    count = b.count
    gaps = _gaps(count, b.confidence_sum, b.correct_sum)
    safe = np.where(count > 1, count, 2)
    accuracy = np.where(count > 0, b.correct_sum / np.where(count > 0, count, 1), 0.0)
    error = np.where(count > 1, gaps ** 2 - accuracy * (1 - accuracy) / (safe - 1), 0.0)
    return float(max(float(np.sum(count / n * error)), 0.0) ** 0.5)


def null_band(hist: Histogram, bins: int = 10, strategy: str = "uniform", *, draws: int = 200,
              seed: int = 0) -> dict[str, float]:
    """ECE of a perfectly calibrated model with these confidences: outcomes drawn as Bernoulli(c)."""
    if hist.n == 0:
        return {"mean": float("nan"), "p95": float("nan"), "draws": 0}
    rng = np.random.default_rng(seed)
    index = (equal_width_bin_index(hist.micros, bins) if strategy == "uniform"
             else equal_mass_bin_index(hist, bins))
    size = int(index.max()) + 1
    count = np.bincount(index, weights=hist.count, minlength=size)
    confidence_sum = np.bincount(index, weights=hist.count * hist.values, minlength=size)
    values = np.empty(draws)
    for i in range(draws):
        correct_sum = np.bincount(index, weights=rng.binomial(hist.count, hist.values), minlength=size)
        values[i] = ece_from(count, confidence_sum, correct_sum)
    return {"mean": float(values.mean()), "p95": float(np.quantile(values, 0.95)), "draws": draws}


def status(ece_value: float, n: int, *, min_samples: int = 30) -> str:
    if n < min_samples or not np.isfinite(ece_value):
        return INSUFFICIENT_DATA
    if ece_value <= 0.05:
        return WELL_CALIBRATED
    if ece_value <= 0.10:
        return ACCEPTABLE
    return POORLY_CALIBRATED


def summary(hist: Histogram, *, bins: int = 10, min_samples: int = 30, draws: int = 200,
            seed: int = 0) -> dict[str, Any]:
    """Everything the calibration endpoint reports for one group of outcomes."""
    n = hist.n
    value = ece(hist, bins, "uniform")
    band = null_band(hist, bins, "uniform", draws=draws, seed=seed)
    within_noise = bool(n and value <= band["p95"])
    finite = (lambda x: None if not np.isfinite(x) else float(x))  # noqa: E731
    return {
        "n": n,
        "accuracy": finite(hist.correct.sum() / n) if n else None,
        "mean_confidence": finite(float(np.sum(hist.count * hist.values) / n)) if n else None,
        "ece": finite(value),
        "ece_equal_mass": finite(ece(hist, bins, "quantile")) if n else None,
        "mce": finite(mce(hist, bins, "uniform")) if n else None,
        "brier": finite(brier(hist)),
        "debiased_l2": finite(debiased_l2(hist, bins, "quantile")) if n else None,
        "null_ece": {"mean": finite(band["mean"]), "p95": finite(band["p95"]), "draws": band["draws"]},
        "within_noise": within_noise,
        "status": status(value, n, min_samples=min_samples),
        "bins": bins,
        "reliability": reliability_bins(hist, bins, "uniform").rows() if n else [],
    }


def per_level_table(hist: Histogram) -> list[dict[str, Any]]:
    """For verbalised confidences: one row per stated level (value), its count and accuracy."""
    rows = []
    for value, count, correct in zip(hist.values, hist.count, hist.correct, strict=True):
        accuracy = correct / count
        rows.append({"confidence": float(value), "count": int(count), "accuracy": float(accuracy),
                     "gap": float(value - accuracy)})
    return rows


def degradation(day: Histogram, week: Histogram, *, bins: int = 10, ratio: float = 1.5,
                min_samples: int = 30, seed: int = 0) -> dict[str, Any]:
    """Warn when the last day's ECE exceeds ``ratio`` × the last week's and lies beyond its null band."""
    if day.n < min_samples or week.n < min_samples:
        return {"degrading": False, "reason": "too few outcomes in the last day or week to tell"}
    day_ece, week_ece = ece(day, bins), ece(week, bins)
    noise = null_band(day, bins, draws=200, seed=seed)["p95"]
    degrading = day_ece > ratio * week_ece and day_ece > noise
    return {"degrading": bool(degrading), "day_ece": day_ece, "week_ece": week_ece, "day_null_p95": noise,
            "reason": (f"last day's ECE {day_ece:.3f} is above {ratio}× the week's {week_ece:.3f} and beyond "
                       f"noise ({noise:.3f})" if degrading else "no degradation beyond noise")}


# --- Bernoulli CUSUM ------------------------------------------------------------------------------

def bernoulli_cusum(errors: Any, *, p0: float, p1: float | None = None, h: float = 4.0) -> dict[str, Any]:
    """Upper CUSUM of the log-likelihood ratio for an error rate drifting from ``p0`` to ``p1``
    (default 2·p0). Returns the statistic's path end, its maximum and the index of the first alarm."""
    y = np.asarray(errors, dtype=np.int64)
    if not 0 < p0 < 1:
        raise ValueError("p0 must lie in (0, 1)")
    p1 = min(0.99, 2 * p0) if p1 is None else p1
    w_error, w_ok = np.log(p1 / p0), np.log((1 - p1) / (1 - p0))
    s, peak, alarm = 0.0, 0.0, None
    for i, e in enumerate(y):
        s = max(0.0, s + (w_error if e else w_ok))
        peak = max(peak, s)
        if alarm is None and s >= h:
            alarm = i
    return {"statistic": s, "max": peak, "alarm_index": alarm, "alarm": alarm is not None, "p0": p0, "p1": p1,
            "h": h, "n": int(y.size)}
