"""The push API: the VAPID key, subscriptions (idempotent, only to allowed push services), and the
open app's long poll."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.notify import vapid
from server.notify.live import Hub, release_waiters
from server.notify.models import PushSubscription
from server.notify.subscriptions import DEFAULT_ALLOWED_HOSTS, endpoint_problem
from tests.factories import auth, make_community, make_grid, make_household, make_user, token_for
from tests.support.app import statements_sent
from tests.server.test_notify_outbox import AUTH, P256DH


@pytest.fixture
def keyed(vapid_key):
    return vapid_key


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    return {"butler": butler, "resident": resident, "other": make_user("butler", community_id=community.id)}


def body(endpoint="https://fcm.googleapis.com/fcm/send/abc:def", **extra):
    return {"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}, **extra}


def field_errors(response):
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def test_the_public_key_is_the_configured_key_s_uncompressed_point(client, keyed):
    r = client.get("/api/v1/push/key")
    assert r.status_code == 200
    assert r.get_json()["key"] == vapid.public_key(keyed)
    assert len(vapid.public_key(keyed)) == 87  # 65 bytes, base64url without padding


def test_without_a_key_push_is_unavailable_in_the_user_s_language(client):
    r = client.get("/api/v1/push/key", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 503
    assert r.get_json()["error"] == "push_unavailable"
    assert "推送" in r.get_json()["message"]


def test_a_broken_key_file_stops_the_app_loudly(tmp_path, database_url):
    from server import create_app
    from tests.support.app import base_config

    config = base_config(tmp_path, database_url)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / vapid.KEY_FILE).write_text("not a key")
    with pytest.raises(vapid.VapidKeyError):
        create_app(config)


def test_subscribing_is_idempotent_by_endpoint(client, session, place):
    headers = auth(place["butler"])
    first = client.post("/api/v1/push/subscriptions", json=body(expirationTime=None), headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/push/subscriptions", json=body(), headers=headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    listed = client.get("/api/v1/push/subscriptions", headers=headers).get_json()["subscriptions"]
    assert [s["id"] for s in listed] == [first.get_json()["id"]]
    assert set(listed[0]) == {"id", "endpoint", "created_at"}  # the keys never go back out


def test_an_endpoint_another_user_had_moves_to_whoever_logged_in_last(client, session, place):
    client.post("/api/v1/push/subscriptions", json=body(), headers=auth(place["butler"]))
    r = client.post("/api/v1/push/subscriptions", json=body(), headers=auth(place["other"]))
    assert r.status_code == 200
    assert client.get("/api/v1/push/subscriptions", headers=auth(place["butler"])).get_json()["subscriptions"] == []


def test_endpoint_and_keys_are_stored_encrypted(client, session, place):
    client.post("/api/v1/push/subscriptions", json=body(), headers=auth(place["butler"]))
    raw = session.execute(sa.text("SELECT endpoint, p256dh, auth FROM push_subscription")).one()
    assert "fcm.googleapis.com" not in raw[0] and raw[1] != P256DH and raw[2] != AUTH


@pytest.mark.parametrize("endpoint, code", [
    ("https://evil.example.com/push", "push_host_not_allowed"),
    ("https://fcm.googleapis.com.evil.example/x", "push_host_not_allowed"),
    ("https://notfcm.googleapis.com/x", "push_host_not_allowed"),
    ("http://fcm.googleapis.com/x", "push_https_required"),
    ("https://fcm.googleapis.com:6379/x", "push_port_not_allowed"),  # another service of that machine
    ("https://fcm.googleapis.com:8443/x", "push_port_not_allowed"),
    ("http://127.0.0.1:9/x", "push_host_not_allowed"),  # loopback only when it is listed
    ("https://user:pw@fcm.googleapis.com/x", "invalid_type"),
    ("ftp://fcm.googleapis.com/x", "invalid_type"),
    ("not a url", "invalid_type"),
])
def test_an_endpoint_off_the_allowed_push_services_is_refused(client, session, place, endpoint, code):
    r = client.post("/api/v1/push/subscriptions", json=body(endpoint), headers=auth(place["butler"]))
    assert r.status_code == 422
    assert field_errors(r) == [("endpoint", code)]
    assert session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_bad_keys_are_refused(client, place):
    r = client.post("/api/v1/push/subscriptions", json={"endpoint": body()["endpoint"],
                                                        "keys": {"p256dh": "AAAA", "auth": "!!"}},
                    headers=auth(place["butler"]))
    assert r.status_code == 422
    assert sorted(field_errors(r)) == [("keys.auth", "invalid_push_key"), ("keys.p256dh", "invalid_push_key")]


@pytest.mark.parametrize("endpoint, allowed", [
    ("https://web.push.apple.com/QG9", True),  # push.apple.com allows its subdomains
    ("https://updates.push.services.mozilla.com/wpush/v2/x", True),
    ("https://wns2-par02p.notify.windows.com/w/?token=x", True),
    ("https://fcm.googleapis.com:443/fcm/send/x", True),
    ("https://apple.com/x", False),
])
def test_the_default_list_names_the_public_push_services(endpoint, allowed):
    hosts = tuple(DEFAULT_ALLOWED_HOSTS.split(","))
    assert (endpoint_problem(endpoint, hosts) is None) == allowed


def test_a_listed_loopback_host_may_use_plain_http_and_any_port(client, app, place):
    app.config["PUSH_ALLOWED_HOSTS"] = "127.0.0.1, localhost"
    for endpoint in ("http://127.0.0.1:8123/push/a", "http://localhost:9/push/b"):
        r = client.post("/api/v1/push/subscriptions", json=body(endpoint), headers=auth(place["butler"]))
        assert r.status_code == 201, r.get_json()
    r = client.post("/api/v1/push/subscriptions", json=body("http://10.0.0.1/push/c"), headers=auth(place["butler"]))
    assert field_errors(r) == [("endpoint", "push_host_not_allowed")]


def test_deleting_someone_else_s_subscription_is_not_found(client, place):
    made = client.post("/api/v1/push/subscriptions", json=body(), headers=auth(place["butler"])).get_json()
    assert client.delete(f"/api/v1/push/subscriptions/{made['id']}", headers=auth(place["other"])).status_code == 404
    assert client.delete(f"/api/v1/push/subscriptions/{made['id']}", headers=auth(place["butler"])).status_code == 204
    assert client.get("/api/v1/push/subscriptions", headers=auth(place["butler"])).get_json()["subscriptions"] == []


def test_logging_out_forgets_the_device_s_subscriptions(client, session, place):
    token = token_for(place["butler"])
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/push/subscriptions", json=body(), headers=headers)
    kept = client.post("/api/v1/push/subscriptions", json=body("https://fcm.googleapis.com/other"),
                       headers=auth(place["butler"])).get_json()
    assert client.post("/api/v1/auth/logout", headers=headers).status_code in (200, 204)
    assert [s.id for s in session.scalars(sa.select(PushSubscription))] == [kept["id"]]


# ---- the open app's channel --------------------------------------------------------------------

def raise_ticket(client, resident):
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "漏水"}, headers=auth(resident))
    assert r.status_code == 201
    return r.get_json()["id"]


def test_without_a_cursor_the_long_poll_answers_at_once_with_where_to_start(client, place):
    raise_ticket(client, place["resident"])
    r = client.get("/api/v1/notifications", headers=auth(place["butler"]))
    assert r.get_json()["events"] == []
    ticket_id = raise_ticket(client, place["resident"])
    r = client.get(f"/api/v1/notifications?after={r.get_json()['cursor']}&wait=0", headers=auth(place["butler"]))
    assert [(e["event"], e["id"]) for e in r.get_json()["events"]] == [("ticket.created", ticket_id)]
    assert set(r.get_json()["events"][0]) == {"event", "id", "title", "at"}


def test_the_long_poll_shows_a_user_only_their_own_events(client, place):
    cursor = client.get("/api/v1/notifications", headers=auth(place["other"])).get_json()["cursor"]
    raise_ticket(client, place["resident"])
    r = client.get(f"/api/v1/notifications?after={cursor}&wait=0", headers=auth(place["other"]))
    assert r.get_json()["events"] == []
    # The cursor moves past other people's events (none of theirs lies between), never back.
    moved = r.get_json()["cursor"]
    assert tuple(map(int, moved.split("."))) >= tuple(map(int, cursor.split(".")))


def test_the_long_poll_wakes_when_an_event_arrives(app, client, place):
    headers = auth(place["butler"])
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    waiter, answer = long_poll_in_background(app, headers, cursor, wait=20)
    time.sleep(0.5)
    assert waiter.is_alive()  # nothing yet: it waits
    with app.test_client() as other:
        ticket_id = raise_ticket(other, place["resident"])
    waiter.join(timeout=15)
    assert not waiter.is_alive(), "the long poll did not wake"
    assert [e["id"] for e in answer["response"]["events"]] == [ticket_id]


def long_poll_in_background(app, headers: dict, cursor: str, *, wait: float) -> tuple[threading.Thread, dict]:
    """An open app's long poll on a thread of its own: the thread, and where its answer lands
    (`answer["response"]`, the JSON) once it returns."""
    answer: dict = {}

    def poll():
        with app.test_client() as other:
            answer["response"] = other.get(f"/api/v1/notifications?after={cursor}&wait={wait}",
                                           headers=headers).get_json()

    waiter = threading.Thread(target=poll)
    waiter.start()
    return waiter, answer


@pytest.mark.parametrize("query, field", [
    ("after=abc", "after"), ("after=-1", "after"), ("after=1.2.3", "after"), ("after=1.", "after"),
    ("after=.1", "after"), ("after=-1.2", "after"), ("after=1.-2", "after"), ("after=١.٢", "after"),
    ("after=" + "9" * 19 + ".1", "after"),
    ("after=1.1&wait=soon", "wait"), ("after=1.1&wait=nan", "wait"), ("after=1.1&wait=inf", "wait"),
])
def test_a_bad_cursor_or_wait_is_a_clear_error(client, place, query, field):
    r = client.get(f"/api/v1/notifications?{query}", headers={**auth(place["butler"]), "Accept-Language": "zh-CN"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "validation_failed" and body["message"]
    assert [(e["field"], e["code"]) for e in body["details"]["errors"]] == [(field, "invalid_type")]


def test_without_a_token_the_long_poll_is_refused_in_the_usual_shape(client):
    r = client.get("/api/v1/notifications?after=1.1&wait=0")
    assert r.status_code == 401
    assert r.get_json()["error"] == "unauthorized" and r.get_json()["message"]
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_phone_s_long_poll_is_told_to_wipe(client, session, place):
    token = token_for(place["butler"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/notifications", headers=headers).status_code == 200
    devices = client.get("/api/v1/me/devices", headers=auth(place["butler"])).get_json()["devices"]
    lost = [d["id"] for d in devices if d["name"] == "test"][0]
    assert client.delete(f"/api/v1/me/devices/{lost}", headers=auth(place["butler"])).status_code == 204
    r = client.get("/api/v1/notifications?after=1.1&wait=5", headers=headers)
    assert r.status_code == 401
    assert r.get_json()["error"] == "device_revoked" and r.get_json()["details"] == {"wipe": True}


def test_an_old_cursor_from_before_the_upgrade_is_answered_like_none(client, place):
    raise_ticket(client, place["resident"])
    start = client.get("/api/v1/notifications", headers=auth(place["butler"])).get_json()
    r = client.get("/api/v1/notifications?after=1&wait=20", headers=auth(place["butler"]))
    assert r.status_code == 200
    assert r.get_json() == {"cursor": start["cursor"], "events": []}  # at once: where to start, no old news


def test_an_event_written_while_no_server_runs_reaches_the_app_that_resumes(app, client, place, tmp_path,
                                                                            database_url):
    from server import create_app
    from tests.support.app import base_config

    headers = auth(place["butler"])
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    release_waiters(app)  # the server stops; the event is written by another process meanwhile
    ticket_id = raise_ticket(client, place["resident"])
    restarted = create_app(base_config(tmp_path / "again", database_url))
    try:
        r = restarted.test_client().get(f"/api/v1/notifications?after={cursor}&wait=20", headers=headers)
        assert [e["id"] for e in r.get_json()["events"]] == [ticket_id]
    finally:
        release_waiters(restarted)
        with restarted.app_context():
            db.session.remove()
            db.engine.dispose()


def wait_until(condition, timeout=10.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def start_poll(app, headers, cursor, answers, key):
    def run():
        with app.test_client() as other:
            answers[key] = other.get(f"/api/v1/notifications?after={cursor}&wait=20", headers=headers).get_json()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waiters_of(app, user_id):
    hub = Hub.of(app)
    with hub.lock:
        return list(hub.waiters.get(user_id, ()))


def test_an_event_wakes_only_its_recipients_waiters(app, client, place):
    butler, other = auth(place["butler"]), auth(place["other"])
    cursors = {k: client.get("/api/v1/notifications", headers=h).get_json()["cursor"]
               for k, h in (("butler", butler), ("other", other))}
    answers = {}
    threads = {"butler": start_poll(app, butler, cursors["butler"], answers, "butler"),
               "other": start_poll(app, other, cursors["other"], answers, "other")}
    wait_until(lambda: waiters_of(app, place["butler"].id) and waiters_of(app, place["other"].id), what="both polls")
    # The watcher's first look wakes everyone once (it cannot know what came before it); then quiet.
    wait_until(lambda: Hub.of(app).checks >= 1 and not any(
        w.news.is_set() for u in ("butler", "other") for w in waiters_of(app, place[u].id)),
        what="the watcher's first look")
    ticket_id = raise_ticket(client, place["resident"])
    threads["butler"].join(timeout=15)
    assert not threads["butler"].is_alive(), "the butler's poll did not wake"
    assert [e["id"] for e in answers["butler"]["events"]] == [ticket_id]
    assert threads["other"].is_alive()  # still waiting, and never woken: no reading on its behalf
    assert [w.news.is_set() for w in waiters_of(app, place["other"].id)] == [False]
    release_waiters(app)
    threads["other"].join(timeout=15)
    assert answers["other"]["events"] == []


def test_the_watcher_stops_looking_when_nobody_waits(app, client, place, monkeypatch):
    monkeypatch.setattr(Hub, "IDLE_EXIT", 0.2)
    headers = auth(place["butler"])
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    assert client.get(f"/api/v1/notifications?after={cursor}&wait=0.6", headers=headers).get_json()["events"] == []
    hub = Hub.of(app)
    wait_until(lambda: hub.thread is None, what="the watcher to stop")
    looked = hub.checks
    raise_ticket(client, place["resident"])  # news, but nobody waits: nothing is read for it
    time.sleep(1.0)
    assert hub.checks == looked and hub.thread is None


def test_an_event_committed_behind_an_older_transaction_is_woken_for_once_readable(app, client, place, monkeypatch):
    """Writers may commit out of order: an event can be committed (and announced) while the
    high-water mark is still held below it by an older open transaction. The watcher looks again
    until the mark passes it, with no further announcement."""
    from server.notify import api as notify_api
    from server.notify import live
    from server.syncing.changes import high_water

    held = {"at": None}

    def held_back(session):
        mark = high_water(session)
        return mark if held["at"] is None else min(mark, held["at"])

    monkeypatch.setattr(live, "high_water", held_back)
    monkeypatch.setattr(notify_api, "high_water", held_back)
    headers = auth(place["butler"])
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    held["at"] = int(cursor.split(".")[0])  # an older transaction is still open just above here
    answers = {}
    thread = start_poll(app, headers, cursor, answers, "butler")
    wait_until(lambda: waiters_of(app, place["butler"].id), what="the poll")
    ticket_id = raise_ticket(client, place["resident"])
    hub = Hub.of(app)
    looked = hub.checks
    wait_until(lambda: hub.checks >= looked + 2, what="the watcher to look past the announcement")
    assert thread.is_alive()  # committed, but not readable yet: nothing to answer
    held["at"] = None  # the older transaction ends
    thread.join(timeout=15)
    assert not thread.is_alive(), "the poll was not woken once the event became readable"
    assert [e["id"] for e in answers["butler"]["events"]] == [ticket_id]


def test_a_long_poll_that_hears_nothing_reads_once(app, client, place):
    headers = auth(place["butler"])
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    # The first poll starts the watcher, whose first look wakes it once; the second finds it running.
    assert client.get(f"/api/v1/notifications?after={cursor}&wait=0.5", headers=headers).get_json()["events"] == []
    with statements_sent(app) as sent:
        r = client.get(f"/api/v1/notifications?after={cursor}&wait=0.5", headers=headers)
    assert r.status_code == 200 and r.get_json()["events"] == []
    readings = [s for s in sent if "FROM notification JOIN notification_recipient" in s]
    assert len(readings) == 1, sent  # not woken: nothing new to read when the wait ends
    release_waiters(app)
