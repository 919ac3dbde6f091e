"""The section plot (static/js/section_plot.js) in Debian's Chromium: on the review item page and the survey page,
a 2000×1500 section, the show-window event, and axe-core on the pages around it.

Set VIFSITE_SHOTS_DIR to keep screenshots of the plots there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from review import services
from seismic import services as seismic_services
from seismic.models import Survey
from tests.e2e.axe import assert_accessible
from tests.e2e.test_survey_page import ARGS, CHROMIUM

# live_server needs transactions; serialized_rollback brings back the migrated groups and κ policies each test.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
CLAIM = "Inline 1015 shows a bright spot at crosslines 2005-2012 and 120-200 ms."


@pytest.fixture
def browser():  # per test, started after the database fixtures (the module one of conftest would run first)
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.errors = []  # type: ignore[attr-defined]

    def console(message) -> None:
        # live_server is WSGI: the queue's live feed cannot open its websocket there and falls back to polling.
        if message.type == "error" and not message.text.startswith("WebSocket connection to"):
            page.errors.append(f"{message.text} at {message.location}")

    page.on("console", console)
    page.on("pageerror", lambda error: page.errors.append(f"{error} {error.stack}"))
    return page


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("rita", "rita@example.com", "pw-rita-12345")
    user.groups.add(Group.objects.get(name="reviewers"))
    return user


@pytest.fixture
def item(reviewer, settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    call_command("make_synthetic_survey", name="small", size="30x30x100", seed=2)
    survey = Survey.objects.get(name="small")
    _, extraction = seismic_services.section_extract(survey=survey, kind="inline", number=1015, principal="agent:bot")
    result = services.interpretation_submit(writer="agent:bot", key=None, text=CLAIM, structured=None,
                                            extraction_ids=[extraction.pk], model={"model_id": "m"},
                                            signals={"confidence": 0.2}, criticality="routine")
    assert result.get("escalation"), result  # low confidence sends it to review
    return survey, result["escalation"]["id"]


def log_in(page, url: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", "pw-rita-12345")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def drawn(page, selector: str = "#section-plot", timeout: float = 30_000) -> None:
    page.wait_for_selector(f'{selector}[data-state="ready"]', timeout=timeout)


def assert_reads_as_a_section(page, *, y_title: str, x_title: str) -> None:
    assert page.text_content("#section-plot .xtitle") == x_title
    assert page.text_content("#section-plot .ytitle") == y_title
    assert page.text_content("#section-plot .colorbar .cbtitle") == "Amplitude"
    assert "Click to enter" not in page.content()
    # Time increases downward: the first tick label on the y axis is the smallest.
    ticks = page.eval_on_selector_all("#section-plot .ytick text",
                                      "els => els.map(e => [e.getBoundingClientRect().top, e.textContent])")
    values = [float(text.replace("−", "-").replace(",", "")) for _, text in sorted(ticks)]
    assert values == sorted(values) and len(values) > 2


def shoot(page, name: str) -> None:
    if os.environ.get("VIFSITE_SHOTS_DIR"):
        Path(os.environ["VIFSITE_SHOTS_DIR"]).mkdir(parents=True, exist_ok=True)
        page.locator("#section-plot").screenshot(path=str(Path(os.environ["VIFSITE_SHOTS_DIR"]) / name))


def test_the_item_page_draws_the_section_and_highlights_a_clicked_window(live_server, item, page):
    _, escalation_id = item
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/review/{escalation_id}/")
    drawn(page)
    assert_reads_as_a_section(page, x_title="Crossline", y_title="Time (ms)")
    legend = page.text_content("#section-plot .legend")
    assert "Claimed: “crosslines 2005-2012”" in legend and "Claimed: “120-200 ms”" in legend
    description = page.text_content("#section-plot-description")
    assert description.startswith("Inline 1015, crosslines 2000–2029, 0–396 ms; amplitude clipped at ±P99 = ")
    page.evaluate("""document.getElementById("section-plot").dispatchEvent(new CustomEvent(
        "section-plot:show-window", {detail: {axis: "crossline", range: [2005, 2012]}}))""")
    page.wait_for_selector('#section-plot[data-highlight="crossline:2005-2012"]')
    shapes = page.evaluate("document.querySelector('#section-plot [data-section-plot-canvas]').layout.shapes")
    assert [(s["x0"], s["x1"]) for s in shapes] == [(2005, 2012)]
    assert "Showing crossline 2005–2012" in page.inner_text("#section-plot [data-section-plot-status]")
    # The clip control redraws with another percentile.
    before = float(page.get_attribute("#section-plot", "data-clip"))
    page.eval_on_selector("#section-plot-clip", "e => { e.value = '90'; e.dispatchEvent(new Event('input')); }")
    assert float(page.get_attribute("#section-plot", "data-clip")) < before
    assert "P90" in page.inner_text("#section-plot-clip-value")
    page.eval_on_selector("#section-plot-clip", "e => { e.value = '99'; e.dispatchEvent(new Event('input')); }")
    shoot(page, "item_plot.png")
    assert not page.errors
    assert_accessible(page)


def test_the_survey_page_draws_the_section_timeslices_included(live_server, item, page):
    survey, _ = item
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    drawn(page)
    assert_reads_as_a_section(page, x_title="Crossline", y_title="Time (ms)")
    shoot(page, "survey_inline.png")
    assert not page.errors
    assert_accessible(page)
    page.select_option("select[name=section_type]", "timeslice")
    page.fill("input[name=section_number]", "200")
    page.evaluate("document.getElementById('section-form').requestSubmit()")
    page.wait_for_selector('#section-plot[data-rendered="1"] .xtitle')
    page.wait_for_function("document.querySelector('#section-plot .ytitle').textContent === 'Inline'")
    drawn(page)
    assert page.text_content("#section-plot .xtitle") == "Crossline"  # inlines down, crosslines across: as the PNG
    assert page.text_content("#section-plot-description").startswith("Time 200 ms, inlines 1000–1029, crosslines")
    shoot(page, "survey_timeslice.png")
    assert not page.errors


@pytest.fixture
def tall_survey(reviewer):
    # 2000 inlines × 1500 samples on each crossline (SEGYImport crashes on 2000 inlines of fewer crosslines).
    call_command("make_synthetic_survey", name="tall", size="2000x24x1500", seed=2)
    return Survey.objects.get(name="tall")


def test_a_2000_by_1500_section_draws_without_a_console_error(live_server, tall_survey, page):
    survey = tall_survey
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    drawn(page)
    page.select_option("select[name=section_type]", "crossline")
    page.fill("input[name=section_number]", str(survey.crossline_first + 10 * survey.crossline_step))
    page.evaluate("document.getElementById('section-form').requestSubmit()")
    page.wait_for_function("document.getElementById('section-plot-description').textContent.startsWith('Crossline')",
                           timeout=60_000)
    drawn(page, timeout=60_000)
    assert page.text_content("#section-plot .xtitle") == "Inline"
    assert "Thinned for display: every 2nd inline and every 2nd sample of 2000 × 1500" in page.inner_text(
        "#section-plot [data-section-plot-notes]")
    shoot(page, "survey_2000x1500.png")
    assert not page.errors


def test_the_login_calibration_and_statistics_pages_pass_axe(live_server, reviewer, page):
    page.goto(live_server.url + "/accounts/login/")
    assert_accessible(page)
    log_in(page, live_server.url)
    for path in ("/review/calibration/", "/review/statistics/"):
        page.goto(live_server.url + path)
        assert_accessible(page)
