"""The numbers of the calibration and statistics pages (review/trends.py), each checked against a computation
written out here: the intervals from their definitions, the trends from the rows the test creates."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from unittest import mock

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from review import trends
from review.models import Decision, Escalation
from vifsite.vif import calibration
from vifsite.vif import services as vif_services
from vifsite.vif.models import Outcome

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


# --- Intervals, against their definitions -------------------------------------------------------------------

def binomial_tail_at_least(k, n, p):
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def bisect(f, lo, hi):
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize(("k", "n"), [(0, 5), (1, 10), (8, 10), (37, 40), (50, 50), (412, 1000)])
def test_clopper_pearson_is_where_the_binomial_tails_reach_alpha_over_two(k, n):
    lower, upper = trends.clopper_pearson_interval(k, n)
    # lower: P(X ≥ k | p) = 0.025; upper: P(X ≤ k | p) = 0.025
    expected_lower = 0.0 if k == 0 else bisect(lambda p: binomial_tail_at_least(k, n, p) - 0.025, 0, 1)
    expected_upper = 1.0 if k == n else bisect(lambda p: 0.025 - (1 - binomial_tail_at_least(k + 1, n, p)), 0, 1)
    assert lower == pytest.approx(expected_lower, abs=1e-7) and upper == pytest.approx(expected_upper, abs=1e-7)


def test_clopper_pearson_matches_the_textbook_values():
    assert trends.clopper_pearson_interval(8, 10) == pytest.approx((0.4439, 0.9748), abs=1e-4)


@pytest.mark.parametrize(("k", "n"), [(0, 5), (1, 10), (8, 10), (37, 40), (50, 50), (412, 1000)])
def test_wilson_is_the_set_of_proportions_the_score_test_keeps(k, n):
    # Roots of (p̂ − p)² = z² p (1 − p) / n, a quadratic in p.
    z, phat = 1.959963984540054, k / n
    a, b, c = 1 + z * z / n, -(2 * phat + z * z / n), phat * phat
    root = math.sqrt(b * b - 4 * a * c)
    lower, upper = trends.wilson_interval(k, n)
    assert lower == pytest.approx((-b - root) / (2 * a), abs=1e-9) and upper == pytest.approx((-b + root) / (2 * a),
                                                                                              abs=1e-9)


def test_an_empty_bin_has_no_interval():
    assert trends.wilson_interval(0, 0) is None and trends.clopper_pearson_interval(0, 0) is None


def test_the_consistency_band_holds_a_calibrated_bins_accuracy():
    hist = calibration.Histogram.from_samples([0.8] * 400 + [0.35] * 100, [1] * 500)
    band = trends.consistency_band(hist, 10, draws=2000)
    assert band[0] is None and band[9] is None
    sd = math.sqrt(0.8 * 0.2 / 400)
    assert band[7] == pytest.approx((0.8 - 1.96 * sd, 0.8 + 1.96 * sd), abs=0.01)
    assert band[3][0] < 0.35 < band[3][1]


# --- Calibration over the stored outcomes ------------------------------------------------------------------

@pytest.fixture
def labelled(db, own_ledger_no_sampling):
    """Outcomes of model "a" on three days: 40 at 0.9 with 30 correct (ECE 0.15) two days ago, 40 at 0.7 with
    28 correct (ECE 0) yesterday, and 10 of model "b"."""
    items = ([("a", 0.9, i < 30, 2) for i in range(40)] + [("a", 0.7, i < 28, 1) for i in range(40)]
             + [("b", 0.6, True, 1) for _ in range(10)])
    recorded = vif_services.witness_record_many(
        items=[{"model_id": m, "prompt": "p", "output": f"o{i}", "confidence": c, "task_criticality": "routine"}
               for i, (m, c, _, _) in enumerate(items)], writer="agent:bot")
    for (_, _, correct, ago), r in zip(items, recorded, strict=True):
        when = NOW - timedelta(days=ago)
        Outcome.objects.create(witness=r.witness, correct=correct, source="automatic", recorded_by="checker:x",
                               created_at=when, created_day=when.date(), model_id=r.witness.model_id,
                               criticality="routine", confidence_micros=r.witness.confidence_micros,
                               confidence_method="explicit")
    return items


def test_reliability_counts_intervals_and_band_per_bin(labelled, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = trends.reliability(model="a", bins=10)
    assert [r["count"] for r in rows] == [0] * 6 + [40, 0, 40, 0]
    assert rows[8]["correct"] == 30 and rows[8]["interval"] == pytest.approx(trends.wilson_interval(30, 40))
    assert rows[6]["accuracy"] == pytest.approx(0.7) and rows[6]["null_band"][0] < 0.7 < rows[6]["null_band"][1]
    assert rows[0]["interval"] is None and rows[0]["null_band"] is None


def test_ece_per_day_with_its_noise_and_warnings(labelled, django_assert_num_queries):
    with mock.patch("django.utils.timezone.now", return_value=NOW), django_assert_num_queries(1):
        days = trends.ece_timeline(model="a", days=5)
    assert [d["date"] for d in days] == [(NOW.date() - timedelta(days=4 - i)).isoformat() for i in range(5)]
    assert [d["n"] for d in days] == [0, 0, 40, 40, 0]
    assert days[2]["ece"] == pytest.approx(abs(0.9 - 30 / 40)) and days[3]["ece"] == pytest.approx(0.0)
    assert days[2]["status"] == "POORLY_CALIBRATED" and days[3]["status"] == "WELL_CALIBRATED"
    # The first day is its own week, so it cannot exceed 1.5× it; yesterday's ECE is below its week's.
    assert not any(d["degrading"] for d in days)
    assert days[2]["null_p95"] < 0.15


def test_the_model_select_lists_the_models_with_outcomes(labelled, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert trends.calibration_models() == ["a", "b"]


def test_an_unknown_model_in_the_url_says_so(labelled, client, django_user_model):
    user = django_user_model.objects.create_user("vera", "v@example.com", "pw-vera-123")
    user.groups.add(Group.objects.get(name="reviewers"))
    client.force_login(user)
    page = client.get(reverse("review:calibration"), {"model": "aa"}).content.decode()
    assert 'id="unknown-model"' in page and "“aa”" in page and "Models with outcomes: a, b" in page
    assert '<option value="a">a</option>' in page
    response = client.get(reverse("review:calibration"), {"model": "a", "format": "csv", "table": "reliability"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("lower,upper,count,correct") and len(lines) == 11 and lines[9].split(",")[2] == "40"


# --- Review trends against an independent count --------------------------------------------------------------

@pytest.fixture
def history(db, own_ledger_no_sampling, django_user_model):
    """A fortnight of reviewing by three reviewers: decided items (some late, one expired), four-eyes items
    (one with disagreeing approvers), open items of several ages, and automatic labels relabelled by humans."""
    rng = np.random.default_rng(7)
    people = [django_user_model.objects.create_user(n, f"{n}@example.com", "pw-12345678") for n in ("ann", "bo", "cy")]
    n_items = 60
    recorded = vif_services.witness_record_many(
        items=[{"model_id": "m", "prompt": "p", "output": f"o{i}", "confidence": 0.6, "task_criticality": "routine"}
               for i in range(n_items)], writer="agent:bot")
    created = []
    for i, r in enumerate(recorded):
        arrived = NOW - timedelta(hours=float(rng.uniform(2, 24 * 14)))
        critical = i % 10 == 0
        e = Escalation.objects.create(witness=r.witness, interpretation="t", criticality="critical" if critical
                                      else "routine", submitted_by="agent:bot", due_at=arrived + timedelta(hours=8),
                                      hard_due_at=arrived + timedelta(days=3), approvals_needed=2 if critical else 1)
        Escalation.objects.filter(pk=e.pk).update(created_at=arrived)
        e.refresh_from_db()
        created.append((e, r.witness))
    rows = {"decided": [], "open": [], "decisions": [], "relabels": []}
    for i, (e, witness) in enumerate(created):
        if i % 6 == 5:  # open
            rows["open"].append((e.created_at, e.due_at, e.criticality))
            continue
        wait = timedelta(hours=float(rng.uniform(0.1, 20)))
        decided_at = min(e.created_at + wait, NOW - timedelta(minutes=1))
        first = people[i % 3]
        if e.approvals_needed == 2:
            half = e.created_at + (decided_at - e.created_at) / 2
            with mock.patch("django.utils.timezone.now", return_value=half):
                Decision.objects.create(escalation=e, reviewer=first, decision="approve", final=False)
            rows["decisions"].append((e.pk, first.username, "approve", False, half, e.created_at))
            first = people[(i + 1) % 3]
        kind = "reject" if (e.approvals_needed == 2 and i % 20 == 0) or i % 7 == 0 else "approve"
        with mock.patch("django.utils.timezone.now", return_value=decided_at):
            Decision.objects.create(escalation=e, reviewer=first, decision=kind, final=True)
        rows["decisions"].append((e.pk, first.username, kind, True, decided_at, e.created_at))
        status = "expired" if i == 1 else ("rejected" if kind == "reject" else "approved")
        Escalation.objects.filter(pk=e.pk).update(status=status, decided_at=decided_at)
        rows["decided"].append((status, e.created_at, decided_at, e.due_at))
        if i % 4 == 0:  # an automatic label first, then the reviewer's
            for source, correct, at, by in (("automatic", True, e.created_at, "checker:x"),
                                              ("human", kind == "approve", decided_at, f"user:{first.username}")):
                with mock.patch("django.utils.timezone.now", return_value=at):
                    vif_services.outcome_record(witness=witness, correct=correct, source=source, recorded_by=by)
            rows["relabels"].append((decided_at, kind != "approve"))
    return rows


def day(moment):
    return moment.astimezone(UTC).date()


def p90(values):
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[8]


def test_review_trends_match_an_independent_count(history, django_assert_num_queries):
    with django_assert_num_queries(4):
        found = trends.review_trends(days=14, now=NOW)
    first = NOW.date() - timedelta(days=13)
    assert found["first"] == first.isoformat() and len(found["daily"]) == 14
    in_range = [d for d in history["decisions"] if day(d[4]) >= first]
    decided = [d for d in history["decided"] if day(d[2]) >= first]
    for row in found["daily"]:
        date = datetime.fromisoformat(row["date"]).date()
        todays = [d for d in in_range if day(d[4]) == date]
        assert row["decisions"] == len(todays) and row["final_decisions"] == sum(d[3] for d in todays)
        hours = sorted((d[2] - d[1]).total_seconds() / 3600 for d in decided
                       if day(d[2]) == date and d[0] != "expired")
        assert row["decided_items"] == len(hours)
        if hours:
            assert row["median_hours"] == pytest.approx(statistics.median(hours))
            assert row["p90_hours"] == pytest.approx(p90(hours))
        else:
            assert row["median_hours"] is None
        assert row["sla_breaches"] == sum(1 for d in decided if day(d[2]) == date and d[2] > d[3])
        relabels = [r for r in history["relabels"] if day(r[0]) == date]
        assert row["relabelled"] == len(relabels) and row["overturned"] == sum(r[1] for r in relabels)
    totals = found["totals"]
    all_hours = [(d[2] - d[1]).total_seconds() / 3600 for d in decided if d[0] != "expired"]
    assert totals["median_hours"] == pytest.approx(statistics.median(all_hours))
    assert totals["p90_hours"] == pytest.approx(p90(all_hours))
    assert totals["open"] == len(history["open"])
    assert totals["open_overdue"] == sum(due < NOW for _, due, _ in history["open"])
    relabels = [r for r in history["relabels"] if day(r[0]) >= first]
    assert totals["relabelled"] == len(relabels) > 0 and totals["overturned"] == sum(r[1] for r in relabels) > 0

    # Four eyes: the first approval and the final decision of each critical item.
    pairs = {}
    for pk, _, kind, final, _, _ in in_range:
        pairs.setdefault(pk, {})["final" if final else "first"] = kind
    complete = [p for p in pairs.values() if len(p) == 2]
    assert totals["four_eyes_items"] == len(complete) > 0
    assert totals["four_eyes_disagreed"] == sum(p["first"] != p["final"] for p in complete) > 0

    edges = [0, 1, 4, 24, 72, 168, math.inf]
    ages = [(NOW - c).total_seconds() / 3600 for c, _, _ in history["open"]]
    assert [b["items"] for b in found["backlog"]] == [sum(lo <= a < hi for a in ages)
                                                      for lo, hi in zip(edges, edges[1:], strict=False)]
    assert sum(b["overdue"] for b in found["backlog"]) == totals["open_overdue"]

    by_reviewer = {}
    for _, who, _, final, when, arrived in in_range:
        r = by_reviewer.setdefault(who, {"decisions": 0, "final": 0, "week": 0, "hours": []})
        r["decisions"] += 1
        r["week"] += when >= NOW - timedelta(days=7)
        if final:
            r["final"] += 1
            r["hours"].append((when - arrived).total_seconds() / 3600)
    assert {r["reviewer"] for r in found["throughput"]} == set(by_reviewer)
    for r in found["throughput"]:
        mine = by_reviewer[r["reviewer"]]
        assert (r["decisions"], r["final_decisions"], r["last_7_days"]) == (mine["decisions"], mine["final"],
                                                                             mine["week"])
        assert r["median_hours"] == pytest.approx(statistics.median(mine["hours"]))


def test_the_statistics_page_plots_and_downloads_its_tables(history, client, django_user_model):
    user = django_user_model.objects.create_user("vera", "v@example.com", "pw-vera-123")
    user.groups.add(Group.objects.get(name="reviewers"))
    client.force_login(user)
    page = client.get(reverse("review:statistics")).content.decode()
    for key in ("decisions", "timing", "quality", "backlog"):
        assert f'id="fig-{key}"' in page and f'data-figure="fig-{key}"' in page
    backlog = client.get(reverse("review:statistics"), {"format": "csv", "table": "backlog"})
    lines = backlog.content.decode().splitlines()
    assert lines[0] == "age,items,overdue,critical" and len(lines) == 1 + len(trends.BACKLOG_AGES)
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == len(history["open"])


def test_a_day_far_worse_than_its_week_is_marked(db, own_ledger_no_sampling):
    # Six calibrated days (0.7, 28 of 40 correct), then a day at 0.9 with 20 of 40: ECE 0.4 against the week's
    # 40/280 × 0.4 ≈ 0.057.
    items = [(0.7, i < 28, ago) for ago in range(1, 7) for i in range(40)] + [(0.9, i < 20, 0) for i in range(40)]
    recorded = vif_services.witness_record_many(
        items=[{"model_id": "a", "prompt": "p", "output": f"o{i}", "confidence": c, "task_criticality": "routine"}
               for i, (c, _, _) in enumerate(items)], writer="agent:bot")
    for (_, correct, ago), r in zip(items, recorded, strict=True):
        when = NOW - timedelta(days=ago)
        Outcome.objects.create(witness=r.witness, correct=correct, source="automatic", recorded_by="checker:x",
                               created_at=when, created_day=when.date(), model_id="a", criticality="routine",
                               confidence_micros=r.witness.confidence_micros, confidence_method="explicit")
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        days = trends.ece_timeline(days=7)
    assert [d["degrading"] for d in days] == [False] * 6 + [True]
    week_ece = 40 / 280 * 0.4
    assert days[-1]["ece"] == pytest.approx(0.4) and days[-1]["ece"] > 1.5 * week_ece
    assert f"{week_ece:.3f}" in days[-1]["reason"]
