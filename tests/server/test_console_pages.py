"""The supervisors' console pages (server/console): login, who gets in, CSRF, the dashboard, CSV, escaping."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.auth.models import Device
from server.auth.service import authenticate
from server.community.models import DEFAULT_TIMEZONE
from server.community.service import today_in  # the console's days are the community's
from server.console.auth import TOKEN_KEY
from server.errors import Unauthorized
from server.syncing import bookkeeping
from tests.factories import (PASSWORD, make_community, make_grid, make_household, make_ticket, make_user,
                             make_visit)
from tests.support.console import CSRF, csrf_of, log_in



def session_token(client) -> str | None:
    with client.session_transaction() as stored:
        return stored.get(TOKEN_KEY)


@pytest.fixture
def community(session):
    """A community with a supervisor, a grid, two households (one visited lately) and a ticket."""
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    grid = make_grid(community, butler, name="一号网格")
    visited = make_household(community, grid, building="1栋", unit="1单元", room="301")
    make_household(community, grid, building="2栋", unit="1单元", room="1203")
    make_visit(visited, butler, visited_at=datetime.now(timezone.utc) - timedelta(days=2), satisfaction=4)
    make_ticket(visited, category="repair")
    return {"community": community, "butler": butler, "supervisor": supervisor, "grid": grid,
            "household": visited}


def test_the_login_form_has_username_and_password_fields_and_a_csrf_token(client):
    page = client.get("/console/login")
    assert page.status_code == 200
    assert page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert 'name="username"' in html
    assert re.search(r'<input name="password" type="password"', html)
    assert CSRF.search(html)
    assert "登录主管控制台" in html


def test_a_console_page_without_a_login_goes_to_the_form(client):
    for path in ("/console/", "/console/export/products.csv"):
        r = client.get(path)
        assert r.status_code == 302
        assert r.headers["Location"].endswith("/console/login")


def test_a_supervisor_logs_in_and_sees_the_dashboard(client, session, community):
    r = log_in(client, community["supervisor"].username)
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/console/")
    token = session_token(client)
    assert token and token not in r.headers["Location"]
    cookie, = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    device = session.scalar(sa.select(Device).where(Device.user_id == community["supervisor"].id))
    assert device.name == "console" and device.revoked_at is None

    page = client.get("/console/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    sections = re.findall(r'data-testid="section" data-name="([a-z_]+)"', html)
    assert sections == ["coverage_by_grid", "coverage_by_building", "coverage_heatmap", "overdue_households",
                        "overdue_custody", "tickets_by_status", "ticket_times_by_category", "ticket_times_by_butler",
                        "satisfaction_over_time", "backoffice_by_category", "team_scorecard", "products"]
    assert html.count("<svg") >= 5 and "<table" in html
    assert "一号网格" in html and "王主管" in html
    assert "报修" in html and "新建" in html  # category and status codes in Chinese
    assert "50.0%" in html  # one of two households visited within its cycle
    assert f'href="/console/export/coverage_by_grid.csv?start={today_in(DEFAULT_TIMEZONE) - timedelta(days=29)}' in html


def test_an_admin_gets_in_too(client, community):
    admin = make_user("admin")
    assert log_in(client, admin.username).status_code == 302
    page = client.get("/console/")
    assert page.status_code == 200
    assert "一号网格" in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["butler", "resident"])
def test_butlers_and_residents_are_refused_and_get_no_session(client, session, community, role):
    user = community["butler"] if role == "butler" else make_user("resident")
    r = log_in(client, user.username)
    assert r.status_code == 403
    html = r.get_data(as_text=True)
    assert "主管控制台仅供主管和管理员使用" in html
    assert session_token(client) is None
    devices = session.scalars(sa.select(Device).where(Device.user_id == user.id)).all()
    assert len(devices) == 1 and devices[0].revoked_at is not None  # the token just made is dead
    assert client.get("/console/").status_code == 302


def test_a_user_whose_role_changes_is_refused_on_the_next_page(client, session, community):
    supervisor = community["supervisor"]
    log_in(client, supervisor.username)
    supervisor.role = "butler"
    session.commit()
    r = client.get("/console/")
    assert r.status_code == 403
    assert "无权进入主管控制台" in r.get_data(as_text=True)


def test_a_wrong_password_shows_the_form_again_with_the_error(client, community):
    r = log_in(client, community["supervisor"].username, "wrong password")
    assert r.status_code == 401
    html = r.get_data(as_text=True)
    assert "用户名或密码不正确。" in html and 'name="password"' in html
    assert f'value="{community["supervisor"].username}"' in html  # the username is kept, not the password
    assert session_token(client) is None


def test_failed_logins_are_throttled(client, app, community):
    username = community["supervisor"].username
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert log_in(client, username, "wrong").status_code == 401
    r = log_in(client, username)  # even the right password, while throttled
    assert r.status_code == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)
    assert int(r.headers["Retry-After"]) > 0
    assert session_token(client) is None


def test_logout_kills_the_token_even_for_a_copy_of_the_cookie(client, session, community):
    log_in(client, community["supervisor"].username)
    token = session_token(client)
    with client.session_transaction() as stored:
        saved = dict(stored)
    r = client.post("/console/logout", data={"csrf_token": csrf_of(client, "/console/")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")
    assert session_token(client) is None
    with pytest.raises(Unauthorized):
        authenticate(session, token)
    with client.session_transaction() as stored:  # someone kept the old cookie: it is worth nothing
        stored.update(saved)
    assert client.get("/console/").status_code == 302


def test_posts_without_the_session_s_csrf_token_are_refused(client, session, community):
    username = community["supervisor"].username
    client.get("/console/login")
    r = client.post("/console/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    r = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400
    assert session_token(client) is None

    log_in(client, username)
    token = session_token(client)
    assert client.post("/console/logout").status_code == 400
    assert client.post("/console/logout", data={"csrf_token": "forged"}).status_code == 400
    authenticate(session, token)  # still alive


def test_the_csv_export_parses(client, community):
    log_in(client, community["supervisor"].username)
    r = client.get(f"/console/export/coverage_by_grid.csv?start=2026-01-01&end={today_in(DEFAULT_TIMEZONE)}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["网格", "管家", "户数", "周期内已走访", "覆盖率 %"]
    assert rows[1] == ["一号网格", "李管家", "2", "1", "50.0"]

    statuses = client.get(f"/console/export/tickets_by_status.csv?start=2026-01-01&end={today_in(DEFAULT_TIMEZONE)}&lang=en")
    rows = list(csv.reader(io.StringIO(statuses.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Status", "Requests"]
    assert ["new", "1"] in rows


def test_an_unknown_table_is_404(client, community):
    log_in(client, community["supervisor"].username)
    r = client.get("/console/export/secrets.csv")
    assert r.status_code == 404
    assert r.content_type.startswith("text/html")


@pytest.mark.parametrize("query, message", [
    ("start=2026-13-01", "日期格式不正确"),
    ("start=yesterday", "日期格式不正确"),
    ("start=2026-1-1", "日期格式不正确"),
    ("start=2026-05-02&end=2026-05-01", "开始日期不能晚于结束日期"),
    ("start=1900-01-01&end=2026-01-01", "日期范围最长为"),
])
def test_bad_dates_show_the_page_with_a_message(client, community, query, message):
    log_in(client, community["supervisor"].username)
    r = client.get(f"/console/?{query}")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in html and 'name="start"' in html
    assert client.get(f"/console/export/products.csv?{query}").status_code == 400


def test_the_pages_speak_english_after_the_switch(client, community):
    log_in(client, community["supervisor"].username)
    html = client.get("/console/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Visit coverage by grid" in html and "Repair" in html
    html = client.get("/console/").get_data(as_text=True)  # kept in the session
    assert "Log out" in html and "中文" in html


def test_a_grid_named_like_a_script_is_escaped_everywhere(client, session, community):
    evil = '<script>alert("x")</script>'
    community["grid"].name = evil
    bookkeeping.changed(session, "grid", community["grid"])
    community["butler"].name = '"><svg onload=alert(1)>'
    session.commit()
    log_in(client, community["supervisor"].username)
    html = client.get("/console/").get_data(as_text=True)
    assert "<script" not in html and "<svg onload" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 2  # the table and the chart
