"""The reviewer's item page in Debian's Chromium against the site as `make run` serves it, on the first-run
demo (`bootstrap_demo`): a decision by the printed reviewer, a keyboard-only decision and next, a refused
decision that keeps what was typed, four eyes across two browsers, a spot check an automatic checker had
labelled, the evidence and the decision on one screen, and axe-core."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.processes import demo_site, manage

pytestmark = [pytest.mark.slow]
SHOTS = Path(os.environ["VIFSITE_SHOTS_DIR"]) if os.environ.get("VIFSITE_SHOTS_DIR") else None  # keep screenshots there
WIDE, NARROW = {"width": 1400, "height": 900}, {"width": 390, "height": 844}

# Items for each test, chosen from the demo, and a checker's automatic label on one spot check.
PICK = """
import json
from review.models import Escalation
from vifsite.vif import services
open_ = Escalation.objects.filter(status__in=Escalation.OPEN, decisions__isnull=True).order_by("pk")
def first(**kw):
    return open_.filter(**kw).values_list("pk", flat=True).first()
spot = open_.filter(reasons__0__code="spot_check", criticality="routine").first()
services.outcome_record(witness=spot.witness, correct=True, source="automatic", recorded_by="checker:e2e-checker",
                        note="an automatic label before the reviewer")
print(json.dumps({"spot": spot.pk, "critical": first(criticality="critical", reasons__0__code="gate"),
                  "low": first(criticality="low_stakes", reasons__0__code="gate"),
                  "important": first(criticality="important", reasons__0__code="gate"),
                  "routine": [e for e in open_.filter(criticality="routine").exclude(pk=spot.pk)
                              .values_list("pk", flat=True)]}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    with demo_site(tmp_path_factory.mktemp("item-page")) as served:
        picked = manage(served["url"], served["data"], "shell", "-v", "0", "-c", PICK).stdout
        yield {**served, "items": json.loads(picked.strip().splitlines()[-1])}


def log_in(browser, site, name, viewport=WIDE):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(site["base"] + "/accounts/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", site["passwords"][name])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/review/(\?.*)?$"))
    return page


def item_url(site, pk, query=""):
    return f"{site['base']}/review/{pk}/" + (f"?{query}" if query else "")


def shot(page, name, full_page=False):
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_the_printed_reviewer_logs_in_lands_on_the_queue_and_decides_an_item(browser, site):
    page = log_in(browser, site, "reviewer")
    assert page.url.rstrip("/").endswith("/review")  # reviewers land on the queue
    pk = site["items"]["low"]
    page.click(f"a[href^='/review/{pk}/']")
    page.wait_for_selector("#decision-form")
    assert page.locator("input[name=decision]:checked").count() == 0  # nothing chosen for them
    page.check("input[value=approve]")
    page.fill("#comment", "Matches the section.")
    page.click("#decide")
    page.wait_for_selector("#final-decision")
    assert f"Item {pk}: Approved." in page.inner_text("main")
    assert "Approved" in page.inner_text("#item-status")


def test_a_keyboard_only_decision_lands_on_the_next_item_of_the_same_queue(browser, site):
    page = log_in(browser, site, "reviewer")
    first, second = site["items"]["routine"][:2]
    query = "criticality=routine&sort=id"
    page.goto(item_url(site, first, query))
    page.keyboard.press("j")
    page.wait_for_url(item_url(site, second, query))
    page.keyboard.press("k")
    page.wait_for_url(item_url(site, first, query))
    page.keyboard.press("?")
    assert page.locator("#keys-dialog").is_visible() and "Ctrl" in page.inner_text("#keys-dialog")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    assert page.locator("input[value=approve]").is_checked()
    assert page.locator("#revised_text").is_hidden()  # only a revision shows (and sends) the revised text
    page.keyboard.press("Control+Enter")
    page.wait_for_url(item_url(site, second, query))
    assert f"Item {first}: Approved." in page.inner_text("main")
    assert page.get_attribute("#back-to-queue", "href") == f"/review/?{query}"


def test_a_refused_decision_keeps_what_was_typed_and_enter_never_submits(browser, site):
    page = log_in(browser, site, "reviewer")
    pk = site["items"]["important"]
    page.goto(item_url(site, pk))
    page.keyboard.press("r")
    assert page.locator("input[value=reject]").is_checked()
    page.fill("#reviewer_confidence", "0.6")
    page.press("#reviewer_confidence", "Enter")  # Enter in a field: nothing is sent
    page.wait_for_timeout(300)
    assert page.locator("#decision-error").count() == 0 and page.url == item_url(site, pk)
    page.keyboard.press("Control+Enter")  # no comment: refused
    page.wait_for_selector("#decision-error")
    assert "Say why you reject it" in page.inner_text("#decision-error")
    assert page.locator("input[value=reject]").is_checked() and page.input_value("#reviewer_confidence") == "0.6"
    page.keyboard.press("e")  # revise: the box opens empty, and offers the claim to start from
    assert page.input_value("#revised_text") == ""
    page.click("#start-from-claim")
    assert page.input_value("#revised_text").startswith(page.inner_text("#interpretation")[:20])
    page.fill("#comment", "hedged")
    page.click("#decide")
    page.wait_for_selector("#decision-error")
    assert "claim unchanged" in page.inner_text("#decision-error")
    assert page.input_value("#comment") == "hedged"


def test_four_eyes_across_two_browsers(browser, site):
    pk = site["items"]["critical"]
    senior = log_in(browser, site, "senior")
    senior.goto(item_url(site, pk))
    senior.check("input[value=approve]")
    senior.fill("#comment", "The anomaly is on the section.")
    senior.click("#decide")
    senior.wait_for_selector("#you-decided")
    assert senior.locator("#decision-form").count() == 0
    second = log_in(browser, site, "reviewer2")
    second.goto(item_url(site, pk))
    panel = second.inner_text("#four-eyes")
    assert "Awaiting second approval" in panel and "senior" in panel and "The anomaly is on the section." in panel
    second.check("input[value=approve]")
    second.click("#decide")
    second.wait_for_selector("#final-decision")
    closed = second.inner_text("#final-decision")
    assert "Approved by two reviewers" in closed and "senior" in closed and "reviewer2" in closed
    senior.reload()
    assert "Approved by two reviewers" in senior.inner_text("#final-decision")


def test_a_spot_check_with_an_automatic_label_is_decided_by_a_human(browser, site):
    pk = site["items"]["spot"]
    page = log_in(browser, site, "reviewer")
    page.goto(item_url(site, pk))
    assert "Automatic label" in page.inner_text(".decision-panel") and "checker:e2e-checker" in page.inner_text(
        ".decision-panel")
    page.keyboard.press("r")
    page.keyboard.type("The claimed feature is not on the section.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(f"text=Item {pk}: Rejected.")
    page.goto(item_url(site, pk))
    assert "Rejected" in page.inner_text("#item-status")
    assert "Replaced by the reviewer" in page.inner_text(".decision-panel")


def test_the_evidence_and_the_decision_fit_one_screen_and_pass_axe(browser, site):
    from tests.e2e.axe import assert_accessible

    pk = site["items"]["routine"][-1]
    page = log_in(browser, site, "reviewer2")
    page.goto(item_url(site, pk))
    page.wait_for_function("document.querySelector('.section-plot-canvas .main-svg') !== null", timeout=30_000)
    for selector in ("#interpretation", "#findings, .claim-panel", ".section-plot-canvas", "#decision-form",
                     "#decide-next"):
        box = page.locator(selector).first.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= WIDE["height"] and \
            box["x"] + box["width"] <= WIDE["width"], (selector, box)
    shot(page, "item-1400x900")
    assert_accessible(page)
    page.keyboard.press("?")
    shot(page, "item-keys-dialog")
    narrow = log_in(browser, site, "reviewer2", viewport=NARROW)
    narrow.goto(item_url(site, pk))
    assert narrow.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shot(narrow, "item-390")
    shot(narrow, "item-390-full", full_page=True)
