"""The calibration and statistics pages in Debian's Chromium against the site as `make run` serves it, on the
first-run demo, as the reviewer: found from the navigation, the model chosen from a select listing the demo's
models (counted here from the stored outcomes), an unknown model in the URL said so, a plot downloaded as a PNG
and tables as CSV, axe-core on each page, page weights and screenshots (kept in VIFSITE_SHOTS_DIR when set)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from tests.e2e.axe import assert_accessible
from tests.processes import demo_site, manage

pytestmark = [pytest.mark.slow]
SHOTS = Path(os.environ["VIFSITE_SHOTS_DIR"]) if os.environ.get("VIFSITE_SHOTS_DIR") else None
WIDE, NARROW = {"width": 1400, "height": 900}, {"width": 390, "height": 844}
errors: list[str] = []

MODELS = """
import json
from vifsite.vif.models import Outcome
current = Outcome.objects.filter(superseded_by__isnull=True)
print(json.dumps(sorted(set(current.values_list("model_id", flat=True)))))
"""

WEIGHT = """() => {
  const entries = [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")];
  return {bytes: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0),
          decoded: entries.reduce((sum, e) => sum + (e.decodedBodySize || 0), 0),
          html: performance.getEntriesByType("navigation")[0].transferSize};
}"""


@pytest.fixture(autouse=True)
def no_script_errors():
    errors.clear()
    yield
    assert not errors, errors


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    with demo_site(tmp_path_factory.mktemp("review-trends")) as served:
        models = json.loads(manage(served["url"], served["data"], "shell", "-v", "0", "-c", MODELS)
                            .stdout.splitlines()[-1])
        yield {**served, "models": models}


def log_in(browser, site, viewport=WIDE):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site["base"] + "/accounts/login/")
    page.fill("input[name=username]", "reviewer")
    page.fill("input[name=password]", site["passwords"]["reviewer"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page, name, full_page=True):
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def weigh(page, name):
    weight = page.evaluate(WEIGHT)
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        with (SHOTS / "review-trends-weights.jsonl").open("a") as out:
            out.write(json.dumps({"page": name, **weight}) + "\n")
    return weight


def download_csv(page, link_text):
    with page.expect_download() as csv_download:
        page.click(f"a:has-text('{link_text}')")
    return list(csv.reader(io.StringIO(Path(csv_download.value.path()).read_text())))


def test_the_reviewer_reads_calibration_per_model(browser, site):
    assert {"scripted-demo-large", "scripted-demo-small"} <= set(site["models"])
    page = log_in(browser, site)
    page.get_by_role("link", name="Calibration", exact=True).click()
    page.wait_for_selector("#plot-reliability .main-svg")
    page.wait_for_selector("#plot-ece .main-svg")
    weigh(page, "calibration")
    options = page.locator("#f-model option").all_inner_texts()
    assert options[1:] == site["models"] and options[0].startswith("every model")
    assert_accessible(page)
    shot(page, "calibration")

    page.select_option("#f-model", "scripted-demo-small")
    page.click("#calibration-filters button[type=submit]")
    page.wait_for_selector("#plot-reliability .main-svg")
    assert "model=scripted-demo-small" in page.url and "scripted-demo-small" in page.inner_text("h1")
    rows = download_csv(page, "Bins (CSV)")
    assert rows[0][:4] == ["lower", "upper", "count", "correct"] and len(rows) == 11
    shown = [int(n) for n in page.locator("#bins-table tbody tr td:nth-child(2)").all_inner_texts()]
    assert [int(r[2]) for r in rows[1:]] == shown and sum(shown) > 0
    with page.expect_download() as png:
        page.click("button[data-png=plot-reliability]")
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_accessible(page)
    shot(page, "calibration-small")

    page.goto(site["base"] + "/review/calibration/?model=scripted-demo-smal")
    assert "“scripted-demo-smal”" in page.inner_text("#unknown-model")
    assert "scripted-demo-small" in page.inner_text("#unknown-model")
    shot(page, "calibration-unknown", full_page=False)

    phone = log_in(browser, site, viewport=NARROW)
    phone.goto(site["base"] + "/review/calibration/")
    phone.wait_for_selector("#plot-reliability .main-svg")
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"] + 1
    assert_accessible(phone)
    shot(phone, "calibration-390")


def test_the_reviewer_reads_the_review_trends(browser, site):
    page = log_in(browser, site)
    page.get_by_role("link", name="Statistics", exact=True).click()
    for key in ("decisions", "timing", "quality", "backlog"):
        page.wait_for_selector(f"#plot-{key} .main-svg")
    weigh(page, "statistics")
    rows = download_csv(page, "Backlog (CSV)")
    assert rows[0] == ["age", "items", "overdue", "critical"]
    shown = [int(n) for n in page.locator("#backlog-table tbody tr td:nth-child(2)").all_inner_texts()]
    assert [int(r[1]) for r in rows[1:]] == shown
    assert_accessible(page)
    shot(page, "statistics")
    phone = log_in(browser, site, viewport=NARROW)
    phone.goto(site["base"] + "/review/statistics/")
    phone.wait_for_selector("#plot-backlog .main-svg")
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"] + 1
    assert_accessible(phone)
    shot(phone, "statistics-390")
