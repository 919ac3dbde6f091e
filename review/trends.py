"""The numbers behind the calibration and statistics pages: per-bin intervals and consistency bands for the
reliability diagram, ECE per day with its null band and degradation flags, and the review trends (decisions
per day, time to decision, backlog by age, SLA breaches, overturned automatic labels, disagreeing approvers,
per-reviewer throughput). Plain functions over the models, each in a fixed number of queries; the arithmetic
is numpy over the rows they return.

Days are UTC dates (settings.TIME_ZONE is UTC); a percentile is numpy's linear interpolation, the
"inclusive" method of ``statistics.quantiles``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from scipy import stats

from review.models import Decision, Escalation
from vifsite.vif import calibration
from vifsite.vif.models import Outcome

STATUS_THRESHOLDS = (0.05, 0.10)  # calibration.status: well calibrated up to 0.05, acceptable up to 0.10
BACKLOG_AGES: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 h", timedelta(hours=1)), ("1–4 h", timedelta(hours=4)), ("4–24 h", timedelta(days=1)),
    ("1–3 days", timedelta(days=3)), ("3–7 days", timedelta(days=7)), ("over 7 days", None))


# --- Intervals ------------------------------------------------------------------------------------------------

def wilson_interval(correct: int, n: int, *, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion correct/n; None for n = 0."""
    if n <= 0:
        return None
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(correct: int, n: int, *, level: float = 0.95) -> tuple[float, float] | None:
    """The exact (Clopper–Pearson) interval, from beta quantiles; None for n = 0."""
    if n <= 0:
        return None
    alpha = 1 - level
    lower = 0.0 if correct == 0 else float(stats.beta.ppf(alpha / 2, correct, n - correct + 1))
    upper = 1.0 if correct == n else float(stats.beta.ppf(1 - alpha / 2, correct + 1, n - correct))
    return lower, upper


# --- Calibration ----------------------------------------------------------------------------------------------

def _outcomes(*, model: str | None, criticality: str | None, samples_only: bool) -> QuerySet[Outcome]:
    """The labels calibration learns from, as monitoring.calibration_report selects them."""
    outcomes = Outcome.objects.current().unbiased()
    if model:
        outcomes = outcomes.filter(model_id=model)
    if criticality:
        outcomes = outcomes.filter(criticality=criticality)
    if samples_only:
        outcomes = outcomes.filter(calibration_sample=True)
    return outcomes.order_by()


def calibration_models() -> list[str]:
    """The models with labelled outcomes (of any source), for the page's select (one query)."""
    return list(Outcome.objects.current().order_by("model_id").values_list("model_id", flat=True)
                .distinct())


def _histogram(rows: Iterable[Sequence[int]]) -> calibration.Histogram:
    """Histogram of (confidence_micros, n, k) rows, merging equal confidences."""
    array = np.array([tuple(row) for row in rows if row[1]], dtype=np.int64).reshape(-1, 3)
    values, inverse = np.unique(array[:, 0], return_inverse=True)
    return calibration.Histogram(values, np.bincount(inverse, weights=array[:, 1], minlength=values.size)
                                 .astype(np.int64),
                                 np.bincount(inverse, weights=array[:, 2], minlength=values.size).astype(np.int64))


def consistency_band(hist: calibration.Histogram, bins: int = 10, *, draws: int = 400, seed: int = 0,
                     level: float = 0.95) -> list[tuple[float, float] | None]:
    """Per equal-width bin, the central ``level`` range of the accuracy a perfectly calibrated model with these
    confidences would show (outcomes drawn as Bernoulli(c), as calibration.null_band draws them)."""
    if hist.n == 0:
        return [None] * bins
    rng = np.random.default_rng(seed)
    index = calibration.equal_width_bin_index(hist.micros, bins)
    count = np.bincount(index, weights=hist.count, minlength=bins)
    accuracy = np.empty((draws, bins))
    for i in range(draws):
        correct = np.bincount(index, weights=rng.binomial(hist.count, hist.values), minlength=bins)
        accuracy[i] = correct / np.where(count > 0, count, 1)
    low, high = np.quantile(accuracy, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return [(float(low[k]), float(high[k])) if count[k] else None for k in range(bins)]


def reliability(*, model: str | None = None, criticality: str | None = None, window: timedelta | None = None,
                samples_only: bool = False, bins: int | None = None) -> list[dict[str, Any]]:
    """The reliability bins (every bin, empty ones with count 0) with the Wilson interval of each bin's
    accuracy and the consistency band around its mean confidence. One query."""
    bins = bins or settings.VIFSITE_CALIBRATION_BINS
    outcomes = _outcomes(model=model, criticality=criticality, samples_only=samples_only)
    if window:
        outcomes = outcomes.filter(created_at__gte=timezone.now() - window)
    hist = _histogram(outcomes.values_list("confidence_micros").annotate(n=Count("id"),
                                                                         k=Count("id", filter=Q(correct=True))))
    rows = calibration.reliability_bins(hist, bins, "uniform").rows()
    band = consistency_band(hist, bins)
    for row, b in zip(rows, band, strict=True):
        k = int(round((row["accuracy"] or 0) * row["count"]))
        interval = wilson_interval(k, row["count"])
        row.update(correct=k, interval=list(interval) if interval else None, null_band=list(b) if b else None)
    return rows


def ece_timeline(*, model: str | None = None, criticality: str | None = None, samples_only: bool = False,
                 days: int = 30, bins: int | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """ECE per day over the last ``days`` days, with the day's null band (p95 of a calibrated model's ECE), its
    status, and whether calibration.degradation would have warned that day (the day against its week). One
    query."""
    bins = bins or settings.VIFSITE_CALIBRATION_BINS
    minimum = settings.VIFSITE_CALIBRATION_MIN_SAMPLES
    today = today or timezone.now().date()
    first = today - timedelta(days=days - 1)
    rows = list(_outcomes(model=model, criticality=criticality, samples_only=samples_only)
                .filter(created_day__gte=first - timedelta(days=6), created_day__lte=today)
                .values_list("created_day", "confidence_micros")
                .annotate(n=Count("id"), k=Count("id", filter=Q(correct=True))))
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        hist = _histogram(r[1:] for r in rows if r[0] == day)
        week = _histogram(r[1:] for r in rows if day - timedelta(days=6) <= r[0] <= day)
        if hist.n == 0:
            out.append({"date": day.isoformat(), "n": 0, "ece": None, "null_p95": None, "status": None,
                        "degrading": False, "reason": ""})
            continue
        value = calibration.ece(hist, bins)
        warning = calibration.degradation(hist, week, bins=bins, min_samples=minimum)
        out.append({"date": day.isoformat(), "n": hist.n, "ece": value,
                    "null_p95": calibration.null_band(hist, bins, draws=200)["p95"],
                    "status": calibration.status(value, hist.n, min_samples=minimum),
                    "degrading": warning["degrading"], "reason": warning["reason"] if warning["degrading"] else ""})
    return out


def verbalised_levels(report_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """calibration.per_level_table's rows with the correct count and a Wilson interval each."""
    out = []
    for row in report_rows:
        k = int(round(row["accuracy"] * row["count"]))
        interval = wilson_interval(k, row["count"])
        out.append({**row, "correct": k, "interval": list(interval) if interval else None})
    return out


# --- Review trends --------------------------------------------------------------------------------------------

def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    array = np.asarray(values)
    return float(np.median(array)), float(np.percentile(array, 90))


def review_trends(*, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """Everything the statistics page plots and tabulates, over the last ``days`` UTC days. Four queries."""
    now = now or timezone.now()
    today = _day(now)
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    calendar = [first + timedelta(days=i) for i in range(days)]

    decided = list(Escalation.objects.filter(decided_at__gte=since).order_by()
                   .values_list("status", "created_at", "decided_at", "due_at"))
    open_items = list(Escalation.objects.filter(status__in=Escalation.OPEN).order_by()
                      .values_list("created_at", "due_at", "criticality"))
    decisions = list(Decision.objects.filter(created_at__gte=since).order_by("created_at", "id")
                     .values_list("escalation_id", "escalation__approvals_needed", "escalation__created_at",
                                  "reviewer__username", "decision", "final", "created_at"))
    relabels = list(Outcome.objects.filter(supersedes__isnull=False, created_at__gte=since).order_by()
                    .values_list("created_at", "correct", "supersedes__correct"))

    per_day: dict[date, dict[str, Any]] = {d: {"decisions": 0, "final": 0, "hours": [], "breaches": 0,
                                               "relabelled": 0, "overturned": 0} for d in calendar}
    for *_, final, when in decisions:
        bucket = per_day.get(_day(when))
        if bucket is not None:
            bucket["decisions"] += 1
            bucket["final"] += int(final)
    for status, created, decided_at, due in decided:
        bucket = per_day.get(_day(decided_at)) if decided_at is not None else None  # never None: filtered on it
        if bucket is None or decided_at is None:
            continue
        if status != Escalation.Status.EXPIRED:
            bucket["hours"].append(_hours(created, decided_at))
        if decided_at > due:
            bucket["breaches"] += 1
    for created, correct, before in relabels:
        bucket = per_day.get(_day(created))
        if bucket is not None:
            bucket["relabelled"] += 1
            bucket["overturned"] += int(correct != before)

    daily = []
    for d in calendar:
        b = per_day[d]
        median, p90 = _percentiles(b["hours"])
        daily.append({"date": d.isoformat(), "decisions": b["decisions"], "final_decisions": b["final"],
                      "decided_items": len(b["hours"]), "median_hours": median, "p90_hours": p90,
                      "sla_breaches": b["breaches"], "relabelled": b["relabelled"], "overturned": b["overturned"]})

    backlog = []
    lower = timedelta(0)
    for label, upper in BACKLOG_AGES:
        members = [(c, due, tier) for c, due, tier in open_items
                   if now - c >= lower and (upper is None or now - c < upper)]
        backlog.append({"age": label, "items": len(members), "overdue": sum(due < now for _, due, _ in members),
                        "critical": sum(tier == "critical" for _, _, tier in members)})
        lower = upper or lower

    # Four eyes: an item with a first (non-final) approval and a final decision; they disagree when the second
    # reviewer did anything but approve too.
    pairs: dict[int, dict[str, str]] = {}
    for escalation_id, needed, _, _, kind, final, _ in decisions:
        if needed >= 2:
            pairs.setdefault(escalation_id, {})["final" if final else "first"] = kind
    both = [p for p in pairs.values() if "first" in p and "final" in p]
    disagreed = sum(p["first"] != p["final"] for p in both)

    reviewers: dict[str, dict[str, Any]] = {}
    week_ago = now - timedelta(days=7)
    for _, _, created, username, _, final, when in decisions:
        r = reviewers.setdefault(username, {"reviewer": username, "decisions": 0, "last_7_days": 0,
                                            "final_decisions": 0, "hours": []})
        r["decisions"] += 1
        r["last_7_days"] += int(when >= week_ago)
        if final:
            r["final_decisions"] += 1
            r["hours"].append(_hours(created, when))
    throughput = []
    for r in sorted(reviewers.values(), key=lambda r: (-r["decisions"], r["reviewer"])):
        median, _ = _percentiles(r.pop("hours"))
        throughput.append({**r, "median_hours": median})

    hours = [h for d in calendar for h in per_day[d]["hours"]]
    median, p90 = _percentiles(hours)
    relabelled = sum(b["relabelled"] for b in per_day.values())
    overturned = sum(b["overturned"] for b in per_day.values())
    return {
        "days": days, "first": first.isoformat(), "last": today.isoformat(),
        "daily": daily, "backlog": backlog, "throughput": throughput,
        "totals": {
            "decisions": sum(b["decisions"] for b in per_day.values()), "decided_items": len(hours),
            "median_hours": median, "p90_hours": p90,
            "sla_breaches": sum(b["breaches"] for b in per_day.values()),
            "open": len(open_items), "open_overdue": sum(due < now for _, due, _ in open_items),
            "relabelled": relabelled, "overturned": overturned,
            "overturn_rate": overturned / relabelled if relabelled else None,
            "four_eyes_items": len(both), "four_eyes_disagreed": disagreed,
            "disagreement_rate": disagreed / len(both) if both else None,
        },
    }


# --- CSV ------------------------------------------------------------------------------------------------------

def csv_text(rows: list[dict[str, Any]], fields: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row.get(f) is None else _cell(row.get(f)) for f in fields])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return " ".join(_cell(v) if v is not None else "" for v in value)
    return value


def flatten_reliability(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reliability rows with the interval and band as their own columns (for CSV)."""
    flat = []
    for row in rows:
        interval, band = row.get("interval") or [None, None], row.get("null_band") or [None, None]
        flat.append({**row, "interval_low": interval[0], "interval_high": interval[1],
                     "null_low": band[0], "null_high": band[1]})
    return flat


CALIBRATION_TABLES: dict[str, tuple[str, ...]] = {
    "reliability": ("lower", "upper", "count", "correct", "mean_confidence", "accuracy", "interval_low",
                    "interval_high", "null_low", "null_high"),
    "groups": ("model_id", "model_version", "criticality", "n", "ece", "status"),
    "ece": ("date", "n", "ece", "null_p95", "status", "degrading", "reason"),
    "verbalised": ("confidence", "count", "correct", "accuracy", "gap", "interval_low", "interval_high"),
}
STATISTICS_TABLES: dict[str, tuple[str, ...]] = {
    "daily": ("date", "decisions", "final_decisions", "decided_items", "median_hours", "p90_hours", "sla_breaches",
              "relabelled", "overturned"),
    "backlog": ("age", "items", "overdue", "critical"),
    "throughput": ("reviewer", "decisions", "final_decisions", "last_7_days", "median_hours"),
    "status": ("criticality", "status", "n"),
}
