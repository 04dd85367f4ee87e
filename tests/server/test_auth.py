"""Logging in and out, device tokens, and throttling of failed logins."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from server import create_app
from server.auth.models import Device, LoginFailure
from server.extensions import db
from server.auth.service import hash_token
from server.records import utcnow
from tests.support.app import base_config
from tests.factories import PASSWORD, auth, make_user


def login(client, username, password=PASSWORD, **extra):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password, **extra})


def test_login_returns_a_token_and_the_user(client, session):
    user = make_user("butler", name="李管家")
    r = login(client, user.username)
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"token", "user"}
    assert body["user"] == {"id": user.id, "username": user.username, "role": "butler", "name": "李管家",
                            "language": "zh-CN", "community_id": None, "household_id": None,
                            "household_role": None, "must_change_password": False}
    assert len(body["token"]) >= 40


def test_token_is_stored_only_as_its_hash(client, session):
    user = make_user()
    token = login(client, user.username).get_json()["token"]
    stored = session.scalars(sa.select(Device.token_hash).where(Device.user_id == user.id)).all()
    assert stored == [hash_token(token)]
    assert token not in stored


def test_each_login_registers_its_own_device(client, session):
    user = make_user()
    first = login(client, user.username, device_name="手机").get_json()["token"]
    second = login(client, user.username, device_name="平板").get_json()["token"]
    assert first != second
    names = sorted(session.scalars(sa.select(Device.name).where(Device.user_id == user.id)))
    assert names == ["平板", "手机"]


def test_me_answers_with_the_token_s_user(client):
    user = make_user("supervisor")
    token = login(client, user.username).get_json()["token"]
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.get_json()["username"] == user.username


def test_wrong_password_is_refused_with_json(client):
    user = make_user()
    r = login(client, user.username, "wrong password")
    assert r.status_code == 401
    assert r.get_json()["error"] == "invalid_credentials"
    assert r.get_json()["message"] == "用户名或密码不正确。"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    make_user(username="known")
    unknown = login(client, "nobody", "x")
    wrong = login(client, "known", "x")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()


def test_inactive_user_cannot_log_in(client):
    user = make_user(active=False)
    assert login(client, user.username).status_code == 401


def test_logout_revokes_only_this_device(client):
    user = make_user()
    phone = login(client, user.username).get_json()["token"]
    tablet = login(client, user.username).get_json()["token"]
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {phone}"}).status_code == 204
    gone = client.get("/api/v1/me", headers={"Authorization": f"Bearer {phone}"})
    assert gone.status_code == 401
    assert gone.get_json()["error"] == "invalid_token"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {tablet}"}).status_code == 200


def test_a_user_can_revoke_a_lost_phone_from_another_device(client):
    user = make_user()
    lost = login(client, user.username, device_name="丢失的手机").get_json()["token"]
    desk = {"Authorization": f"Bearer {login(client, user.username).get_json()['token']}"}
    devices = client.get("/api/v1/me/devices", headers=desk).get_json()["devices"]
    lost_id = next(d["id"] for d in devices if d["name"] == "丢失的手机")
    assert client.delete(f"/api/v1/me/devices/{lost_id}", headers=desk).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {lost}"}).status_code == 401


def test_a_user_cannot_revoke_someone_else_s_device(client, session):
    owner, other = make_user(), make_user()
    login(client, owner.username)
    device_id = session.scalar(sa.select(Device.id).where(Device.user_id == owner.id))
    r = client.delete(f"/api/v1/me/devices/{device_id}", headers=auth(other))
    assert r.status_code == 404
    assert session.get(Device, device_id).revoked_at is None


def test_missing_token_is_401(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.get_json()["error"] == "unauthorized"


def test_malformed_authorization_header_is_401(client):
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_repeated_failures_throttle_the_username(client, app):
    user = make_user()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert login(client, user.username, "wrong").status_code == 401
    r = login(client, user.username)  # even the right password waits now
    assert r.status_code == 429
    assert r.get_json()["error"] == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    assert r.get_json()["details"]["retry_after"] == int(r.headers["Retry-After"])


def test_throttling_one_username_leaves_others_alone(client, app):
    victim, colleague = make_user(), make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, victim.username, "wrong")
    assert login(client, colleague.username).status_code == 200


def test_one_address_guessing_many_usernames_is_throttled(client, app):
    user = make_user()
    for i in range(app.config["LOGIN_MAX_FAILURES"] * 4):
        login(client, f"guess{i}", "wrong")
    assert login(client, user.username).status_code == 429


def test_behind_a_trusted_balancer_each_client_address_is_throttled_on_its_own(app, client):
    """With TRUSTED_PROXIES set, the address is the one the balancer saw (X-Forwarded-For): one
    guesser behind the balancer does not lock every phone behind it out. Without it, the header is
    the client's own claim and is not believed."""
    user, guesses = make_user(), app.config["LOGIN_MAX_FAILURES"] * 4
    behind = create_app({**base_config(Path(app.instance_path) / "behind", app.config["DATABASE_URL"]),
                         "TRUSTED_PROXIES": 1})

    def login_from(test_client, address, username, password="wrong"):
        return test_client.post("/api/v1/auth/login", json={"username": username, "password": password},
                                headers={"X-Forwarded-For": address})

    for i in range(guesses):
        login_from(client, "203.0.113.8", f"other{i}")
    assert login_from(client, "198.51.100.21", user.username, PASSWORD).status_code == 429
    db.session.execute(sa.delete(LoginFailure))  # a fresh start for the balanced app
    db.session.commit()
    try:
        for i in range(guesses):
            login_from(behind.test_client(), "203.0.113.7", f"guess{i}")
        assert login_from(behind.test_client(), "203.0.113.7", user.username, PASSWORD).status_code == 429
        assert login_from(behind.test_client(), "198.51.100.20", user.username, PASSWORD).status_code == 200
    finally:
        with behind.app_context():
            db.engine.dispose()


def test_failures_older_than_the_window_no_longer_count(client, app, session):
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, user.username, "wrong")
    old = utcnow() - timedelta(seconds=app.config["LOGIN_FAILURE_WINDOW_SECONDS"] + 5)
    session.execute(sa.update(LoginFailure).values(at=old))
    session.commit()
    assert login(client, user.username).status_code == 200


def test_failed_logins_are_kept_without_the_username(client, session):
    make_user(username="wang.fang")
    login(client, "wang.fang", "wrong")
    subjects = session.scalars(sa.select(LoginFailure.subject)).all()
    assert subjects and all("wang" not in s for s in subjects)


def test_login_rejects_unknown_keys(client):
    user = make_user()
    r = login(client, user.username, role="admin")
    assert r.status_code == 422
    assert r.get_json()["details"]["errors"][0] == {"field": "role", "code": "unknown_field",
                                                   "message": "不能提交字段 role。"}


def test_a_user_can_switch_the_api_language_to_english(client):
    user = make_user()
    headers = auth(user)
    assert client.patch("/api/v1/me", json={"language": "en"}, headers=headers).status_code == 200
    r = client.get("/api/v1/households/nope", headers=headers)
    assert r.get_json()["message"] == "Not found."
