"""The reviewer dashboard: the queue, an item's page, the decision form. Server-rendered; each page
has one small script; live updates come over a websocket, with polling as the fallback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from review import services
from review.models import Escalation
from seismic import detection
from seismic import services as seismic_services
from seismic.models import Extraction, Survey
from vifsite.errors import InputError
from vifsite.vif import ledger, monitoring

PAGE_SIZE = 50
FILTERS = ("status", "criticality", "band", "assignee", "overdue")
NOT_A_REVIEWER = "Review pages are for reviewers: ask an admin to add you to the reviewers group."


def reviewer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every review page: reviewers, senior reviewers and staff only; others get the 403 page saying why
    (anonymous users never get here: the login middleware sends them to the login first)."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.is_reviewer(request.user):
            raise PermissionDenied(NOT_A_REVIEWER)
        return view(request, *args, **kwargs)

    return checked


def _queue(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    chosen = {name: request.GET.get(name, "") for name in FILTERS}
    items = Escalation.objects.select_related("witness", "assignee")
    status = chosen["status"] or "open"
    if status == "open":
        items = items.filter(status__in=Escalation.OPEN)
    elif status != "all":
        items = items.filter(status=status)
    if chosen["criticality"]:
        items = items.filter(criticality=chosen["criticality"])
    if chosen["band"]:
        items = items.filter(witness__confidence_band=chosen["band"])
    if chosen["assignee"] == "me":
        items = items.filter(assignee=request.user)
    elif chosen["assignee"] == "none":
        items = items.filter(assignee__isnull=True)
    if chosen["overdue"] == "1":
        items = items.filter(due_at__lt=timezone.now())
    chosen["status"] = status
    return items, chosen


@reviewer_required
def queue(request: HttpRequest) -> HttpResponse:
    items, chosen = _queue(request)
    page = Paginator(items.order_by("due_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = {row["status"]: row["n"] for row in Escalation.objects.values("status").annotate(n=Count("id"))}
    open_by_tier = {row["criticality"]: row["n"] for row in Escalation.objects.filter(
        status__in=Escalation.OPEN).values("criticality").annotate(n=Count("id"))}
    overdue = Escalation.objects.filter(status__in=Escalation.OPEN, due_at__lt=timezone.now()).count()
    context = {"page": page, "chosen": chosen, "counts": counts,
               "open_count": counts.get("pending", 0) + counts.get("in_review", 0), "open_by_tier": open_by_tier, "overdue": overdue,
               "now": timezone.now(), "statuses": Escalation.Status.choices, "reviewer": services.is_reviewer(request.user)}
    template = "review/_queue_rows.html" if request.GET.get("fragment") else "review/queue.html"
    return render(request, template, context)


@reviewer_required
def item(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = services.escalation_get(escalation_id=escalation_id)
    if request.method == "POST":
        try:
            services.escalation_decide(
                escalation_id=escalation.pk, reviewer=request.user, decision=request.POST.get("decision", ""),
                comment=request.POST.get("comment", ""), revised_text=request.POST.get("revised_text", ""),
                reviewer_confidence=float(request.POST["reviewer_confidence"])
                if request.POST.get("reviewer_confidence") else None,
                version=int(request.POST.get("version") or escalation.version))
        except InputError as exc:
            messages.error(request, exc.message)
        except ValueError:
            messages.error(request, "Your confidence must be a number between 0 and 1.")
        else:
            messages.success(request, "Decision recorded.")
        return redirect("review:item", escalation_id=escalation.pk)
    witness = escalation.witness
    extractions = list(Extraction.objects.filter(pk__in=escalation.extraction_ids).order_by("pk"))
    previous = (ledger.signing.GENESIS if witness.sequence == 1 else
                type(witness).objects.filter(sequence=witness.sequence - 1).values_list("entry_hash", flat=True).first())
    problem = ledger.check_entry(witness, expected_sequence=witness.sequence, previous_hash=previous or "",
                                 public=ledger.site_key().public)
    calibration = monitoring.calibration_report(model=witness.model_id) if witness.model_id else None
    findings = escalation.audit.get("findings", [])
    context = {
        "e": escalation, "witness": witness, "extractions": extractions, "findings": findings,
        "ledger_ok": not problem, "ledger_problem": problem, "summary": services.escalation_summary(escalation),
        "calibration": None if calibration is None else {k: calibration[k] for k in ("n", "ece", "status",
                                                                                      "within_noise")},
        "events": escalation.events.all(), "decisions": escalation.decisions.select_related("reviewer"),
        "reviewer": services.is_reviewer(request.user),
        "plot": {"dataUrl": f"/review/{escalation.pk}/section.json"},
        "image_url": _image_url(extractions[0]) if extractions else None,
    }
    return render(request, "review/item.html", context)


def _image_url(extraction: Extraction) -> str:
    return (f"/api/v1/surveys/{extraction.survey_id}/sections/{extraction.kind}/{extraction.number:g}/image.png")


@reviewer_required
def section_data(request: HttpRequest, escalation_id: int) -> JsonResponse:
    """The first cited section for the plotly heatmap (thinned to at most 400×400), in survey
    coordinates, with the windows the interpretation names and the anomalies the detector finds."""
    escalation = services.escalation_get(escalation_id=escalation_id)
    extraction = Extraction.objects.filter(pk__in=escalation.extraction_ids).order_by("pk").first()
    if extraction is None:
        return JsonResponse({"error": "The interpretation cites no extraction."}, status=404)
    survey = Survey.objects.get(pk=extraction.survey_id)
    section = seismic_services.section_read(survey=survey, kind=extraction.kind, number=extraction.number,
                                            ranges={k: tuple(v) for k, v in extraction.ranges.items()})
    first, second = section.axes
    step_a = max(1, first.count // 400)
    step_b = max(1, second.count // 400)
    data = section.data[::step_a, ::step_b]
    clusters, _ = detection.detect(section.data, section.live, vertical=section.vertical)
    anomalies = [{first.name: [first.value(c.first[0]), first.value(c.first[1])],
                  second.name: [second.value(c.second[0]), second.value(c.second[1])], "strength": c.strength}
                 for c in clusters[:20]]
    from seismic import audit as audit_rules

    windows = [{"axis": axis, "range": [lo, hi], "span": span}
               for sentence in audit_rules.sentences(escalation.interpretation)
               for axis, lo, hi, span in audit_rules.locations(sentence) if axis in (first.name, second.name)]
    return JsonResponse({
        "title": f"{survey.name} {extraction.kind} {extraction.number:g}",
        "x": {"name": first.name, "values": [first.value(i) for i in range(0, first.count, step_a)]},
        "y": {"name": second.name, "unit": survey.sample_unit if second.name == "sample" else "",
              "values": [second.value(i) for i in range(0, second.count, step_b)]},
        "z": data.T.round(3).tolist(), "anomalies": anomalies, "windows": windows,
    })


@reviewer_required
def calibration_page(request: HttpRequest) -> HttpResponse:
    """Reliability diagrams (plotly; PNG download), ECE per model and criticality over time, status and
    degradation warnings."""
    from vifsite.vif import plots

    filters = {k: request.GET.get(k) or None for k in ("model", "criticality", "window")}
    samples_only = request.GET.get("samples_only") == "1"
    try:
        report = monitoring.calibration_report(samples_only=samples_only, **filters)
    except InputError as exc:
        messages.error(request, exc.message)
        report = monitoring.calibration_report(samples_only=samples_only)
    figure = plots.reliability_figure(report["reliability"], {"ece": report["ece"], "n": report["n"],
                                                              "status": report["status"]})
    png_query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "review/calibration.html", {
        "report": report, "figure": figure, "filters": filters, "samples_only": samples_only,
        "png_url": "/api/v1/calibration/reliability.png" + (f"?{png_query}" if png_query else "")})


@reviewer_required
def statistics_page(request: HttpRequest) -> HttpResponse:
    """Escalations by status and criticality, time to decision, SLA breaches, reviewer throughput."""
    import numpy as np
    from django.db.models import F

    from review.models import Decision, EscalationEvent

    by = list(Escalation.objects.values("status", "criticality").annotate(n=Count("id")).order_by("criticality",
                                                                                                   "status"))
    decided = Escalation.objects.filter(decided_at__isnull=False).exclude(status=Escalation.Status.EXPIRED)
    hours = np.array([(d - c).total_seconds() / 3600 for c, d in decided.values_list("created_at", "decided_at")])
    breaches = Escalation.objects.filter(Q(decided_at__gt=F("due_at")) | Q(decided_at__isnull=True,
                                                                          due_at__lt=timezone.now())).count()
    throughput = list(Decision.objects.filter(final=True, created_at__gte=timezone.now() - timezone.timedelta(days=7))
                      .values("reviewer__username").annotate(n=Count("id")).order_by("-n"))
    return render(request, "review/statistics.html", {
        "by": by, "decided": int(hours.size),
        "median_hours": float(np.median(hours)) if hours.size else None,
        "p90_hours": float(np.percentile(hours, 90)) if hours.size else None,
        "breaches": breaches, "expired": Escalation.objects.filter(status=Escalation.Status.EXPIRED).count(),
        "throughput": throughput, "moved": EscalationEvent.objects.filter(note__startswith="overdue").count()})
