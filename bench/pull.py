"""Pulls: a phone's first sync of a whole grid (bootstrap), and a pull of 100 new changes (incremental).

Bootstrap: the butler's phone posts `cursor: null, limit: 1000` and follows `cursor` while `more`.
The floor is one plain SELECT per table of the same rows (households, people, visits, catalogue;
raw SQL, no ORM, no type processing, so phone numbers stay ciphertext) turned into dicts and
`json.dumps`-ed, and an audit row per household and person read (required of every pull since the
audit trail). Peak memory (tracemalloc) is taken per page request and for the whole pull, on a
half-size grid and then on the full grid (the same database, the second half added).

Incremental: two databases built alike, ten grids of households with visits spread evenly over all
of them (the pulling butler holds one grid, so their own history grows with the tables), N visits
in one and 10·N in the other. The phone's cursor stands at the counter's high water (what a pull
that ended there hands out); then 100 visits are written in its grid and the pull is timed, the
two databases alternately.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.harness import (Database, PeakMemory, Sizes, StatementCounter, analyze, dispose, make_app,
                           median, mib, quiet_gc, timed)
from bench.world import Phone, World, add_households, add_people, add_visits, create_world
from server.audit.models import AuditEvent
from server.audit.service import personal_fields
from server.extensions import db
from server.products.models import Product
from server.syncing import changes as change_order

FLOOR_QUERIES = {
    "household": "SELECT h.* FROM household h WHERE h.grid_id = :grid AND h.deleted = :no",
    "person": "SELECT p.* FROM person p JOIN household h ON h.id = p.household_id "
              "WHERE h.grid_id = :grid AND p.deleted = :no",
    "visit": "SELECT v.* FROM visit v JOIN household h ON h.id = v.household_id "
             "WHERE h.grid_id = :grid AND v.deleted = :no",
    "product": "SELECT p.* FROM product p WHERE p.active = :yes AND p.deleted = :no",
}


# ---- bootstrap ---------------------------------------------------------------------------------

def paged_pull(phone: Phone, limit: int, memory: PeakMemory | None = None) -> tuple[float, int, int]:
    """One full first sync: (seconds spent in requests, pages, changes). Client-side parsing of
    each answer is not timed (it is the phone's work)."""
    cursor, seconds, pages, changes = None, 0.0, 0, 0
    while True:
        body = phone.body(cursor=cursor, limit=limit)
        if memory:
            memory.begin()
        spent, response = timed(lambda: phone.post(body))
        if memory:
            memory.end()
        answer = phone.answer(response)
        cursor, more = answer["cursor"], answer["more"]
        seconds += spent
        pages += 1
        changes += len(answer["changes"])
        del response, answer  # the phone's copy is not the server's memory
        if not more:
            return seconds, pages, changes


def floor_read(engine: sa.Engine, grid_id: str, user_id: str) -> int:
    """The floor: plain SELECTs of the same rows, dicts, one json.dumps, and the audit row that every
    household and person sent must leave (docs/audit.md), in one executemany. Returns the bytes made."""
    with engine.begin() as conn:
        rows = {name: [dict(r._mapping) for r in conn.execute(sa.text(sql), {"grid": grid_id, "no": False,
                                                                                 "yes": True})]
                for name, sql in FLOOR_QUERIES.items()}
        now = datetime.now(timezone.utc)
        conn.execute(AuditEvent.__table__.insert(), [
            {"at": now, "user_id": user_id, "device_id": None, "community_id": None,
             "household_id": row["id"] if rtype == "household" else row["household_id"], "action": "read",
             "record_type": rtype, "record_id": row["id"], "fields": sorted(personal_fields()[rtype]), "channel": "sync"}
            for rtype in ("household", "person") for row in rows[rtype]])
    return len(json.dumps(rows, default=str, ensure_ascii=False, separators=(",", ":")))


def _measure_grid(app, world: World, sizes: Sizes, expected: int, *, reps: int) -> dict:
    with app.app_context():
        engine = db.engine
    phone = Phone(app, world.token)
    _, pages, changes = paged_pull(phone, sizes.page)  # warm-up, and a check that all arrives
    if changes != expected:
        raise RuntimeError(f"a first sync brought {changes} changes, expected {expected}")
    floor_read(engine, world.grid_ids[0], world.butler_id)

    pull_times, floor_times = [], []
    for _ in range(reps):
        with quiet_gc():
            pull_times.append(paged_pull(phone, sizes.page)[0])
        with quiet_gc():
            floor_times.append(timed(lambda: floor_read(engine, world.grid_ids[0], world.butler_id))[0])

    with PeakMemory() as pull_memory:
        paged_pull(phone, sizes.page, pull_memory)
        retained = pull_memory.retained()
    with PeakMemory() as floor_memory:
        floor_memory.begin()
        floor_bytes = floor_read(engine, world.grid_ids[0], world.butler_id)
        floor_memory.end()

    with StatementCounter(engine) as counter:
        paged_pull(phone, sizes.page)
    pull, floor = median(pull_times), median(floor_times)
    return {
        "changes": changes, "pages": pages, "pull_seconds": pull, "pull_runs": pull_times,
        "floor_seconds": floor, "floor_runs": floor_times, "ratio": pull / floor, "floor_json_bytes": floor_bytes,
        "page_ms_mean": pull / pages * 1000,
        "memory_mib": {"pull_page_peak": mib(max(pull_memory.steps)),
                       "pull_page_peak_median": mib(median(pull_memory.steps)),
                       "pull_whole_peak": mib(pull_memory.overall),
                       "pull_retained_after": mib(retained),
                       "floor_peak": mib(floor_memory.overall)},
        "statements_per_page": round(counter.total / pages, 1),
    }


def run_bootstrap(database: Database, sizes: Sizes, root: Path) -> dict:
    app = make_app(database.fresh(), root / "bootstrap-instance")
    try:
        half_households = sizes.grid_households // 2
        world = create_world(app, grids=1, households_per_grid=half_households)
        _fill(app, world, world.households[0], sizes.grid_people // 2, sizes.grid_visits // 2)
        analyze(app)
        catalogue = _catalogue(app)
        half = _measure_grid(app, world, sizes, half_households + sizes.grid_people // 2
                             + sizes.grid_visits // 2 + catalogue, reps=sizes.bootstrap_reps)

        add_households(app, world, sizes.grid_households - half_households)
        _fill(app, world, world.households[0][half_households:], sizes.grid_people - sizes.grid_people // 2,
              sizes.grid_visits - sizes.grid_visits // 2)
        analyze(app)
        full = _measure_grid(app, world, sizes, sizes.grid_households + sizes.grid_people + sizes.grid_visits
                             + catalogue, reps=sizes.bootstrap_reps)
    finally:
        dispose(app)
    page_peak_growth = full["memory_mib"]["pull_page_peak"] / half["memory_mib"]["pull_page_peak"]
    whole_peak_growth = full["memory_mib"]["pull_whole_peak"] / half["memory_mib"]["pull_whole_peak"]
    return {"households": sizes.grid_households, "people": sizes.grid_people, "visits": sizes.grid_visits,
            "page": sizes.page, "ratio": full["ratio"], "full": full, "half": half,
            "memory_growth": {"page_peak": page_peak_growth, "whole_pull_peak": whole_peak_growth,
                              "floor_peak": full["memory_mib"]["floor_peak"] / half["memory_mib"]["floor_peak"]}}


def _fill(app, world: World, households: list[str], people: int, visits: int) -> None:
    add_people(app, world, households, people, world.butler_id)
    add_visits(app, households, {h: world.butler_id for h in households}, visits)


def _catalogue(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                                 .where(Product.active.is_(True), Product.deleted.is_(False)))


# ---- incremental --------------------------------------------------------------------------------

INCREMENTAL_GRIDS = 10
INCREMENTAL_HOUSEHOLDS_PER_GRID = 200


def run_incremental(database: Database, sizes: Sizes, root: Path) -> dict:
    """Two databases, one per size, built alike; their pulls are timed alternately, so that a
    change in the machine's load hits both sizes the same."""
    apps = [make_app(database.fresh(), root / f"incremental-instance-{n}") for n in (1, 2)]
    try:
        levels = [_prepare_level(app, sizes, level) for app, level in
                  zip(apps, (sizes.incremental_small, sizes.incremental_large))]
        times: list[list[float]] = [[], []]
        for _ in range(sizes.incremental_reps):
            for n, (phone, body, _engine) in enumerate(levels):
                with quiet_gc():
                    times[n].append(timed(lambda: phone.post(body))[0])
        out = []
        for level, (phone, body, engine), runs in zip((sizes.incremental_small, sizes.incremental_large), levels, times):
            with StatementCounter(engine) as counter:
                phone.post(body)
            out.append({"visits_in_tables": level, "own_visits": level // INCREMENTAL_GRIDS,
                        "pull_seconds": median(runs), "pull_min": min(runs), "pull_max": max(runs),
                        "runs": len(runs), "statements": counter.total})
    finally:
        for app in apps:
            dispose(app)
    small, large = out
    return {"new_changes": sizes.incremental_new, "small": small, "large": large,
            "growth": large["pull_seconds"] / small["pull_seconds"]}


def _prepare_level(app, sizes: Sizes, level: int):
    """Ten grids, `level` visits in all (the last 100 new in the butler's grid, after the phone's
    cursor): the phone, the request body it sends, and the database engine."""
    from server.syncing.api import ENGINE
    from sync import cursor as cursors

    world = create_world(app, grids=INCREMENTAL_GRIDS, households_per_grid=INCREMENTAL_HOUSEHOLDS_PER_GRID)
    butler_of = {h: world.butler_ids[g] for g, households in enumerate(world.households) for h in households}
    everywhere = [h for households in world.households for h in households]
    add_visits(app, everywhere, butler_of, level - sizes.incremental_new)  # history
    analyze(app)
    with app.app_context():
        engine = db.engine
        high_water = change_order.high_water(db.session)
    # The cursor a pull that ended at the high water hands out (sync/engine.py, Engine.pull).
    key = app.extensions[ENGINE].config.cursor_key
    cursor = cursors.encode(cursors.Cursor(high_water), key=key, user_id=world.butler_id)
    add_visits(app, world.households[0], butler_of, sizes.incremental_new)  # the new changes
    phone = Phone(app, world.token)
    body = phone.body(cursor=cursor)
    answer = phone.answer(phone.post(body))  # warm-up, and a check
    if len(answer["changes"]) != sizes.incremental_new or answer["more"]:
        raise RuntimeError(f"an incremental pull brought {len(answer['changes'])} changes "
                           f"(more={answer['more']}), expected {sizes.incremental_new}")
    return phone, body, engine
