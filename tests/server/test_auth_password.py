"""A user sets their own password (POST /api/v1/me/password), and one whose password a supervisor
chose (a technician's one-time password, a butler made or reset in the console) must do so before
anything else: the API answers 403 `password_change_required` to all but logout, /me and
/me/password, the sync endpoint too, and takes nothing in meanwhile."""
from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth import service as auth_service
from server.auth.models import Device, LoginFailure, User
from server.extensions import db
from server.teams import people
from server.visits.models import Visit
from tests.factories import (PASSWORD, complete_visit, make_community, make_grid, make_household, make_team,
                             make_technician, make_user, token_for)
from tests.support.phone import Phone, put, results

NEW = "my own secret 42"
AT = "2026-11-27T09:15:02+08:00"


def bearer(token: str, language: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if language:
        headers["Accept-Language"] = language
    return headers


def change(client, token, current=PASSWORD, new=NEW, language=None, **extra):
    return client.post("/api/v1/me/password", json={"current_password": current, "new_password": new, **extra},
                       headers=bearer(token, language))


def login(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def errors(response):
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    team = make_team(community, "engineering", name="工程部")
    return {"community": community, "butler": butler, "household": household, "team": team,
            "supervisor": make_user("supervisor", community_id=community.id)}


# ---- changing one's own password ----------------------------------------------------------------

def test_a_user_changes_their_password_and_their_other_devices_are_logged_out(client, session, place):
    butler = place["butler"]
    here, other, logged_out = token_for(butler, "这部手机"), token_for(butler, "旧手机"), token_for(butler, "平板")
    client.post("/api/v1/auth/logout", headers=bearer(logged_out))
    r = change(client, here)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["id"] == butler.id and r.get_json()["must_change_password"] is False
    # This device goes on; the other one must log in again, and keeps what it has not sent.
    assert client.get("/api/v1/me", headers=bearer(here)).status_code == 200
    gone = client.get("/api/v1/me", headers=bearer(other))
    assert gone.status_code == 401 and gone.get_json()["error"] == "invalid_token"
    reasons = dict(session.execute(sa.select(Device.name, Device.revoke_reason)
                                   .where(Device.user_id == butler.id)).all())
    assert reasons == {"这部手机": None, "旧手机": "password_changed", "平板": "logout"}
    # The new password opens the account, the old one no more; only an argon2 hash is kept.
    assert login(client, butler.username, NEW).status_code == 200
    assert login(client, butler.username, PASSWORD).status_code == 401
    stored = session.scalar(sa.select(User.password_hash).where(User.id == butler.id))
    assert stored.startswith("$argon2id$") and NEW not in stored


def test_a_wrong_current_password_is_a_field_error_and_changes_nothing(client, session, place):
    butler = place["butler"]
    token, other = token_for(butler), token_for(butler)
    before = session.scalar(sa.select(User.password_hash).where(User.id == butler.id))
    r = change(client, token, current="not my password")
    assert r.status_code == 422
    assert r.get_json()["details"]["errors"] == [{"field": "current_password", "code": "wrong_password",
                                                  "message": "当前密码不正确。"}]
    english = change(client, token, current="not my password", language="en")
    assert english.get_json()["details"]["errors"][0]["message"] == "The current password is not correct."
    session.expire_all()
    assert session.scalar(sa.select(User.password_hash).where(User.id == butler.id)) == before
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200  # nobody logged out
    # Counted as failed logins are, under keyed hashes only.
    subjects = session.scalars(sa.select(LoginFailure.subject)).all()
    assert len(subjects) == 4 and all(butler.username not in s for s in subjects)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("new, field_errors, message", [
    ("short", [("new_password", "too_short")], "新密码至少需要 8 个字符。"),
    ("", [("new_password", "too_short")], "新密码至少需要 8 个字符。"),
    (PASSWORD, [("new_password", "unchanged")], "新密码不能与当前密码相同。"),
])
def test_a_weak_or_unchanged_new_password_is_refused(client, session, place, new, field_errors, message):
    token = token_for(place["butler"])
    r = change(client, token, new=new)
    assert r.status_code == 422
    assert errors(r) == field_errors
    assert r.get_json()["details"]["errors"][0]["message"] == message
    assert login(client, place["butler"].username, PASSWORD).status_code == 200


def test_the_body_is_checked_by_its_schema(client, place):
    token = token_for(place["butler"])
    r = client.post("/api/v1/me/password", json={"new_password": NEW, "role": "admin"}, headers=bearer(token))
    assert r.status_code == 422
    assert sorted(errors(r)) == [("current_password", "required"), ("role", "unknown_field")]
    assert errors(change(client, token, new="x" * 257)) == [("new_password", "too_long")]


def test_repeated_wrong_current_passwords_are_throttled_with_the_login_throttle(client, app, place):
    butler = place["butler"]
    token = token_for(butler)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert change(client, token, current="guess").status_code == 422
    r = change(client, token)  # even the right one waits now
    assert r.status_code == 429
    assert r.get_json()["error"] == "too_many_password_attempts"
    assert r.get_json()["message"].startswith("密码输错次数过多")
    assert 0 < int(r.headers["Retry-After"]) <= app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    # One throttle: logging in as this user waits as well.
    assert login(client, butler.username).status_code == 429
    assert login(client, butler.username, NEW).status_code == 429


def test_failed_logins_count_against_a_password_change_too(client, app, place):
    butler = place["butler"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, butler.username, "guess")
    assert change(client, token_for(butler)).status_code == 429


def test_the_change_is_audited_with_the_field_never_the_value(client, session, place):
    butler = place["butler"]
    token = token_for(butler, "手机")
    assert change(client, token).status_code == 200
    event = session.scalar(sa.select(AuditEvent))
    device_id = session.scalar(sa.select(Device.id).where(Device.name == "手机"))
    assert (event.action, event.record_type, event.record_id, event.user_id, event.fields, event.channel,
            event.device_id, event.community_id) == ("update", "user", butler.id, butler.id, ["password"], "api",
                                                     device_id, place["community"].id)
    row = session.execute(sa.select(AuditEvent.__table__)).one()
    assert NEW not in json.dumps([str(v) for v in row]) and PASSWORD not in json.dumps([str(v) for v in row])


# ---- a password a supervisor chose --------------------------------------------------------------

def test_a_technician_made_by_a_supervisor_must_set_their_own_password(client, session, place):
    r = client.post(f"/api/v1/teams/{place['team'].id}/technicians", json={"username": "wang.gong", "name": "王工"},
                    headers=bearer(token_for(place["supervisor"])))
    assert r.status_code == 201
    one_time = r.get_json()["initial_password"]
    answer = login(client, "wang.gong", one_time)
    assert answer.status_code == 200 and answer.get_json()["user"]["must_change_password"] is True
    token = answer.get_json()["token"]
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["must_change_password"] is True
    assert change(client, token, current=one_time).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["must_change_password"] is False
    assert session.scalar(sa.select(User.must_change_password).where(User.username == "wang.gong")) is False
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200


def test_a_reset_one_time_password_sets_the_flag_again(client, session, place):
    tech = make_technician(place["team"])
    assert tech.must_change_password is False
    r = client.post(f"/api/v1/teams/technicians/{tech.id}/password", headers=bearer(token_for(place["supervisor"])))
    assert r.status_code == 200
    session.expire_all()
    assert session.get(User, tech.id).must_change_password is True


def test_a_butler_made_or_reset_in_the_console_must_set_their_own_password(session, place):
    supervisor = place["supervisor"]
    made = auth_service.create_butler(session, actor=supervisor, community_id=place["community"].id,
                                      username="new.butler", name="新管家", password="given by boss")
    session.commit()
    assert made.must_change_password is True
    assert place["butler"].must_change_password is False
    auth_service.reset_password(session, actor=supervisor, user_id=place["butler"].id, password="also from boss")
    session.commit()
    assert session.get(User, place["butler"].id).must_change_password is True


def test_a_resident_who_joins_chose_their_own_password(session, place):
    """The flag is for passwords somebody else saw; a resident typed theirs when joining."""
    from server.joining import service as joining

    account = joining.NewAccount(username="wang.fang", password="her own words", name="王芳")
    user = joining._new_resident(session, account, community_id=place["community"].id,
                                 password_hash=joining._hashed(account))
    assert user.must_change_password is False


def test_while_the_flag_is_set_only_logout_and_me_answer(client, place):
    butler = make_user("butler", community_id=place["community"].id, must_change_password=True)
    token = token_for(butler)
    for method, path in (("get", "/api/v1/households"), ("get", "/api/v1/me/devices"),
                         ("get", "/api/v1/notifications"), ("get", "/api/v1/visit-template"),
                         ("post", "/api/v1/push/subscriptions")):
        r = getattr(client, method)(path, headers=bearer(token))
        assert r.status_code == 403, path
        assert r.get_json()["error"] == "password_change_required"
        assert r.get_json()["message"].startswith("请先修改密码")
    english = client.get("/api/v1/households", headers=bearer(token, "en"))
    assert english.get_json()["message"].startswith("Please set your own password first")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert client.patch("/api/v1/me", json={"language": "en"}, headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/health").status_code == 200  # public views stay public
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204


def test_sync_is_refused_and_takes_nothing_in_until_the_password_is_changed(client, session):
    community = make_community()
    butler = make_user("butler", community_id=community.id, must_change_password=True)
    household = make_household(community, make_grid(community, butler))
    phone = Phone(client, butler)
    visit = put("visit", str(uuid.uuid4()), complete_visit({"household_id": household.id, "visited_at": AT}))
    refused = phone.sync(visit)
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "password_change_required"
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
    # The phone kept its outbox; once the password is the user's own, the same mutation goes through.
    token = phone.headers["Authorization"].removeprefix("Bearer ")
    assert change(client, token).status_code == 200
    assert [r["status"] for r in results(phone.sync(visit))] == ["applied"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1


def test_the_login_answer_carries_the_flag(client, place):
    make_user("butler", username="reset.butler", must_change_password=True)
    body = login(client, "reset.butler").get_json()
    assert body["user"]["must_change_password"] is True


def test_a_new_technician_from_the_domain_has_the_flag_and_a_password_shown_once(session, place):
    user, password = people.create_technician(session, actor=place["supervisor"], team_id=place["team"].id,
                                              username="li.gong", name="李工")
    session.commit()
    assert user.must_change_password is True and password not in user.password_hash


def test_the_flag_cannot_be_cleared_but_by_changing_the_password(client, session, place):
    butler = make_user("butler", community_id=place["community"].id, must_change_password=True)
    token = token_for(butler)
    r = client.patch("/api/v1/me", json={"must_change_password": False}, headers=bearer(token))
    assert r.status_code == 422 and errors(r) == [("must_change_password", "unknown_field")]
    session.expire_all()
    assert session.get(User, butler.id).must_change_password is True
    assert client.get("/api/v1/households", headers=bearer(token)).status_code == 403
