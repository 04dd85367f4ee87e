"""The notification worker against a local push service that checks VAPID and decrypts (RFC 8291):
what arrives, what a push service's refusals do, and that no message is lost or sent twice."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from py_vapid import Vapid

from server.errors import ValidationFailed
from server.notify import vapid, webhooks
from server.notify.channels import Outcome, Webhooks
from server.notify.models import Delivery, Notification, PushSubscription, Webhook
from server.notify.worker import Settings, Worker, claim
from server.notify.webhooks import add as add_webhook
from tests.factories import auth, make_community, make_grid, make_household, make_user
from tests.support.pushservice import PushService

T0 = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


class Clock:
    """The worker's time, set by the test; it starts just after the outbox rows the test writes."""

    def __init__(self):
        self.start = self.now = datetime.now(timezone.utc) + timedelta(seconds=5)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def key(app, vapid_key):
    app.config.update(PUSH_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_ALLOWED_HOSTS="127.0.0.1", PUSH_TIMEOUT_SECONDS=2.0)
    return vapid_key


@pytest.fixture
def push_service():
    with PushService() as service:
        yield service


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="5栋", unit="1单元")
    resident = make_user("resident", community_id=community.id, household_id=household.id, name="刘女士")
    return {"community": community, "butler": butler, "resident": resident, "household": household}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def worker(app, key, clock):
    worker = Worker.from_app(app, clock=clock, escalate_every=0, name="worker-a")
    yield worker
    worker.close()


def phone(client, push_service, key, user):
    """A browser of `user` subscribed through the API, as the app does."""
    subscriber = push_service.subscribe(application_server_key=vapid.public_key(key))
    r = client.post("/api/v1/push/subscriptions", json=subscriber.to_json(), headers=auth(user))
    assert r.status_code == 201, r.get_json()
    return subscriber


def raise_ticket(client, resident):
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "厨房漏水，请联系刘女士 13800138000"},
                    headers=auth(resident))
    assert r.status_code == 201
    return r.get_json()["id"]


def delivery(session):
    session.rollback()  # a new snapshot: the worker wrote in its own session
    return session.scalar(sa.select(Delivery).order_by(Delivery.id))


def test_a_new_ticket_reaches_the_butler_s_browser_encrypted_as_a_poke(client, session, place, push_service, key,
                                                                        worker):
    browser = phone(client, push_service, key, place["butler"])
    ticket_id = raise_ticket(client, place["resident"])
    assert worker.run_once() == {"sent": 1}
    [message] = push_service.wait_for_messages(1)
    assert message.subscription == browser.name
    assert message.json == {"event": "ticket.created", "id": ticket_id, "title": "报修 · 5栋1单元"}
    assert "刘女士" not in message.text and "13800138000" not in message.text
    assert (message.urgency, message.topic, message.ttl) == ("high", ticket_id.replace("-", ""), 24 * 3600)
    assert message.vapid.claims["aud"] == push_service.url and message.vapid.claims["sub"].startswith("mailto:")
    assert push_service.failures == []
    assert (delivery(session).status, delivery(session).attempts) == ("sent", 1)
    assert worker.run_once() == {}  # sent once


def test_gone_410_deletes_the_subscription_and_others_still_get_theirs(client, session, place, push_service, key,
                                                                      worker):
    old = phone(client, push_service, key, place["butler"])
    new = phone(client, push_service, key, place["butler"])
    push_service.unsubscribe(old)
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"gone": 1, "sent": 1}
    assert [m.subscription for m in push_service.messages] == [new.name]
    endpoints = [s.endpoint for s in session.scalars(sa.select(PushSubscription))]
    assert endpoints == [new.endpoint]


def test_429_is_retried_after_retry_after(client, session, place, push_service, key, worker, clock):
    browser = phone(client, push_service, key, place["butler"])
    browser.answer(429, times=1, retry_after=120)
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"retry": 1}
    row = delivery(session)
    assert (row.status, row.next_attempt_at, row.last_error) == ("pending", clock.start + timedelta(seconds=120), "http 429")
    clock.advance(seconds=119)
    assert worker.run_once() == {}  # not before the service said
    clock.advance(seconds=1)
    assert worker.run_once() == {"sent": 1}
    assert len(push_service.wait_for_messages(1)) == 1
    assert delivery(session).attempts == 2


def test_a_retry_after_date_is_honoured_too(client, session, place, push_service, key, worker, clock):
    from email.utils import format_datetime

    browser = phone(client, push_service, key, place["butler"])
    browser.answer(503, times=1, retry_after=format_datetime(datetime.now(timezone.utc) + timedelta(seconds=300),
                                                             usegmt=True))
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"retry": 1}
    wait = (delivery(session).next_attempt_at - clock.start).total_seconds()
    assert 280 <= wait <= 300


def test_without_retry_after_the_worker_backs_off_exponentially(client, session, place, push_service, key, worker,
                                                               clock):
    browser = phone(client, push_service, key, place["butler"])
    browser.answer(503, times=3)
    raise_ticket(client, place["resident"])
    waits = []
    for _ in range(3):
        assert worker.run_once() == {"retry": 1}
        row = delivery(session)
        waits.append((row.next_attempt_at - clock.now).total_seconds())
        clock.now = row.next_attempt_at
    assert 8 <= waits[0] <= 12 and 16 <= waits[1] <= 24 and 32 <= waits[2] <= 48
    assert worker.run_once() == {"sent": 1}


@pytest.mark.parametrize("status", [400, 403])
def test_a_vapid_problem_fails_the_delivery_but_keeps_the_subscription(client, session, place, push_service, key,
                                                                      worker, status):
    browser = phone(client, push_service, key, place["butler"])
    browser.answer(status)
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"failed": 1}
    assert session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 1


def test_a_wrong_vapid_key_is_refused_by_the_service_and_nothing_is_deleted(client, session, app, place,
                                                                           push_service, key, clock):
    phone(client, push_service, key, place["butler"])
    other = Vapid()
    other.generate_keys()
    app.config["VAPID_PRIVATE_KEY"] = other.private_pem().decode()
    vapid.init_app(app)
    raise_ticket(client, place["resident"])
    liar = Worker.from_app(app, clock=clock, escalate_every=0)
    try:
        assert liar.run_once() == {"failed": 1}
    finally:
        liar.close()
    assert [r.status for r in push_service.failures] == [403]
    assert "applicationServerKey" in push_service.failures[0].problem
    assert session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 1


def test_a_hung_push_service_times_out_and_is_retried(client, session, place, push_service, key, worker):
    browser = phone(client, push_service, key, place["butler"])
    browser.hang(times=1)
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"retry": 1}  # after PUSH_TIMEOUT_SECONDS, not forever
    assert delivery(session).last_error in ("ReadTimeout", "ConnectionError", "Timeout")


def test_a_worker_that_dies_after_claiming_loses_nothing(client, session, app, place, push_service, key, worker,
                                                         clock):
    phone(client, push_service, key, place["butler"])
    raise_ticket(client, place["resident"])
    settings = Settings.from_config(app.config)
    assert len(claim(session, worker="dead-worker", now=clock.now, settings=settings)) == 1  # …and it died
    assert worker.run_once() == {}  # the dead worker's lease still holds
    clock.advance(seconds=settings.lease.total_seconds() + 1)
    assert worker.run_once() == {"sent": 1}
    assert len(push_service.wait_for_messages(1)) == 1
    assert delivery(session).attempts == 2


def test_a_delivery_is_given_up_after_its_ttl(client, session, place, push_service, key, worker, clock):
    browser = phone(client, push_service, key, place["butler"])
    browser.answer(503)
    raise_ticket(client, place["resident"])
    while (state := worker.run_once()) == {"retry": 1}:
        clock.now = delivery(session).next_attempt_at
    assert state == {"failed": 1}
    assert delivery(session).status == "failed"


def test_two_workers_claiming_at_once_never_take_the_same_delivery(app, session, place):
    from server.extensions import db
    from tests.factories import make_ticket

    ticket = make_ticket(place["household"])
    notification = Notification(event="ticket.created", ticket_id=ticket.id, title="报修", urgent=True)
    session.add(notification)
    session.flush()
    session.execute(sa.insert(Delivery), [{"notification_id": notification.id, "channel": "webhook", "status": "pending",
                                           "attempts": 0, "next_attempt_at": T0} for _ in range(300)])
    session.commit()
    settings = Settings(batch=40)
    barrier = threading.Barrier(2)
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def work(name):
        with app.app_context():
            barrier.wait()
            while ids := claim(db.session, worker=name, now=T0, settings=settings):
                taken[name] += ids
            db.session.remove()

    threads = [threading.Thread(target=work, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not set(taken["a"]) & set(taken["b"])
    assert len(taken["a"]) + len(taken["b"]) == 300
    if session.get_bind().dialect.name == "postgresql":  # SQLite runs one writer at a time: one may take all
        assert taken["a"] and taken["b"]  # both worked (SKIP LOCKED: neither waited for the other's rows)


# ---- webhooks ---------------------------------------------------------------------------------

class LocalServer:
    """An HTTP server on a loopback address, in a thread, until close()."""

    def serve(self, host: str, handler: type[BaseHTTPRequestHandler]) -> str:
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return f"http://{host}:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Robot(LocalServer):
    """A stand-in of a WeCom group robot: takes {"msgtype": "text", ...}, answers {"errcode": n}."""

    def __init__(self):
        self.received: list[dict] = []
        self.errcodes: list[int] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                robot.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                body = json.dumps({"errcode": robot.errcodes.pop(0) if robot.errcodes else 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.url = self.serve("127.0.0.1", Handler) + "/cgi-bin/webhook/send?key=secret"


@pytest.fixture
def robot():
    robot = Robot()
    yield robot
    robot.close()


def test_a_community_s_group_robot_hears_of_new_tickets_without_personal_data(client, session, place, worker,
                                                                             robot, clock):
    add_webhook(session, community_id=place["community"].id, url=robot.url, kind="wecom", hosts=("127.0.0.1",))
    session.commit()
    robot.errcodes = [45009]  # WeCom's "too often"
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"retry": 1}
    clock.advance(seconds=61)
    assert worker.run_once() == {"sent": 1}
    assert robot.received[-1] == {"msgtype": "text", "text": {"content": "【睿管家】新工单：报修 · 5栋1单元"}}
    # the URL's key is stored encrypted
    assert "secret" not in session.execute(sa.text("SELECT url FROM notification_webhook")).scalar()


@pytest.mark.parametrize("url, code", [
    ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "webhook_https_required"),
    ("https://qyapi.weixin.qq.com:6379/cgi-bin/webhook/send?key=k", "webhook_port_not_allowed"),
    ("https://example.com/hook", "webhook_host_not_allowed"),
    ("https://qyapi.weixin.qq.com.evil.example/hook", "webhook_host_not_allowed"),
    ("http://127.0.0.1:8080/hook", "webhook_host_not_allowed"),  # loopback only when it is listed
    ("https://user:pw@qyapi.weixin.qq.com/hook", "invalid_type"),
    ("ftp://qyapi.weixin.qq.com/hook", "invalid_type"),
])
def test_a_webhook_off_the_rules_is_refused_when_added(session, app, place, url, code):
    with pytest.raises(ValidationFailed) as refused:
        add_webhook(session, community_id=place["community"].id, url=url, kind="json",
                    hosts=webhooks.allowed_hosts(app.config))
    assert [(error.field, error.code) for error in refused.value.errors] == [("url", code)]
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_the_default_webhook_hosts_are_wecom_s_robots_on_https_s_port(session, app, place):
    for url in ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                "https://qyapi.weixin.qq.com:443/cgi-bin/webhook/send?key=k"):
        add_webhook(session, community_id=place["community"].id, url=url, kind="wecom",
                    hosts=webhooks.allowed_hosts(app.config))
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 2


def test_the_command_line_explains_a_refused_webhook_in_both_languages(runner, session, place):
    result = runner.invoke(args=["webhook", "add", place["community"].id,
                                 "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=k"])
    assert result.exit_code != 0
    assert "网址只能使用默认端口（https 为 443）。 / URL must use the default port (443 for https)." in result.output
    result = runner.invoke(args=["webhook", "add", place["community"].id, "https://hooks.example.com/x", "--kind", "json"])
    assert result.exit_code != 0 and "GUANJIA_WEBHOOK_ALLOWED_HOSTS" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_a_webhook_whose_host_is_no_longer_listed_fails_without_a_request(robot):
    outcome = Webhooks(2.0, ("qyapi.weixin.qq.com",)).send("wecom", robot.url, {"event": "ticket.created",
                                                                               "title": "报修 · 5栋1单元"})
    assert outcome == Outcome("failed", "webhook_host_not_allowed")
    assert robot.received == []


# ---- redirects are never followed -------------------------------------------------------------

class Answering(LocalServer):
    """A local HTTP server that logs every request's method and path and answers `status` with
    `headers` (a redirect's Location)."""

    def __init__(self, host: str = "127.0.0.1", status: int = 201, headers: dict | None = None):
        self.requests: list[str] = []
        answering = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answering.requests.append(f"{self.command} {self.path}")
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.url = self.serve(host, Handler)


@pytest.fixture
def elsewhere():
    """Where a redirect points: another loopback address, off every allowed list."""
    server = Answering("127.0.0.2")
    yield server
    server.close()


@pytest.fixture
def redirector(elsewhere):
    """An allowed host (127.0.0.1) whose every answer is 307 to `elsewhere`."""
    server = Answering("127.0.0.1", 307, {"Location": f"{elsewhere.url}/collect"})
    yield server
    server.close()


def test_a_push_service_answering_a_redirect_is_not_followed(client, session, place, push_service, key, worker,
                                                            redirector, elsewhere):
    subscriber = push_service.subscribe(application_server_key=vapid.public_key(key))
    body = {**subscriber.to_json(), "endpoint": f"{redirector.url}/push/moved"}
    assert client.post("/api/v1/push/subscriptions", json=body, headers=auth(place["butler"])).status_code == 201
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"failed": 1}
    assert redirector.requests == ["POST /push/moved"]
    assert elsewhere.requests == []  # no second request
    row = delivery(session)
    assert (row.status, row.last_error) == ("failed", "redirect 307 not followed (to 127.0.0.2)")
    assert session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 1  # kept: not a 404/410


def test_a_webhook_answering_a_redirect_is_not_followed(client, session, place, key, worker, redirector, elsewhere):
    add_webhook(session, community_id=place["community"].id, url=f"{redirector.url}/hook?key=k", kind="json",
                hosts=("127.0.0.1",))
    session.commit()
    raise_ticket(client, place["resident"])
    assert worker.run_once() == {"failed": 1}
    assert redirector.requests == ["POST /hook?key=k"]
    assert elsewhere.requests == []
    row = delivery(session)
    assert (row.status, row.last_error) == ("failed", "redirect 307 not followed (to 127.0.0.2)")


# ---- the real command, killed -----------------------------------------------------------------

def test_a_worker_process_killed_mid_send_loses_nothing_and_a_restarted_one_sends_it(
        client, session, app, database_url, tmp_path, place, push_service, key):
    """`flask notify-worker` claims, the push service hangs, the process is SIGKILLed; the next
    worker sends the message once its lease has run out."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.support.app import TEST_DATA_KEY

    if database_url.startswith("sqlite"):
        session.get_bind().dispose()  # let the worker process write the file
    browser = phone(client, push_service, key, place["butler"])
    browser.hang(times=1)
    ticket_id = raise_ticket(client, place["resident"])
    env = {**os.environ, "GUANJIA_DATABASE_URL": database_url, "GUANJIA_DATA_KEY": TEST_DATA_KEY,
           "GUANJIA_SECRET_KEY": "test-secret", "GUANJIA_INSTANCE_PATH": str(tmp_path / "worker-instance"),
           "GUANJIA_VAPID_PRIVATE_KEY": key.private_pem().decode(), "GUANJIA_PUSH_ALLOWED_HOSTS": "127.0.0.1",
           "GUANJIA_PUSH_TIMEOUT_SECONDS": "30", "GUANJIA_NOTIFY_LEASE_SECONDS": "3",
           "GUANJIA_NOTIFY_POLL_SECONDS": "0.1", "GUANJIA_ESCALATE_EVERY_SECONDS": "0"}
    command = [sys.executable, "-m", "flask", "--app", "server", "notify-worker"]

    log = tmp_path / "worker.log"

    def start():
        with open(log, "ab") as output:
            return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)

    first = start()
    try:
        push_service.wait_for_requests(1, timeout=30)  # claimed, and sending: the service does not answer
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    assert push_service.messages == []
    row = delivery(session)
    assert (row.status, row.attempts) == ("pending", 1) and row.claimed_by is not None

    second = start()
    try:
        [message] = push_service.wait_for_messages(1, timeout=30)
        assert message.json["id"] == ticket_id
        deadline = time.monotonic() + 10
        while delivery(session).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert second.returncode == 0, log.read_text()
    assert (delivery(session).status, delivery(session).attempts) == ("sent", 2)
    assert len(push_service.messages) == 1  # sent once


def test_a_push_service_that_hangs_holds_up_nobody_else(client, session, app, place, push_service, key):
    """Two browsers; one's push service never answers. The running worker keeps delivering to the other
    while that send waits for its timeout."""
    import time

    from server.notify.worker import Worker

    stuck = phone(client, push_service, key, place["butler"])
    healthy = phone(client, push_service, key, place["butler"])
    stuck.hang()
    app.config["PUSH_TIMEOUT_SECONDS"] = 30.0
    worker = Worker.from_app(app, poll=0.05, escalate_every=0)
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,))
    runner.start()
    try:
        started = time.monotonic()
        tickets = [raise_ticket(client, place["resident"]) for _ in range(3)]
        arrived = push_service.wait_for_messages(3, timeout=20)
        assert time.monotonic() - started < 20
        assert sorted(m.json["id"] for m in arrived) == sorted(tickets)
        assert {m.subscription for m in arrived} == {healthy.name}
    finally:
        stop.set()
        push_service.release_hung()
        runner.join(timeout=40)
        worker.close()
    assert not runner.is_alive()
