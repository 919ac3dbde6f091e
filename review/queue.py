"""The review queue's query: which items, in which order, and the item before and after one of them.

The queue page, the item page ("back to queue", "Decide and next", j/k) and the bulk actions all read the
queue through these functions, so a reviewer walks exactly the list they filtered and sorted.

``params`` is the dict :func:`queue_params` returns from a request's query string; carry it between pages
with :func:`querystring`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from review.models import Escalation

# Criticality sorts most critical first.
CRITICALITY_RANK = {"critical": 0, "important": 1, "routine": 2, "low_stakes": 3}

# The sortable columns: name in the URL → a never-NULL expression (so "before" and "after" are plain comparisons).
SORTS: dict[str, Any] = {
    "due": F("due_at"),
    "created": F("created_at"),
    "id": F("id"),
    "criticality": Case(*[When(criticality=k, then=Value(v)) for k, v in CRITICALITY_RANK.items()],
                        default=Value(9), output_field=IntegerField()),
    "band": Coalesce(F("witness__confidence_band"), Value("")),
    "confidence": Coalesce(F("witness__confidence_micros"), Value(-1)),
    "assignee": Coalesce(F("assignee__username"), Value("")),
    "status": F("status"),
    "survey": Coalesce(F("survey_id"), Value(-1)),
    "model": Coalesce(F("witness__model_id"), Value("")),
    "agent": F("submitted_by"),
}
DEFAULT_SORT = "due"
STATUSES = ("open", "all", *Escalation.Status.values)
REASONS = tuple(Escalation.Reason.values)
BANDS = ("A", "B", "C")
PAGE_SIZE = 50
# The defaults, left out of the query string.
DEFAULTS: dict[str, Any] = {"status": "open", "criticality": "", "band": "", "assignee": "", "overdue": False,
                            "reason": "", "model": "", "survey": None, "q": "", "sort": DEFAULT_SORT, "page": 1}


def queue_params(query_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The queue's filters from a query string (``request.GET`` or any mapping of str → str), validated:
    anything unknown or malformed falls back to its default rather than failing, since these come
    from URLs people edit and bookmark.

    Keys: ``status`` ("open" (default), "all" or an Escalation status), ``criticality``, ``band``
    ("A"/"B"/"C"), ``assignee`` ("" anyone, "me", "nobody", or a username), ``overdue`` (bool),
    ``reason`` (an Escalation.Reason code), ``model`` (witness model id), ``survey`` (int or None),
    ``q`` (words searched in the claim text), ``sort`` (a key of :data:`SORTS`, "-" prefixed for
    descending; default "due"), ``page`` (int ≥ 1).
    """

    def get(name: str) -> str:
        value = query_dict.get(name, "")
        if isinstance(value, list):  # a plain dict of lists (parse_qs)
            value = value[-1] if value else ""
        return str(value or "").strip()

    params = dict(DEFAULTS)
    if get("status") in STATUSES:
        params["status"] = get("status")
    if get("criticality") in CRITICALITY_RANK:
        params["criticality"] = get("criticality")
    if get("band") in BANDS:
        params["band"] = get("band")
    assignee = get("assignee")
    params["assignee"] = "nobody" if assignee == "none" else assignee[:150]
    params["overdue"] = get("overdue") in ("1", "true", "on", "yes")
    if get("reason") in REASONS:
        params["reason"] = get("reason")
    params["model"] = get("model")[:200]
    if get("survey").isdigit():
        params["survey"] = int(get("survey"))
    params["q"] = get("q")[:200]
    if get("sort").lstrip("-") in SORTS:
        params["sort"] = get("sort")
    if get("page").isdigit() and int(get("page")) >= 1:
        params["page"] = min(int(get("page")), 1_000_000)
    return params


def querystring(params: Mapping[str, Any], *, with_page: bool = True, **changes: Any) -> str:
    """The URL-encoded filters (no leading "?"; "" when all are defaults), to carry to an item and back.
    ``with_page=False`` leaves the page out; keyword ``changes`` override values (``sort="-due"``, ``page=3``)."""
    merged = {**params, **changes}
    pairs = []
    for name, default in DEFAULTS.items():
        value = merged.get(name, default)
        if value == default or value in (None, "", False) or (name == "page" and not with_page):
            continue
        pairs.append((name, "1" if value is True else str(value)))
    return urlencode(pairs)


def _sort_key(params: Mapping[str, Any]) -> tuple[str, bool]:
    sort = params.get("sort") or DEFAULT_SORT
    name = sort.lstrip("-")
    return (name if name in SORTS else DEFAULT_SORT), sort.startswith("-")


def _filtered(params: Mapping[str, Any], user: Any) -> QuerySet[Escalation]:
    items = Escalation.objects.all()
    status = params.get("status") or "open"
    if status == "open":
        items = items.filter(status__in=Escalation.OPEN)
    elif status != "all":
        items = items.filter(status=status)
    if params.get("criticality"):
        items = items.filter(criticality=params["criticality"])
    if params.get("band"):
        items = items.filter(witness__confidence_band=params["band"])
    assignee = params.get("assignee") or ""
    if assignee == "me":
        items = items.filter(assignee=user) if getattr(user, "pk", None) else items.none()
    elif assignee == "nobody":
        items = items.filter(assignee__isnull=True)
    elif assignee:
        items = items.filter(assignee__username=assignee)
    if params.get("overdue"):
        items = items.filter(due_at__lt=timezone.now())
    if params.get("reason"):
        # Portable across SQLite and PostgreSQL (no JSON containment on SQLite): both print a JSON object's
        # members as "key": "value", and a quote inside a string value is escaped, so this cannot match the text.
        items = items.annotate(_reasons=Cast("reasons", TextField())).filter(
            _reasons__contains=f'"code": "{params["reason"]}"')
    if params.get("model"):
        items = items.filter(witness__model_id=params["model"])
    if params.get("survey") is not None:
        items = items.filter(survey_id=params["survey"])
    for word in (params.get("q") or "").split()[:10]:
        items = items.filter(interpretation__icontains=word)
    return items


def queue_queryset(params: Mapping[str, Any], user: Any) -> QuerySet[Escalation]:
    """The filtered, searched queue in a deterministic order: the sort key, then the id (both descending
    for a "-" sort), with the witness, assignee and reservation holder joined. ``user`` is the viewer
    (for ``assignee=me``). Annotated with ``queue_key``, the sort column's value."""
    name, descending = _sort_key(params)
    items = _filtered(params, user).annotate(queue_key=SORTS[name])
    order = ("-queue_key", "-id") if descending else ("queue_key", "id")
    # The witness's bulky columns (canonical bytes, texts, JSON) are never shown in the queue: not read.
    return (items.select_related("witness", "assignee", "reserved_by").defer(*_WITNESS_UNSHOWN)
            .order_by(*order))


_WITNESS_UNSHOWN = tuple(f"witness__{name}" for name in (
    "payload_jcs", "entry_jcs", "prompt_text", "output_text", "prompt_template", "context_snapshot",
    "retrieved_ids", "tool_parameters", "confidence_details", "top_k_probs", "generation_params", "signature"))


def neighbours(params: Mapping[str, Any], user: Any, escalation: Escalation) -> tuple[int | None, int | None]:
    """(previous id, next id): the items just before and after ``escalation`` in the queue ``params``
    describe (same filters, same order), or None at either end. Works for an item no longer in the
    queue too (decided meanwhile, or filtered out): its neighbours are where it would sort. Two
    queries, whatever the size of the queue."""
    name, descending = _sort_key(params)
    key = Escalation.objects.filter(pk=escalation.pk).annotate(k=SORTS[name]).values("k")[:1]
    items = _filtered(params, user).annotate(queue_key=SORTS[name]).exclude(pk=escalation.pk)
    from django.db.models import Subquery

    here = Subquery(key)
    before = Q(queue_key__lt=here) | Q(queue_key=here, id__lt=escalation.pk)
    after = Q(queue_key__gt=here) | Q(queue_key=here, id__gt=escalation.pk)
    if descending:
        before, after = after, before
    ascending_order, descending_order = ("queue_key", "id"), ("-queue_key", "-id")
    previous = items.filter(before).order_by(*(ascending_order if descending else descending_order))
    following = items.filter(after).order_by(*(descending_order if descending else ascending_order))
    return (previous.values_list("id", flat=True).first(), following.values_list("id", flat=True).first())


# --- What a row says ---------------------------------------------------------------------------------

EXCERPT_CHARS = 140


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The claim's first ``limit`` characters, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(",;:.") + "…"


def reason_words(escalation: Escalation) -> list[str]:
    """Why the item needs a human, in words: "Below κ (0.62 < 0.85)", "High stakes: hydrocarbon presence"."""
    witness = escalation.witness
    words = []
    for reason in escalation.reasons:
        code = reason.get("code") if isinstance(reason, dict) else reason
        if code == Escalation.Reason.GATE:
            score, kappa = witness.confidence_score, witness.kappa_threshold
            words.append(f"Below κ ({score:.2f} < {kappa:.2f})" if score is not None and kappa is not None
                         else "Below κ")
        elif code == Escalation.Reason.ROUTING:
            criticality = escalation.get_criticality_display().lower()
            words.append(f"Band {witness.confidence_band or '?'} for a {criticality} task")
        elif code == Escalation.Reason.HIGH_STAKES:
            words.append("High stakes: " + ", ".join(escalation.high_stakes) if escalation.high_stakes
                         else "High stakes")
        elif code == Escalation.Reason.CONTRADICTED:
            words.append("Contradicted by the data")
        elif code == Escalation.Reason.SPOT_CHECK:
            words.append("Spot check")
        else:
            words.append(str(code))
    return words


def due_words(due_at: Any, now: Any) -> str:
    """"in 42 min", "in 3 h", "in 2 d" / "5 min overdue", "3 h overdue"."""
    seconds = (due_at - now).total_seconds()
    amount = abs(seconds)
    if amount < 3600:
        text = f"{max(1, round(amount / 60))} min"
    elif amount < 48 * 3600:
        text = f"{round(amount / 3600)} h"
    else:
        text = f"{round(amount / 86400)} d"
    return f"in {text}" if seconds >= 0 else f"{text} overdue"


def rows(escalations: list[Escalation], *, now: Any = None) -> list[dict[str, Any]]:
    """What the queue shows for each item (one query for every item's extractions and surveys)."""
    from review.services import person, reservation_holder
    from seismic.models import Extraction

    now = now or timezone.now()
    # Formatted here, not with template filters and {% url %} per row: those look up the locale and
    # resolve the URL for every cell, and were half of the page's time with a full page of rows.
    item_url = reverse("review:item", args=[0]).removesuffix("0/")
    status_labels = dict(Escalation.Status.choices)
    criticality_labels = dict(Escalation._meta.get_field("criticality").choices or ())
    wanted = {pk for e in escalations for pk in (e.extraction_ids or []) if isinstance(pk, int)}
    extractions = {x.pk: x for x in Extraction.objects.filter(pk__in=wanted).select_related("survey")} if wanted else {}
    out = []
    for e in escalations:
        cited = [extractions[pk] for pk in sorted(e.extraction_ids or []) if pk in extractions]
        sections = [f"{x.kind} {x.number:g}" for x in cited[:2]] + (["…"] if len(cited) > 2 else [])
        holder = reservation_holder(e, now=now)
        minutes_left = max(1, round((e.reserved_until - now).total_seconds() / 60)) if holder else 0
        score = e.witness.confidence_score
        due = timezone.localtime(e.due_at)
        out.append({
            "e": e, "url": f"{item_url}{e.pk}/", "status": status_labels.get(e.status, e.status),
            "criticality": criticality_labels.get(e.criticality, e.criticality),
            "band": e.witness.confidence_band, "confidence": "" if score is None else f"{score:.2f}",
            "due_iso": due.isoformat(), "due_title": due.strftime("%Y-%m-%d %H:%M ") + (due.tzname() or ""),
            "assignee": e.assignee.username if e.assignee is not None else "",
            "excerpt": excerpt(e.interpretation), "survey": cited[0].survey.name if cited else "",
            "sections": ", ".join(sections), "agent": e.submitted_by.removeprefix("agent:"),
            "model": " ".join(v for v in (e.witness.model_id, e.witness.model_version) if v),
            "reasons": reason_words(e), "due": due_words(e.due_at, now), "overdue": e.is_open and e.due_at < now,
            "holder": person(holder) if holder else "", "holder_id": holder.pk if holder else None,
            "minutes_left": minutes_left,
        })
    return out


def page_context(params: Mapping[str, Any], user: Any, *, since: int | None = None) -> dict[str, Any]:
    """Everything the queue page (and its live fragment) shows: the rows and counts as HTML (``rows_html``,
    ``counts_html``, from the cache while the queue has not changed), the filters' choices. A fixed number of
    queries, whatever the size of the queue."""
    from django.contrib.auth import get_user_model

    from review.models import REVIEWERS_GROUP, SENIOR_GROUP

    reviewers = list(get_user_model().objects.filter(groups__name__in=[REVIEWERS_GROUP, SENIOR_GROUP], is_active=True)
                     .distinct().order_by("username").values_list("username", flat=True))
    name, descending = _sort_key(params)
    return {
        "params": params, "qs": querystring(params), **_parts(params, user),
        "new_count": _filtered(params, user).filter(id__gt=since).count() if since is not None else 0,
        "sort_name": name, "descending": descending, "reviewers": reviewers,
        "statuses": Escalation.Status.choices, "reasons": Escalation.Reason.choices,
        "criticalities": Escalation._meta.get_field("criticality").choices,
    }


def _render_parts(params: Mapping[str, Any], user: Any) -> dict[str, Any]:
    """The rows (with the summary and pager) and the counts, rendered: four queries."""
    from django.core.paginator import Paginator
    from django.db.models import Count, Max
    from django.template.loader import render_to_string

    now = timezone.now()
    # The page's ids first (no joins unless a filter or the sort needs them), then those rows with their
    # witness and people: joining every open item before the sort cost more than the rest of the query.
    ids = queue_queryset(params, user).values_list("id", flat=True)
    page = Paginator(ids, PAGE_SIZE).get_page(params.get("page") or 1)
    wanted = list(page.object_list)
    by_id = queue_queryset(params, user).filter(pk__in=wanted).in_bulk()
    escalations = [by_id[pk] for pk in wanted if pk in by_id]
    tally = {f"status_{status}": Count("id", filter=Q(status=status)) for status in Escalation.Status.values}
    tally |= {f"tier_{tier}": Count("id", filter=Q(status__in=Escalation.OPEN, criticality=tier))
              for tier in CRITICALITY_RANK}
    numbers = Escalation.objects.order_by().aggregate(
        **tally, overdue=Count("id", filter=Q(status__in=Escalation.OPEN, due_at__lt=now)), max_id=Max("id"))
    counts = {status: numbers[f"status_{status}"] for status in Escalation.Status.values}
    name, descending = _sort_key(params)
    context = {
        "params": params, "qs": querystring(params), "page": page, "rows": rows(escalations, now=now),
        "sort_name": name, "descending": descending, "columns": _columns(params, name, descending),
        "page_links": _page_links(params, page), "user": user,
        "counts": counts, "open_count": sum(counts[s] for s in Escalation.OPEN),
        "open_by_tier": [(k.replace("_", " "), numbers[f"tier_{k}"]) for k in CRITICALITY_RANK
                         if numbers[f"tier_{k}"]],
        "overdue": numbers["overdue"],
    }
    return {"rows_html": render_to_string("review/_queue_rows.html", context),
            "counts_html": render_to_string("review/_queue_counts.html", context),
            "max_id": numbers["max_id"] or 0}


# --- The rendered rows and counts, kept between changes ------------------------------------------------
#
# With a shared cache (VIFSITE_QUEUE_CACHE, on with Redis), the rendered rows and counts are kept under the
# queue's generation, the minute (due times and reservations are shown to the minute), the viewer (a row says
# "You are on it") and the filters. Every change to an escalation (a save, a delete, a queryset update: see
# review.apps and review.models) moves the generation on once its transaction commits, so a page read after a
# decision's commit never shows the item as it was; reviewers refreshing an unchanged queue cost a lookup.
# A page rendered from rows read before a commit is stored under the generation before it, which no later
# read uses. What the rows show of other tables (a survey's name, a reviewer's name) may lag by a minute.
GENERATION_KEY = "review:queue:generation"
CACHE_SECONDS = 120
_log = logging.getLogger(__name__)


def changed() -> None:
    """An escalation changed: pages cached before are not served once the change is committed."""
    if settings.VIFSITE_QUEUE_CACHE:
        transaction.on_commit(_next_generation)  # at once outside a transaction


def _next_generation() -> None:
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # never set, or evicted: a random start meets no page cached under an earlier one
            if not cache.add(GENERATION_KEY, secrets.randbits(48), timeout=None):
                cache.incr(GENERATION_KEY)
    except Exception:  # noqa: BLE001  the cache is down: pages are rendered afresh meanwhile (see _parts)
        _log.exception("The review queue's cache generation could not be moved on.")


def _parts(params: Mapping[str, Any], user: Any) -> dict[str, Any]:
    if not settings.VIFSITE_QUEUE_CACHE:
        return _render_parts(params, user)
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, secrets.randbits(48), timeout=None)
            generation = cache.get(GENERATION_KEY)
        minute = int(time.time() // 60)
        key = f"review:queue:{generation}:{minute}:{getattr(user, 'pk', None)}:{querystring(params)}"
        kept = cache.get(key)
    except Exception:  # noqa: BLE001  a cache that cannot answer must not take the queue down with it
        _log.exception("The review queue's cache could not be read; rendering afresh.")
        return _render_parts(params, user)
    if kept is None:
        kept = _render_parts(params, user)
        try:
            cache.set(key, kept, CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            _log.exception("The review queue's cache could not be written.")
    return kept


def _columns(params: Mapping[str, Any], name: str, descending: bool) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (ascending first, then flips) and its aria-sort."""
    out = {}
    for column in SORTS:
        current = column == name
        flip = f"-{column}" if current and not descending else column
        out[column] = {"url": "?" + querystring(params, with_page=False, sort=flip),
                       "aria": ("descending" if descending else "ascending") if current else "none",
                       "arrow": ("▼" if descending else "▲") if current else ""}
    return out


def _page_links(params: Mapping[str, Any], page: Any) -> dict[str, str]:
    """Links to other pages: built from the filters, never from the request (a live refresh's fragment
    request must not leak into them)."""
    links = {}
    if page.has_previous():
        links["first"] = "?" + querystring(params, page=1)
        links["previous"] = "?" + querystring(params, page=page.previous_page_number())
    if page.has_next():
        links["next"] = "?" + querystring(params, page=page.next_page_number())
        links["last"] = "?" + querystring(params, page=page.paginator.num_pages)
    return links
