"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from flask import Flask

from server import create_app
from server.notify.api import release_waiters
from tests.support.app import base_config, dispose, fresh_database, serving
from tests.support.needs import need
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")


def _wait_for_function(page, expression: str, *, arg=None, timeout: float | None = None, polling=None):
    """Page.wait_for_function, polled through page.evaluate.

    The app's pages forbid eval (Content-Security-Policy script-src 'self', server/headers.py), and
    Playwright's own wait_for_function evals its predicate inside the page, so under the real policy
    it could never run. evaluate goes through the DevTools protocol, outside the page's policy:
    the tests keep the app's real policy (a photo's blob: image, a QR code's data: image) instead of
    bypassing it. Same contract: the predicate's first truthy value, as a handle; TimeoutError."""
    from playwright.sync_api import Error, TimeoutError

    interval = (polling if isinstance(polling, (int, float)) else 100) / 1000
    deadline = time.monotonic() + (30000 if timeout is None else timeout) / 1000
    last_error = None
    while True:
        try:
            handle = page.evaluate_handle(expression, arg)
            if handle.evaluate("(value) => !!value"):
                return handle
            handle.dispose()
            last_error = None
        except Error as exc:  # a navigation between two looks: look again in the new document
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            last_error = exc
        if time.monotonic() >= deadline:  # where the page is, and why it could not be asked, if it could not
            raise TimeoutError(f"wait_for_function: {expression!r} was not true within {timeout or 30000} ms "
                               f"on {page.url}" + (f" (last look: {str(last_error).splitlines()[0]})" if last_error else ""))
        time.sleep(interval)


def _poll_without_eval() -> None:
    from playwright.sync_api import Page

    Page.wait_for_function = _wait_for_function
# Facts from docs/platform-facts.md: root needs --no-sandbox; the rest stop Chromium calling home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def database_url(request, tmp_path):
    """SQLite for the browser tests: what they check is the app the user sees, which is the same on
    either database, while the server's every rule runs on both in tests/server. A module whose
    browser path meets what differs on PostgreSQL (its sync writes, its live channel's NOTIFY) runs
    on both by importing tests.support.app's database_url, as test_butler_offline.py does."""
    yield from fresh_database(request, "sqlite", tmp_path)


@pytest.fixture(scope="session")
def chromium():
    need(os.path.exists(CHROMIUM), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extras install it
        need(False, "the playwright package is not installed")
    _poll_without_eval()
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


@pytest.fixture
def desk(chromium, live_server):
    """A desktop-sized page in a fresh context (the console)."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


# ---- the installable, offline app ---------------------------------------------------------------

class Site:
    """A WSGI app that logs every request it sees and whose Flask app can be replaced, as a deploy does.

    Service workers belong to an origin, so a test that ships a new version must keep the port.
    """

    def __init__(self, app):
        self.app = app
        self.url = ""
        self.requests: list[str] = []
        self.flask_apps = [app]  # every one it served: their open long polls are answered at the end

    def deploy(self, app) -> None:
        self.app = app
        if isinstance(app, Flask):
            self.flask_apps.append(app)

    def __call__(self, environ, start_response):
        self.requests.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self.app(environ, start_response)


@pytest.fixture
def pwa_dir(tmp_path):
    """A copy of pwa/ that a test may change (the app reads its files from PWA_DIR)."""
    from server.pwa import PWA_DIR

    return Path(shutil.copytree(PWA_DIR, tmp_path / "pwa"))


@pytest.fixture
def make_pwa_app(tmp_path, sqlite_template, pwa_dir):
    """Build an app serving pwa_dir on one migrated SQLite database; each call is a fresh deploy."""
    database = tmp_path / "pwa.sqlite3"
    shutil.copy(sqlite_template, database)
    apps = []

    def make():
        apps.append(create_app({**base_config(tmp_path, f"sqlite:///{database}"), "PWA_DIR": str(pwa_dir)}))
        return apps[-1]

    yield make
    for app in apps:
        release_waiters(app)
        dispose(app)


@pytest.fixture
def site(make_pwa_app):
    """A live server of the PWA on a free loopback port, with a log of the requests it saw."""
    site = Site(make_pwa_app())
    with serving(site) as site.url:
        yield site


@pytest.fixture
def app_page(chromium, site):
    """A phone-sized page of the site, in a fresh context (service workers allowed)."""
    context = chromium.new_context(base_url=site.url, viewport={"width": 360, "height": 640},
                                   locale="zh-CN", service_workers="allow")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def installable_page(chromium, site, tmp_path):
    """A page in a persistent context: Chromium checks installability only outside incognito."""
    context = chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        base_url=site.url, viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.pages[0] if context.pages else context.new_page()
    yield page
    context.close()


# ---- the butler's phone on the test's own app (factories write into its database) --------------

@pytest.fixture
def served(app):
    """The test's app on a free loopback port, logging every request (Site)."""
    site = Site(app)
    with serving(site) as site.url:
        yield site


@pytest.fixture
def new_phone(chromium, served):
    """Make phone-sized pages in fresh contexts (each its own IndexedDB), service workers allowed."""
    contexts = []

    def make(service_workers: str = "allow", language: str | None = None):
        context = chromium.new_context(base_url=served.url, viewport={"width": 360, "height": 640},
                                       locale="zh-CN", service_workers=service_workers)
        if language:  # as if the user had chosen it with the app's language button (pwa/js/i18n.js)
            context.add_init_script(f"localStorage.setItem('guanjia.lang', {language!r})")
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_phone):
    return new_phone()


@pytest.fixture
def new_desk(chromium, served):
    """Make desktop pages logged in to the console through its form (each in its own context)."""
    contexts = []

    def make(username: str, password: str = PASSWORD):
        context = chromium.new_context(base_url=served.url, viewport={"width": 1366, "height": 900}, locale="zh-CN")
        contexts.append(context)
        desk = context.new_page()
        desk.goto("/console/login")
        desk.fill("input[name=username]", username)
        desk.fill("input[name=password]", password)
        desk.click("button[type=submit]")
        desk.wait_for_url("**/console/")
        return desk

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def estate(session):
    """A community with a butler's grid, one household in it and its resident (the photo tests')."""
    from tests.factories import make_community, make_grid, make_household, make_user

    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    grid = make_grid(community, butler)
    home = make_household(community, grid, building="1栋", unit="1单元", room="101")
    resident = make_user("resident", username="liu", name="刘女士", community_id=community.id, household_id=home.id)
    return {"community": community, "butler": butler, "home": home, "resident": resident}


def log_in(page, username: str, password: str) -> None:
    """Log in through the form and wait for the first sync to finish."""
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_function("window.guanjia && window.guanjia.store.meta.lastSync")


def set_own_password(page, current: str, new: str) -> None:
    """On the screen that follows logging in with a password a supervisor chose: set one's own, and
    wait until the app has left that screen (it syncs then)."""
    page.locator("[data-testid=password-screen][data-forced=true]").wait_for()
    page.fill("[data-testid=current-password]", current)
    page.fill("[data-testid=new-password]", new)
    page.click("[data-testid=save-password]")
    page.wait_for_function("window.guanjia.store.meta.user && !window.guanjia.store.meta.user.must_change_password")
    page.locator("[data-testid=password-screen]").wait_for(state="detached")


def wait_until_controlled(page) -> None:
    """The worker controls the page, so it has cached the whole shell (it activates only after that).

    Not "networkidle": a logged-in app always has its long poll (pwa/js/live.js) out."""
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_load_state("load")


# What may still reach the server as a context goes offline without being the app's work: Chromium's
# own update check of the worker (docs/platform-facts.md), and the open app's long poll if one was
# leaving at that instant (pwa/js/live.js; it carries no record).
NOT_WORK = frozenset({"GET /sw.js", "GET /api/v1/notifications"})


def work_requests(requests: list[str]) -> list[str]:
    """The requests that carried the app's work (what "nothing reached the server" is about)."""
    return [r for r in requests if r not in NOT_WORK]


def answer_the_rest(page, satisfaction: int | None = 4) -> None:
    """On a new visit's form: every checklist item not answered yet is 正常, and a satisfaction (or 未评价
    for None), which a new visit must have before it is saved."""
    page.click("[data-testid=all-ok]")
    page.click(f"[data-testid=satisfaction][data-value='{satisfaction}']" if satisfaction
               else "[data-testid=satisfaction-unrated]")


def synced(page) -> None:
    """Sync now and wait until nothing is left to send and no sync is running."""
    page.evaluate("window.guanjia.sync.syncNow()")
    page.wait_for_function("window.guanjia.store.unsentCount() === 0 && !window.guanjia.sync.getStatus().running",
                           polling=200, timeout=20000)


# ---- real Web Push in stock firefox-esr (tests/support: autopush.py, firefox.py) ----------------

@pytest.fixture
def autopush_server():
    """Mozilla's autopush, locally: Firefox's push WebSocket on one port, push endpoints on another."""
    try:
        from tests.support.autopush import AutopushServer
    except ImportError:  # pragma: no cover - the test extras install websockets
        need(False, "the websockets package is not installed")
    with AutopushServer() as server:
        yield server


@pytest.fixture
def firefox(autopush_server, tmp_path):
    """``firefox(url, prefs=None) -> Firefox``: headless firefox-esr on a fresh profile, pushing via autopush_server.

    Returns once Firefox's push client said hello; the page at ``url`` opens right after. Closed at teardown.
    """
    from tests.support.firefox import FIREFOX, launch_with_push

    need(os.path.exists(FIREFOX), f"firefox-esr is not installed at {FIREFOX} (apt-get install firefox-esr)")
    launched = []

    def launch(url: str, prefs: dict | None = None):
        browser = launch_with_push(url, tmp_path / f"firefox-{len(launched)}", autopush_server, prefs=prefs)
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()
