"""Throttling logins without locking the owner out, under concurrency; devices and long polls per user."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa

from server.auth import service
from server.auth.known import COOKIE
from server.auth.models import Device, LoginFailure
from server.extensions import db
from server.notify.live import Hub, release_waiters
from server.records import utcnow
from tests.factories import PASSWORD, auth, complete_visit, make_community, make_grid, make_household, make_user
from tests.server.test_push_api import wait_until, waiters_of
from tests.support.console import csrf_of, log_in
from tests.support.phone import Phone, put, results


def login(client, username, password=PASSWORD, headers=None):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       headers=headers or {})


def fail(client, username, times):
    for _ in range(times):
        assert login(client, username, "wrong").status_code == 401


def age_attempts(session, seconds):
    """Every counted attempt happened `seconds` earlier than it did."""
    for attempt in session.scalars(sa.select(LoginFailure)):
        attempt.at -= timedelta(seconds=seconds)
    session.commit()


# ---- failures slow the guesser, not the owner -----------------------------------------------------

def test_guesses_from_anywhere_do_not_keep_the_owner_s_known_device_out(app, client):
    """Five wrong passwords used to shut the account for the whole window, from everywhere."""
    supervisor = make_user("supervisor")
    owner = app.test_client()
    assert login(owner, supervisor.username).status_code == 200  # this browser now holds a device cookie
    assert owner.get_cookie(COOKIE) is not None
    fail(client, supervisor.username, app.config["LOGIN_MAX_FAILURES"])
    stranger = app.test_client()
    refused = login(stranger, supervisor.username)  # a new device waits, even with the right password
    assert refused.status_code == 429 and refused.get_json()["error"] == "too_many_attempts"
    assert login(owner, supervisor.username).status_code == 200  # the owner's own browser goes in
    assert login(owner, supervisor.username, "wrong").status_code == 401


def test_the_console_s_browser_is_a_known_device_too(app, client):
    supervisor = make_user("supervisor", community_id=make_community().id)
    browser = app.test_client()
    assert log_in(browser, supervisor.username).status_code == 302
    browser.post("/console/logout", data={"csrf_token": csrf_of(browser, "/console/")})
    fail(client, supervisor.username, app.config["LOGIN_MAX_FAILURES"])
    assert log_in(app.test_client(), supervisor.username).status_code == 429
    answer = log_in(browser, supervisor.username)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/console/")


def test_a_token_the_device_still_holds_vouches_for_it_unless_the_phone_was_reported_lost(app, client, session):
    butler = make_user("butler")
    token = login(app.test_client(), butler.username).get_json()["token"]
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    fail(client, butler.username, app.config["LOGIN_MAX_FAILURES"])
    held = {"Authorization": f"Bearer {token}"}
    assert login(app.test_client(), butler.username, headers=held).status_code == 200
    session.execute(sa.update(Device).where(Device.token_hash == service.hash_token(token))
                    .values(revoke_reason="revoked"))
    session.commit()
    assert login(app.test_client(), butler.username, headers=held).status_code == 429


def test_a_cookie_for_another_user_or_forged_vouches_for_nothing(app, client):
    owner, victim = make_user(), make_user()
    mine = app.test_client()
    assert login(mine, owner.username).status_code == 200
    fail(client, victim.username, app.config["LOGIN_MAX_FAILURES"])
    assert login(mine, victim.username).status_code == 429
    forged = app.test_client()
    forged.set_cookie(COOKIE, mine.get_cookie(COOKIE).value[:-4] + "AAAA")
    assert login(forged, victim.username).status_code == 429


def test_each_failure_past_the_free_ones_doubles_the_wait(app, client, session):
    app.config["LOGIN_BACKOFF_SECONDS"] = 10.0
    user = make_user()
    fail(client, user.username, app.config["LOGIN_MAX_FAILURES"])
    first = login(client, user.username)
    assert first.status_code == 429 and 0 < first.get_json()["details"]["retry_after"] <= 11
    age_attempts(session, 11)  # the first wait is over: one more guess is let through
    assert login(client, user.username, "wrong").status_code == 401
    second = login(client, user.username)
    assert second.status_code == 429 and 11 < second.get_json()["details"]["retry_after"] <= 21
    assert int(second.headers["Retry-After"]) == second.get_json()["details"]["retry_after"]
    age_attempts(session, 21)
    assert login(client, user.username).status_code == 200  # the owner, who only waited seconds


def test_an_address_that_keeps_guessing_waits_longer_and_longer(app, client, session):
    app.config["LOGIN_BACKOFF_SECONDS"] = 10.0
    user, free = make_user(), app.config["LOGIN_MAX_FAILURES"] * 4
    for i in range(free):
        assert login(client, f"guess{i}", "wrong").status_code == 401
    refused = login(client, user.username)
    assert refused.status_code == 429 and 0 < refused.get_json()["details"]["retry_after"] <= 11
    other = app.test_client()
    assert other.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200


def test_concurrent_wrong_logins_check_no_more_passwords_than_the_limit(app, monkeypatch):
    """Sixty guesses at once for one account: the count and the attempt's row are written under a
    lock per subject, so only the free attempts reach the password check."""
    app.config["LOGIN_BACKOFF_SECONDS"] = 600.0  # no wait ends while the test runs
    username, checked, lock = make_user().username, [], threading.Lock()
    real = service._verify_password

    def counted(stored, password):
        with lock:
            checked.append(password)
        return real(stored, password)

    monkeypatch.setattr(service, "_verify_password", counted)
    start, statuses = threading.Barrier(60), []

    def guess(i):
        start.wait()
        statuses.append(login(app.test_client(), username, f"wrong{i}").status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 60 and set(statuses) <= {401, 429}
    assert len(checked) == statuses.count(401) == app.config["LOGIN_MAX_FAILURES"]


def test_the_password_is_checked_with_no_transaction_open_and_a_sync_goes_on_meanwhile(app, client, session,
                                                                                      monkeypatch):
    """On SQLite a write request takes the write lock at BEGIN: a login that held it through the
    password hash would stall every phone's sync."""
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    resident = make_user("resident")
    phone = Phone(app.test_client(), butler)
    visit = put("visit", str(uuid.uuid4()), complete_visit({"household_id": household.id, "visited_at": "2026-11-27T09:15:00+08:00"}))
    username = resident.username
    real, seen = service._verify_password, {}

    def sync_meanwhile(stored, password):
        seen["in_transaction"] = db.session().in_transaction()
        syncing = threading.Thread(target=lambda: seen.setdefault("sync", phone.sync(visit)))
        syncing.start()
        syncing.join(timeout=60)
        return real(stored, password)

    monkeypatch.setattr(service, "_verify_password", sync_meanwhile)
    assert login(client, username).status_code == 200
    assert seen["in_transaction"] is False
    assert [r["status"] for r in results(seen["sync"])] == ["applied"]


def test_a_wrong_current_password_is_checked_with_no_transaction_open(app, client, monkeypatch):
    user, real, seen = make_user(), service._verify_password, []

    def watched(stored, password):
        seen.append(db.session().in_transaction())
        return real(stored, password)

    monkeypatch.setattr(service, "_verify_password", watched)
    r = client.post("/api/v1/me/password", json={"current_password": "wrong", "new_password": "a-new-one-2026"},
                    headers=auth(user))
    assert r.status_code == 422 and seen == [False]


# ---- right passwords, too, are limited ------------------------------------------------------------

def test_successful_logins_are_limited_per_user(app, client):
    app.config["LOGIN_MAX_PER_USER"] = 3
    user, colleague = make_user(), make_user()
    for _ in range(3):
        assert login(client, user.username).status_code == 200
    refused = login(client, user.username)
    assert refused.status_code == 429 and refused.get_json()["error"] == "too_many_logins"
    assert refused.get_json()["message"].startswith("登录过于频繁")
    assert login(client, colleague.username).status_code == 200


def test_successful_logins_are_limited_per_address(app, client):
    app.config["LOGIN_MAX_PER_ADDRESS"] = 3
    users = [make_user() for _ in range(4)]
    for user in users[:3]:
        assert login(client, user.username).status_code == 200
    assert login(client, users[3].username).status_code == 429
    elsewhere = app.test_client().post("/api/v1/auth/login", json={"username": users[3].username, "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert elsewhere.status_code == 200


def test_past_the_device_cap_the_longest_idle_device_is_logged_out(app, client, session):
    app.config["MAX_DEVICES_PER_USER"] = 3
    user = make_user()
    tokens = [login(client, user.username).get_json()["token"] for _ in range(3)]
    # The first device is in daily use; the second has been idle longest.
    session.execute(sa.update(Device).where(Device.token_hash == service.hash_token(tokens[1]))
                    .values(last_seen_at=utcnow() - timedelta(days=30)))
    session.commit()
    newest = login(client, user.username).get_json()["token"]
    live = session.scalars(sa.select(Device.token_hash).where(Device.user_id == user.id,
                                                              Device.revoked_at.is_(None))).all()
    assert sorted(live) == sorted(service.hash_token(t) for t in (tokens[0], tokens[2], newest))
    gone = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[1]}"})
    # Log in again; nothing is wiped (it was not reported lost).
    assert gone.status_code == 401 and gone.get_json()["error"] == "invalid_token"
    assert session.scalar(sa.select(Device.revoke_reason).where(
        Device.token_hash == service.hash_token(tokens[1]))) == "device_limit"


# ---- long polls per user ---------------------------------------------------------------------------

def test_a_new_long_poll_past_the_cap_ends_the_user_s_oldest_which_answers_at_once(app, client):
    app.config["LONG_POLLS_PER_USER"] = 2
    user, other = make_user("resident"), make_user("resident")
    headers, other_headers = auth(user), auth(other)
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    answers: dict = {}

    def poll(key, with_headers):
        with app.test_client() as own:
            answers[key] = own.get(f"/api/v1/notifications?after={cursor}&wait=30", headers=with_headers)

    def start(key, with_headers=headers):
        thread = threading.Thread(target=poll, args=(key, with_headers))
        thread.start()
        return thread

    first = start("first")
    wait_until(lambda: len(waiters_of(app, user.id)) == 1, what="the first poll")
    second = start("second")
    someone_else = start("other", other_headers)
    wait_until(lambda: len(waiters_of(app, user.id)) == 2 and waiters_of(app, other.id), what="two more polls")
    assert first.is_alive()
    third = start("third")
    first.join(timeout=10)
    assert not first.is_alive(), "the oldest poll was not ended"
    ended = answers["first"]
    # The usual answer with nothing new: the app polls again from its cursor (moved up, at most).
    assert ended.status_code == 200 and set(ended.get_json()) == {"cursor", "events"}
    assert ended.get_json()["events"] == []
    assert tuple(map(int, ended.get_json()["cursor"].split("."))) >= tuple(map(int, cursor.split(".")))
    wait_until(lambda: len(waiters_of(app, user.id)) == 2, what="the third poll")
    assert second.is_alive() and third.is_alive() and someone_else.is_alive()  # another user is not touched
    release_waiters(app)
    for thread in (second, third, someone_else):
        thread.join(timeout=10)
    assert Hub.of(app).waiting == 0


# ---- the owner hears of it ------------------------------------------------------------------------

def account_notices(session, event):
    from server.notify.models import Notification, Recipient

    return [(n.title, n.ticket_id, sorted(session.scalars(sa.select(Recipient.user_id)
                                                           .where(Recipient.notification_id == n.id))))
            for n in session.scalars(sa.select(Notification).where(Notification.event == event))]


def test_repeated_failures_tell_the_user_and_for_staff_their_supervisors_once(app, client, session):
    community = make_community()
    butler = make_user("butler", community_id=community.id, name="李管家", username="li.guanjia")
    supervisor = make_user("supervisor", community_id=community.id)
    make_user("supervisor", community_id=make_community().id)  # another community's: not told
    fail(client, butler.username, app.config["LOGIN_MAX_FAILURES"] - 1)
    assert account_notices(session, "login.failed") == []
    fail(client, butler.username, 1)
    told, = account_notices(session, "login.failed")
    assert told == ("账号多次登录失败", butler.id, sorted([butler.id, supervisor.id]))
    assert "李" not in told[0] and "li.guanjia" not in told[0]
    age_attempts(session, 120)
    fail(client, butler.username, 1)  # the waits go on; the user has been told already
    assert len(account_notices(session, "login.failed")) == 1


def test_a_resident_s_failures_tell_only_the_resident_and_a_known_device_s_none(app, client, session):
    resident = make_user("resident")
    known = app.test_client()
    assert login(known, resident.username).status_code == 200
    fail(known, resident.username, app.config["LOGIN_MAX_FAILURES"])
    assert account_notices(session, "login.failed") == []  # the owner's own typos on their own phone
    fail(client, resident.username, app.config["LOGIN_MAX_FAILURES"])
    assert account_notices(session, "login.failed") == [("账号多次登录失败", resident.id, [resident.id])]


def test_a_device_logged_out_to_make_room_is_told_to_its_user(app, client, session):
    app.config["MAX_DEVICES_PER_USER"] = 2
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    make_user("supervisor", community_id=community.id)
    for _ in range(2):
        assert login(client, butler.username).status_code == 200
    assert account_notices(session, "device.revoked") == []
    assert login(client, butler.username).status_code == 200
    assert account_notices(session, "device.revoked") == [(
        "设备数量已满，最久未用的设备已退出登录", butler.id, [butler.id])]
