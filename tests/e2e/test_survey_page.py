"""The survey page in a real browser: Debian's Chromium driven by Playwright against a live server."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = [pytest.mark.slow]
CHROMIUM = os.environ.get("VIFSITE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        yield page
        browser.close()


@pytest.fixture
def site(live_server, register, django_user_model):
    survey = register("f3")
    django_user_model.objects.create_user("gina", "gina@example.com", "a-long-password-1")
    return live_server.url, survey


def test_a_geophysicist_logs_in_and_reads_a_section(site, browser_page):
    url, survey = site
    page = browser_page
    page.goto(url + "/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "gina")
    page.fill("input[name=password]", "a-long-password-1")
    page.click("button[type=submit]")
    page.click(f"text={survey.name}")
    # The page's script asks the API for the middle inline and shows its plot, statistics and PNG link.
    page.wait_for_selector("#section-stats tr")
    page.wait_for_selector('#section-plot[data-state="ready"]')
    assert page.get_attribute("#section-image-link", "href").endswith("/image.png")
    stats_text = page.inner_text("#section-stats")
    assert "dominant_frequency_hz" in stats_text and "live_traces" in stats_text
    assert "Extraction" in page.inner_text("#section-provenance")
    # A timeslice below the survey: the API's message is shown, nothing crashes.
    page.select_option("select[name=section_type]", "timeslice")
    page.fill("input[name=section_number]", "400")
    page.evaluate("document.getElementById('section-form').requestSubmit()")
    page.wait_for_selector("#section-error:not([hidden])")
    assert "valid times are 4 to 300 in steps of 4" in page.inner_text("#section-error")


def test_an_anonymous_browser_gets_the_login_page_not_data(live_server, browser_page, db):
    page = browser_page
    page.goto(live_server.url + "/api/v1/surveys/")
    assert "Authentication credentials were not provided" in page.content()
    page.goto(live_server.url + "/surveys/1/")
    assert "/accounts/login/" in page.url
