"""What the browser tests share: Debian's Chromium driven by Playwright, one per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_survey_page import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()
