"""Databases, apps, clocks and memory gauges for the benchmarks.

Each scenario gets a fresh database at the latest migration: a copy of a migrated SQLite file,
or a PostgreSQL database made from a migrated template (CREATE DATABASE ... TEMPLATE). All are
removed when the run ends.
"""
from __future__ import annotations

import base64
import contextlib
import gc
import io
import json
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from flask import Flask

from server import create_app
from server.extensions import db

DATA_KEY = base64.urlsafe_b64encode(b"b" * 32).decode()
CLIENT_ID = "bbbbbbbb-0000-4000-8000-00000000be7c"
SECRET_KEY = "bench-secret"


# ---- sizes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sizes:
    push_visits: int = 10_000
    push_batch: int = 500
    push_households: int = 100  # the pushing butler's grid
    floor_reps: int = 3
    grid_households: int = 2_000
    grid_people: int = 6_000
    grid_visits: int = 20_000
    page: int = 1_000
    bootstrap_reps: int = 3
    incremental_small: int = 20_000
    incremental_large: int = 200_000
    incremental_new: int = 100
    incremental_reps: int = 31
    notify_latency_tickets: int = 200  # raised one by one while the worker runs (bench/notify.py)
    notify_browsers: int = 20  # queued deliveries for the throughput: browsers × tickets
    notify_tickets: int = 100
    console_households: int = 5_000  # the supervisors' dashboard (bench/console.py)
    console_visits: int = 100_000
    console_tickets: int = 10_000
    console_orders: int = 2_000
    console_notices: int = 1_000
    console_reps: int = 5
    wire_push_reps: int = 3  # bench/wire.py: the 10,000-visit push over HTTP, each rep a fresh butler
    wire_incremental_reps: int = 31  # bench/wire.py: incremental pulls per deployment size, alternated
    gridmove_households: int = 2_000  # bench/gridmove.py: a file that moves every household to the other grid
    gridmove_people: int = 4_000
    gridmove_visits: int = 10_000
    gridmove_reps: int = 3
    photo_uploads: int = 20  # bench/photos.py: photos uploaded per rep (4 more warm the server up first)
    photo_reps: int = 2
    photo_edge: int = 1920  # px on the long side, as the phone downsizes them
    photo_piece: int = 256 * 1024  # bytes per PATCH
    photo_every: int = 10  # the first sync with photos: an attachment record per this many visits
    incident_households: int = 2_000  # bench/incident.py: one community's emergency, every home subscribed
    incident_reps: int = 3

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(push_visits=2_000, floor_reps=3, grid_households=400, grid_people=1_200,
                   grid_visits=4_000, bootstrap_reps=3, incremental_small=2_000, incremental_large=20_000,
                   incremental_reps=25, notify_latency_tickets=60, notify_browsers=10, notify_tickets=30,
                   console_households=1_000, console_visits=20_000, console_tickets=2_000, console_orders=400, console_notices=200,
                   wire_push_reps=2, wire_incremental_reps=11, gridmove_households=400, gridmove_people=800,
                   gridmove_visits=2_000, gridmove_reps=2, photo_uploads=8,
                   incident_households=500, incident_reps=1)


# ---- databases ------------------------------------------------------------------------------------

def make_app(url: str, instance: Path, **config: Any) -> Flask:
    instance.mkdir(parents=True, exist_ok=True)
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
                       "DATA_KEY": DATA_KEY, "INSTANCE_PATH": str(instance), **config})


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = make_app(url, instance)
    quiet = io.StringIO()  # Alembic's INFO lines: the bench's stdout stays readable
    with app.app_context(), contextlib.redirect_stderr(quiet):
        upgrade()
    dispose(app)


class Database:
    """Fresh migrated databases of one kind."""

    kind: str

    def fresh(self) -> str:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    kind = "sqlite"

    def __init__(self, root: Path):
        self.root = root / "sqlite"
        self.root.mkdir(parents=True)
        self.template = self.root / "template.sqlite3"
        _migrate(f"sqlite:///{self.template}", self.root / "instance")
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        path = self.root / f"bench{self.count}.sqlite3"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def version(self) -> str:
        import sqlite3

        return sqlite3.sqlite_version

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class PostgresDatabase(Database):
    kind = "postgresql"

    def __init__(self, url: str, root: Path):
        self.url = sa.make_url(url)
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self.prefix = f"guanjia_bench_{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []
        self.template = self._create(f"{self.prefix}_tpl")
        try:
            _migrate(self._url(self.template), root / "pg-instance")
        except BaseException:
            self.close()
            raise

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.names.append(name)
        return name

    def _url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        return self._url(self._create(f"{self.prefix}_{len(self.names)}", self.template))

    def version(self) -> str:
        with self.admin.connect() as conn:
            return conn.exec_driver_sql("SHOW server_version").scalar_one()

    def settings(self) -> dict[str, str]:
        with self.admin.connect() as conn:
            return {name: conn.exec_driver_sql(f"SHOW {name}").scalar_one()
                    for name in ("fsync", "synchronous_commit", "shared_buffers")}

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.names):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def analyze(app: Flask) -> None:
    """PostgreSQL: refresh planner statistics after a bulk load, as autovacuum soon would.

    SQLite is left as the app leaves it (it never runs ANALYZE)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")


# ---- clocks and gauges ------------------------------------------------------------------------------

def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Collect before a measurement so one run does not pay for the garbage of the one before."""
    gc.collect()
    yield


class PeakMemory:
    """tracemalloc peaks of marked stretches: `begin()` ... `end()` gives the peak above the level
    at `begin()` (one page's request, say); `overall` is the largest of them."""

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        tracemalloc.start()
        self.start = tracemalloc.get_traced_memory()[0]
        self.steps: list[int] = []  # each stretch's peak above its own beginning
        self.highs: list[int] = []  # each stretch's peak above the level when tracing started
        return self

    def begin(self) -> None:
        tracemalloc.reset_peak()
        self.base = tracemalloc.get_traced_memory()[0]

    def end(self) -> int:
        peak = tracemalloc.get_traced_memory()[1]
        self.steps.append(peak - self.base)
        self.highs.append(peak - self.start)
        return self.steps[-1]

    def retained(self) -> int:
        """Memory still held now that was not held when tracing started."""
        return tracemalloc.get_traced_memory()[0] - self.start

    @property
    def overall(self) -> int:
        return max(self.highs, default=0)

    def __exit__(self, *exc) -> None:
        tracemalloc.stop()


class StatementCounter:
    """Counts the SQL statements an engine sends (by their first words), while active."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.total = 0
        self.kinds: dict[str, int] = {}

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.total += 1
        key = _statement_kind(statement)
        self.kinds[key] = self.kinds.get(key, 0) + 1

    def __enter__(self) -> "StatementCounter":
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


def _statement_kind(statement: str) -> str:
    words = " ".join(statement.split()).split(" ")
    head = words[0].upper()
    if head in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return head if head != "RELEASE" else "RELEASE SAVEPOINT"
    upper = [w.upper() for w in words]
    table = ""
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in upper:
            i = upper.index(marker)
            if i + 1 < len(words):
                table = words[i + 1].strip('"')
                break
    return f"{head} {table}".strip()


def mib(n: int | float) -> float:
    return round(n / (1024 * 1024), 2)


def temp_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="guanjia-bench-"))


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def environment_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")
