"""The security headers in real Chromium: the app shell (with its service worker) and the console
work under their Content-Security-Policy, and the browser reports no violation of it."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_community, make_grid, make_household, make_person, make_ticket, make_user

pytestmark = pytest.mark.browser

# Every violation the page sees, as the browser reports it to the page's scripts.
WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));"""


# The state of the page's worker once it has finished activating (or "redundant" if it was replaced).
ACTIVATED = """navigator.serviceWorker.ready.then((r) => new Promise((done) => {
  const worker = r.active;
  const check = () => { if (worker.state !== "activating") done(worker.state); };
  worker.addEventListener("statechange", check);
  check();
}))"""


def watched(page) -> list[str]:
    """The console messages of `page` that report a refused load or script, from now on."""
    refused: list[str] = []
    page.add_init_script(WATCH)
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.on("pageerror", lambda error: refused.append(f"page error: {error}"))
    return refused


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


@pytest.fixture
def place(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", username="li", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    household = make_household(community, make_grid(community, butler, name="一号网格"), building="3栋")
    make_person(household)
    make_ticket(household, category="repair")
    session.commit()
    return {"butler": butler, "supervisor": supervisor}


def test_the_app_shell_and_its_service_worker_run_under_the_policy(phone, served, place):
    refused = watched(phone)
    response = phone.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    phone.fill("input[name=username]", "li")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("[data-testid=households]", state="attached")  # modules ran, the API answered
    # The service worker installed under the policy of sw.js: its precache fetches went through.
    # `ready` resolves as soon as the worker is active, which may still be "activating" (its activate
    # event running): wait for the end of that step.
    assert phone.evaluate(ACTIVATED) == "activated"
    phone.reload()
    phone.wait_for_selector("[data-testid=households]", state="attached")
    assert phone.evaluate("navigator.serviceWorker.controller !== null")  # the page is served by it now
    assert violations(phone) == [] and refused == []


def test_console_pages_render_under_their_policy(desk, place):
    refused = watched(desk)
    desk.goto("/console/login")
    desk.fill("input[name=username]", place["supervisor"].username)
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/console/")  # the session cookie (Secure by default) came back over loopback
    assert desk.locator("svg[data-testid=chart]").count() >= 5
    for path in ("/console/tickets", "/console/grids", "/console/setup", "/console/setup?sort=visit", "/console/notices"):
        response = desk.goto(path)
        assert response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # The style sheet applied: a policy refusing it would leave the page unstyled.
    assert desk.evaluate("document.styleSheets.length") >= 1
    assert desk.evaluate("getComputedStyle(document.body).fontFamily") != ""
    assert violations(desk) == [] and refused == []


def test_the_watch_reports_a_violation(desk, place):
    """The check above can fail: an inline style on a console page is reported."""
    refused = watched(desk)
    desk.goto("/console/login")
    desk.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>')""")
    desk.wait_for_function("window.__violations.length > 0")
    assert any("style-src" in found for found in violations(desk))
    assert refused
