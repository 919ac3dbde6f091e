"""Calibration reports and operational metrics over stored witnesses, gate events and outcomes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet, StdDev
from django.utils import timezone

from vifsite.errors import InputError
from vifsite.vif import calibration
from vifsite.vif.confidence import CRITICALITIES
from vifsite.vif.models import GateEvent, KappaPolicy, LedgerHead, Outcome, Witness
from vifsite.vif.services import outcome_histogram

BAND_C_ALERT = 0.20
KAPPA_FAILURE_ALERT = 0.10
CONFIDENCE_DROP_ALERT = 0.05  # absolute drop of the average below its 7-day baseline …
CONFIDENCE_DROP_SIGMAS = 3.0  # … and beyond this many standard errors
CUSUM_DAYS = 30
MAX_WINDOW_DAYS = 3650  # ten years back: enough for any report, and `now - window` can never overflow a datetime


def parse_window(text: str | None) -> timedelta | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,9})([hd])", text)
    if not match or int(match.group(1)) == 0:
        raise InputError(f"window must look like 24h or 7d, at most {MAX_WINDOW_DAYS}d.")
    amount = int(match.group(1))
    span = timedelta(hours=amount) if match.group(2) == "h" else timedelta(days=amount)
    if span > timedelta(days=MAX_WINDOW_DAYS):
        raise InputError(f"window {text} is longer than the longest allowed, {MAX_WINDOW_DAYS}d "
                         f"({MAX_WINDOW_DAYS * 24}h).")
    return span


# --- Calibration ----------------------------------------------------------------------------------

def calibration_report(*, model: str | None = None, model_version: str | None = None, criticality: str | None = None,
                       window: str | None = None, bins: int | None = None,
                       samples_only: bool = False) -> dict[str, Any]:
    bins = bins or settings.VIFSITE_CALIBRATION_BINS
    minimum = settings.VIFSITE_CALIBRATION_MIN_SAMPLES
    span = parse_window(window)
    now = timezone.now()
    # Unbiased labels only: random calibration samples, and labels from checkers or the API. Human
    # decisions on escalated items would teach calibration about low-confidence outputs alone.
    outcomes: QuerySet[Outcome] = Outcome.objects.current().unbiased()
    if model:
        outcomes = outcomes.filter(model_id=model)
    if model_version:
        outcomes = outcomes.filter(model_version=model_version)
    if criticality:
        outcomes = outcomes.filter(criticality=criticality)
    if samples_only:
        outcomes = outcomes.filter(calibration_sample=True)
    # One pass over the outcomes (an index covers it): the window in scope, the last day and the last
    # week are conditional counts, and everything below is summed from these groups in numpy.
    scope = Q(created_at__gte=now - span) if span else Q(id__isnull=False)
    last_day, last_week = Q(created_at__gte=now - timedelta(days=1)), Q(created_at__gte=now - timedelta(days=7))
    correct = Q(correct=True)
    rows = list(outcomes.order_by().values_list("model_id", "model_version", "criticality", "confidence_method",
                                                "created_day", "confidence_micros")
                .annotate(n=Count("id", filter=scope), k=Count("id", filter=scope & correct),
                          nd=Count("id", filter=last_day), kd=Count("id", filter=last_day & correct),
                          nw=Count("id", filter=last_week), kw=Count("id", filter=last_week & correct)))
    scoped = [row[:8] for row in rows if row[6]]
    overall = calibration.summary(_histogram(scoped), bins=bins, min_samples=minimum)
    groups = []
    for (model_id, version, tier), members in sorted(_group(scoped, lambda r: (r[0], r[1], r[2])).items()):
        summary = calibration.summary(_histogram(members), bins=bins, min_samples=minimum, draws=100)
        summary.pop("reliability")
        groups.append({"model_id": model_id, "model_version": version, "criticality": tier, **summary})
    verbal = _histogram([r for r in scoped if r[3] == "verbalised"])
    since = (now - timedelta(days=30)).date()
    daily = _group(scoped if span else [r for r in scoped if r[4] >= since], lambda r: r[4])
    day = _histogram([(*r[:6], r[8], r[9]) for r in rows if r[8]])
    week = _histogram([(*r[:6], r[10], r[11]) for r in rows if r[10]])
    return {
        "filters": {"model": model, "model_version": model_version, "criticality": criticality, "window": window,
                    "samples_only": samples_only},
        "labels": "calibration samples only" if samples_only else
                  ("calibration samples and checker/API labels (human decisions on escalated items are excluded, "
                   "unless they replaced a checker's label)"),
        "bin_convention": "equal-width, right-closed (e_{k-1}, e_k], first bin [0, e_1]; confidences in millionths",
        **overall,
        "by_group": groups,
        "verbalised_levels": calibration.per_level_table(verbal),
        "over_time": [{"date": day_.isoformat(), "n": (h := _histogram(members)).n, "ece": calibration.ece(h, bins)}
                      for day_, members in sorted(daily.items())],
        "degradation": calibration.degradation(day, week, bins=bins, min_samples=minimum),
    }


def _group(rows: list[tuple], key: Any) -> dict[Any, list[tuple]]:
    groups: dict[Any, list[tuple]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def _histogram(rows: list[tuple]) -> calibration.Histogram:
    """Histogram of (…, confidence_micros, n, k) rows, merging equal confidences."""
    if not rows:
        return calibration.Histogram.from_rows([])
    array = np.array([row[-3:] for row in rows], dtype=np.int64)
    values, inverse = np.unique(array[:, 0], return_inverse=True)
    return calibration.Histogram(values, np.bincount(inverse, weights=array[:, 1]).astype(np.int64),
                                 np.bincount(inverse, weights=array[:, 2]).astype(np.int64))


def reliability_rows(**filters: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    report = calibration_report(**filters)
    return report["reliability"], {"ece": report["ece"], "n": report["n"], "status": report["status"]}


# --- Operational metrics --------------------------------------------------------------------------

def _base_kappa() -> dict[str, float]:
    return {p.criticality: p.threshold_micros / 1e6 for p in KappaPolicy.objects.filter(domain="", model_id="")}


def cusum_by_criticality() -> dict[str, dict[str, Any]]:
    """Bernoulli CUSUM on the error rate of accepted (gate passed), audited items per tier, over the
    last 30 days in time order, against the tier's target risk 1 − κ."""
    since = timezone.now() - timedelta(days=CUSUM_DAYS)
    kappas = _base_kappa()
    result = {}
    for tier in CRITICALITIES:
        kappa = kappas.get(tier)
        if kappa is None or kappa >= 1:
            continue
        errors = [not correct for correct in Outcome.objects.current().filter(
            criticality=tier, gate_passed=True, created_at__gte=since).order_by("created_at", "id")
            .values_list("correct", flat=True)]
        result[tier] = calibration.bernoulli_cusum(errors, p0=max(1e-4, 1 - kappa), h=settings.VIFSITE_CUSUM_H)
    return result


def metrics_report(*, window: str = "24h") -> dict[str, Any]:
    span = parse_window(window) or timedelta(hours=24)
    now = timezone.now()
    start = now - span
    llm = Witness.objects.filter(operation=Witness.Operation.LLM)
    current = llm.filter(created_at__gte=start)
    total = current.count()
    bands = {row["confidence_band"]: row["n"] for row in
             current.order_by().values("confidence_band").annotate(n=Count("id"))}
    stats = current.aggregate(mean=Avg("confidence_micros"), sd=StdDev("confidence_micros"))
    baseline = llm.filter(created_at__gte=start - timedelta(days=7), created_at__lt=start).aggregate(
        mean=Avg("confidence_micros"), n=Count("id"))
    gates = GateEvent.objects.filter(created_at__gte=start)
    gate_rows = {row["criticality"]: row for row in gates.order_by().values("criticality").annotate(
        n=Count("id"), failed=Count("id", filter=Q(passed=False)), mean=Avg("confidence_micros"))}
    gated = sum(row["n"] for row in gate_rows.values())
    failed = sum(row["failed"] for row in gate_rows.values())
    by_criticality = {
        tier: {"operations": gate_rows[tier]["n"] if tier in gate_rows else 0,
               "kappa_failures": gate_rows[tier]["failed"] if tier in gate_rows else 0,
               "kappa_failure_rate": (gate_rows[tier]["failed"] / gate_rows[tier]["n"]) if tier in gate_rows else None,
               "average_confidence": (gate_rows[tier]["mean"] / 1e6) if tier in gate_rows else None}
        for tier in CRITICALITIES
    }
    average = stats["mean"] / 1e6 if stats["mean"] is not None else None
    base_average = baseline["mean"] / 1e6 if baseline["mean"] is not None else None
    band_c_rate = bands.get("C", 0) / total if total else None
    failure_rate = failed / gated if gated else None
    cusum = cusum_by_criticality()
    alerts = []
    if band_c_rate is not None and band_c_rate > BAND_C_ALERT:
        alerts.append({"kind": "band_c", "value": band_c_rate, "threshold": BAND_C_ALERT,
                       "message": f"{band_c_rate:.0%} of operations are in band C (alert above {BAND_C_ALERT:.0%})."})
    if failure_rate is not None and failure_rate > KAPPA_FAILURE_ALERT:
        alerts.append({"kind": "kappa_failures", "value": failure_rate, "threshold": KAPPA_FAILURE_ALERT,
                       "message": f"κ-gate failure rate {failure_rate:.0%} (alert above {KAPPA_FAILURE_ALERT:.0%})."})
    if average is not None and base_average is not None and total > 1:
        error = (stats["sd"] or 0) / 1e6 / total ** 0.5
        drop = base_average - average
        if drop > CONFIDENCE_DROP_ALERT and drop > CONFIDENCE_DROP_SIGMAS * error:
            alerts.append({"kind": "confidence_drop", "value": average, "threshold": base_average,
                           "message": f"Average confidence {average:.3f} is {drop:.3f} below its 7-day baseline "
                                      f"{base_average:.3f}."})
    degrading = []
    for model_id in (Outcome.objects.current().filter(created_at__gte=now - timedelta(days=1)).order_by()
                     .values_list("model_id", flat=True).distinct()[:50]):
        model_outcomes = Outcome.objects.current().filter(model_id=model_id)
        check = calibration.degradation(
            outcome_histogram(model_outcomes.filter(created_at__gte=now - timedelta(days=1))),
            outcome_histogram(model_outcomes.filter(created_at__gte=now - timedelta(days=7))),
            bins=settings.VIFSITE_CALIBRATION_BINS, min_samples=settings.VIFSITE_CALIBRATION_MIN_SAMPLES)
        if check["degrading"]:
            degrading.append(model_id)
            alerts.append({"kind": "calibration_degrading", "model_id": model_id, "value": check["day_ece"],
                           "threshold": check["week_ece"], "message": f"{model_id}: {check['reason']}."})
    for tier, check in cusum.items():
        if check["alarm"]:
            alerts.append({"kind": "cusum", "criticality": tier, "value": check["statistic"], "threshold": check["h"],
                           "message": f"{tier}: the error rate of accepted items has drifted above the target "
                                      f"{check['p0']:.3f} (CUSUM {check['max']:.2f} ≥ h = {check['h']})."})
    head = LedgerHead.objects.filter(pk=1).first()
    return {
        "window": window, "from": start, "to": now,
        "operations": total,
        "bands": {band: {"count": bands.get(band, 0), "fraction": (bands.get(band, 0) / total) if total else None}
                  for band in ("A", "B", "C")},
        "by_criticality": by_criticality,
        "gated_operations": gated, "kappa_failures": failed, "kappa_failure_rate": failure_rate,
        "average_confidence": average, "baseline_average_confidence": base_average,
        "tool_calls": Witness.objects.filter(operation=Witness.Operation.TOOL, created_at__gte=start).count(),
        "ledger_length": head.sequence if head else 0,
        "cusum": cusum, "calibration_degrading": degrading, "alerts": alerts,
    }
