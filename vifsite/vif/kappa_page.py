"""What the κ pages show: each suggestion's scope in words, its risk–coverage curve, the preview of applying it
on the last 30 days, the warnings, and the tables as CSV. Reads only; applying is services.kappa_suggestion_apply.

The figure is plain plotly JSON (data and layout dicts, no template), drawn by static/js/kappa_page.js.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from vifsite.vif import services, thresholds
from vifsite.vif.models import Criticality, KappaPolicy, KappaPolicyChange, KappaSuggestion, Witness

PREVIEW_DAYS = 30
DROP_WARNING = Decimal("0.05")  # a suggestion this much below the κ in force gets a warning
MICROS = Decimal(1_000_000)


def kappa_text(value: Any) -> str:
    return thresholds.kappa_text(value)


def scope_words(criticality: str, domain: str, model_id: str) -> str:
    """What a policy or suggestion applies to, in words."""
    where = f"in {domain}" if domain else "in every domain"
    who = f"of model {model_id} only (every version)" if model_id else "of every model"
    return f"{criticality} tasks {where}, {who}"


def policy_annotations() -> dict[str, Subquery]:
    """Annotations for a queryset with criticality, domain and model_id (suggestions): the κ policy in force
    for that scope, picked as services.kappa_policy_pick picks it, in the same query."""
    # Among the matching policies (domain: the scope's or none; model: the scope's or none): the one for both
    # first (rank 0), then the stricter of the model's and the domain's (rank 1, highest κ first), then the
    # criticality's (rank 2). Ranked from the policy's own columns (SQLite cannot read the outer row in a
    # subquery's ORDER BY).
    rank = (Case(When(model_id="", then=Value(1)), default=Value(0), output_field=IntegerField())
            + Case(When(domain="", then=Value(1)), default=Value(0), output_field=IntegerField()))
    matching = (KappaPolicy.objects.filter(criticality=OuterRef("criticality"))
                .filter(Q(domain=OuterRef("domain")) | Q(domain=""))
                .filter(Q(model_id=OuterRef("model_id")) | Q(model_id=""))
                .annotate(rank=rank).order_by("rank", "-threshold"))
    return {"current_threshold": Subquery(matching.values("threshold")[:1]),
            "current_domain": Subquery(matching.values("domain")[:1]),
            "current_model": Subquery(matching.values("model_id")[:1])}


def policy_key(criticality: str, domain: str | None, model_id: str | None) -> str:
    return KappaPolicy(criticality=criticality, domain=domain or "", model_id=model_id or "").key


# --- The preview: what applying would have done over the last 30 days --------------------------------------

@dataclass
class PreviewRow:
    domain: str
    items: int
    current: Decimal | None  # the κ in force for these items now
    current_key: str
    now_pass: int
    after_pass: int
    recorded_pass: int  # the verdicts given when the items were gated (whatever κ was then)

    @property
    def now_below(self) -> int:
        return self.items - self.now_pass

    @property
    def after_below(self) -> int:
        return self.items - self.after_pass

    @property
    def recorded_below(self) -> int:
        return self.items - self.recorded_pass


@dataclass
class Preview:
    threshold: Decimal
    since: datetime
    until: datetime
    rows: list[PreviewRow]
    elsewhere: list[tuple[str, int, str]] = field(default_factory=list)  # domain, items, the policy governing them

    @property
    def items(self) -> int:
        return sum(r.items for r in self.rows)

    @property
    def now_pass(self) -> int:
        return sum(r.now_pass for r in self.rows)

    @property
    def after_pass(self) -> int:
        return sum(r.after_pass for r in self.rows)

    @property
    def recorded_pass(self) -> int:
        return sum(r.recorded_pass for r in self.rows)

    @property
    def now_below(self) -> int:
        return self.items - self.now_pass

    @property
    def after_below(self) -> int:
        return self.items - self.after_pass

    @property
    def recorded_below(self) -> int:
        return self.items - self.recorded_pass

    def current_words(self) -> str:
        """"κ 0.95", or "κ 0.95; 0.98 in medical" when the κ in force differs between domains."""
        values = [(r.domain, r.current) for r in self.rows]
        if not values:
            return "κ —"
        first = values[0][1]
        others = [f"{kappa_text(v)} in {d or 'no domain'}" for d, v in values[1:] if v != first]
        return f"κ {kappa_text(first)}" + (f"; {', '.join(others)}" if others else "")

    def sentence(self) -> str:
        days = (self.until - self.since).days
        if not self.items:
            return (f"No items of this scope were gated in the last {days} days: applying would change nothing "
                    "that has happened, only what comes.")
        return (f"{self.items} items in the last {days} days: at κ {kappa_text(self.threshold)}, {self.after_pass} "
                f"would pass the gate and {self.after_below} go to a human; now ({self.current_words()}) "
                f"{self.now_pass} and {self.now_below}.")


def preview(*, criticality: str, domain: str, model_id: str, threshold: Decimal, policies: Sequence[KappaPolicy],
            now: datetime | None = None, days: int = PREVIEW_DAYS) -> Preview:
    """Re-gate the witnessed AI answers of the last ``days`` days that a policy of this scope at ``threshold``
    would govern (the most specific policy for them once it exists), at that κ and at the κ in force now.
    Two queries: the domains present, then one count per domain."""
    until = now or timezone.now()
    since = until - timedelta(days=days)
    witnesses = Witness.objects.filter(operation=Witness.Operation.LLM, task_criticality=criticality,
                                       model_id=model_id, created_at__gte=since, created_at__lte=until,
                                       confidence_micros__isnull=False)
    if domain:
        witnesses = witnesses.filter(domain=domain)
    tier = [p for p in policies if p.criticality == criticality]
    new = KappaPolicy(criticality=criticality, domain=domain, model_id=model_id, threshold=threshold)
    after = [p for p in tier if (p.domain, p.model_id) != (domain, model_id)] + [new]
    governed: dict[str, KappaPolicy | None] = {}
    elsewhere_domains: dict[str, str] = {}
    for d in witnesses.order_by().values_list("domain", flat=True).distinct():
        keeps = services.kappa_policy_pick(after, domain=d, model_id=model_id)
        if keeps is new:
            governed[d] = services.kappa_policy_pick(tier, domain=d, model_id=model_id)
        else:  # a more specific or a stricter policy keeps these (this model's κ there, or the domain's)
            elsewhere_domains[d] = keeps.key if keeps is not None else policy_key(criticality, d, model_id)
    rows: list[PreviewRow] = []
    elsewhere: list[tuple[str, int, str]] = []
    if governed:
        now_kappa = Case(*[When(domain=d, then=Value(p.threshold_micros if p else 0)) for d, p in governed.items()],
                         default=Value(0), output_field=IntegerField())
        counts = (witnesses.filter(domain__in=list(governed)).order_by().values("domain")
                  .annotate(n=Count("id"),
                            now_pass=Count("id", filter=Q(confidence_micros__gte=now_kappa)),
                            after_pass=Count("id", filter=Q(confidence_micros__gte=_micros(threshold))),
                            recorded_pass=Count("id", filter=Q(kappa_gate_passed=True))))
        for row in sorted(counts, key=lambda r: r["domain"]):
            policy = governed[row["domain"]]
            rows.append(PreviewRow(row["domain"], row["n"], policy.threshold if policy else None,
                                   policy.key if policy else "none", row["now_pass"], row["after_pass"],
                                   row["recorded_pass"]))
    if elsewhere_domains:
        for other in (witnesses.filter(domain__in=list(elsewhere_domains)).order_by().values("domain")
                      .annotate(n=Count("id"))):
            elsewhere.append((other["domain"], other["n"], elsewhere_domains[other["domain"]]))
    return Preview(threshold, since, until, rows, sorted(elsewhere))


def _micros(threshold: Decimal) -> int:
    return int((threshold * MICROS).to_integral_value())


# --- The curve ---------------------------------------------------------------------------------------------

def certified_kappas(evidence: dict[str, Any]) -> dict[float, list[str]]:
    """κ → the sequences that certified it (walk, split), from the suggestion's evidence."""
    found: dict[float, list[str]] = {}
    for row in evidence.get("tested") or []:
        by = [name for name in ("walk", "split") if row.get(name) == "passed"]
        if by:
            found[round(float(row["kappa"]), 2)] = by
    return found


def curve_figure(curve: thresholds.RiskCoverage, *, alpha: float, current: float | None, suggested: float | None,
                 certified: dict[float, list[str]], title: str) -> dict[str, Any]:
    """The risk–coverage curve as plotly JSON: error among accepted and its upper bound against κ (left axis),
    coverage (right axis), the target α, the current κ and the suggestion as vertical lines, certified κ
    marked."""
    rows = curve.rows()
    x = [r["kappa"] for r in rows]
    custom = [[r["accepted"], r["errors"], r["coverage"]] for r in rows]
    marked = [r for r in rows if round(r["kappa"], 2) in certified and r["error"] is not None]
    level = f"{1 - curve.level:.1%}".replace(".0%", "%")
    # Up to the bound where 20 or more are accepted (the bound over a handful of samples would squash the rest).
    shown = [r["upper_bound"] for r in rows if r["upper_bound"] is not None and r["accepted"] >= 20]
    top = min(1.0, max(3 * alpha, (max(shown) * 1.1) if shown else 0.0, 0.1))
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": "coverage (share accepted, right axis)", "x": x,
         "y": [r["coverage"] for r in rows], "yaxis": "y2", "line": {"color": "#7a8597", "width": 1.5},
         "hovertemplate": "coverage %{y:.1%}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "name": f"upper bound ({level} one-sided)", "x": x,
         "y": [r["upper_bound"] for r in rows], "line": {"color": "#b3261e", "dash": "dash", "width": 1.5},
         "hovertemplate": "upper bound %{y:.3f}<extra></extra>"},
        {"type": "scatter", "mode": "lines+markers", "name": "error among accepted", "x": x,
         "y": [r["error"] for r in rows], "customdata": custom, "marker": {"size": 4, "color": "#1a4fa0"},
         "line": {"color": "#1a4fa0", "width": 2},
         "hovertemplate": "error %{y:.3f}: %{customdata[1]} wrong of %{customdata[0]} accepted<extra></extra>"},
    ]
    if marked:
        data.append({"type": "scatter", "mode": "markers", "name": "certified κ", "x": [r["kappa"] for r in marked],
                     "y": [r["error"] for r in marked],
                     "text": [", ".join(certified[round(r["kappa"], 2)]) for r in marked],
                     "marker": {"symbol": "circle-open", "size": 10, "color": "#2e7d32", "line": {"width": 2}},
                     "hovertemplate": "certified by %{text}<extra></extra>"})
    shapes: list[dict[str, Any]] = [
        {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": alpha, "y1": alpha,
         "line": {"color": "#6b3e00", "dash": "dot", "width": 1.5}}]
    annotations: list[dict[str, Any]] = [
        {"xref": "paper", "x": 0.01, "y": alpha, "yanchor": "bottom", "xanchor": "left", "showarrow": False,
         "text": f"target α = {alpha:.2f}", "font": {"color": "#6b3e00", "size": 12}}]
    for value, label, colour, dash, anchor in ((current, "current", "#1d2430", "solid", "right"),
                                               (suggested, "suggested", "#2e7d32", "dashdot", "left")):
        if value is None:
            continue
        shapes.append({"type": "line", "x0": value, "x1": value, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": colour, "dash": dash, "width": 2}})
        annotations.append({"x": value, "yref": "paper", "y": 1, "yanchor": "bottom", "xanchor": anchor,
                            "showarrow": False, "text": f"{label} κ {kappa_text(value)}",
                            "font": {"color": colour, "size": 12}})
    layout = {
        "title": {"text": title, "font": {"size": 15}, "x": 0, "xanchor": "left"},
        "xaxis": {"title": {"text": "κ (a gate at κ accepts confidence ≥ κ)"}, "range": [0, 1.005],
                  "dtick": 0.1, "zeroline": False},
        "yaxis": {"title": {"text": "error among accepted"}, "range": [0, top], "rangemode": "tozero"},
        "yaxis2": {"title": {"text": "coverage"}, "overlaying": "y", "side": "right", "range": [0, 1.02],
                   "tickvals": [0, 0.25, 0.5, 0.75, 1], "tickformat": ".0%", "showgrid": False},
        "shapes": shapes, "annotations": annotations, "hovermode": "x unified",
        "legend": {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
        "margin": {"l": 60, "r": 60, "t": 60, "b": 40}, "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
        "font": {"color": "#1d2430"},
    }
    return {"data": data, "layout": layout}


def curve_summary(curve: thresholds.RiskCoverage, *, alpha: float, current: float | None,
                  suggested: float | None) -> list[str]:
    """The figure in sentences (its text alternative)."""
    error, upper, coverage = curve.error, curve.upper, curve.coverage
    lines: list[str] = []
    for label, value in (("current", current), ("suggested", suggested)):
        if label == "suggested" and suggested == current and lines:
            lines[-1] = lines[-1].replace("At the current κ", "At the current and suggested κ", 1)
            continue
        j = None if value is None else curve.at(round(value, 2))
        if j is None:
            continue
        if curve.accepted[j] == 0:
            lines.append(f"At the {label} κ {kappa_text(value)} no calibration sample is accepted.")
            continue
        lines.append(f"At the {label} κ {kappa_text(value)}: {int(curve.accepted[j])} of {curve.samples} samples "
                     f"accepted ({coverage[j]:.0%}), {int(curve.errors[j])} wrong (error {error[j]:.3f}, upper "
                     f"bound {upper[j]:.3f}, target α {alpha:.2f}).")
    below = [k for j, k in enumerate(curve.kappa) if not math.isnan(upper[j]) and upper[j] <= alpha]
    if below:
        lines.append(f"The upper bound is at most α at {len(below)} of the {len(curve.kappa)} κ shown, the lowest "
                     f"{kappa_text(min(below))}. A suggestion also has to pass the tests' order and sample rules "
                     "(the tests table).")
    else:
        lines.append("The upper bound is above α at every κ: with these samples no threshold can be shown to keep "
                     "the error at α.")
    return lines


# --- The page ----------------------------------------------------------------------------------------------

@dataclass
class PageWarning:
    code: str
    message: str


def suggestion_page(suggestion: KappaSuggestion, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything one suggestion's κ page shows."""
    tier_policies = list(KappaPolicy.objects.filter(criticality=suggestion.criticality))
    current = services.kappa_policy_pick(tier_policies, domain=suggestion.domain, model_id=suggestion.model_id)
    own = next((p for p in tier_policies if (p.domain, p.model_id) == (suggestion.domain, suggestion.model_id)),
               None)
    evidence = suggestion.evidence or {}
    alpha = float(evidence.get("alpha") or thresholds.TARGET_RISK.get(suggestion.criticality, 0.05))
    micros, correct, unresolved = services.kappa_suggestion_samples(suggestion=suggestion)
    curve = thresholds.risk_coverage(micros / 1e6, correct, unresolved=unresolved)
    certified = certified_kappas(evidence)
    current_value = float(current.threshold) if current else None
    suggested_value = float(suggestion.suggested) if suggestion.suggested is not None else None
    model = f"{suggestion.model_id} {suggestion.model_version}".strip()
    figure = curve_figure(curve, alpha=alpha, current=current_value, suggested=suggested_value, certified=certified,
                          title=f"Risk–coverage: {suggestion.criticality}, {model} ({curve.samples} samples)")
    the_preview = None
    if suggestion.suggested is not None:
        the_preview = preview(criticality=suggestion.criticality, domain=suggestion.domain,
                              model_id=suggestion.model_id, threshold=suggestion.suggested, policies=tier_policies,
                              now=now)
    warnings = page_warnings(suggestion, current=current, tier_policies=tier_policies, preview=the_preview)
    history = list(KappaPolicyChange.objects.filter(policy=own)[:50]) if own else []
    siblings = list(KappaSuggestion.objects.filter(criticality=suggestion.criticality).exclude(pk=suggestion.pk)
                    .annotate(**policy_annotations()))
    return {
        "suggestion": suggestion, "evidence": evidence, "alpha": alpha, "scope": scope_words(
            suggestion.criticality, suggestion.domain, suggestion.model_id),
        "current": current, "own": own, "curve": curve, "curve_rows": curve_table(curve, certified),
        "figure": figure, "summary": curve_summary(curve, alpha=alpha, current=current_value,
                                                   suggested=suggested_value),
        "preview": the_preview, "warnings": warnings, "history": history, "siblings": siblings,
        "tests": evidence.get("tested") or [], "why_none": evidence.get("why_none"),
        "floor": evidence.get("floor"), "overridden": overridden_policies(suggestion, tier_policies),
        "facts": facts(suggestion, evidence, current=current, own=own, samples=curve.samples),
        "in_force": own is not None and suggestion.suggested is not None and own.threshold == suggestion.suggested,
    }


def facts(suggestion: KappaSuggestion, evidence: dict[str, Any], *, current: KappaPolicy | None,
          own: KappaPolicy | None, samples: int) -> dict[str, str]:
    """The page's numbers as text (formatted once, here)."""
    out = {"current": "none" if current is None else kappa_text(current.threshold),
           "suggested": "none" if suggestion.suggested is None else kappa_text(suggestion.suggested),
           "alpha": f"{float(evidence.get('alpha') or 0):.2f}",
           "confidence": f"{1 - float(evidence.get('delta') or thresholds.DELTA):.0%}",
           "samples": str(evidence.get("samples", samples)), "unresolved": str(evidence.get("unresolved") or 0)}
    if current is None:
        out["current_source"] = "no policy matches: the gate refuses these tasks until an admin sets one"
    elif own is not None:
        out["current_source"] = f"this scope's own policy ({current.key})"
    else:
        inherited = scope_words(current.criticality, current.domain, current.model_id)
        out["current_source"] = f"inherited from {current.key} ({inherited})" + (
            "; applying creates this scope's own policy" if suggestion.suggested is not None else "")
    if suggestion.suggested is not None:
        error, bound, coverage = (evidence.get(k) for k in ("observed_error", "upper_bound", "coverage"))
        by = " and ".join(evidence.get("certified_by") or []) or "—"
        out["at_suggested"] = (f"{evidence.get('accepted')} of {evidence.get('samples')} samples accepted "
                               f"({coverage:.0%}), {evidence.get('errors')} wrong: error {error:.3f}, "
                               f"upper bound {bound:.3f} ≤ α {out['alpha']}; certified by the {by}"
                               if error is not None and bound is not None and coverage is not None else "")
    floor = evidence.get("floor")
    said = "whatever κ" in ((evidence.get("why_none") or {}).get("message") or "")
    out["floor"] = f"at least {floor:.0%}" if floor and not said else ""  # the why-none message may say it already
    return out


def overridden_policies(suggestion: KappaSuggestion, tier_policies: Iterable[KappaPolicy]) -> list[KappaPolicy]:
    """The domain policies of the tier that a model-wide κ of this suggestion would take over for this model
    (criticality and model come before criticality and domain), unless the model has its own κ there."""
    if suggestion.domain:
        return []
    tier = list(tier_policies)
    own_domains = {p.domain for p in tier if p.model_id == suggestion.model_id}
    return [p for p in tier if p.domain and not p.model_id and p.domain not in own_domains]


def page_warnings(suggestion: KappaSuggestion, *, current: KappaPolicy | None, tier_policies: list[KappaPolicy],
                  preview: Preview | None) -> list[PageWarning]:
    warnings: list[PageWarning] = []
    if suggestion.suggested is None or current is None:
        return warnings
    drop = current.threshold - suggestion.suggested
    if drop >= DROP_WARNING:
        more = f" In the last {PREVIEW_DAYS} days {preview.after_pass - preview.now_pass} more items would have " \
               "passed without a human." if preview is not None and preview.items else ""
        warnings.append(PageWarning(
            "large_drop", f"κ would drop by {kappa_text(drop)}, from {kappa_text(current.threshold)} to "
            f"{kappa_text(suggestion.suggested)}.{more} Check the curve near the suggestion and the reason before "
            "applying."))
    stricter = [p for p in overridden_policies(suggestion, tier_policies) if p.threshold > suggestion.suggested]
    if stricter:
        names = ", ".join(f"{p.key} ({kappa_text(p.threshold)})" for p in stricter)
        warnings.append(PageWarning("domain_override", f"For {suggestion.model_id} the stricter domain policies "
                                f"{names} stay in force in their domains: where a model's κ and a domain's both "
                                "apply, the stricter one governs."))
    return warnings


def curve_table(curve: thresholds.RiskCoverage, certified: dict[float, list[str]]) -> list[dict[str, Any]]:
    """The curve's rows with their numbers as text (formatted once, here, not per cell in the template)."""
    return [{**row, "kappa_text": f"{row['kappa']:.2f}", "certified_by": ", ".join(certified.get(row["kappa"], [])),
             "error_text": "—" if row["error"] is None else f"{row['error']:.3f}",
             "upper_text": "—" if row["upper_bound"] is None else f"{row['upper_bound']:.3f}",
             "coverage_text": f"{row['coverage']:.1%}"}
            for row in curve.rows()]


WHY_NONE_WORDS = {"too_few_samples": "too few samples", "every_threshold_failed": "every κ tested failed"}


def why_short(evidence: dict[str, Any]) -> str:
    """Why a suggestion is none, in a few words for a table cell ("too few samples; ≥ 23 % to a human")."""
    why = evidence.get("why_none") or {}
    if not why:
        return ""
    words = WHY_NONE_WORDS.get(why.get("code", ""), why.get("code", ""))
    floor = evidence.get("floor")
    return words + (f"; at least {floor:.0%} to a human whatever κ" if floor else "")


def index_rows() -> list[dict[str, Any]]:
    """Every tier with its policies and suggestions (each with the κ in force for its scope). Two queries."""
    policies = list(KappaPolicy.objects.all())
    suggestions: list[Any] = list(KappaSuggestion.objects.annotate(**policy_annotations()))  # with current_*
    tiers = []
    for tier in Criticality.values:
        rows = [{"suggestion": s, "scope": scope_words(s.criticality, s.domain, s.model_id),
                 "suggested": "none" if s.suggested is None else kappa_text(s.suggested),
                 "current": None if s.current_threshold is None else kappa_text(s.current_threshold),
                 "current_key": "" if s.current_threshold is None else policy_key(tier, s.current_domain,
                                                                                   s.current_model),
                 "why_none": (s.evidence.get("why_none") or {}).get("message", ""),
                 "why_short": why_short(s.evidence), "samples": s.evidence.get("samples")}
                for s in suggestions if s.criticality == tier]
        tiers.append({"criticality": tier, "alpha": thresholds.TARGET_RISK.get(tier),
                      "policies": [{"policy": p, "kappa": kappa_text(p.threshold),
                                    "scope": scope_words(p.criticality, p.domain, p.model_id)}
                                   for p in policies if p.criticality == tier],
                      "suggestions": rows})
    return tiers


# --- CSV ------------------------------------------------------------------------------------------------------

def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def curve_csv(page: dict[str, Any]) -> str:
    return csv_text(["kappa", "accepted", "errors", "error_among_accepted", "upper_bound", "coverage", "certified_by"],
                    ([r["kappa_text"], r["accepted"], r["errors"], _f(r["error"]), _f(r["upper_bound"]),
                      _f(r["coverage"]), r["certified_by"]] for r in page["curve_rows"]))


def tests_csv(page: dict[str, Any]) -> str:
    fields = ["kappa", "accepted", "errors", "p_value", "walk", "split_rank", "test_accepted", "test_errors",
              "test_p_value", "split"]
    return csv_text(fields, ([row.get(f) for f in fields] for row in page["tests"]))


def preview_csv(page: dict[str, Any]) -> str:
    header = ["domain", "items", "kappa_now", "policy_now", "pass_now", "to_human_now", "kappa_after", "pass_after",
              "to_human_after", "pass_recorded", "to_human_recorded"]
    p: Preview | None = page["preview"]
    if p is None:
        return csv_text(header, [])
    return csv_text(header, ([r.domain, r.items, kappa_text(r.current) if r.current is not None else "", r.current_key,
                              r.now_pass, r.now_below, kappa_text(p.threshold), r.after_pass, r.after_below,
                              r.recorded_pass, r.recorded_below] for r in p.rows))


def history_csv(page: dict[str, Any]) -> str:
    return csv_text(["changed_at", "changed_by", "old_kappa", "new_kappa", "reason"],
                    ([c.changed_at.isoformat(), c.changed_by, kappa_text(c.old_threshold) if c.old_threshold is not None
                      else "", kappa_text(c.new_threshold), c.reason] for c in page["history"]))


def index_csv(tiers: list[dict[str, Any]]) -> str:
    return csv_text(["criticality", "domain", "model_id", "model_version", "samples", "suggested_kappa",
                     "current_kappa", "current_policy", "why_none", "computed_at", "applied_at"],
                    ([r["suggestion"].criticality, r["suggestion"].domain, r["suggestion"].model_id,
                      r["suggestion"].model_version, r["samples"], "" if r["suggestion"].suggested is None
                      else r["suggested"], r["current"] or "", r["current_key"], r["why_none"],
                      r["suggestion"].computed_at.isoformat(),
                      r["suggestion"].applied_at.isoformat() if r["suggestion"].applied_at else ""]
                     for tier in tiers for r in tier["suggestions"]))


def _f(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


CSV_TABLES = {"curve": curve_csv, "tests": tests_csv, "preview": preview_csv, "history": history_csv}
