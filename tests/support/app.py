"""The app under test, on a fresh, migrated database — SQLite and a real PostgreSQL — per test:
its fixtures (loaded for every test by tests/conftest.py) and the helpers tests build apps with.

The PostgreSQL server is named by GUANJIA_TEST_POSTGRES_URL (`.ci/run` starts a throwaway one).
"""
from __future__ import annotations

import base64
import contextlib
import os
import shutil
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from flask import Flask
from werkzeug.serving import ThreadedWSGIServer

from server import create_app
from server.extensions import db
from server.notify.api import release_waiters
from tests.support.needs import need

POSTGRES_URL = os.environ.get("GUANJIA_TEST_POSTGRES_URL")
TEST_DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _every_change_is_booked(session, flush_context, instances):
    """Any code path that changes a replicated record without its bookkeeping (a new version and
    place in the change order) fails the test that runs it: phones would never see the change."""
    from server.syncing import bookkeeping

    if unbooked := bookkeeping.unbookkept(session):
        raise AssertionError("changed without server.syncing.bookkeeping.changed(): "
                             + ", ".join(f"{type(r).__name__} {r.id}" for r in unbooked))


def base_config(tmp_path: Path, url: str) -> dict:
    return {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
            "DATA_KEY": TEST_DATA_KEY, "INSTANCE_PATH": str(tmp_path / "instance"),
            "SYNC_CHECK_KEPT_WIRE": True,
            # Past the free failed logins the first wait is a minute, not a second: a slow test
            # machine must not outlast it between two requests (tests of the doubling set their own).
            "LOGIN_BACKOFF_SECONDS": 60.0}


def _close_on_return(dbapi_connection, record) -> None:
    record.invalidate()  # closes the driver's connection; a later checkout would open a new one


def dispose(app) -> None:
    """Close the app's database connections at the end of a test.

    A request a served app was still answering comes back with its connection after this: it is
    closed on its way in, not left in a pool nobody holds, where the garbage collector would find
    it open (psycopg warns then, in whichever test is running: an error under filterwarnings)."""
    with app.app_context():
        engine = db.engine
        if not sa.event.contains(engine.pool, "checkin", _close_on_return):
            sa.event.listen(engine.pool, "checkin", _close_on_return)  # kept by the pool dispose makes
        engine.dispose()


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


# ---- databases --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    migrate_to_head(create_app(base_config(folder, f"sqlite:///{path}")))
    return path


def _pg_admin_url() -> sa.URL:
    return sa.make_url(POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory) -> str | None:
    """A migrated PostgreSQL database used as the TEMPLATE of each test's own database."""
    if not POSTGRES_URL:
        return None
    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"guanjia_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = _pg_admin_url().set(database=name).render_as_string(hide_password=False)
    migrate_to_head(create_app(base_config(tmp_path_factory.mktemp("pg-template"), url)))
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_template):
    """One working database for the session, emptied back to its migrated state after each test.

    Copying the template per test costs ~0.4 s; a TRUNCATE and re-inserting the rows the
    migrations made (the product catalogue) costs a few milliseconds.
    """
    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"guanjia_w_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    url = _pg_admin_url().set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = list(db.metadata.sorted_tables)
    with engine.connect() as conn:
        baseline = {t: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in tables}
    names = ", ".join(engine.dialect.identifier_preparer.quote(t.name) for t in tables)

    def reset() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            for table, rows in baseline.items():
                if rows:
                    conn.execute(table.insert(), rows)

    yield url, reset
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def fresh_database(request, kind: str, tmp_path):
    if kind == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    url, reset = request.getfixturevalue("postgres_database")
    yield url
    reset()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A database at the latest migration, empty of test data: every test runs on SQLite and PostgreSQL."""
    yield from fresh_database(request, request.param, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("postgres-walk", marks=pytest.mark.postgres)])
def database_url_and_walks(request, tmp_path, monkeypatch):
    """As database_url, and PostgreSQL once more with every everyday pull of a butler or resident
    walking their households (server/syncing/store.py), not only those far behind. A module that
    tests pulls imports it as its database_url."""
    from server.syncing import store

    if request.param == "postgres-walk":
        monkeypatch.setattr(store, "WALK_HOUSEHOLDS_AFTER", -1)
    yield from fresh_database(request, request.param.removesuffix("-walk"), tmp_path)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(base_config(tmp_path, database_url))
    with app.app_context():
        yield app
        release_waiters(app)  # a served app's open long polls would query after the dispose
        db.session.remove()
        dispose(app)


@pytest.fixture
def vapid_key(app):
    """The app holds a VAPID key made for the test (as `flask vapid-keys` would make one)."""
    from py_vapid import Vapid

    from server.notify import vapid

    key = Vapid()
    key.generate_keys()
    app.config["VAPID_PRIVATE_KEY"] = key.private_pem().decode()
    vapid.init_app(app)
    return key


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return db.session


@contextlib.contextmanager
def empty_postgres_database():
    """A PostgreSQL database with nothing in it at all (not even Alembic's table); yields its URL."""
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    admin = sa.create_engine(sa.make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"guanjia_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextlib.contextmanager
def copied_postgres_database(request, prefix: str):
    """A PostgreSQL database of its own, copied from the migrated template (for servers started as
    processes, which cannot share the per-test database); yields its URL and drops it after."""
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    template = request.getfixturevalue("postgres_template")
    admin = sa.create_engine(sa.make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextlib.contextmanager
def statements_sent(app):
    """Every SQL statement the app's engine sends inside the block, as text (whitespace folded)."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


class _AnsweringServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, knowing how many requests it is still answering.

    It counts the threads that answer them (Werkzeug closes every connection after one request),
    not the responses' closing: Werkzeug skips that when the client has gone (a page closed at the
    end of a test), and a count of responses would wait for answers long given."""

    def __init__(self, wsgi_app) -> None:
        super().__init__("127.0.0.1", 0, wsgi_app)
        self.answered = threading.Condition()
        self.answering = 0

    def process_request(self, request, client_address) -> None:  # in the accepting thread
        with self.answered:
            self.answering += 1
        try:
            super().process_request(request, client_address)  # starts the request's thread
        except BaseException:
            self._done()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done()

    def _done(self) -> None:
        with self.answered:
            self.answering -= 1
            self.answered.notify_all()

    def wait_answered(self, timeout: float) -> None:
        with self.answered:
            self.answered.wait_for(lambda: self.answering == 0, timeout=timeout)


@contextlib.contextmanager
def serving(wsgi_app):
    """Serve a WSGI app on a free loopback port in a thread; yields its base URL.

    On the way out it waits (half a minute at most) for the requests still being answered: a page
    closed at the end of a test may have left one in flight, and its transaction would otherwise
    meet the emptying of the database for the next test (a deadlock on PostgreSQL)."""
    server = _AnsweringServer(wsgi_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        # Open long polls answer now (a WSGI app wrapping Flask apps names them in `flask_apps`).
        for flask_app in getattr(wsgi_app, "flask_apps", [wsgi_app]):
            if isinstance(flask_app, Flask):
                release_waiters(flask_app)
        server.wait_answered(timeout=30)
        server.server_close()


@pytest.fixture
def live_server(app):
    """The app served on a free loopback port for the length of one test."""
    with serving(app) as url:
        yield url
