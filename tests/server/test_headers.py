"""Every answer's security headers (server/headers.py): policies by area, no framing, no sniffing,
HSTS only over HTTPS, personal answers never stored, and the console's cookie Secure by default."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from server import ROOT, config
from server.headers import HSTS_SECONDS
from tests.factories import auth, make_community, make_grid, make_household, make_person, make_user
from tests.support.console import log_in


@pytest.fixture
def butler(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    make_person(make_household(community, make_grid(community, butler)), phone="13912345678")
    session.commit()
    return butler


@pytest.fixture
def supervisor(session):
    community = make_community()
    supervisor = make_user("supervisor", community_id=community.id)
    session.commit()
    return supervisor


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def assert_common(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    found = directives(response)
    assert found["frame-ancestors"] == "'none'"
    assert found["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_the_app_shell_and_its_service_worker_allow_only_this_server(client):
    for path in ("/", "/sw.js", "/manifest.webmanifest", "/js/app.js", "/style.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_common(response)
        found = directives(response)
        assert found["default-src"] == "'none'"
        assert found["script-src"] == "'self'" and found["style-src"] == "'self'"
        # The service worker's own fetches (the shell, the API) obey the policy sw.js is served with.
        assert found["connect-src"] == "'self'" and found["worker-src"] == "'self'"
        assert found["manifest-src"] == "'self'"
        assert found["img-src"] == "'self' data: blob:"  # photos taken offline are blob: URLs
        # The service worker's versioned cache keeps the app: HTTP only revalidates.
        assert response.headers["Cache-Control"] == "no-cache", path


def test_an_api_answer_allows_nothing_and_is_never_stored(client, butler):
    response = client.get("/api/v1/persons", headers=auth(butler))
    assert response.status_code == 200
    assert "13912345678" in response.get_data(as_text=True)  # decrypted phone numbers: personal data
    assert response.headers["Cache-Control"] == "no-store"
    assert_common(response)
    assert directives(response)["default-src"] == "'none'"
    assert "script-src" not in directives(response)


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/me", "/api/v1/no-such-thing", "/console/no-such-page"])
def test_every_api_answer_and_error_is_never_stored(client, butler, path):
    response = client.get(path, headers=auth(butler))
    assert response.headers["Cache-Control"] == "no-store", path
    assert_common(response)


def test_console_pages_have_no_script_and_are_never_stored(client, supervisor):
    for response in (client.get("/console/login"), log_in(client, supervisor.username), client.get("/console/")):
        assert_common(response)
        assert response.headers["Cache-Control"] == "no-store"
        found = directives(response)
        assert found["default-src"] == "'none'" and "script-src" not in found  # no script at all
        assert found["style-src"] == "'self'" and found["form-action"] == "'self'"


def test_the_console_s_style_sheet_is_not_held_to_no_store(client):
    with client.get("/console/static/console.css") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers["Cache-Control"]
        assert_common(response)


def test_the_api_reference_has_its_own_policy_for_swagger_ui(client):
    page = client.get("/api/v1/docs")
    assert_common(page)
    found = directives(page)
    assert found["script-src"] == "'self'" and found["connect-src"] == "'self'"
    asset = client.get("/api/v1/docs/swagger-ui-bundle.js")
    assert asset.headers["Cache-Control"] == "no-cache"  # chosen by the view, kept
    assert_common(asset)


def test_hsts_only_over_https(client, app):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://guanjia.example.com")
    assert secure.headers["Strict-Transport-Security"] == f"max-age={HSTS_SECONDS}"
    api = client.get("/api/v1/health", base_url="https://guanjia.example.com")
    assert api.headers["Strict-Transport-Security"] == f"max-age={HSTS_SECONDS}"


def test_hsts_behind_a_trusted_balancer_that_terminated_https(tmp_path, database_url):
    from server import create_app
    from tests.support.app import base_config

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    trusting = create_app({**base_config(tmp_path, database_url), "TRUSTED_PROXIES": 1}).test_client()
    assert trusting.get("/", headers=forwarded).headers["Strict-Transport-Security"] == f"max-age={HSTS_SECONDS}"
    # Without trusting it, anyone could claim https on a plain-http request: no HSTS then.
    wary = create_app({**base_config(tmp_path, database_url), "TRUSTED_PROXIES": 0}).test_client()
    assert "Strict-Transport-Security" not in wary.get("/", headers=forwarded).headers


def session_cookie(response) -> str:
    """The console's session cookie among the answer's cookies (a login sets the known-device one too)."""
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_the_console_s_session_cookie_is_secure_by_default(client, supervisor):
    cookie = session_cookie(log_in(client, supervisor.username))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_the_session_cookie_setting_turns_secure_off_for_plain_http_on_this_machine(client, app, supervisor):
    app.config["SESSION_COOKIE_SECURE"] = False  # as `make run` sets it on a loopback address
    cookie = session_cookie(log_in(client, supervisor.username))
    assert "Secure" not in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize("raw, value", [("0", False), ("off", False), ("false", False), ("1", True), ("Yes", True)])
def test_the_session_cookie_setting_is_read_from_the_environment(raw, value):
    found = config.resolve("/tmp/instance", None, environ={"GUANJIA_SESSION_COOKIE_SECURE": raw})
    assert found["SESSION_COOKIE_SECURE"] is value


def test_the_session_cookie_setting_refuses_a_value_that_is_not_yes_or_no():
    with pytest.raises(ValueError):
        config.resolve("/tmp/instance", None, environ={"GUANJIA_SESSION_COOKIE_SECURE": "maybe"})


# ---- nothing inline for the policies to refuse ---------------------------------------------------

class Inline(HTMLParser):
    """Inline scripts, event handler attributes, style attributes and <style> elements of a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on") or name == "style"]


def pages() -> list[Path]:
    return [ROOT / "pwa" / "index.html",
            *sorted((ROOT / "server" / "console" / "templates").rglob("*.html"))]


@pytest.mark.parametrize("page", pages(), ids=lambda path: path.name)
def test_no_page_holds_inline_script_handlers_or_styles(page):
    parser = Inline()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.found == []


def test_the_inline_check_finds_what_it_looks_for():
    parser = Inline()
    parser.feed('<script>alert(1)</script><a onclick="x()" style="color:red">a</a><style>p{}</style>'
                '<script src="/ok.js"></script>')
    assert sorted(parser.found) == ["<style>", "a onclick=", "a style=", "inline <script>"]


def device_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("guanjia_device=")]
    return cookie


@pytest.mark.parametrize("secure", [True, False])
def test_the_known_device_cookie_is_secure_by_the_session_cookie_s_rule(client, app, supervisor, secure):
    app.config["SESSION_COOKIE_SECURE"] = secure
    cookie = device_cookie(log_in(client, supervisor.username))
    assert ("Secure" in cookie) is secure and "HttpOnly" in cookie and "SameSite=Strict" in cookie
