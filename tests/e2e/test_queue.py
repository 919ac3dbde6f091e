"""The review queue in Chromium against the site as `make run` serves it (uvicorn, websockets, SQLite file),
seeded by `bootstrap_demo` plus enough items for two pages: filters through an item and back, the live
"n new items" notice when an agent submits, pagination after a live refresh, a reservation between two
reviewers, bulk reject, axe-core, and screenshots at 1400×900 and 390 px wide (kept in VIFSITE_SHOTS_DIR when set)."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from tests.processes import demo_site, manage

pytestmark = pytest.mark.slow
errors: list[str] = []  # uncaught script errors in any page: none allowed


@pytest.fixture(autouse=True)
def no_script_errors():
    errors.clear()
    yield
    assert not errors, errors
SHOTS = Path(os.environ.get("VIFSITE_SHOTS_DIR") or "/nonexistent")  # set VIFSITE_SHOTS_DIR to keep screenshots

SETUP = """
from datetime import timedelta
from django.utils import timezone
from review import services
from seismic import services as seismic
from seismic.models import Survey
from vifsite.vif.models import AgentKey
survey = Survey.objects.get(name="Demo synthetic")
agent, secret = AgentKey.objects.create_key(name="e2e-bot", expiry_date=timezone.now() + timedelta(days=1))
numbers = [survey.inline_first + i * survey.inline_step for i in range(3)]
extractions = [seismic.section_extract(survey=survey, kind="inline", number=n, principal=agent.principal)[1].pk
               for n in numbers]
for i in range(30):
    services.interpretation_submit(
        writer=agent.principal, key=agent, text=f"Inline {numbers[i % 3]:g} shows a faint continuous reflector, "
        f"batch item {i}.", structured=None, extraction_ids=[extractions[i % 3]], model={"model_id": "e2e-model"},
        signals={"confidence": 0.3}, criticality="routine")
print(json.dumps({"key": secret, "extraction": extractions[0], "number": numbers[0]}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    with demo_site(tmp_path_factory.mktemp("queue-site")) as served:
        assert {"reviewer", "reviewer2", "senior"} <= set(served["passwords"]), served["passwords"]
        setup = manage(served["url"], served["data"], "shell", "-v", "0", "-c", "import json\n" + SETUP,
                       timeout=600).stdout
        yield {**served, **json.loads(setup.strip().splitlines()[-1])}


def log_in(browser, site, name, **context):
    page = browser.new_context(**context).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site["base"] + "/review/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", site["passwords"][name])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/review/.*"))
    if not page.url.rstrip("/").endswith("/review"):
        page.goto(site["base"] + "/review/")
    return page


def row_ids(page):
    return page.eval_on_selector_all("tbody tr[data-id]", "rows => rows.map(r => Number(r.dataset.id))")


def live(page):
    page.wait_for_function("document.getElementById('live-status').dataset.live === '1'", timeout=15_000)


def submit(site, n):
    """An agent (another process) submits ``n`` interpretations over the API."""
    for i in range(n):
        body = json.dumps({"text": f"Inline {site['number']:g} is a possible gas chimney, late item {i}.",
                           "extraction_ids": [site["extraction"]], "model_id": "e2e-model", "confidence": 0.4,
                           "task_criticality": "routine"}).encode()
        request = urllib.request.Request(site["base"] + "/api/v1/interpretations/", data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Api-Key {site['key']}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.load(response)["status"] == "escalated"


def axe_clean(page):
    from tests.e2e.axe import check_page, describe

    violations = check_page(page)
    assert not violations, describe(violations)


def test_the_queue_reads_well_wide_and_narrow_and_passes_axe(browser, site):
    page = log_in(browser, site, "reviewer", viewport={"width": 1400, "height": 900})
    assert len(row_ids(page)) == 50 and page.locator(".pager").count() == 1
    text = page.inner_text("table.queue")
    assert re.search(r"in \d+ (min|h)|overdue", text) and "Demo synthetic" in text
    assert re.search(r"Below κ \(0\.\d\d < 0\.\d\d\)|High stakes: |Contradicted by the data|Spot check", text)
    title = page.get_attribute("tbody time[datetime]", "title")
    assert title and re.search(r"[A-Z][a-z]{2}, ", title) and re.search(r"\d\d:\d\d", title)  # formatted by Intl
    axe_clean(page)
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / "queue-1400.png"))
    phone = log_in(browser, site, "reviewer2", viewport={"width": 390, "height": 844}, is_mobile=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    axe_clean(phone)
    if SHOTS.is_dir():
        phone.screenshot(path=str(SHOTS / "queue-390.png"), full_page=False)
        phone.screenshot(path=str(SHOTS / "queue-390-full.png"), full_page=True)


def test_filters_are_kept_through_an_item_and_back(browser, site):
    page = log_in(browser, site, "reviewer")
    page.fill("input[name=q]", "reflector")
    page.select_option("select[name=criticality]", "routine")
    page.click(".queue-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*q=reflector.*"))
    page.click("thead a:has-text('Band')")  # sort by confidence, keeping the filters
    page.wait_for_url(re.compile(r".*sort=confidence.*"))
    assert "criticality=routine" in page.url and "q=reflector" in page.url
    query = page.url.split("?", 1)[1]
    first = row_ids(page)[0]
    page.click(f"#item-{first} a.item-link")
    page.wait_for_url(re.compile(rf".*/review/{first}/\?.*"))
    assert page.url.split("?", 1)[1] == query  # the filters travel with the item
    back = page.locator(f"a[href='/review/?{query}']")
    if back.count():  # the item page's "back to queue"
        back.first.click()
    else:
        page.go_back()
    page.wait_for_url(re.compile(r".*/review/\?.*"))
    assert page.input_value("input[name=q]") == "reflector"
    assert page.input_value("select[name=criticality]") == "routine"
    assert row_ids(page)[0] == first


def test_new_items_announce_themselves_and_pages_still_work_after_a_live_refresh(browser, site):
    page = log_in(browser, site, "senior")
    live(page)
    before = row_ids(page)
    submit(site, 3)
    page.wait_for_selector("#new-items:has-text('3 new items')", timeout=15_000)
    assert row_ids(page) == before  # nothing moved under the reviewer's eyes
    page.wait_for_timeout(500)
    next_link = page.locator(".pager a[rel=next]")
    assert "fragment" not in next_link.get_attribute("href")
    next_link.click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert "fragment" not in page.url and page.locator("h1:has-text('Review queue')").count() == 1
    assert page.locator(".queue-filters").count() == 1 and len(row_ids(page)) > 0  # the whole page, not a table
    page.goto(site["base"] + "/review/?sort=-id")
    live(page)
    top = row_ids(page)[0]
    submit(site, 1)
    page.wait_for_selector("#new-items:has-text('1 new item')", timeout=15_000)
    page.click("#show-new")
    page.wait_for_function(f"Number(document.querySelector('tbody tr[data-id]').dataset.id) > {top}")
    assert page.locator("#new-items").inner_text() == ""


def test_a_reservation_between_two_reviewers(browser, site):
    rita = log_in(browser, site, "reviewer")
    sam = log_in(browser, site, "reviewer2")
    live(sam)
    item = row_ids(sam)[3]
    manage(site["url"], site["data"], "shell", "-v", "0", "-c",
           "from django.contrib.auth.models import User; from review import services; "
           f"print(services.escalation_reserve({item}, User.objects.get(username='reviewer')))")
    rita.goto(site["base"] + f"/review/{item}/")  # the item page renews her reservation (once it reserves)
    sam.reload()
    assert re.search(r"reviewer is on it, 1[45] min left", sam.inner_text(f"#item-{item}"))
    # sam cannot reject it in bulk while it is hers
    sam.check(f"#item-{item} input[name=ids]")
    sam.fill("#bulk-reason", "Not supported by the section.")
    sam.click("button[value=reject]")
    sam.wait_for_selector(f"text=#{item} reviewer is on it (reserved)")
    # she leaves the item: the beacon releases it, and sam's open queue shows that live
    live(sam)
    rita.evaluate(f"""() => {{
        const data = new FormData();
        data.append("csrfmiddlewaretoken", document.cookie.match(/csrftoken=([^;]+)/)[1]);
        return navigator.sendBeacon("/review/{item}/release/", data);
    }}""")
    sam.wait_for_function(f"!document.querySelector('#item-{item} .reservation')", timeout=15_000)
    assert "on it" not in sam.inner_text(f"#item-{item}")
