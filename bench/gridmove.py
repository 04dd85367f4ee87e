"""A mass grid move by import: a community's file re-imported with every household in the other grid.

A community of `gridmove_households` households in two grids (one butler each), with
`gridmove_people` people and `gridmove_visits` visits, written with Core bulk inserts
(bench/world.py). The file names every household with the other grid's name, so the import
(server/community/importing.py: plan, then apply) moves all of them: each grid's butler loses their
households (an eviction for the household and every record on it, for their phones) and gains the
other's (each household and its records get a new change number, so the butler's next pull brings
them).

Baseline, in the same run and on the same database: the raw work, one UPDATE that swaps the
households' grid. Both run in a transaction that is rolled back, so every repetition starts from
the same community; the import's evictions are counted each time (exactly one per record each
butler lost). Reported: the medians and their ratio (`gridmove_ratio`), and the statements sent.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Database, Sizes, StatementCounter, analyze, dispose, make_app, median, quiet_gc
from bench.world import add_people, add_visits, create_world, insert, new_id
from server.auth.models import User
from server.community import importing
from server.community.models import Household
from server.extensions import db
from server.syncing.models import SyncEviction

# The import's time ÷ the plain UPDATE's, per database (the UPDATE costs SQLite far less than
# PostgreSQL, so the same work is a larger multiple of it there). Before the scope change was
# set-based: ~320 on PostgreSQL (20.7 s) and ~1,000 on SQLite (8.3 s); docs/benchmarks.md#grid-move-by-import.
GOALS = {"gridmove_ratio": {"postgresql": 60.0, "sqlite": 250.0}}


def build(app, sizes: Sizes):
    world = create_world(app, grids=2, households_per_grid=sizes.gridmove_households // 2)
    households = [h for grid in world.households for h in grid]
    butler_of = {h: world.butler_ids[g] for g, ids in enumerate(world.households) for h in ids}
    add_people(app, world, households, sizes.gridmove_people, world.butler_id)
    add_visits(app, households, butler_of, sizes.gridmove_visits)
    supervisor = new_id()
    with app.app_context(), db.engine.begin() as conn:
        # Addresses as a file writes them ("3", not "3栋"), so the import finds each household.
        conn.execute(sa.update(Household).values(building=sa.func.replace(Household.building, "栋", ""),
                                                 unit=sa.func.replace(Household.unit, "单元", "")))
        insert(conn, User.__table__, [{"id": supervisor, "username": f"bench-supervisor-{supervisor[:8]}",
                                       "password_hash": "-", "role": "supervisor", "name": "主管",
                                       "language": "zh-CN", "community_id": world.community_id,
                                       "active": True, "demo": False,
                                       "created_at": datetime.now(timezone.utc)}])
    return world, supervisor


def file_rows(app, world) -> list[tuple[int, dict[str, str]]]:
    """The community's file with every household in the other grid."""
    other = {world.grid_ids[0]: "网格1", world.grid_ids[1]: "网格0"}
    with app.app_context():
        rows = db.session.execute(sa.select(Household.building, Household.unit, Household.room, Household.grid_id)
                                  .where(Household.community_id == world.community_id)
                                  .order_by(Household.room)).all()
        db.session.remove()
    return [(n + 2, {"building": b, "unit": u, "room": r, "grid": other[g]}) for n, (b, u, r, g) in enumerate(rows)]


def run(database: Database, sizes: Sizes, root: Path) -> dict:
    app = make_app(database.fresh(), root / f"gridmove-{database.kind}")
    try:
        started = time.perf_counter()
        world, supervisor_id = build(app, sizes)
        analyze(app)
        built = time.perf_counter() - started
        rows = file_rows(app, world)
        households, people, visits = sizes.gridmove_households, sizes.gridmove_people, sizes.gridmove_visits
        expected_evictions = households + people + visits  # each household, and all on it, once for its old butler
        a, b = world.grid_ids
        swap = (sa.update(Household).where(Household.community_id == world.community_id)
                .values(grid_id=sa.case((Household.grid_id == a, b), else_=a)))
        baseline, imports, statements = [], [], None
        with app.app_context():
            for rep in range(sizes.gridmove_reps + 1):  # the first of each is a warm-up
                with quiet_gc():
                    start = time.perf_counter()
                    moved = db.session.execute(swap).rowcount
                    db.session.flush()
                    took = time.perf_counter() - start
                db.session.rollback()
                assert moved == households, moved
                if rep:
                    baseline.append(took)
                user = db.session.get(User, supervisor_id)
                with quiet_gc(), StatementCounter(db.engine) as counter:
                    start = time.perf_counter()
                    planned = importing.plan(db.session, world.community_id, rows)
                    importing.apply(db.session, user=user, community_id=world.community_id, planned=planned)
                    db.session.flush()
                    took = time.perf_counter() - start
                assert not planned.errors and len(planned.changed_households) == households, planned.errors[:3]
                evicted = db.session.scalar(sa.select(sa.func.count()).select_from(SyncEviction))
                assert evicted == expected_evictions, (evicted, expected_evictions)
                db.session.rollback()
                db.session.remove()
                if rep:
                    imports.append(took)
                    statements = counter
        ratio = median(imports) / median(baseline)
        return {"households": households, "people": people, "visits": visits, "build_seconds": built,
                "baseline_seconds": median(baseline), "baseline_runs": baseline,
                "import_seconds": median(imports), "import_runs": imports, "ratio": ratio,
                "evictions": expected_evictions, "statements": statements.total,
                "statements_by_kind": dict(sorted(statements.kinds.items(), key=lambda kv: -kv[1])[:8])}
    finally:
        dispose(app)
