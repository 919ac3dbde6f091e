"""The reviewer dashboard: the queue, an item's page, the decision form. Server-rendered; each page
has one small script; live updates come over a websocket, with polling as the fallback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from review import item_page, services
from review import queue as queue_module
from review.models import Escalation
from seismic import services as seismic_services
from seismic import tools
from seismic.models import Extraction, Survey
from vifsite.errors import InputError, NotFound
from vifsite.vif import monitoring

# An item's claim and cited extraction never change, so its plot data may stay in the reviewer's browser cache.
SECTION_CACHE_SECONDS = 3600
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


def _reviewer(request: HttpRequest) -> User:
    """The person on a review page (reviewer_required let only reviewers in: never anonymous)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(NOT_A_REVIEWER)
    return user


@reviewer_required
def queue(request: HttpRequest) -> HttpResponse:
    """The queue: filtered, sorted and searched from the URL; ``fragment=1`` is the live refresh (counts and
    rows, and with ``since=<id>`` how many items of this queue arrived after that id)."""
    params = queue_module.queue_params(request.GET)
    since = request.GET.get("since", "")
    context = queue_module.page_context(params, request.user, since=int(since) if since.isdigit() else None)
    template = "review/_queue_live.html" if request.GET.get("fragment") else "review/queue.html"
    return render(request, template, context)


BULK_ACTIONS = ("assign", "release", "reject")


@reviewer_required
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, release or reject the selected items, each on its own; back to the same queue with a report
    per item. There is no bulk approval."""
    action = request.POST.get("action", "")
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:500]
    back = redirect(f"{reverse('review:queue')}?{queue_module.querystring(queue_module.queue_params(request.GET))}")
    if action not in BULK_ACTIONS or not ids:
        messages.error(request, "Select items and one of: assign, release, reject.")
        return back
    try:
        if action == "reject":
            results = services.escalations_reject(escalation_ids=ids, reviewer=request.user,
                                                  reason=request.POST.get("reason", ""))
        else:
            assignee = None
            if action == "assign":
                from django.contrib.auth import get_user_model

                assignee = get_user_model().objects.filter(username=request.POST.get("assignee", "")).first()
                if assignee is None:
                    raise InputError("Choose the reviewer to assign the items to.")
            results = services.escalations_assign(escalation_ids=ids, reviewer=request.user, assignee=assignee)
    except InputError as exc:
        messages.error(request, exc.message)
        return back
    (messages.success if all(r["done"] for r in results) else messages.warning)(request, bulk_report(results))
    return back


def bulk_report(results: list[dict[str, Any]]) -> str:
    """"12 rejected; 1 skipped: #34 rejected meanwhile by sam"."""
    done: dict[str, int] = {}
    for r in results:
        if r["done"]:
            done[r["message"]] = done.get(r["message"], 0) + 1
    skipped = [f"#{r['id']} {r['message']}" for r in results if not r["done"]]
    parts = [f"{n} {what}" for what, n in done.items()]
    if skipped:
        parts.append(f"{len(skipped)} skipped: " + "; ".join(skipped))
    return "; ".join(parts) + "."


@reviewer_required
@require_POST
def release(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """Leaving an item's page gives up the viewer's reservation (sent with navigator.sendBeacon, so the
    CSRF token comes as the ``csrfmiddlewaretoken`` form field). 204 either way."""
    services.escalation_release(escalation_id, _reviewer(request))
    return HttpResponse(status=204)


@reviewer_required
def item(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """An item's page: the evidence beside the decision. A decision that breaks a rule re-renders the page
    with what was typed; a recorded one goes back to the item, or to the next one in the same queue."""
    try:
        escalation = services.escalation_get(escalation_id=escalation_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    params = queue_module.queue_params(request.GET)
    form: dict[str, str] = {}
    error: dict[str, Any] | None = None
    if request.method == "POST":
        form = {name: request.POST.get(name, "") for name in item_page.FORM_FIELDS}
        try:
            summary = services.escalation_decide(
                escalation_id=escalation.pk, reviewer=request.user, decision=form["decision"],
                comment=form["comment"], revised_text=form["revised_text"] if form["decision"] == "revise" else "",
                reviewer_confidence=float(form["reviewer_confidence"]) if form["reviewer_confidence"].strip() else None,
                version=int(request.POST.get("version") or escalation.version))
        except InputError as exc:
            error = {"message": exc.message, "field": str(exc.details.get("field", "")), "status": exc.status_code}
        except ValueError:
            error = {"message": "Your confidence must be a number between 0 and 1, or left empty.",
                     "field": "reviewer_confidence", "status": 400}
        else:
            if hasattr(services, "escalation_release"):
                services.escalation_release(escalation.pk, _reviewer(request))
            messages.success(request, item_page.decided_message(summary))
            carried = queue_module.querystring(params)
            if request.POST.get("then") == "next":
                following = queue_module.neighbours(params, request.user, escalation)[1]
                return redirect(item_page.item_url(following, carried) if following else
                                reverse("review:queue") + (f"?{carried}" if carried else ""))
            return redirect(item_page.item_url(escalation.pk, carried))
        escalation = services.escalation_get(escalation_id=escalation.pk)
    context = item_page.page_context(escalation, request.user, params=params, form=form, error=error)
    return render(request, "review/item.html", context, status=200 if error is None else error["status"])


def _image_url(extraction: Extraction) -> str:
    return (f"/api/v1/surveys/{extraction.survey_id}/sections/{extraction.kind}/{extraction.number:g}/image.png")


@reviewer_required
@gzip_page
@cache_control(private=True, max_age=SECTION_CACHE_SECONDS)
def section_data(request: HttpRequest, escalation_id: int) -> JsonResponse:
    """The first cited section for the section plot (seismic/section_plot.py: thinned, quantised, gzipped),
    with the windows the interpretation names, each with the words it comes from, and the detected anomalies."""
    from seismic import audit as audit_rules
    from seismic import section_plot

    escalation = services.escalation_get(escalation_id=escalation_id)
    extraction = Extraction.objects.filter(pk__in=escalation.extraction_ids).order_by("pk").first()
    if extraction is None:
        return JsonResponse({"error": "The interpretation cites no extraction."}, status=404)
    survey = Survey.objects.get(pk=extraction.survey_id)
    section = seismic_services.section_read(survey=survey, kind=extraction.kind, number=extraction.number,
                                            ranges={k: tuple(v) for k, v in extraction.ranges.items()})
    first, second = section.axes
    clusters = tools.section_anomalies(survey, section)  # as the anomalies tool reports them
    anomalies = [{first.name: [first.value(c.first[0]), first.value(c.first[1])],
                  second.name: [second.value(c.second[0]), second.value(c.second[1])], "strength": c.strength}
                 for c in clusters[:20]]
    windows = [{"axis": axis, "range": [lo, hi], "label": span, "sentence": sentence.strip()[:200]}
               for sentence in audit_rules.sentences(escalation.interpretation)
               for axis, lo, hi, span in audit_rules.locations(sentence)]
    payload = section_plot.section_payload(section, clip_percentile=settings.VIFSITE_PNG_CLIP_PERCENTILE,
                                           windows=windows, anomalies=anomalies, encoding="int16")
    return JsonResponse(payload, json_dumps_params={"separators": (",", ":")})


def _csv_response(rows: list[dict[str, Any]], fields: tuple[str, ...], filename: str) -> HttpResponse:
    from review import trends

    response = HttpResponse(trends.csv_text(rows, fields), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CRITICALITIES = ("critical", "important", "routine", "low_stakes")


@reviewer_required
def calibration_page(request: HttpRequest) -> HttpResponse:
    """The reliability diagram (counts per bin, Wilson intervals, the consistency band), ECE per day with the
    status thresholds and degradation warnings, ECE per model and criticality, the verbalised levels; the model
    chosen from those with outcomes. ``?format=csv&table=<name>`` gives a table as CSV."""
    from review import trends
    from vifsite.vif import plots

    models = trends.calibration_models()
    filters = {k: request.GET.get(k) or None for k in ("model", "criticality", "window")}
    samples_only = request.GET.get("samples_only") == "1"
    unknown_model = filters["model"] if filters["model"] and filters["model"] not in models else None
    if unknown_model or filters["criticality"] not in (None, *CRITICALITIES):
        filters.update(model=None if unknown_model else filters["model"], criticality=None)
    try:
        span = monitoring.parse_window(filters["window"])
    except InputError as exc:
        messages.error(request, f"{exc.message} Showing every outcome instead.")
        filters["window"], span = None, None
    report = monitoring.calibration_report(samples_only=samples_only, model=filters["model"],
                                           criticality=filters["criticality"], window=filters["window"])
    model, criticality = filters["model"], filters["criticality"]
    reliability = trends.reliability(model=model, criticality=criticality, samples_only=samples_only, window=span)
    timeline = trends.ece_timeline(model=model, criticality=criticality, samples_only=samples_only)
    levels = trends.verbalised_levels(report["verbalised_levels"])
    tables = {"reliability": trends.flatten_reliability(reliability), "groups": report["by_group"], "ece": timeline,
              "verbalised": trends.flatten_reliability(levels)}
    table = request.GET.get("table", "")
    if request.GET.get("format") == "csv" and table in tables:
        return _csv_response(tables[table], trends.CALIBRATION_TABLES[table], f"calibration-{table}.csv")
    query = "&".join(f"{k}={v}" for k, v in {**filters, "samples_only": "1" if samples_only else None}.items() if v)
    meta = {"ece": report["ece"], "n": report["n"], "status": report["status"]}
    return render(request, "review/calibration.html", {
        "report": report, "filters": filters, "samples_only": samples_only, "models": models,
        "unknown_model": unknown_model, "criticalities": CRITICALITIES, "reliability": reliability,
        "timeline": timeline, "levels": levels, "warned_days": [d for d in timeline if d["degrading"]],
        "figures": {"reliability": plots.reliability_figure(reliability, meta),
                    "ece": plots.ece_timeline_figure(timeline, trends.STATUS_THRESHOLDS)},
        "csv_query": f"?{query}&format=csv&table=" if query else "?format=csv&table=",
        "png_url": "/api/v1/calibration/reliability.png" + (f"?{query}" if query else "")})


@reviewer_required
def statistics_page(request: HttpRequest) -> HttpResponse:
    """Escalations by status and criticality, and the review trends of the last 30 days (review/trends.py): plots,
    and each table as CSV with ``?format=csv&table=<name>``."""
    from review import trends
    from review.models import EscalationEvent
    from vifsite.vif import plots

    by = list(Escalation.objects.values("status", "criticality").annotate(n=Count("id")).order_by("criticality",
                                                                                                   "status"))
    found = trends.review_trends(days=30)
    tables = {"daily": found["daily"], "backlog": found["backlog"], "throughput": found["throughput"], "status": by}
    table = request.GET.get("table", "")
    if request.GET.get("format") == "csv" and table in tables:
        return _csv_response(tables[table], trends.STATISTICS_TABLES[table], f"review-{table}.csv")
    totals = found["totals"]
    return render(request, "review/statistics.html", {
        "by": by, "trends": found, "totals": totals, "figures": plots.trends_figures(found), "plots": TREND_PLOTS,
        "breaches": totals["sla_breaches"] + totals["open_overdue"],
        "moved": EscalationEvent.objects.filter(note__startswith="overdue").count()})


TREND_PLOTS = (
    ("decisions", "Decisions per day", "Final decisions and first approvals of four-eyes items, per UTC day."),
    ("timing", "Time to decision", "Median and 90th percentile of hours from arrival to decision, over the items "
                                   "decided each day."),
    ("quality", "SLA breaches and overturned labels", "Items decided after their due time, and automatic labels a "
                                                      "reviewer's decision overturned, per day."),
    ("backlog", "Backlog by age", "Open items by how long they have waited; red: past their due time."))
