"""What an item's page shows, in words: the claim with each finding's span marked in place, what each
finding says against the data, the statistics for people, the confidence and calibration, the four-eyes
state and the labels the witness has. Plain functions over the stored rows; the view renders them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from review import queue as review_queue
from review import services
from review.models import Decision, Escalation
from review.templatetags.review_format import percent_change, sig, span_of, unit
from seismic import audit as audit_rules
from seismic.models import Extraction
from vifsite.vif import ledger, monitoring
from vifsite.vif.models import Outcome

SEVERITY_WORDS = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
CATEGORY_WORDS = {
    "numeric": "A number the data do not show",
    "location": "A place outside the data",
    "feature_fabrication": "A feature the tools do not find",
    "out_of_scope": "More than seismic amplitudes can tell",
    "overconfidence": "Stated with too much certainty",
}
METHOD_WORDS = {"explicit": "explicit score", "logprobs": "token log-probabilities", "logits": "logits",
                "probabilities": "class probabilities", "verbalised": "stated confidence",
                "text": "confidence read from the text"}
CALIBRATION_WORDS = {"WELL_CALIBRATED": "well calibrated", "ACCEPTABLE": "acceptably calibrated",
                     "POORLY_CALIBRATED": "poorly calibrated"}
# The section's plot axes for each extraction kind (the windows a finding can show on it).
PLOT_AXES = {"inline": ("crossline", "sample"), "crossline": ("inline", "sample"), "timeslice": ("inline", "crossline")}
# Statistics in reading order: (key, label, unit); "amplitude" takes no unit (the survey's own amplitude units).
STATISTICS: list[tuple[str, str, str]] = [
    ("rms", "RMS amplitude", ""), ("mean", "Mean amplitude", ""), ("median", "Median amplitude", ""),
    ("std", "Standard deviation", ""), ("min", "Minimum", ""), ("max", "Maximum", ""),
    ("data_range", "Data range", ""), ("dominant_frequency_hz", "Dominant frequency", "Hz"),
    ("band_hz", "Frequency band (−6 dB)", "Hz"), ("bandwidth_hz", "Bandwidth", "Hz"),
    ("spectral_centroid_hz", "Spectral centroid", "Hz"), ("zero_crossings", "Zero crossings", "per trace"),
    ("coefficient_of_variation", "Coefficient of variation", ""), ("live_traces", "Live traces", ""),
    ("dead_traces", "Dead traces", ""), ("count", "Samples", ""),
]


def sentence_of(text: str, span: str) -> str:
    """The sentence of ``text`` the span comes from (the span itself when it is not found)."""
    for sentence in audit_rules.sentences(text):
        if span.casefold() in sentence.casefold():
            return sentence
    return span


def windows_of(text: str, finding: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The plot windows a finding is about: the places its sentence names on the plot's axes, or else the
    location in its evidence."""
    axes = PLOT_AXES.get(kind, ())
    found = [{"axis": axis, "range": [lo, hi]} for axis, lo, hi, _ in
             audit_rules.locations(sentence_of(text, str(finding.get("span", "")))) if axis in axes]
    if not found:
        location = (finding.get("evidence") or {}).get("location") or {}
        found = [{"axis": axis, "range": [location[axis], location[axis]]} for axis in axes
                 if isinstance(location.get(axis), (int, float))]
    return found


def what_it_says(finding: Mapping[str, Any]) -> str:
    """What was claimed against what the data show: "RMS claimed 87.5 · measured 35.0 · −60 %"; for
    other categories the audit's message."""
    evidence = finding.get("evidence") or {}
    closest = evidence.get("closest") or {}
    if finding.get("category") == "numeric" and "claimed" in evidence and "value" in closest:
        said = str(evidence.get("presented_as") or "value")
        statistic = str(closest.get("statistic") or "")
        label, name = next(((label.lower(), name) for key, label, name in STATISTICS if key == statistic),
                           (statistic.replace("_", " "), ""))
        measured = "measured" if said.lower() in label or label in said.lower() or said.lower() == statistic \
            else f"nearest statistic ({label})"
        claimed = evidence["claimed"]
        claimed_text = f"{claimed:g}".replace("-", "\u2212") if isinstance(claimed, (int, float)) else str(claimed)
        change = percent_change(closest["value"], claimed)
        return " · ".join(filter(None, [f"{said} claimed {unit(claimed_text, name)}",
                                        f"{measured} {unit(sig(closest['value']), name)}", change]))
    return str(finding.get("message", ""))


def findings_view(text: str, findings: Sequence[Mapping[str, Any]],
                  kind: str) -> tuple[SafeString, list[dict[str, Any]]]:
    """The claim as HTML with each finding's span in a ``<mark>`` (found case-insensitively; a span inside
    another is nested, one crossing another's edge is left unmarked), and the findings in words, each
    saying whether its span was found in place."""
    intervals: list[tuple[int, int, int]] = []
    for index, finding in enumerate(findings):
        span = str(finding.get("span") or "").strip()
        if not span:
            continue
        for match in re.finditer(re.escape(span), text, re.IGNORECASE):
            start, end = match.span()
            if all(end <= s or start >= e or (s <= start and end <= e) or (start <= s and e <= end)
                   for s, e, _ in intervals) and not any((s, e) == (start, end) for s, e, _ in intervals):
                intervals.append((start, end, index))
                break
    placed = {index for _, _, index in intervals}
    views = [{
        "index": index, "severity": str(f.get("severity", "")),
        "severity_words": SEVERITY_WORDS.get(str(f.get("severity", "")), str(f.get("severity", "")).lower()),
        "category_words": CATEGORY_WORDS.get(str(f.get("category", "")), str(f.get("category", ""))),
        "span": f.get("span", ""), "says": what_it_says(f), "placed": index in placed,
        "windows": windows_of(text, f, kind),
    } for index, f in enumerate(findings)]
    return _marked(text, intervals, views), views


def _marked(text: str, intervals: list[tuple[int, int, int]], views: list[dict[str, Any]]) -> SafeString:
    opens: dict[int, list[tuple[int, int, int]]] = {}
    closes: dict[int, int] = {}
    for start, end, index in intervals:
        opens.setdefault(start, []).append((start, end, index))
        closes[end] = closes.get(end, 0) + 1
    parts: list[str] = []
    last = 0
    for position in sorted(set(opens) | set(closes)):
        parts.append(escape(text[last:position]))
        parts.append("</mark>" * closes.get(position, 0))
        for _, _, index in sorted(opens.get(position, []), key=lambda i: -i[1]):  # the outer one first
            severity = views[index]["severity"].lower()
            parts.append(format_html('<mark id="claim-span-{}" class="finding-mark sev-{}" data-finding="{}" '
                                     'title="{}">', index, severity, index, views[index]["category_words"]))
        last = position
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308  every piece of text is escaped above


def statistics_rows(statistics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The extraction's statistics for people (label, value with unit, exact value), then its percentiles."""
    rows = []
    for key, label, name in STATISTICS:
        if statistics.get(key) is None:
            continue
        value = statistics[key]
        shown = span_of(value, name) if isinstance(value, list) else unit(sig(value), name)
        rows.append({"label": label, "shown": shown, "exact": value, "key": key})
    percentiles = statistics.get("percentiles") or {}
    if percentiles:
        rows.append({"label": "Percentiles", "key": "percentiles", "exact": percentiles,
                     "shown": ", ".join(f"{name} {sig(v)}" for name, v in percentiles.items()
                                        if name in ("p1", "p50", "p99") and v is not None)})
    return rows


def confidence_words(method: str, details: Mapping[str, Any]) -> str:
    """"explicit*grounding" with a grounding of 1 → "explicit score × grounding 1.0"."""
    base, _, factor = (method or "").partition("*")
    words = METHOD_WORDS.get(base, base)
    if factor:
        value = details.get(factor)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            words += f" × {factor} " + (f"{float(value):.1f}" if float(value).is_integer() else sig(value, 2))
        else:
            words += f" × {factor}"
    return words


def calibration_words(calibration: Mapping[str, Any] | None, model: str) -> str:
    """The model's calibration in a sentence; too few labels say so with the count."""
    if not calibration:
        return ""
    minimum = settings.VIFSITE_CALIBRATION_MIN_SAMPLES
    if calibration.get("status") == "INSUFFICIENT_DATA" or calibration.get("ece") is None:
        return (f"Not enough labelled outcomes to judge the calibration of {model} "
                f"({calibration.get('n', 0)} of {minimum}).")
    words = CALIBRATION_WORDS.get(str(calibration["status"]), str(calibration["status"]).lower().replace("_", " "))
    noise = " (within noise)" if calibration.get("within_noise") else ""
    return (f"{model} is {words}: expected calibration error {sig(calibration['ece'], 2)} over "
            f"{calibration['n']:,} labelled outcomes{noise}.")


def reasons_words(reasons: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    labels = dict(Escalation.Reason.choices)
    return [{"label": str(labels.get(r.get("code", ""), r.get("code", ""))).capitalize(), "why": str(r.get("why", ""))}
            for r in reasons]


def status_words(escalation: Escalation, first_approval: Decision | None) -> str:
    if escalation.is_open and first_approval is not None:
        return "Awaiting second approval"
    return escalation.get_status_display().capitalize()


def four_eyes(escalation: Escalation, decisions: Sequence[Decision], user: Any) -> dict[str, Any]:
    """Critical items: the first approval (who, when, why) while the second is awaited, whether the viewer
    made it (then they see no form), and both approvals once closed."""
    approvals = [d for d in decisions if d.decision == Decision.Kind.APPROVE]
    first = next((d for d in approvals if not d.final), None)
    return {
        "needed": escalation.approvals_needed == 2,
        "first": first if escalation.is_open else None,
        "you_approved": escalation.is_open and first is not None and first.reviewer_id == getattr(user, "pk", None),
        "approvals": approvals if escalation.approvals_needed == 2 and not escalation.is_open else [],
    }


# --- The page -----------------------------------------------------------------------------------------

FORM_FIELDS = ("decision", "comment", "revised_text", "reviewer_confidence")
DECISION_CHOICES = [  # (value, label, key)
    ("approve", "Approve", "a"), ("reject", "Reject", "r"), ("revise", "Revise", "e"),
    ("needs_analysis", "Request more analysis", "m"),
]
DONE_WORDS = {"approved": "Approved", "rejected": "Rejected", "revised": "Revised",
              "needs_analysis": "Sent back for more analysis", "in_review": "First approval recorded"}


def decided_message(summary: Mapping[str, Any]) -> str:
    if summary["status"] == "in_review":
        return (f"Item {summary['id']}: your approval is the first of two; it now waits for a second reviewer.")
    return f"Item {summary['id']}: {DONE_WORDS.get(summary['status'], summary['status'])}."


def item_url(escalation_id: int, carried: str) -> str:
    return reverse("review:item", kwargs={"escalation_id": escalation_id}) + (f"?{carried}" if carried else "")


def _reservation(escalation: Escalation, user: Any, *, deciding: bool) -> dict[str, Any] | None:
    """Opening an open item reserves it for the viewer (renewing their own reservation); who holds it and
    until when, in words. Nothing for a closed item or one the viewer has already approved."""
    reserve = getattr(services, "escalation_reserve", None)
    if reserve is None or not escalation.is_open or not deciding:
        return None
    reserved, holder, until = reserve(escalation.pk, user)
    if holder is None or until is None:
        return None
    at = timezone.localtime(until)
    if reserved:
        return {"mine": True, "until": at, "words": f"Reserved for you until {at:%H:%M}."}
    who = services.person(holder) if hasattr(services, "person") else holder.get_username()
    return {"mine": False, "until": at, "holder": who,
            "words": f"{who} has this item until {at:%H:%M}: you can read it; decide it once they leave it."}


def page_context(escalation: Escalation, user: Any, *, params: Mapping[str, Any], form: Mapping[str, str],
                 error: Mapping[str, str] | None) -> dict[str, Any]:
    witness = escalation.witness
    extractions = list(Extraction.objects.filter(pk__in=escalation.extraction_ids).order_by("pk"))
    kind = extractions[0].kind if extractions else ""
    claim_html, findings = findings_view(escalation.interpretation, escalation.audit.get("findings", []), kind)
    decisions = list(escalation.decisions.select_related("reviewer"))
    eyes = four_eyes(escalation, decisions, user)
    reviewer = services.is_reviewer(user)
    can_decide = escalation.is_open and reviewer and not eyes["you_approved"]
    carried = review_queue.querystring(params)
    previous_id, next_id = review_queue.neighbours(params, user, escalation)
    calibration = monitoring.calibration_report(model=witness.model_id) if witness.model_id else None
    problem = ledger.entry_problem(witness)
    try:
        release_url = reverse("review:release", kwargs={"escalation_id": escalation.pk})
    except NoReverseMatch:
        release_url = ""
    final = next((d for d in decisions if d.final), None)
    queue_url = reverse("review:queue") + (f"?{carried}" if carried else "")
    return {
        "e": escalation, "witness": witness, "extractions": extractions,
        "statistics": [{"extraction": x, "rows": statistics_rows(x.statistics)} for x in extractions],
        "claim_html": claim_html, "findings": findings, "unplaced": [f for f in findings if not f["placed"]],
        "status_words": status_words(escalation, eyes["first"]),
        "reasons": reasons_words(escalation.reasons),
        "confidence_words": confidence_words(witness.confidence_method, witness.confidence_details or {}),
        "calibration_words": calibration_words(calibration, witness.model_id),
        "ledger_ok": not problem, "ledger_problem": problem,
        "labels": list(Outcome.objects.filter(witness=witness).select_related("superseded_by").order_by("created_at",
                                                                                                        "id")),
        "events": escalation.events.all(), "decisions": decisions, "final": final, "eyes": eyes,
        "reviewer": reviewer, "can_decide": can_decide,
        "reservation": _reservation(escalation, user, deciding=can_decide),
        "choices": DECISION_CHOICES, "form": {name: form.get(name, "") for name in FORM_FIELDS}, "error": error or {},
        "queue_url": queue_url, "carried": carried,
        "previous_url": item_url(previous_id, carried) if previous_id else "",
        "next_url": item_url(next_id, carried) if next_id else "",
        "plot": {"dataUrl": reverse("review:section-data", kwargs={"escalation_id": escalation.pk}),
                 "releaseUrl": release_url if can_decide else "",
                 "previousUrl": item_url(previous_id, carried) if previous_id else "",
                 "nextUrl": item_url(next_id, carried) if next_id else "", "queueUrl": queue_url},
        "image_url": (f"/api/v1/surveys/{extractions[0].survey_id}/sections/{extractions[0].kind}/"
                      f"{extractions[0].number:g}/image.png") if extractions else None,
    }
