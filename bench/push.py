"""Push: new visits in batches of 500 through POST /api/v1/sync, against a Core executemany floor.

The floor writes the same visit rows (same columns, same values, numbered as the app numbers a
transaction's writes) plus one change-log row per record into `bench_change_log`, a bench-only
table shaped like sync_eviction (seq, user_id, record_type, record_id, household_id, created_at,
with an index on (user_id, seq)), in one transaction with two `executemany` calls. The audit row
every change must leave (audit_event, docs/audit.md) is the product's own work, not the floor's: a
second floor with it too is reported beside (`floor_with_audit_seconds`).

Two communities at once: two processes, each the butler of its own community, push one batch of
500 at the same moment; `two_communities_ratio` is their wall time ÷ one such push alone. Writers
in different communities take no shared lock, so it stays near 1 wherever two cores are free.

The real path is the Flask test client posting the batches as the grid's butler, with the cursor
the phone holds and `limit: 1`, so the pull that ends every sync round trip costs almost nothing
and what is timed is authentication, parsing and the push. A second figure calls Engine.push on a
SqlStore directly (no HTTP, no pull).
"""
from __future__ import annotations

import contextlib
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Database, Sizes, StatementCounter, analyze, dispose, make_app, median, quiet_gc, timed
from bench.world import Phone, create_world, new_id, put, reserve_seqs, visit_fields, visit_row
from server.audit.models import AuditEvent
from server.extensions import db
from server.records import UTCDateTime
from server.visits.models import Visit

CHANGE_LOG = sa.Table(
    "bench_change_log", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("record_type", sa.String(20), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("household_id", sa.String(36)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_bench_change_log_user_seq", "user_id", "seq"),
)


def batches(world, sizes: Sizes, count: int, offset: int = 0) -> list[list[dict]]:
    households = world.households[0]
    mutations = [put("visit", new_id(), visit_fields(households[i % len(households)], offset + i))
                 for i in range(count)]
    return [mutations[i:i + sizes.push_batch] for i in range(0, count, sizes.push_batch)]


def floor_write(engine: sa.Engine, butler_id: str, community_id: str, mutations: list[dict], *,
                audit: bool = False) -> None:
    """The floor: the same rows and a change-log row each, executemany, one transaction. With
    `audit`, the audit row every change must leave too (a figure beside the goal's floor: the audit
    rows are the product's work, to be made cheap, not part of the floor)."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        seqs = reserve_seqs(conn, len(mutations))
        rows, log, audited = [], [], []
        for m in mutations:
            seq = next(seqs)
            rows.append(visit_row(m["id"], m["fields"], butler_id, seq, now))
            log.append({"seq": seq, "user_id": butler_id, "record_type": "visit", "record_id": m["id"],
                        "household_id": m["fields"]["household_id"], "created_at": now})
            audited.append({"at": now, "user_id": butler_id, "device_id": None, "community_id": community_id,
                            "household_id": m["fields"]["household_id"], "action": "create", "record_type": "visit",
                            "record_id": m["id"], "fields": sorted(m["fields"]), "channel": "sync"})
        conn.execute(Visit.__table__.insert(), rows)
        conn.execute(CHANGE_LOG.insert(), log)
        if audit:
            conn.execute(AuditEvent.__table__.insert(), audited)


def _empty(app, engine: sa.Engine) -> None:
    """Back to no visits, no applied mutations, no change log (between warm-up and floor runs)."""
    from server.syncing.models import SyncMutation

    with engine.begin() as conn:
        conn.execute(sa.delete(Visit.__table__))
        conn.execute(sa.delete(SyncMutation.__table__))
        conn.execute(sa.delete(CHANGE_LOG))
        conn.execute(sa.delete(AuditEvent.__table__))
    analyze(app)


def _floor_run(app, engine: sa.Engine, world, sizes: Sizes, *, audit: bool = False) -> float:
    """One timed floor write of as many visits as the real path pushes; its rows removed after."""
    mutations = [m for batch in batches(world, sizes, sizes.push_visits, offset=5 * 10**6) for m in batch]
    with quiet_gc():
        seconds, _ = timed(lambda: floor_write(engine, world.butler_id, world.community_id, mutations,
                                               audit=audit))
    ids = [m["id"] for m in mutations]
    with engine.begin() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            conn.execute(sa.delete(Visit.__table__).where(Visit.__table__.c.id.in_(chunk)))
            conn.execute(sa.delete(CHANGE_LOG).where(CHANGE_LOG.c.record_id.in_(chunk)))
            conn.execute(sa.delete(AuditEvent.__table__).where(AuditEvent.__table__.c.record_id.in_(chunk)))
    analyze(app)
    return seconds


def run(database: Database, sizes: Sizes, root: Path, *, engine_variant: bool = True) -> dict:
    url = database.fresh()
    app = make_app(url, root / "push-instance")
    try:
        return _run(app, database, sizes, engine_variant)
    finally:
        dispose(app)


def _run(app, database: Database, sizes: Sizes, engine_variant: bool) -> dict:
    world = create_world(app, grids=1, households_per_grid=sizes.push_households)
    with app.app_context():
        engine = db.engine
    CHANGE_LOG.create(engine)

    phone = Phone(app, world.token)
    while True:  # the phone's first sync: the grid (households, catalogue), then it holds a cursor
        answer = phone.answer(phone.post(phone.body(cursor=phone.cursor)))
        phone.cursor = answer["cursor"]
        if not answer["more"]:
            break

    # ---- warm-up (one batch each way), then empty tables again --------------------------------
    (warm,) = batches(world, sizes, sizes.push_batch, offset=3 * 10**6)
    phone.post(phone.body(cursor=phone.cursor, mutations=warm, limit=1))
    floor_write(engine, world.butler_id, world.community_id,
                batches(world, sizes, sizes.push_batch, offset=4 * 10**6)[0])
    _empty(app, engine)

    # ---- the floor and the real path, the floor's runs spread over the real path's ------------------
    # (before it, between its batches, after it: a change in the machine's load hits both alike)
    work = batches(world, sizes, sizes.push_visits)
    floor_at = {round(i * len(work) / max(1, sizes.floor_reps - 1)) for i in range(sizes.floor_reps)}
    floor_times: list[float] = []
    audited_floor_times: list[float] = []
    batch_times: list[float] = []
    for position in range(len(work) + 1):
        if position in floor_at:
            floor_times.append(_floor_run(app, engine, world, sizes))
            audited_floor_times.append(_floor_run(app, engine, world, sizes, audit=True))
        if position == len(work):
            break
        body = phone.body(cursor=phone.cursor, mutations=work[position], limit=1)
        with quiet_gc():
            seconds, response = timed(lambda: phone.post(body))
        answer = phone.answer(response)
        if any(r["status"] != "applied" for r in answer["results"]):
            raise RuntimeError(f"a pushed visit was not applied: {answer['results'][:3]}")
        phone.cursor = answer["cursor"]
        batch_times.append(seconds)
    floor = median(floor_times)
    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Visit))
    if stored != sizes.push_visits:
        raise RuntimeError(f"expected {sizes.push_visits} visits, found {stored}")
    http_total = sum(batch_times)

    # ---- statements per mutation (one extra batch, counted, not timed) ------------------------------
    (sample,) = batches(world, sizes, sizes.push_batch, offset=10**6)
    with StatementCounter(engine) as counter:
        phone.post(phone.body(cursor=phone.cursor, mutations=sample, limit=1))
    statements = {"per_request": counter.total, "per_mutation": round(counter.total / len(sample), 2),
                  "by_kind_per_mutation": {k: round(v / len(sample), 2)
                                           for k, v in sorted(counter.kinds.items(), key=lambda kv: -kv[1])}}

    result = {
        "visits": sizes.push_visits, "batch": sizes.push_batch, "batches": len(batch_times),
        "floor_seconds": floor, "floor_runs": floor_times,
        "floor_with_audit_seconds": median(audited_floor_times),
        "ratio_to_floor_with_audit": http_total / median(audited_floor_times),
        "http_seconds": http_total, "http_batch_median": median(batch_times),
        "http_batch_min": min(batch_times), "http_batch_max": max(batch_times),
        "ratio": http_total / floor,
        "per_visit_ms": {"floor": floor / sizes.push_visits * 1000, "http": http_total / sizes.push_visits * 1000},
        "statements": statements,
    }

    # ---- the engine alone (no HTTP, no pull), the same number of new visits -----------------------
    if engine_variant:
        result.update(_engine_only(app, world, sizes, floor))
    return result


def _engine_only(app, world, sizes: Sizes, floor: float) -> dict:
    from server.auth.models import User
    from server.syncing.api import ENGINE
    from server.syncing.store import SqlStore
    from sync.protocol import parse_request

    engine = app.extensions[ENGINE]
    phone = Phone(app, world.token)
    times = []
    with quiet_gc():
        for batch in batches(world, sizes, sizes.push_visits, offset=2 * 10**6):
            body = phone.body(cursor=None, mutations=batch)
            with app.app_context():
                user = db.session.get(User, world.butler_id)

                def push():
                    request = parse_request(body, engine.config.limits)
                    return engine.push(SqlStore(db.session), user, request, language="zh-CN")

                seconds, results = timed(push)
                db.session.remove()
            if any(r["status"] != "applied" for r in results):
                raise RuntimeError(f"a pushed visit was not applied: {results[:3]}")
            times.append(seconds)
    total = sum(times)
    return {"engine_seconds": total, "engine_batch_median": median(times), "engine_ratio": total / floor}


# ---- two communities pushing at once ---------------------------------------------------------------

def _push_process(url: str, root: str, token: str, warm: list[dict], work: list[list[dict]], barrier, out) -> None:
    """A phone of its own community in a process of its own: warm up, then push each batch when
    the barrier lets every process go at once; report the time of each."""
    app = make_app(url, Path(root))
    try:
        phone = Phone(app, token)
        phone.post(phone.body(cursor=None, mutations=warm, limit=1))
        for batch in work:
            barrier.wait()
            body = phone.body(cursor=None, mutations=batch, limit=1)
            cpu = time.process_time()
            seconds, response = timed(lambda: phone.post(body))
            cpu = time.process_time() - cpu
            if any(r["status"] != "applied" for r in phone.answer(response)["results"]):
                raise RuntimeError("a pushed visit was not applied")
            out.put((seconds, cpu))
            barrier.wait()
    finally:
        dispose(app)


def two_communities(database: Database, sizes: Sizes, root: Path, *, rounds: int = 3) -> dict:
    """One batch pushed alone, then two communities' batches pushed at the same moment (each in its
    own process, as two app servers would): the wall time of the pair ÷ the time of one. Beside it,
    what says whether the pair waited on each other or on the machine: how often a backend of the
    database was blocked by another's lock (sampled through the rounds), and each push's app-server
    CPU time alone and in the pair."""
    import multiprocessing

    url = database.fresh()
    app = make_app(url, root / "two-communities")
    try:
        worlds = [create_world(app, grids=1, households_per_grid=sizes.push_households) for _ in range(2)]
    finally:
        dispose(app)
    context = multiprocessing.get_context("spawn")  # no engine or connection crosses into a child
    results = {}
    for label, count in (("alone", 1), ("together", 2)):
        barrier, out = context.Barrier(count + 1), context.Queue()
        children = []
        for i, world in enumerate(worlds[:count]):
            warm = batches(world, sizes, sizes.push_batch, offset=(7 + i) * 10**6 + count * 10**5)[0]
            work = [batches(world, sizes, sizes.push_batch, offset=(8 + i) * 10**6 + r * 10**4 + count * 10**5)[0]
                    for r in range(rounds)]
            child = context.Process(target=_push_process,
                                    args=(url, str(root / f"two-communities-{label}-{i}"), world.token, warm,
                                          work, barrier, out))
            child.start()
            children.append(child)
        walls = []
        # (watched in the pair only, and seldom: its queries take the machine's CPU too)
        with LockWatch(url) if count > 1 else contextlib.nullcontext() as locks:
            for _ in range(rounds):
                barrier.wait()  # every child is ready: go
                start = time.perf_counter()
                barrier.wait()  # every child has pushed its batch
                walls.append(time.perf_counter() - start)
        for child in children:
            child.join(timeout=300)
            if child.exitcode != 0:
                raise RuntimeError(f"a pushing process failed (exit {child.exitcode})")
        pushes = [out.get(timeout=10) for _ in range(rounds * count)]
        results[label] = {"wall_seconds": walls, "wall_median": median(walls),
                          "batch_seconds": sorted(seconds for seconds, _cpu in pushes),
                          "app_cpu_seconds_median": median([cpu for _seconds, cpu in pushes]),
                          **({"lock_samples": locks.samples, "lock_blocked_samples": locks.blocked} if locks else {})}
    return {**results, "rounds": rounds, "batch": sizes.push_batch,
            "two_communities_ratio": results["together"]["wall_median"] / results["alone"]["wall_median"]}


class LockWatch:
    """Samples, every 20 ms until it is closed, whether any backend of the database is
    blocked by another's lock (`pg_blocking_pids`): two writers that waited on each other show here,
    where a slower pair on a busy machine does not."""

    def __init__(self, url: str, every: float = 0.02):
        self.url, self.every = url, every
        self.samples = self.blocked = 0

    def __enter__(self) -> "LockWatch":
        import threading

        self._stop = threading.Event()
        self._engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND cardinality(pg_blocking_pids(pid)) > 0")
        with self._engine.connect() as conn:
            while not self._stop.wait(self.every):
                self.samples += 1
                self.blocked += conn.execute(query).scalar_one() > 0
                conn.rollback()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._engine.dispose()
