"""A headless Chromium page driven by Playwright (the machine's ``chromium``; skipped cleanly without it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def chromium_page() -> Iterator[Any]:
    """A 1280-px-wide page in the system Chromium; ``page.console_errors`` collects console errors."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (CI installs it with apt-get in .ci/run)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.console_errors = errors
        try:
            yield page
        finally:
            browser.close()
