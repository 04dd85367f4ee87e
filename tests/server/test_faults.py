"""Faults lose nothing: the database restarted or a connection killed in the middle of a sync, an app
server killed under load, the disk full, a phone's clock hours off. Each test shows that nothing
typed is lost or doubled, and that the service comes back by itself.

The database goes away for real: a PostgreSQL server of the tests' own (restarted with pg_ctl), a
backend ended with pg_terminate_backend, a gunicorn worker ended with SIGKILL; the full disk is
SQLite's own "database or disk is full" (SQLITE_FULL), made by capping the file's pages."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bench.load import servers, world as load_world
from server import bulk, create_app
from server.extensions import db
from server.visits.models import Visit
from tests.factories import complete_visit, make_community, make_grid, make_household, make_user
from tests.support.app import POSTGRES_URL, TEST_DATA_KEY, base_config, copied_postgres_database, migrate_to_head
from tests.support.needs import need
from tests.support.phone import PHONE_B, Phone, put, results

ROOT = Path(__file__).resolve().parents[2]
CHINA = timezone(timedelta(hours=8))


def visits(household_id: str, count: int, note: str = "入户走访") -> list[dict]:
    return [put("visit", str(uuid.uuid4()), complete_visit({"household_id": household_id, "visited_at": "2026-11-20T10:00:00+08:00",
                                             "satisfaction": 5, "notes": note})) for _ in range(count)]


def stored(batch: list[dict]) -> int:
    """How many rows hold the batch's visits (the module's own database is shared by its tests)."""
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Visit)
                             .where(Visit.id.in_([m["id"] for m in batch])))


def grid_of_one():
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    return butler, household.id


def resend_until_answered(phone: Phone, batch: list[dict], tries: int = 5):
    """What the PWA does with a 503: keep the outbox and send it again, a moment later."""
    for _ in range(tries):
        r = phone.sync(*batch)
        if r.status_code == 200:
            return r
        assert r.status_code == 503, r.get_json()
        time.sleep(0.2)
    raise AssertionError("the server did not come back")


@contextlib.contextmanager
def fault_after_visits_written(monkeypatch, fault):
    """Call `fault(connection)` right after a batch's visits are written, inside its transaction;
    yields whether it fired."""
    original, fired = bulk.insert_rows, []

    def insert_rows(session, target, rows):
        original(session, target, rows)
        if target is Visit and not fired:
            fired.append(True)
            fault(session.connection())

    monkeypatch.setattr(bulk, "insert_rows", insert_rows)
    try:
        yield fired
    finally:
        monkeypatch.setattr(bulk, "insert_rows", original)


def sync_through_fault(phone: Phone, batch: list[dict], monkeypatch, fault) -> None:
    """Send `batch` while `fault` strikes the database once its visits are written: the phone gets the
    503 a connection lost mid-transaction gives, nothing of the batch is kept, and sending it again
    (until the server answers) applies every mutation."""
    with fault_after_visits_written(monkeypatch, fault) as fired:
        r = phone.sync(*batch)
    assert fired
    assert r.status_code == 503 and r.get_json()["error"] == "db_unavailable"
    assert stored(batch) == 0  # the half-done transaction died with the connection
    answered = resend_until_answered(phone, batch)
    assert [x["status"] for x in results(answered)] == ["applied"] * len(batch)


# ---- PostgreSQL: the database restarted, a connection killed ---------------------------------------

@pytest.fixture(scope="module")
def own_postgres():
    """A PostgreSQL server of this module's own, which its tests may restart."""
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    with servers.throwaway_postgres(durable=False) as (url, _pid):
        yield url, sa.make_url(url).query["host"]


@pytest.fixture
def restartable_app(own_postgres, tmp_path):
    url, directory = own_postgres
    migrate_to_head(create_app(base_config(tmp_path / "migrate", url)))
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        yield app, directory
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_the_database_restarted_mid_sync_is_a_503_and_the_resend_applies_once(restartable_app, monkeypatch):
    app, directory = restartable_app
    butler, household_id = grid_of_one()
    phone = Phone(app.test_client(), butler)
    batch = visits(household_id, 30)

    def restart(_conn):
        subprocess.run([str(ROOT / "scripts" / "throwaway-postgres"), "restart", directory], check=True,
                       capture_output=True, timeout=60)

    sync_through_fault(phone, batch, monkeypatch, restart)
    again = phone.sync(*batch)  # the answer was lost too: sent once more
    assert [x["status"] for x in results(again)] == ["applied"] * 30
    assert stored(batch) == 30


@pytest.mark.postgres
def test_a_connection_killed_mid_transaction_is_a_503_and_the_resend_applies_once(restartable_app, monkeypatch):
    app, _ = restartable_app
    butler, household_id = grid_of_one()
    phone = Phone(app.test_client(), butler)
    batch = visits(household_id, 12)
    admin = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)

    def terminate(conn):
        pid = conn.connection.dbapi_connection.info.backend_pid
        with admin.begin() as other:  # and wait until it is gone (the signal is asynchronous)
            other.execute(sa.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})

    try:
        sync_through_fault(phone, batch, monkeypatch, terminate)
    finally:
        admin.dispose()
    assert stored(batch) == 12


# ---- SQLite: the disk full ---------------------------------------------------------------------

@pytest.fixture
def sqlite_app(request, tmp_path):
    from tests.support.app import fresh_database

    for url in fresh_database(request, "sqlite", tmp_path):
        app = create_app(base_config(tmp_path, url))
        with app.app_context():
            yield app, Path(sa.make_url(url).database)
            db.session.remove()
            db.engine.dispose()


def test_a_full_disk_is_a_clear_503_that_keeps_nothing_half_written_and_the_resend_applies(sqlite_app):
    app, path = sqlite_app
    butler, household_id = grid_of_one()
    phone = Phone(app.test_client(), butler)
    db.session.commit()
    pages = db.session.execute(sa.text("PRAGMA page_count")).scalar()
    db.session.remove()
    db.engine.dispose()

    def cap(dbapi_connection, _record):  # the file may not grow: SQLite answers SQLITE_FULL
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

    sa.event.listen(db.engine, "connect", cap)
    batch = visits(household_id, 200, note="漏水" * 400)
    try:
        r = phone.sync(*batch)
        assert r.status_code == 503, r.get_json()
        body = r.get_json()
        assert body["error"] == "storage_full"
        assert "存储空间已满" in body["message"]
    finally:
        db.session.remove()
        db.engine.dispose()
        sa.event.remove(db.engine, "connect", cap)

    assert stored(batch) == 0
    assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
    answered = resend_until_answered(phone, batch)  # space was freed: the phone's outbox goes through
    assert {x["status"] for x in results(answered)} == {"applied"}
    assert stored(batch) == 200


# ---- a phone's clock hours off: the server's order decides ---------------------------------------

def test_a_phone_clock_hours_ahead_does_not_win_over_a_later_arrival(client, session):
    butler, household_id = grid_of_one()
    ahead, behind = Phone(client, butler), Phone(client, butler, client_id=PHONE_B)
    ahead.pull_all()  # both phones hold the household
    behind.pull_all()
    version = next(c["version"] for c in Phone(client, butler, client_id=str(uuid.uuid4())).pull_all()
                   if c["type"] == "household")
    soon = (datetime.now(CHINA) + timedelta(hours=7)).isoformat()
    long_ago = (datetime.now(CHINA) - timedelta(hours=9)).isoformat()

    first = results(ahead.sync(put("household", household_id, {"notes": "钟快七小时"}, base=version, at=soon)))
    second = results(behind.sync(put("household", household_id, {"notes": "钟慢九小时，后到"}, base=version, at=long_ago)))
    assert first[0]["status"] == "applied"
    assert second[0]["status"] == "conflict"
    (collision,) = second[0]["conflicts"]
    assert collision["kept"] == "yours" and collision["theirs"] == "钟快七小时"  # the earlier arrival's value is kept aside
    final = next(c for c in Phone(client, butler, client_id=str(uuid.uuid4())).pull_all()
                 if c["type"] == "household")
    assert final["data"]["notes"] == "钟慢九小时，后到"


# ---- an app server killed under load -------------------------------------------------------------

@pytest.fixture
def served_on_postgres(request, tmp_path):
    """One gunicorn (one worker) as `make run` starts it, on a database of its own with three grids."""
    with copied_postgres_database(request, "guanjia_fault") as url:
        app = create_app(base_config(tmp_path / "seed", url))
        seeded = load_world.seed(app, load_world.Shape(communities=1, grids_per_community=3, households_per_grid=4,
                                                       people_per_household=1, visits_per_household=0, residents=1))
        with app.app_context():
            db.engine.dispose()
        env = servers.app_env(url, tmp_path / "instance", "test-secret", TEST_DATA_KEY, GUANJIA_WORKERS="1")
        with servers.running(1, env, tmp_path / "logs", worker=False) as running:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                yield running.apps[0], seeded, engine
            finally:
                engine.dispose()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


@pytest.mark.postgres
def test_an_app_server_killed_under_load_loses_and_doubles_nothing(served_on_postgres):
    process, seeded, engine = served_on_postgres
    url = process.url
    butlers = seeded.butlers[:3]  # three butlers, a grid each
    sent: dict[str, list[str]] = {}
    failures: list[str] = []
    errors_seen = {"count": 0}

    def phone(username: str) -> None:
        try:
            pushing(username)
        except Exception as exc:  # noqa: BLE001 - a phone that broke is a failure of the test
            failures.append(f"{username}: {exc!r}")

    pushing_now = threading.Barrier(len(butlers) + 1, timeout=120)

    def answered(http: requests.Session, path: str, body: dict) -> dict:
        """What a phone does: the same request again until the server answers it."""
        for _ in range(120):
            try:
                r = http.post(f"{url}{path}", json=body, timeout=30)
                if r.status_code == 200:
                    return r.json()
            except requests.RequestException:
                pass
            errors_seen["count"] += 1
            time.sleep(0.25)
        raise AssertionError(f"{path} never answered")

    def pushing(username: str) -> None:
        http = requests.Session()
        token = answered(http, "/api/v1/auth/login", {"username": username, "password": load_world.PASSWORD})["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        client_id, mine = str(uuid.uuid4()), []
        first = answered(http, "/api/v1/sync", {"client_id": client_id, "schema": 1, "cursor": None,
                                                "mutations": [], "limit": 1000})
        household_id = next(c["id"] for c in first["changes"] if c["type"] == "household")
        cursor = first["cursor"]
        for n in range(8):
            if n == 1:
                pushing_now.wait()  # every phone is pushing: now the server dies
            batch = visits(household_id, 10)
            answer = answered(http, "/api/v1/sync", {"client_id": client_id, "schema": 1, "cursor": cursor,
                                                     "mutations": batch})
            if {x["status"] for x in answer["results"]} != {"applied"}:
                failures.append(f"{username}: {answer['results']}")
            cursor = answer["cursor"]
            mine += [m["id"] for m in batch]
        sent[username] = mine

    threads = [threading.Thread(target=phone, args=(username,)) for username in butlers]
    for thread in threads:
        thread.start()
    pushing_now.wait()
    time.sleep(0.05)
    killed = worker_pids(process.pid)
    assert killed, "gunicorn has no worker to kill"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)  # mid-request: no goodbye, no rollback from the worker
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures
    assert errors_seen["count"] > 0  # the phones did meet the dead server
    assert worker_pids(process.pid) and set(worker_pids(process.pid)).isdisjoint(killed)  # gunicorn made new ones

    every = [vid for ids in sent.values() for vid in ids]
    assert len(every) == 3 * 80
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT id, count(*) FROM visit WHERE id = ANY(:ids) GROUP BY id"),
                              {"ids": every}).all()
    assert len(stored) == len(every) and all(n == 1 for _, n in stored)
