"""The API reference page in real Chromium: Swagger UI renders the document under the page's
Content-Security-Policy, with every file from the app itself (nothing fetched from elsewhere)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_reference_renders_offline_under_its_policy(page, live_server):
    refused, elsewhere = [], []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("request", lambda request: elsewhere.append(request.url)
            if not request.url.startswith((live_server, "data:", "blob:")) else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/api/v1/docs#/sync")  # a deep link: Swagger UI draws the groups near the view only
    page.wait_for_selector(".opblock-tag", timeout=15000)
    assert "睿管家 Guanjia API" in page.inner_text(".info .title")
    tags = page.evaluate("window.ui.specSelectors.taggedOperations().keySeq().toJS()")
    assert "tickets" in tags and "sync" in tags
    page.wait_for_selector(".opblock-summary-path[data-path='/sync']")  # operations are listed open
    # An operation opened shows its request and answer schemas and examples.
    page.click(".opblock-summary-path[data-path='/sync']")
    page.wait_for_selector(".opblock.is-open .responses-table")
    assert "SyncRequest" in page.inner_text(".opblock.is-open") or "client_id" in page.inner_text(".opblock.is-open")
    assert refused == []
    assert elsewhere == []
