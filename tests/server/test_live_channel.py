"""The open app's live channel with the real thing: gunicorn's gevent worker on PostgreSQL.

Hundreds of long polls are held by one worker process while syncs and health checks are answered
beside them; an event wakes only its recipient's poll; an event written through one app server
wakes a poll held by another (LISTEN/NOTIFY); the watcher reconnects when its connection dies;
psycopg lets other greenlets run while it waits for the database.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from server import ROOT, create_app
from server.auth.models import Device, User
from server.auth.service import hash_token
from server.extensions import db
from server.notify.live import APPLICATION_NAME, Hub, release_waiters
from server.records import new_id
from tests.support.app import POSTGRES_URL, TEST_DATA_KEY, base_config
from tests.support.needs import need
from tests.factories import auth, make_community, make_grid, make_household, make_user
from tests.server.test_push_api import long_poll_in_background

POLLS = 300
BOOT_SECONDS = 60.0
ANSWER_SECONDS = 20.0


@pytest.fixture
def sqlite_app(sqlite_template, tmp_path):
    """An app on its own copy of the migrated SQLite database."""
    path = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, path)
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    with app.app_context():
        yield app
        release_waiters(app)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(request, tmp_path):
    """An app on the session's PostgreSQL working database (emptied after the test)."""
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    url, reset = request.getfixturevalue("postgres_database")
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        yield app
        release_waiters(app)
        db.session.remove()
        db.engine.dispose()
    reset()


# ---- gunicorn ---------------------------------------------------------------------------------

class Server:
    """`gunicorn -c gunicorn.conf.py -k gevent --workers 1` on a port of its choosing; killed by stop()."""

    def __init__(self, url: str, instance: Path):
        env = {**os.environ, "GUANJIA_DATABASE_URL": url, "GUANJIA_SECRET_KEY": "test-secret",
               "GUANJIA_DATA_KEY": TEST_DATA_KEY, "GUANJIA_INSTANCE_PATH": str(instance),
               "GUANJIA_LONG_POLL_SECONDS": "120"}  # polls outlast every check of the test
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log = instance.with_suffix(".log")
        self.log_file = open(self.log, "wb")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "-k", "gevent", "--workers", "1", "--worker-connections", "1000",
             "--bind", "127.0.0.1:0", "--graceful-timeout", "1", "server:create_app()"],
            cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self.port = self._port()
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            try:
                if requests.get(self.url("/api/v1/health"), timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer: {self.log.read_text()}"
            time.sleep(0.2)

    def _port(self) -> int:
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited: {self.log.read_text()}"
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log.read_text())
            if found:
                return int(found[1])
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start: {self.log.read_text()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        """The arbiter and its worker (their own process group), politely, then not."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker left behind, if any
        self.process.wait(timeout=15)
        if not self.log_file.closed:
            self.log_file.close()


@pytest.fixture
def servers(tmp_path):
    started: list[Server] = []

    def start(url: str) -> Server:
        server = Server(url, tmp_path / f"instance{len(started)}")
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def database_url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


# ---- long polls over plain sockets ------------------------------------------------------------

class Poll:
    """One long poll on its own connection: sent now, its answer read when it comes."""

    def __init__(self, port: int, token: str, cursor: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_SECONDS)
        self.sock.sendall(
            f"GET /api/v1/notifications?after={cursor}&wait=120 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode())

    def answered(self) -> bool:
        """Whether the server has begun to answer (without waiting)."""
        return bool(select.select([self.sock], [], [], 0)[0])

    def answer(self) -> dict:
        chunks = []
        while chunk := self.sock.recv(65536):  # Connection: close — the answer ends with the socket
            chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        if b"transfer-encoding: chunked" in head.lower():
            body = _unchunk(body)
        return json.loads(body)

    def close(self) -> None:
        self.sock.close()


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2:]
    return out


def cursor_of(server: Server, token: str) -> str:
    r = requests.get(server.url("/api/v1/notifications"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["cursor"]


def raise_ticket_through(server: Server, resident_headers: dict) -> str:
    r = requests.post(server.url("/api/v1/tickets"), json={"category": "repair", "description": "漏水"},
                      headers=resident_headers, timeout=ANSWER_SECONDS)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def make_estate(polls: int = POLLS) -> dict:
    """One household whose butler is the first of `polls` butlers, each with a device token."""
    community = make_community()
    butlers = [User(username=f"live{n}", name=f"管家{n}", role="butler", community_id=community.id,
                    password_hash="-") for n in range(polls)]
    db.session.add_all(butlers)
    db.session.commit()
    tokens = [f"live-{new_id()}" for _ in butlers]
    db.session.add_all([Device(user_id=b.id, token_hash=hash_token(t), name="phone") for b, t in zip(butlers, tokens)])
    db.session.commit()
    household = make_household(community, make_grid(community, butlers[0]))
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    return {"butlers": butlers, "tokens": tokens, "resident": auth(resident)}


@pytest.fixture
def estate(pg_app):
    return make_estate()


def open_polls(server: Server, tokens: list[str]) -> list[Poll]:
    cursors = [cursor_of(server, t) for t in tokens]
    return [Poll(server.port, t, c) for t, c in zip(tokens, cursors)]


@pytest.mark.postgres
def test_hundreds_of_open_apps_cost_sockets_and_an_event_wakes_only_its_user(pg_app, servers, estate):
    server = servers(database_url())
    polls = open_polls(server, estate["tokens"])
    try:
        # (a) the worker still answers while every poll is held open
        assert requests.get(server.url("/api/v1/health"), timeout=ANSWER_SECONDS).json() == {"status": "ok", "db": "ok"}
        r = requests.post(server.url("/api/v1/sync"), json={"client_id": "0b3a5a1e-1111-4111-8111-111111111111",
                                                             "schema": 1, "cursor": None, "mutations": []},
                          headers={"Authorization": f"Bearer {estate['tokens'][1]}"}, timeout=ANSWER_SECONDS)
        assert r.status_code == 200, r.text
        assert not any(p.answered() for p in polls), "a poll answered before any news"

        # (b) a new ticket is news for its grid's butler only
        ticket_id = raise_ticket_through(server, estate["resident"])
        answer = polls[0].answer()
        assert [(e["event"], e["id"]) for e in answer["events"]] == [("ticket.created", ticket_id)]
        assert requests.get(server.url("/api/v1/health"), timeout=ANSWER_SECONDS).status_code == 200
        assert not any(p.answered() for p in polls[1:]), "a poll without news answered"

        # and the rest were really held by the server, not left in a queue: one event for all of them
        from server.notify import outbox
        from server.tickets.models import Ticket

        ticket = db.session.get(Ticket, ticket_id)
        outbox.record(db.session, event="ticket.updated", ticket=ticket, recipients=[b.id for b in estate["butlers"][1:]])
        db.session.commit()
        for poll in polls[1:]:
            assert [e["id"] for e in poll.answer()["events"]] == [ticket_id]
    finally:
        for poll in polls:
            poll.close()


@pytest.mark.postgres
def test_an_event_written_through_one_server_wakes_a_poll_held_by_another(pg_app, servers, estate):
    first, second = servers(database_url()), servers(database_url())
    token = estate["tokens"][0]
    poll = Poll(second.port, token, cursor_of(second, token))
    try:
        assert requests.get(second.url("/api/v1/health"), timeout=ANSWER_SECONDS).status_code == 200
        assert not poll.answered()
        ticket_id = raise_ticket_through(first, estate["resident"])
        assert [e["id"] for e in poll.answer()["events"]] == [ticket_id]
    finally:
        poll.close()


@pytest.mark.postgres
def test_an_event_written_while_no_server_runs_is_delivered_when_the_app_resumes(pg_app, servers, estate):
    token = estate["tokens"][0]
    before = servers(database_url())
    cursor = cursor_of(before, token)
    before.stop()
    ticket_id = raise_ticket_through_client(pg_app.test_client(), estate["resident"])  # another process writes
    after = servers(database_url())
    poll = Poll(after.port, token, cursor)
    try:
        assert [e["id"] for e in poll.answer()["events"]] == [ticket_id]
    finally:
        poll.close()


# ---- the watcher, in this process ---------------------------------------------------------------

@pytest.mark.postgres
def test_the_watcher_reconnects_when_its_connection_dies(pg_app, estate):
    butler = estate["butlers"][0]
    client = pg_app.test_client()
    headers = {"Authorization": f"Bearer {estate['tokens'][0]}"}
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    waiter, answer = long_poll_in_background(pg_app, headers, cursor, wait=60)
    try:
        listening = sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND application_name = :name")
        deadline = time.monotonic() + 15
        while not (pids := db.session.scalars(listening, {"name": APPLICATION_NAME}).all()):
            db.session.rollback()
            assert time.monotonic() < deadline, "the watcher never listened"
            time.sleep(0.05)
        db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        db.session.commit()
        deadline = time.monotonic() + 15
        while db.session.scalars(listening, {"name": APPLICATION_NAME}).all() in ([], pids):
            db.session.rollback()
            assert time.monotonic() < deadline, "the watcher did not listen again"
            time.sleep(0.05)
        db.session.rollback()
        ticket_id = raise_ticket_through_client(client, estate["resident"])
        waiter.join(timeout=ANSWER_SECONDS)
        assert not waiter.is_alive(), "the poll was not woken after the watcher reconnected"
        assert [e["id"] for e in answer["response"]["events"]] == [ticket_id]
        assert Hub.of(pg_app).waiters.get(butler.id) is None
    finally:
        release_waiters(pg_app)
        waiter.join(timeout=ANSWER_SECONDS)


def raise_ticket_through_client(client, headers) -> str:
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "漏水"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


# ---- psycopg under gevent ------------------------------------------------------------------------

GREEN_PROBE = r"""
from gevent import monkey
monkey.patch_all()
import sys, gevent, psycopg
import server
assert server._green()
ticks = []
def tick():
    while True:
        ticks.append(1)
        gevent.sleep(0.05)
ticker = gevent.spawn(tick)
gevent.sleep(0)
with psycopg.connect(sys.argv[1]) as conn:
    before = len(ticks)
    conn.execute("SELECT pg_sleep(1)")
    during = len(ticks) - before
ticker.kill()
print(during)
"""


@pytest.mark.postgres
def test_psycopg_lets_other_greenlets_run_while_it_waits_for_the_database(pg_app):
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-c", GREEN_PROBE, url], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 1  # the ticker ran while the query slept: the wait was cooperative


def test_on_sqlite_too_the_gevent_worker_answers_beside_open_polls(sqlite_app, servers):
    """`make run`'s default database: one connection per process, greenlets queue for it."""
    estate = make_estate(20)
    server = servers(database_url())
    polls = open_polls(server, estate["tokens"])
    try:
        assert requests.get(server.url("/api/v1/health"), timeout=ANSWER_SECONDS).status_code == 200
        assert not any(p.answered() for p in polls)
        ticket_id = raise_ticket_through(server, estate["resident"])
        assert [e["id"] for e in polls[0].answer()["events"]] == [ticket_id]
        assert not any(p.answered() for p in polls[1:])
    finally:
        for poll in polls:
            poll.close()
