"""The PWA in real Chromium: installable, opens with no network, and updates when the user agrees."""
from __future__ import annotations

import pytest

from server.pwa import shell_for

pytestmark = pytest.mark.browser

# Chromium may check for a new service worker even while offline (docs/platform-facts.md).
UPDATE_CHECK = "GET /sw.js"
BRAND_GREEN = "rgb(11, 110, 79)"

CONTROLLER_VERSION = """() => new Promise((resolve) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => resolve(event.data.version);
  navigator.serviceWorker.controller.postMessage({ type: "GET_VERSION" }, [channel.port2]);
})"""


def open_controlled(page) -> None:
    """Open the app and wait until its service worker has precached the shell and controls the page."""
    page.goto("/")
    # Installing precaches the whole shell; on a busy machine, beside the app's first sync, it has taken over 30 s.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=90000)
    page.wait_for_load_state("load")  # not networkidle: the long poll stays out


def reopen_offline(page, site) -> list[str]:
    """Go offline, reload, and return the requests that failed in the page."""
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    site.requests.clear()
    page.context.set_offline(True)
    page.reload()
    page.locator("#login").wait_for(state="visible")
    return failed


def ship_new_version(page, site, pwa_dir, make_pwa_app) -> str:
    """Deploy a changed shell and make the page's registration look for it; return the new version."""
    style = pwa_dir / "style.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n.next-version { color: inherit; }\n", encoding="utf-8")
    app = make_pwa_app()
    site.deploy(app)
    page.evaluate("navigator.serviceWorker.getRegistration().then((registration) => registration.update())")
    return shell_for(app).version


def test_chromium_finds_the_app_installable(installable_page):
    open_controlled(installable_page)
    cdp = installable_page.context.new_cdp_session(installable_page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_first_visit_offers_no_update(app_page):
    open_controlled(app_page)
    assert app_page.locator("#update-banner").is_hidden()


def test_visited_app_opens_with_no_network(app_page, site):
    open_controlled(app_page)
    failed = reopen_offline(app_page, site)
    assert app_page.locator("#login h2").inner_text() == "登录"
    assert app_page.locator("header.bar").evaluate("el => getComputedStyle(el).backgroundColor") == BRAND_GREEN
    assert [url for url in failed if "/api/" not in url] == []


def test_app_opened_offline_asks_the_server_for_nothing(app_page, site):
    open_controlled(app_page)
    reopen_offline(app_page, site)
    assert [request for request in site.requests if request != UPDATE_CHECK] == []


def test_api_is_never_answered_from_a_cache(app_page, site):
    open_controlled(app_page)
    assert app_page.evaluate("fetch('/api/v1/health').then((response) => response.status)") == 200
    app_page.context.set_offline(True)
    outcome = app_page.evaluate("fetch('/api/v1/health').then(() => 'answered', (error) => error.name)")
    assert outcome == "TypeError"


def test_deployed_version_is_offered_in_a_banner(app_page, site, pwa_dir, make_pwa_app):
    open_controlled(app_page)
    ship_new_version(app_page, site, pwa_dir, make_pwa_app)
    banner = app_page.locator("#update-banner")
    banner.wait_for(state="visible")
    assert banner.locator("[data-update-message]").inner_text() == "新版本可用"
    assert banner.locator("button").inner_text() == "更新"


def test_reload_keeps_the_old_version_while_the_update_waits(app_page, site, pwa_dir, make_pwa_app):
    open_controlled(app_page)
    old_version = app_page.evaluate(CONTROLLER_VERSION)
    ship_new_version(app_page, site, pwa_dir, make_pwa_app)
    app_page.locator("#update-banner").wait_for(state="visible")
    app_page.reload()
    assert app_page.evaluate(CONTROLLER_VERSION) == old_version


def test_waiting_update_is_offered_again_after_a_reload(app_page, site, pwa_dir, make_pwa_app):
    open_controlled(app_page)
    ship_new_version(app_page, site, pwa_dir, make_pwa_app)
    app_page.locator("#update-banner").wait_for(state="visible")
    app_page.reload()
    app_page.locator("#update-banner").wait_for(state="visible")


def test_accepting_the_update_reloads_under_the_new_version(app_page, site, pwa_dir, make_pwa_app):
    open_controlled(app_page)
    new_version = ship_new_version(app_page, site, pwa_dir, make_pwa_app)
    app_page.locator("#update-banner").wait_for(state="visible")
    with app_page.expect_navigation():
        app_page.click("#update-banner button")
    app_page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert app_page.evaluate(CONTROLLER_VERSION) == new_version


def test_accepting_the_update_deletes_the_old_version_s_cache(app_page, site, pwa_dir, make_pwa_app):
    open_controlled(app_page)
    new_version = ship_new_version(app_page, site, pwa_dir, make_pwa_app)
    app_page.locator("#update-banner").wait_for(state="visible")
    with app_page.expect_navigation():
        app_page.click("#update-banner button")
    assert app_page.evaluate("caches.keys()") == [f"guanjia-shell-{new_version}"]


def test_an_outdated_app_updates_itself_and_keeps_its_outbox(app_page, site, pwa_dir, make_pwa_app, monkeypatch):
    from sync import protocol
    from tests.browser.conftest import log_in, synced
    from tests.factories import PASSWORD, make_community, make_grid, make_household, make_user

    with site.app.app_context():
        community = make_community()
        household = make_household(community, make_grid(community, make_user("butler", username="li",
                                                                             community_id=community.id)))
        household_id = household.id
    log_in(app_page, "li", PASSWORD)
    open_controlled(app_page)
    synced(app_page)
    app_page.context.set_offline(True)
    app_page.evaluate("""(hid) => window.guanjia.store.create("visit", {household_id: hid,
        visited_at: new Date().toISOString(), notes: "等新版本送出"})""", household_id)
    monkeypatch.setattr(protocol, "MIN_SCHEMA", 2)  # the server now refuses this app's schema: 426
    new_version = ship_new_version(app_page, site, pwa_dir, make_pwa_app)
    with app_page.expect_navigation(timeout=60000):  # a busy machine: the sync, the update, the reload
        app_page.context.set_offline(False)  # the sync that follows is answered 426
    app_page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert app_page.evaluate(CONTROLLER_VERSION) == new_version
    app_page.wait_for_function("window.guanjia && window.guanjia.sync.getStatus().outdated")
    assert app_page.evaluate("window.guanjia.store.unsentCount()") == 1
    assert app_page.locator("#net").inner_text() == "应用版本过旧，正在更新…"
