"""The review queue: filters, sort, search and pages against an independent computation; neighbours; what a
row says; the live fragment; bulk actions; reservations; contrast of the queue's colours."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from review import queue, services
from review.models import Decision, Escalation, EscalationEvent
from seismic.models import Extraction, Survey
from vifsite.errors import Conflict
from vifsite.vif import services as vif_services
from vifsite.vif.models import Outcome

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")

CRITICALITIES = ["critical", "important", "routine", "low_stakes"]
REASONS = ["gate", "routing", "high_stakes", "contradicted", "spot_check"]


def _person(django_user_model, name, group="reviewers"):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def rita(django_user_model):
    return _person(django_user_model, "rita")


@pytest.fixture
def sam(django_user_model):
    return _person(django_user_model, "sam", "senior reviewers")


@pytest.fixture
def survey(db):
    return Survey.objects.create(
        name="F3 demo", vds_url="memory://f3", inline_first=100, inline_last=300, inline_step=1, inline_count=201,
        crossline_first=300, crossline_last=1250, crossline_step=1, crossline_count=951, sample_first=0,
        sample_last=1848, sample_step=4, sample_count=463, sample_unit="ms", domain="time", live_traces=1,
        data_sha256="0" * 64)


def _extraction(survey, number):
    return Extraction.objects.create(survey=survey, kind="inline", number=number, ranges={}, array_sha256="a" * 64,
                                     survey_data_sha256="b" * 64, openvds_version="3", app_version="1",
                                     principal="agent:bot")


def make_queue(n, *, rita, sam, survey=None):
    """``n`` items that differ in every column the queue filters and sorts on (with ties in due time, so the
    id decides), a tenth of them decided."""
    recorded = vif_services.witness_record_many(items=[
        {"model_id": f"model-{'ab'[i % 2]}", "model_version": "1", "prompt": "p", "output": f"o{i}",
         "confidence": round(0.3 + 0.65 * ((i * 37) % 100) / 100, 3), "task_criticality": CRITICALITIES[i % 4]}
        for i in range(n)], writer="agent:bot")
    now = timezone.now()
    items = []
    for i, r in enumerate(recorded):
        extraction_ids = [_extraction(survey, 100 + i).pk] if survey is not None and i % 2 == 0 else []
        items.append(Escalation.objects.create(
            witness=r.witness, interpretation=(f"Inline {100 + i} shows a bright spot near 1.2 s, item {i}."
                                               if i % 5 == 0 else f"Inline {100 + i} has a fault, item {i}."),
            criticality=CRITICALITIES[i % 4], submitted_by="agent:bot", approvals_needed=2 if i % 4 == 0 else 1,
            extraction_ids=extraction_ids,
            survey_id=survey.pk if extraction_ids else None,
            status="approved" if i % 10 == 9 else ("in_review" if i % 7 == 3 else "pending"),
            assignee=[rita, sam, None][i % 3], due_at=now + timedelta(hours=(i % 7) - 2, seconds=0),
            hard_due_at=now + timedelta(hours=48),
            reasons=[{"code": REASONS[i % 5], "why": "x"}]
            + ([{"code": "spot_check", "why": "y"}] if i % 11 == 0 else []),
            high_stakes=["hydrocarbon presence"] if REASONS[i % 5] == "high_stakes" else []))
    # The same due time for items 0, 7, 14, …: created separately, so make them exactly equal.
    for i in range(7):
        Escalation.objects.filter(pk__in=[e.pk for e in items[i::7]]).update(due_at=now + timedelta(hours=i - 2))
    return [Escalation.objects.select_related("witness", "assignee").get(pk=e.pk) for e in items]


def expected(items, params, user):
    """The queue computed in Python, from the definitions, not from review.queue's code."""
    now = timezone.now()
    out = []
    for e in items:
        if params.get("status", "open") == "open" and e.status not in ("pending", "in_review"):
            continue
        if params.get("status") not in (None, "open", "all") and e.status != params["status"]:
            continue
        if params.get("criticality") and e.criticality != params["criticality"]:
            continue
        if params.get("band") and e.witness.confidence_band != params["band"]:
            continue
        who = params.get("assignee")
        if who == "me" and e.assignee_id != user.pk or who == "nobody" and e.assignee_id is not None:
            continue
        if who not in (None, "", "me", "nobody") and (e.assignee is None or e.assignee.username != who):
            continue
        if params.get("overdue") and not e.due_at < now:
            continue
        if params.get("reason") and params["reason"] not in [r["code"] for r in e.reasons]:
            continue
        if params.get("model") and e.witness.model_id != params["model"]:
            continue
        if params.get("q") and not all(w.lower() in e.interpretation.lower() for w in params["q"].split()):
            continue
        out.append(e)
    sort = params.get("sort", "due")
    rank = {c: i for i, c in enumerate(CRITICALITIES)}
    key = {"due": lambda e: e.due_at, "id": lambda e: e.pk, "criticality": lambda e: rank[e.criticality],
           "confidence": lambda e: e.witness.confidence_micros, "assignee": lambda e: e.assignee.username
           if e.assignee else "", "model": lambda e: e.witness.model_id, "status": lambda e: e.status}[sort.lstrip("-")]
    return [e.pk for e in sorted(out, key=lambda e: (key(e), e.pk), reverse=sort.startswith("-"))]


CASES = [
    {}, {"status": "all"}, {"status": "approved"}, {"criticality": "critical"}, {"band": "C"}, {"band": "B"},
    {"assignee": "me"}, {"assignee": "nobody"}, {"assignee": "sam"}, {"overdue": "1"}, {"reason": "high_stakes"},
    {"reason": "spot_check"}, {"model": "model-a"}, {"q": "bright"}, {"q": "BRIGHT spot 1.2"}, {"sort": "-due"},
    {"sort": "criticality"}, {"sort": "-criticality", "status": "all"}, {"sort": "confidence"},
    {"sort": "-assignee"}, {"sort": "model", "reason": "gate"}, {"sort": "-id", "band": "B", "overdue": "1"},
    {"sort": "status", "status": "all", "q": "fault"},
]


@pytest.fixture
def sixty(rita, sam, survey):
    return make_queue(60, rita=rita, sam=sam, survey=survey)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "&".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_filters_sort_and_search_match_an_independent_computation(sixty, rita, case):
    params = queue.queue_params(case)
    got = list(queue.queue_queryset(params, rita).values_list("id", flat=True))
    want = expected(sixty, {k: v for k, v in case.items()} | {"overdue": case.get("overdue") == "1"}, rita)
    assert want and got == want  # no case is empty, so each shows something


def _ids(html):
    return [int(i) for i in re.findall(r'<tr id="item-(\d+)"', html)]


def test_pages_hold_fifty_in_order_and_their_links_keep_the_filters(client, sixty, rita, sam):
    make_queue(50, rita=rita, sam=sam)  # 110 items, ~100 open
    client.force_login(rita)
    want = expected(list(Escalation.objects.select_related("witness", "assignee")), {"sort": "-criticality"}, rita)
    first = client.get(reverse("review:queue"), {"sort": "-criticality"}).content.decode()
    assert _ids(first) == want[:50]
    assert 'href="?sort=-criticality&amp;page=2"' in first
    second = client.get(reverse("review:queue"), {"sort": "-criticality", "page": "2"}).content.decode()
    assert _ids(second) == want[50:100]
    # column headers keep the filters, flip the current one, and start at page 1
    assert 'href="?sort=criticality"' in second and 'aria-sort="descending"' in second
    filtered = client.get(reverse("review:queue"), {"band": "C", "q": "fault", "page": "1"}).content.decode()
    assert 'href="?band=C&amp;q=fault&amp;sort=-due"' in filtered
    assert 'href="?band=C&amp;q=fault&amp;sort=criticality"' in filtered


def test_a_live_refresh_does_not_leak_into_the_page_links(client, sixty, rita, sam):
    make_queue(50, rita=rita, sam=sam)
    client.force_login(rita)
    fragment = client.get(reverse("review:queue"), {"fragment": "1", "band": "C", "since": "0"}).content.decode()
    assert "<html" not in fragment and "fragment" not in re.sub(r'id="live-\w+"', "", fragment)
    links = re.findall(r'href="(\?[^"]*)"', fragment)
    assert links and all("fragment" not in link and "since" not in link for link in links)


def test_the_fragment_counts_the_items_of_this_view_that_arrived_since(client, sixty, rita, sam):
    client.force_login(rita)
    page = client.get(reverse("review:queue"), {"criticality": "critical"}).content.decode()
    since = int(re.search(r'data-max-id="(\d+)"', page).group(1))
    assert since == max(e.pk for e in sixty)
    make_queue(4, rita=rita, sam=sam)  # 1 critical among them (the first), open
    fragment = client.get(reverse("review:queue"), {"criticality": "critical", "fragment": "1",
                                                    "since": str(since)}).content.decode()
    assert 'data-new-count="1"' in fragment
    everything = client.get(reverse("review:queue"), {"fragment": "1", "since": str(since)}).content.decode()
    assert 'data-new-count="4"' in everything


def test_the_queue_costs_a_fixed_number_of_queries(client, rita, sam, survey, django_assert_max_num_queries):
    client.force_login(rita)
    make_queue(10, rita=rita, sam=sam, survey=survey)
    client.get(reverse("review:queue"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("review:queue"), {"sort": "-assignee", "q": "inline"})
    make_queue(60, rita=rita, sam=sam, survey=survey)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("review:queue"), {"sort": "-assignee", "q": "inline"})
    assert len(_ids(response.content.decode())) == 50
    with django_assert_max_num_queries(len(small.captured_queries) + 1):  # + the count of new items
        client.get(reverse("review:queue"), {"fragment": "1", "since": "3"})


@pytest.mark.parametrize("case", [{}, {"sort": "-due"}, {"criticality": "important", "sort": "confidence"},
                                  {"assignee": "nobody", "sort": "-assignee"}, {"q": "fault", "sort": "model"}])
def test_neighbours_are_the_items_before_and_after_in_the_same_queue(client, rita, sam, case,
                                                                     django_assert_max_num_queries):
    items = make_queue(120, rita=rita, sam=sam)  # more than two pages for the default view
    params = queue.queue_params(case)
    order = expected(items, case, rita)
    by_id = {e.pk: e for e in items}
    for i, pk in enumerate(order):
        previous = order[i - 1] if i else None
        following = order[i + 1] if i + 1 < len(order) else None
        assert queue.neighbours(params, rita, by_id[pk]) == (previous, following), (i, pk)
    edge = min(queue.PAGE_SIZE, len(order)) - 1  # the last of page 1: next is the first of page 2
    with django_assert_max_num_queries(2):
        assert queue.neighbours(params, rita, by_id[order[edge]])[1] == (order[edge + 1] if edge + 1 < len(order)
                                                                          else None)


def test_a_decided_item_keeps_its_place_between_its_neighbours(rita, sam):
    items = make_queue(30, rita=rita, sam=sam)
    params = queue.queue_params({})
    order = expected(items, {}, rita)
    middle = Escalation.objects.get(pk=order[10])
    Escalation.objects.filter(pk=middle.pk).update(status="rejected")  # decided: no longer in the open queue
    assert queue.neighbours(params, rita, middle) == (order[9], order[11])
    outsider = next(e for e in items if e.status == "approved")
    got = queue.neighbours(params, rita, outsider)
    assert got[0] is None or got[0] in order and got[1] is None or got[1] in order


def test_queue_params_refuse_nonsense_and_querystring_carries_only_what_differs():
    params = queue.queue_params({"status": "nope", "sort": "password", "page": "-3", "band": "Z", "survey": "x1",
                                 "criticality": "critical", "q": "  bright   spot ", "assignee": "none"})
    assert params["status"] == "open" and params["sort"] == "due" and params["page"] == 1 and params["band"] == ""
    assert params["survey"] is None and params["assignee"] == "nobody" and params["q"] == "bright   spot"
    assert queue.querystring(params) == "criticality=critical&assignee=nobody&q=bright+++spot"
    assert queue.querystring(queue.queue_params({})) == ""
    assert queue.querystring(queue.queue_params({"page": "3", "overdue": "1"})) == "overdue=1&page=3"
    assert queue.querystring(queue.queue_params({"page": "3"}), with_page=False) == ""
    assert queue.querystring(queue.queue_params({"sort": "-due"}), page=2) == "sort=-due&page=2"


def test_a_row_says_what_the_item_is(client, rita, sam, survey):
    recorded = vif_services.witness_record_many(items=[{"model_id": "claude-x", "model_version": "2025-01",
                                                        "prompt": "p", "output": "o", "confidence": 0.62,
                                                        "task_criticality": "important"}], writer="agent:scout")
    witness = recorded[0].witness
    extraction = _extraction(survey, 155)
    text = ("Inline 155 shows a bright amplitude anomaly between crossline 700 and 760 at about 1.2 s, " * 3).strip()
    item = Escalation.objects.create(
        witness=witness, interpretation=text, criticality="important", submitted_by="agent:scout",
        extraction_ids=[extraction.pk], survey_id=survey.pk, due_at=timezone.now() + timedelta(minutes=42, seconds=20),
        hard_due_at=timezone.now() + timedelta(hours=8), high_stakes=["hydrocarbon presence"],
        reasons=[{"code": c, "why": "x"} for c in ("gate", "high_stakes", "contradicted", "spot_check")])
    late = make_queue(1, rita=rita, sam=sam)[0]
    Escalation.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=3, minutes=5))
    client.force_login(rita)
    page = client.get(reverse("review:queue"), {"q": "inline", "criticality": "important"}).content.decode()
    row = page[page.index(f'id="item-{item.pk}"'):]
    row = row[:row.index("</tr>")]
    assert queue.excerpt(text) in row and len(queue.excerpt(text)) <= 141 and queue.excerpt(text).endswith("…")
    assert "F3 demo" in row and "inline 155" in row and "scout" in row and "claude-x 2025-01" in row
    kappa = witness.kappa_threshold
    assert f"Below κ (0.62 &lt; {kappa:.2f})" in row if kappa is not None else "Below κ" in row
    for words in ("High stakes: hydrocarbon presence", "Contradicted by the data", "Spot check", "Important"):
        assert words in row, words
    assert "in 42 min" in row and re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+\+00:00"', row)
    assert f'href="/review/{item.pk}/?criticality=important&amp;q=inline"' in row
    assert "3 h overdue" in client.get(reverse("review:queue")).content.decode()
    assert 'name="viewport"' in page


def test_due_words():
    now = timezone.now()
    assert queue.due_words(now + timedelta(minutes=42), now) == "in 42 min"
    assert queue.due_words(now - timedelta(hours=3, minutes=10), now) == "3 h overdue"
    assert queue.due_words(now + timedelta(days=3), now) == "in 3 d"
    assert queue.due_words(now - timedelta(seconds=5), now) == "1 min overdue"


# --- bulk actions ---------------------------------------------------------------------------------------

def _bulk(client, action, ids, **extra):
    return client.post(reverse("review:bulk") + "?band=C&sort=-due", {"action": action, "ids": ids, **extra},
                       follow=True)


def test_bulk_reject_decides_each_item_on_its_own_and_reports_each(client, rita, sam):
    items = [e for e in make_queue(20, rita=rita, sam=sam) if e.is_open][:8]
    ids = [e.pk for e in items]
    critical = next(e for e in items if e.criticality == "critical")
    meanwhile, approved_once = ids[0], next(e.pk for e in items if e.criticality == "critical" and e.pk != ids[0])
    services.escalation_decide(escalation_id=meanwhile, reviewer=sam, decision="reject", comment="wrong RMS")
    services.escalation_decide(escalation_id=approved_once, reviewer=sam, decision="approve", comment="fine")
    client.force_login(rita)
    assert "Give the reason" in _bulk(client, "reject", ids, reason="  ").content.decode()
    assert Escalation.objects.filter(pk__in=ids, status="rejected").count() == 1  # nothing happened
    response = _bulk(client, "reject", ids, reason="The amplitudes quoted are not in the data.")
    assert response.redirect_chain[-1][0] == "/review/?band=C&sort=-due"
    report = response.content.decode()
    rejected = [pk for pk in ids if pk not in (meanwhile, approved_once)]
    assert f"{len(rejected)} rejected; 2 skipped: #{meanwhile} rejected meanwhile by sam; " \
           f"#{approved_once} awaiting a second approval: decide it on its page." in report
    for pk in rejected:
        decision = Decision.objects.get(escalation_id=pk)
        assert (decision.decision, decision.reviewer, decision.final) == ("reject", rita, True)
        assert decision.comment == "The amplitudes quoted are not in the data."
        assert EscalationEvent.objects.filter(escalation_id=pk, to_status="rejected", actor="user:rita").count() == 1
        assert Outcome.objects.get(witness=Escalation.objects.get(pk=pk).witness).correct is False
    assert Escalation.objects.get(pk=critical.pk).status in ("rejected", "in_review")
    assert Decision.objects.filter(decision="approve", reviewer=rita).count() == 0


def test_there_is_no_bulk_approval(client, rita, sam):
    items = [e for e in make_queue(8, rita=rita, sam=sam) if e.is_open]
    client.force_login(rita)
    for action in ("approve", "revise", ""):
        response = _bulk(client, action, [e.pk for e in items], reason="looks fine")
        assert "Select items and one of: assign, release, reject." in response.content.decode()
    assert not Decision.objects.exists()
    page = client.get(reverse("review:queue")).content.decode()
    assert 'value="approve"' not in page and "No bulk approval" in page


def test_bulk_assign_and_release_leave_history_and_skip_what_they_cannot_do(client, rita, sam, django_user_model):
    olga = django_user_model.objects.create_user("olga", "o@example.com", "pw-olga-123")  # not a reviewer
    items = [e for e in make_queue(12, rita=rita, sam=sam) if e.is_open][:6]
    ids = [e.pk for e in items]
    Escalation.objects.filter(pk=ids[1]).update(submitted_owner=sam)  # sam's own agent submitted it
    Escalation.objects.filter(pk=ids[2]).update(status="approved")
    client.force_login(rita)
    assert "olga is not a reviewer" in _bulk(client, "assign", ids, assignee="olga").content.decode()
    assert not Escalation.objects.filter(assignee=olga).exists()
    report = _bulk(client, "assign", ids, assignee="sam").content.decode()
    assert f"#{ids[1]} sam submitted it" in report and f"#{ids[2]} approved meanwhile" in report
    moved = [pk for pk in ids if pk not in (ids[1], ids[2])]
    assert set(Escalation.objects.filter(pk__in=moved).values_list("assignee__username", flat=True)) == {"sam"}
    assert EscalationEvent.objects.filter(escalation_id__in=moved, note="assigned by rita: sam").count() == len(
        [e for e in items if e.pk in moved and e.assignee_id != sam.pk])
    report = _bulk(client, "release", moved).content.decode()
    assert f"{len(moved)} released." in report
    assert not Escalation.objects.filter(pk__in=moved, assignee__isnull=False).exists()
    assert EscalationEvent.objects.filter(escalation_id__in=moved, note="released by rita").count() == len(moved)


def test_bulk_actions_need_a_reviewer_and_the_csrf_token(rita, sam, django_user_model):
    items = [e for e in make_queue(4, rita=rita, sam=sam) if e.is_open]
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(rita)
    assert csrf.post(reverse("review:bulk"), {"action": "release", "ids": [items[0].pk]}).status_code == 403
    olga = django_user_model.objects.create_user("olga", "o@example.com", "pw-olga-123")
    outsider = Client()
    outsider.force_login(olga)
    assert outsider.post(reverse("review:bulk"), {"action": "reject", "ids": [items[0].pk],
                                                  "reason": "no"}).status_code == 403
    assert not Decision.objects.exists()


# --- reservations ---------------------------------------------------------------------------------------

def test_a_reservation_holds_one_reviewer_and_runs_out(client, rita, sam):
    item = next(e for e in make_queue(3, rita=rita, sam=sam) if e.is_open)
    now = timezone.now()
    reserved, holder, until = services.escalation_reserve(item.pk, rita, now=now)
    assert reserved and holder == rita and until == now + timedelta(minutes=settings.VIFSITE_REVIEW_RESERVATION_MINUTES)
    lost, holder, until_seen = services.escalation_reserve(item.pk, sam, now=now + timedelta(minutes=5))
    assert not lost and holder == rita and until_seen == until
    item.refresh_from_db()
    with pytest.raises(Conflict, match="rita has reserved this item until"):
        services.reservation_check(item, sam, now=now + timedelta(minutes=5))
    services.reservation_check(item, rita, now=now + timedelta(minutes=5))  # her own: fine
    # the queue says who is on it and for how long
    client.force_login(sam)
    page = client.get(reverse("review:queue")).content.decode()
    assert re.search(r"rita is on it, 1[45] min left", page)
    client.force_login(rita)
    assert re.search(r"You are on it, 1[45] min left", client.get(reverse("review:queue")).content.decode())
    # bulk actions leave it alone for others
    client.force_login(sam)
    assert f"#{item.pk} rita is on it (reserved)" in _bulk(client, "reject", [item.pk], reason="no").content.decode()
    # past its time the reservation is nobody's
    later = now + timedelta(minutes=settings.VIFSITE_REVIEW_RESERVATION_MINUTES, seconds=1)
    services.reservation_check(item, sam, now=later)
    assert services.escalation_reserve(item.pk, sam, now=later)[:2] == (True, sam)


def test_deciding_an_item_another_reviewer_holds_is_refused_and_a_decision_frees_it(rita, sam):
    item = next(e for e in make_queue(3, rita=rita, sam=sam) if e.is_open and e.approvals_needed == 1)
    services.escalation_reserve(item.pk, rita)
    with pytest.raises(Conflict, match="rita has reserved this item until"):
        services.escalation_decide(escalation_id=item.pk, reviewer=sam, decision="reject", comment="no basis")
    assert Escalation.objects.get(pk=item.pk).is_open  # nothing recorded
    services.escalation_decide(escalation_id=item.pk, reviewer=rita, decision="reject", comment="no basis")
    assert Escalation.objects.get(pk=item.pk).reserved_by is None


def test_leaving_releases_only_ones_own_reservation(rita, sam):
    item = next(e for e in make_queue(3, rita=rita, sam=sam) if e.is_open)
    services.escalation_reserve(item.pk, rita)
    beacon = Client(enforce_csrf_checks=True)
    beacon.force_login(sam)
    beacon.get(reverse("review:queue"))  # sets the CSRF cookie, as the item page does
    token = beacon.cookies["csrftoken"].value
    url = reverse("review:release", kwargs={"escalation_id": item.pk})
    assert beacon.post(url).status_code == 403  # no token
    assert beacon.post(url, {"csrfmiddlewaretoken": token}).status_code == 204
    assert Escalation.objects.get(pk=item.pk).reserved_by == rita  # sam cannot release rita's
    beacon.force_login(rita)
    beacon.get(reverse("review:queue"))
    assert beacon.post(url, {"csrfmiddlewaretoken": beacon.cookies["csrftoken"].value}).status_code == 204
    assert Escalation.objects.get(pk=item.pk).reserved_by is None
    assert services.escalation_reserve(item.pk, sam)[0]


def test_closed_items_are_not_reserved(rita, sam):
    item = make_queue(10, rita=rita, sam=sam)[9]
    assert item.status == "approved"
    assert services.escalation_reserve(item.pk, rita) == (False, None, None)
    assert services.escalation_reserve(999_999, rita) == (False, None, None)


def test_a_missing_item_is_a_404_page(client, rita):
    client.force_login(rita)
    response = client.get(reverse("review:item", kwargs={"escalation_id": 999_999}))
    assert response.status_code == 404


# --- colours --------------------------------------------------------------------------------------------

def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_is_computed_as_wcag_says():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#f9a825", "#fff"), 2) == 1.97  # the old band B badge


def _rule(css: str, selector: str) -> dict[str, str]:
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
    assert match, selector
    return {k.strip(): v.strip() for k, v in (p.split(":", 1) for p in match.group(1).split(";") if ":" in p)}


def test_the_queue_colours_meet_wcag_aa():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text()
    page, white, overdue = "#f6f7f9", "#fff", _rule(css, "table.queue tr.overdue td")["background"]
    for band in ("A", "B", "C", "none"):
        rule = _rule(css, f".band-{band}")
        text = rule.get("color", _rule(css, ".band ")["color"])
        assert contrast(text, rule["background"]) >= 4.5, (band, contrast(text, rule["background"]))
    muted = _rule(css, ".muted")["color"]
    for background in (page, white, overdue):
        assert contrast(muted, background) >= 4.5, (background, contrast(muted, background))
    for selector in (".crit-critical", ".crit-important", "table.queue time.late", "table.queue .status"):
        for background in (white, overdue):
            assert contrast(_rule(css, selector)["color"], background) >= 4.5, selector
    reservation = _rule(css, "table.queue .reservation")
    assert contrast(reservation["color"], reservation["background"]) >= 4.5
    danger = _rule(css, ".queue-page button.danger")
    assert contrast(danger["color"], danger["background"]) >= 4.5
