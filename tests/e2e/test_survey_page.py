"""The survey viewer in a real browser: Debian's Chromium driven by Playwright against a live server. A geophysicist
moves through a real survey (F3) with the keys and the URL follows, switches inline, crossline and timeslice, types
a number off the grid and sees why with no stale picture, jumps to a line from the base map, records the provenance
of what is shown, and the page passes axe-core.

Set VIFSITE_SHOTS_DIR to keep screenshots of the viewer there."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from seismic import services
from seismic.models import Extraction
from tests.e2e.axe import assert_accessible

# live_server needs transactions; serialized_rollback brings back the migrated groups and κ policies each test.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
CHROMIUM = os.environ.get("VIFSITE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ["VIFSITE_SHOTS_DIR"]) if os.environ.get("VIFSITE_SHOTS_DIR") else None
PLOT = "#section-plot"


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.errors = []  # type: ignore[attr-defined]

        def console(message) -> None:
            # A 400 for an off-grid section is the answer the page shows; anything else is a fault.
            if message.type == "error" and "status of 400" not in message.text:
                page.errors.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()


@pytest.fixture
def site(live_server, register, django_user_model, settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    survey = register("f3")
    django_user_model.objects.create_user("gina", "gina@example.com", "a-long-password-1")  # no role needed
    return live_server.url, survey


def log_in(page, url: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("input[name=username]", "gina")
    page.fill("input[name=password]", "a-long-password-1")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def showing(page, words: str, timeout: float = 30_000) -> None:
    """Wait until the plot is drawn and describes the section as ``words`` ("Inline 123", "Time 200 ms")."""
    page.wait_for_function(
        """words => { const p = document.querySelector("#section-plot");
                      const d = document.getElementById("section-plot-description");
                      return p !== null && p.dataset.state === "ready" && d.textContent.startsWith(words + ","); }""",
        arg=words, timeout=timeout)


def shoot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def query(page) -> str:
    return page.evaluate("location.search")


def test_a_geophysicist_logs_in_and_reads_a_section(site, browser_page):
    url, survey = site
    page = browser_page
    page.goto(url + "/")
    assert "/accounts/login/" in page.url
    log_in(page, url)
    page.click(f"text={survey.name}")
    # The middle inline, its picture, and the URL that names it.
    showing(page, "Inline 122")
    assert query(page) == "?inline=122"
    assert page.text_content(f"{PLOT} .xtitle") == "Crossline" and page.text_content(f"{PLOT} .ytitle") == "Time (ms)"
    # The picture is the section: the heatmap's numbers are numpy's within half a quantum.
    z = page.evaluate("document.querySelector('#section-plot [data-section-plot-canvas]').data[0].z")
    section = services.section_read(survey=survey, kind="inline", number=122)
    drawn = np.array([[np.nan if v is None else v for v in row] for row in z])
    clip = float(page.get_attribute(PLOT, "data-clip"))
    assert drawn.shape == section.data.T.shape and np.nanmax(np.abs(drawn - section.data.T)) <= clip / 1000
    # Beside it: statistics in words, the histogram, the spectrum with its band, the base map with the line.
    statistics = page.inner_text("#section-stats")
    assert "Dominant frequency" in statistics and "Band (−6 dB)" in statistics and "Live traces" in statistics
    assert page.locator("#histogram .main-svg").count() and page.locator("#spectrum .main-svg").count()
    assert "−6 dB band" in page.inner_text("#spectrum-caption")
    assert page.get_attribute("#basemap-line", "d").startswith("M")
    assert page.get_attribute(f"{PLOT} .section-plot-png", "href").endswith("/sections/inline/122/image.png")
    assert "Inline 122" in page.text_content("#basemap svg desc")
    assert not page.errors, page.errors
    assert_accessible(page)
    shoot(page, "viewer_inline.png")


def test_the_keys_move_the_picture_and_the_url_follows_back_and_forward_included(site, browser_page):
    url, survey = site
    page = browser_page
    # Moves less than 800 ms apart share a history entry. The page's clock (Date.now) moves only as the test
    # says, so a slow machine drawing the plot between two moves does not turn them into a pause.
    page.add_init_script("(() => { let now = Date.now(); Date.now = () => now;"
                         " window.advanceClock = ms => { now += ms; }; })();")
    log_in(page, url)
    page.goto(f"{url}/surveys/{survey.pk}/?inline=115")
    showing(page, "Inline 115")
    page.focus("#section-slider")
    page.keyboard.press("ArrowRight")
    showing(page, "Inline 116")
    assert query(page) == "?inline=116" and page.input_value("#section-number") == "116"
    assert page.get_attribute("#section-slider", "aria-valuetext") == "Inline 116"
    page.focus("#section-number")  # in the number box the arrows move the picture too, not just the number
    page.evaluate("advanceClock(100)")
    page.keyboard.press("ArrowUp")
    page.evaluate("advanceClock(100)")
    page.keyboard.press("ArrowUp")
    showing(page, "Inline 118")
    assert query(page) == "?inline=118"
    page.evaluate("advanceClock(900)")  # a pause: the next move is a new history entry
    page.keyboard.press("PageUp")
    showing(page, "Inline 128")
    assert query(page) == "?inline=128"
    # A zoom and a clip chosen on one inline stay while moving to the next.
    box = page.locator(f"{PLOT} .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + 80, box["y"] + 80)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 260, steps=5)
    page.mouse.up()
    page.eval_on_selector("#section-plot-clip", "e => { e.value = '90'; e.dispatchEvent(new Event('input')); }")
    zoom = page.evaluate(f"document.querySelector('{PLOT} [data-section-plot-canvas]').layout.xaxis.range")
    page.evaluate("advanceClock(100)")  # a quick move after the PageUp: the same history entry
    page.click("#section-next")
    showing(page, "Inline 129")
    assert page.evaluate(f"document.querySelector('{PLOT} [data-section-plot-canvas]').layout.xaxis.range") == zoom
    assert "(P90 of |amplitude|)" in page.inner_text("#section-plot-clip-value")
    page.go_back()
    showing(page, "Inline 118")  # the quick moves 116–118 shared one entry
    assert page.input_value("#section-number") == "118"
    page.go_back()
    showing(page, "Inline 115")
    page.go_forward()
    showing(page, "Inline 118")
    assert query(page) == "?inline=118"
    # A colleague opening the URL sees the same section.
    other = page.context.browser.new_context().new_page()
    log_in(other, url)
    other.goto(page.url)
    showing(other, "Inline 118")
    assert not page.errors, page.errors


def test_switching_inline_crossline_and_timeslice(site, browser_page):
    url, survey = site
    page = browser_page
    log_in(page, url)
    page.goto(f"{url}/surveys/{survey.pk}/?inline=120")
    showing(page, "Inline 120")
    page.select_option("#section-type", "crossline")
    showing(page, "Crossline 883")  # the middle crossline
    assert query(page) == "?crossline=883" and page.inner_text("#section-number-label") == "Crossline"
    assert page.text_content(f"{PLOT} .xtitle") == "Inline"
    page.select_option("#section-type", "timeslice")
    showing(page, "Time 152 ms")
    assert query(page) == "?timeslice=152" and page.inner_text("#section-number-label") == "Time (ms)"
    assert page.text_content(f"{PLOT} .ytitle") == "Inline" and page.text_content(f"{PLOT} .xtitle") == "Crossline"
    assert "timeslice holds one sample per trace" in page.inner_text("#spectrum-caption")
    assert page.locator("#spectrum").is_hidden() and page.locator("#histogram .main-svg").count()
    assert page.get_attribute("#basemap-line", "d") == ""  # a timeslice is the whole map
    page.fill("#section-number", "200")
    page.press("#section-number", "Enter")
    showing(page, "Time 200 ms")
    shoot(page, "viewer_timeslice.png")
    page.select_option("#section-type", "inline")
    showing(page, "Inline 120")  # each kind keeps where it was
    assert not page.errors, page.errors


def test_a_number_off_the_grid_says_why_and_leaves_no_stale_picture(site, browser_page):
    url, survey = site
    page = browser_page
    log_in(page, url)
    page.goto(f"{url}/surveys/{survey.pk}/?inline=120")
    showing(page, "Inline 120")
    page.fill("#section-number", "120.5")
    page.press("#section-number", "Enter")
    page.wait_for_selector("#section-error:not([hidden])")
    assert page.inner_text("#section-error") == ("Inline 120.5 is not in this survey: valid inline numbers are 111 to "
                                                 "133 in steps of 1.")
    assert page.locator(f"{PLOT} .section-plot-png").is_hidden()  # no link to the picture of inline 120 either
    assert page.get_attribute(PLOT, "data-state") == "error" and query(page) == "?inline=120.5"
    assert page.locator(f"{PLOT} .main-svg").count() == 0  # the picture of inline 120 is gone
    assert page.inner_text(f"{PLOT} [data-section-plot-canvas]") == "No section shown."
    assert page.locator("#section-stats tbody tr").count() == 0 and page.locator("#histogram").is_hidden()
    assert page.get_attribute("#basemap-line", "d") == "" and page.is_disabled("#provenance-record")
    assert page.get_attribute("#section-number", "aria-invalid") == "true"
    assert_accessible(page)
    shoot(page, "viewer_error.png")
    page.fill("#section-number", "")
    page.press("#section-number", "Enter")
    assert page.inner_text("#section-error").startswith("Type a number: inlines run 111 to 133")
    page.goto(f"{url}/surveys/{survey.pk}/?timeslice=400")  # from a URL too
    page.wait_for_selector("#section-error:not([hidden])")
    assert "valid times are 4 to 300 in steps of 4" in page.inner_text("#section-error")
    page.focus("#section-slider")
    page.keyboard.press("Home")  # back on the grid: the error goes, the picture comes
    showing(page, "Time 4 ms")
    assert page.is_hidden("#section-error") and page.get_attribute("#section-number", "aria-invalid") is None
    assert not page.errors, page.errors


def outline_pixels(page) -> list[tuple[float, float]]:
    d = page.get_attribute("#basemap-outline", "d")
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", d)]


def test_clicking_the_base_map_shows_the_line_through_that_point(site, browser_page):
    url, survey = site
    page = browser_page
    log_in(page, url)
    page.goto(f"{url}/surveys/{survey.pk}/?inline=111")
    showing(page, "Inline 111")
    # The outline's corners are the corner traces (111, 875), (111, 892), (133, 892), (133, 875): the point of
    # inline 127, crossline 880 lies at these fractions between them.
    p0, p1, _, p3 = (np.array(p) for p in outline_pixels(page))
    point = p0 + (127 - 111) / 22 * (p3 - p0) + (880 - 875) / 17 * (p1 - p0)
    box = page.locator("#basemap svg").bounding_box()
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])
    assert page.inner_text("#basemap-readout").startswith("Inline 127, crossline 880: X ")
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    showing(page, "Inline 127")
    assert query(page) == "?inline=127"
    config = json.loads(page.text_content("#survey-config"))
    assert [c["inline"] for c in config["basemap"]["corners"]] == [111, 111, 133, 133]
    page.select_option("#section-type", "crossline")
    showing(page, "Crossline 883")
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])  # on a crossline, the crossline through the point
    showing(page, "Crossline 880")
    assert query(page) == "?crossline=880"
    assert not page.errors, page.errors


def test_the_provenance_of_the_numbers_shown_is_one_click_away(site, browser_page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
    url, survey = site
    page = browser_page
    log_in(page, url)
    page.goto(f"{url}/surveys/{survey.pk}/?crossline=880")
    showing(page, "Crossline 880")
    assert Extraction.objects.count() == 0  # looking records nothing
    shown_hash = services.array_sha256(services.section_read(survey=survey, kind="crossline", number=880).data)
    assert shown_hash in page.inner_text("#provenance-facts")
    page.click("#provenance-record")
    page.wait_for_selector("#provenance-witness")
    extraction = Extraction.objects.get()
    assert (extraction.kind, extraction.number, extraction.principal) == ("crossline", 880, "user:gina")
    assert extraction.array_sha256 == shown_hash
    assert f"Extraction {extraction.pk} of Crossline 880" in page.inner_text("#provenance-result")
    assert "is that of the section shown" in page.inner_text("#provenance-result")
    assert page.get_attribute("#provenance-witness", "href") == f"/api/v1/witnesses/{extraction.vif_id}/"
    assert not page.errors, page.errors


def test_an_anonymous_browser_gets_the_login_page_not_data(live_server, browser_page, db):
    page = browser_page
    page.goto(live_server.url + "/api/v1/surveys/")
    assert "Authentication credentials were not provided" in page.content()
    page.goto(live_server.url + "/surveys/1/")
    assert "/accounts/login/" in page.url
    page.goto(live_server.url + "/surveys/1/sections/inline/120/plot.json")
    assert "/accounts/login/" in page.url
