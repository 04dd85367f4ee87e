"""The console's own-password page (/console/password): any supervisor may change theirs there, and
one whose password someone else chose is led there from every page until they have."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import Device, User
from tests.factories import PASSWORD, make_community, make_grid, make_user, token_for
from tests.support.console import log_in, post, text

NEW = "only I know this"


@pytest.fixture
def community(session):
    return make_community(name="翠湖花园")


def change(client, current=PASSWORD, new=NEW, repeat=None):
    return post(client, "/console/password", {"current_password": current, "new_password": new,
                                              "repeat_password": NEW if repeat is None else repeat},
                "/console/password")


def test_a_supervisor_whose_password_was_chosen_for_them_sets_their_own_first(client, session, community):
    boss = make_user("supervisor", name="王主管", community_id=community.id, must_change_password=True)
    phone = token_for(boss, "手机")
    r = log_in(client, boss.username)
    assert r.status_code == 302
    # Every page leads to the password page, which says why; the nav of pages is not offered.
    for page in ("/console/", "/console/butlers", "/console/tickets"):
        moved = client.get(page)
        assert moved.status_code == 302 and moved.headers["Location"].endswith("/console/password"), page
    html = text(client.get("/console/password"))
    assert 'data-testid="password-required"' in html and "请先修改密码" in html
    assert 'data-testid="pages"' not in html
    r = change(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/password")
    html = text(client.get("/console/password"))
    assert "密码已修改" in html and 'data-testid="pages"' in html and 'data-testid="password-required"' not in html
    session.expire_all()
    assert session.get(User, boss.id).must_change_password is False
    # This browser stays logged in; the phone must log in again.
    assert client.get("/console/butlers").status_code == 200
    assert session.scalar(sa.select(Device.revoke_reason).where(Device.name == "手机")) == "password_changed"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {phone}"}).status_code == 401
    event = session.scalar(sa.select(AuditEvent))
    assert (event.action, event.fields, event.channel, event.record_id) == ("update", ["password"], "console", boss.id)


def test_the_page_shows_each_problem_beside_its_field_and_changes_nothing(client, session, community):
    boss = make_user("supervisor", community_id=community.id, must_change_password=True)
    log_in(client, boss.username)
    wrong = change(client, current="not it")
    assert wrong.status_code == 422
    assert 'data-testid="error-current_password"' in text(wrong) and "当前密码不正确。" in text(wrong)
    short = change(client, new="short", repeat="short")
    assert short.status_code == 422
    assert 'data-testid="error-new_password"' in text(short) and "新密码至少需要 8 个字符。" in text(short)
    differs = change(client, repeat="something else")
    assert differs.status_code == 422 and "两次输入的新密码不一致。" in text(differs)
    assert NEW not in text(differs) and PASSWORD not in text(wrong)  # a password is never sent back
    session.expire_all()
    assert session.get(User, boss.id).must_change_password is True
    english = client.get("/console/password?lang=en")
    assert "Please set your own password first" in text(english)


def test_any_supervisor_may_change_their_password_from_the_header(app, client, session, community):
    boss = make_user("supervisor", community_id=community.id)
    log_in(client, boss.username)
    html = text(client.get("/console/"))
    assert 'href="/console/password"' in html and 'data-testid="pages"' in html
    assert 'data-testid="password-required"' not in text(client.get("/console/password"))
    assert change(client).status_code == 302
    assert log_in(app.test_client(), boss.username, NEW).status_code == 302


def test_a_butler_reset_in_the_console_is_marked_until_they_change_it(client, session, community):
    boss = make_user("supervisor", community_id=community.id)
    butler = make_user("butler", name="李管家", community_id=community.id)
    make_grid(community, butler)
    log_in(client, boss.username)
    r = post(client, f"/console/butlers/{butler.id}/password", {"password": "boss chose it"}, "/console/butlers")
    assert r.status_code == 302
    html = text(client.get("/console/butlers"))
    assert "下次登录时须先设置自己的密码" in html and 'data-testid="must-change"' in html
    session.expire_all()
    assert session.get(User, butler.id).must_change_password is True


def test_a_new_technician_is_marked_on_the_teams_page_until_they_set_their_own(client, session, community):
    from tests.factories import make_team

    boss = make_user("supervisor", community_id=community.id)
    team = make_team(community, "engineering", name="工程部")
    log_in(client, boss.username)
    r = post(client, "/console/technicians", {"team_id": team.id, "username": "qian.gong", "name": "钱师傅"},
             "/console/teams")
    assert r.status_code == 201 and "本人第一次登录时须改成自己的密码" in text(r)
    html = text(client.get("/console/teams"))
    assert 'data-testid="must-change"' in html and "待本人修改密码" in html


def test_wrong_current_passwords_in_the_console_meet_the_login_throttle(app, client, community):
    boss = make_user("supervisor", community_id=community.id)
    log_in(client, boss.username)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert change(client, current="guess").status_code == 422
    r = change(client)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "密码输错次数过多" in text(r)
