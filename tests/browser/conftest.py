"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""
from __future__ import annotations

import os

import pytest

from tests.conftest import need

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")
# Facts from shared/docs/testing.md: root needs --no-sandbox; the rest stop Chromium calling home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    need(os.path.exists(CHROMIUM), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extras install it
        need(False, "the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A phone-sized page in a fresh context (no shared storage between tests)."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 640},
                                   locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
