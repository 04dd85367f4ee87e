"""Guanjia (睿管家): the Flask application."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import config as config_module
from server.crypto import CIPHER_EXTENSION, FieldCipher, load_or_create_secret, parse_data_key
from server.extensions import db, migrate
from server.jsonio import OrjsonProvider

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
# PostgreSQL: the longest statement whose driver form psycopg keeps between executions (bytes of SQL).
LONGEST_KEPT_STATEMENT = 32 * 1024


def create_app(test_config: dict | None = None) -> Flask:
    """Configuration → secrets → extensions → blueprints → errors → CLI."""
    instance_path = ((test_config or {}).get("INSTANCE_PATH") or os.environ.get("GUANJIA_INSTANCE_PATH")
                     or str(ROOT / "instance"))
    app = Flask(__name__, instance_path=instance_path, static_folder=None)
    app.json = OrjsonProvider(app)  # faster, same JSON; Chinese stays readable on the wire
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config_module.resolve(app.instance_path, test_config))
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret(instance / "secret.key")
    if not app.config.get("DATA_KEY"):
        app.config["DATA_KEY"] = load_or_create_secret(instance / "data.key")
    app.extensions[CIPHER_EXTENSION] = FieldCipher(parse_data_key(app.config["DATA_KEY"]))
    if _green() and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        # Under gunicorn's gevent worker every request is a greenlet of one thread. SQLite waits for
        # another connection's write lock inside C (busy_timeout), which would freeze the whole
        # process — the lock's holder included, if it is a greenlet of the same process. One
        # connection per process makes greenlets queue for it in Python instead, where gevent can
        # switch; SQLite serialises writers anyway. PostgreSQL keeps the usual pool.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("pool_size", 1)
        options.setdefault("max_overflow", 0)

    if app.config["TRUSTED_PROXIES"]:
        # The client's address and scheme as the balancer saw them: login throttling counts per
        # address, and every phone behind one balancer would otherwise share its address.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    with app.app_context():
        _tune_engine(db.engine)
    _import_models()
    from server.notify import vapid

    vapid.init_app(app)  # a broken key stops the app here, loudly
    from server.attachments.storage import open_store

    app.extensions["attachment_store"] = open_store(app.config["ATTACHMENT_STORE"], app.instance_path)

    from server import errors, headers
    from server.api import api
    from server.console import bp as console_bp
    from server.custody.pages import bp as custody_report_bp
    from server.pwa import bp as pwa_bp
    from server.syncing import api as sync_api

    sync_api.init_app(app)
    @app.teardown_request
    def _end_transaction(_exc):
        # Views commit what they mean to keep; end whatever transaction is left (a pull's reads)
        # at once, so no lock outlives the request (SQLite's write lock, PostgreSQL's row locks).
        db.session.rollback()

    app.register_blueprint(api)
    app.register_blueprint(console_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(custody_report_bp)
    errors.register(app)
    headers.register(app)

    from server import cli

    cli.register(app)
    logging.getLogger("server").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app


def _green() -> bool:
    """Whether gevent has patched this process (gunicorn's gevent worker does, before loading the app)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("threading"))


def _import_models() -> None:
    """Every model module, so that metadata (and Alembic) sees every table."""
    from server.attachments import models as _attachments  # noqa: F401
    from server.attendance import models as _attendance  # noqa: F401
    from server.audit import models as _audit  # noqa: F401
    from server.auth import models as _auth  # noqa: F401
    from server.community import models as _community  # noqa: F401
    from server.custody import models as _custody  # noqa: F401
    from server.incidents import models as _incidents  # noqa: F401
    from server.joining import models as _joining  # noqa: F401
    from server.notices import models as _notices  # noqa: F401
    from server.products import models as _products  # noqa: F401
    from server.tickets import models as _tickets  # noqa: F401
    from server.notify import models as _notify  # noqa: F401
    from server.operations import models as _operations  # noqa: F401
    from server.syncing import models as _syncing  # noqa: F401
    from server.teams import models as _teams  # noqa: F401
    from server.visits import models as _visits  # noqa: F401
    from server.voice import models as _voice  # noqa: F401


def _tune_engine(engine) -> None:
    """SQLite: enforce foreign keys, WAL for readers beside a writer, real SAVEPOINTs. PostgreSQL:
    no parallel plans, and the pull's statement converted for the driver once."""
    from sqlalchemy import event

    if engine.dialect.name == "postgresql":
        _keep_long_statements_converted()

        @event.listens_for(engine, "connect")
        def _no_parallel_plans(dbapi_connection, _record):
            # psycopg prepares a statement run five times, and PostgreSQL may then plan it once for
            # any values. For a pull, "seq > $1" then looks like a third of the table, and the plan
            # launched parallel workers for every branch: 7 ms of database CPU per everyday sync
            # instead of 0.2. An app server's statements are small and many; parallel workers
            # only cost CPU here. (Behind a transaction-pooling PgBouncer, set it on the role:
            # docs/scaling.md.)
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET max_parallel_workers_per_gather = 0")
            dbapi_connection.commit()
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
        # SAVEPOINT works (see SQLAlchemy's pysqlite notes).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A request that may write takes SQLite's write lock at BEGIN (waiting up to busy_timeout),
        # so it is never refused halfway when another writer got there between its read and its
        # write. Reads stay concurrent (WAL).
        from flask import has_request_context, request

        writing = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _keep_long_statements_converted() -> None:
    """psycopg turns a statement's `%(name)s` placeholders into `$n` on every execution (a Python loop
    over the text) and keeps the result in an LRU of 128 only for statements up to 4 KiB, so that
    multi-row INSERTs of every length do not crowd the cache. The pull's statement has a branch per
    kind of record the viewer may see and is 14–16 KiB: converting it again cost 0.6–0.7 ms of an
    app server's CPU on every sync (the whole everyday sync: ~13 ms). The app's long statements are
    few and fixed — built once per kind of viewer (`scopes.Viewer`) — while a statement of more than
    50 parameters (a long multi-row INSERT) stays out of the cache as before, so psycopg may keep
    statements up to 32 KiB. The bound is psycopg's own module setting; a test
    (tests/server/test_change_order.py) fails if psycopg stops reading it."""
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, LONGEST_KEPT_STATEMENT)
