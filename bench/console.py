"""The supervisors' dashboard: server time of every figure for a big community.

A community of `console_households` households (10 grids, one butler each, 6 buildings) with
`console_visits` visits spread over the year before "today" (random households, satisfaction and
products of interest), `console_tickets` tickets over the last 120 days (every status, category and
escalation) and `console_orders` orders, all written with Core bulk inserts (bench/world.py). Then
`server.console.figures.dashboard()` is called for the last 90 days: once to warm up (statement
compilation, the database's caches), then `console_reps` times, each on a fresh session as a request
would have. Reported: the median, min and max, the statements per call and the slowest statements of
the last call. Goal: under 1 s, computed in the database.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.harness import CLIENT_ID, Database, Sizes, analyze, dispose, make_app, median, quiet_gc
from bench.world import create_world, insert, new_id, reserve_seqs
from server.console import figures
from server.extensions import db
from server.products.models import Order
from server.tickets.models import CATEGORIES, Ticket
from server.tickets.sla import Sla
from server.visits.models import Visit

GOALS = {"dashboard_seconds": 1.0}
TODAY = date(2026, 11, 27)
GRIDS = 10
PRODUCTS = ("water", "move_in", "cleaning", "repair", "custody")
STATUSES = ("new", "dispatched", "accepted", "in_progress", "resolved", "closed", "cancelled")


def build(app, sizes: Sizes) -> str:
    """The community; returns its id."""
    rng = random.Random(6)
    world = create_world(app, grids=GRIDS, households_per_grid=sizes.console_households // GRIDS)
    butler_of = {h: world.butler_ids[g] for g, ids in enumerate(world.households) for h in ids}
    households = list(butler_of)
    noon = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=12)
    meta = {"visited_at": [1, CLIENT_ID, world.butler_id]}
    with app.app_context(), db.engine.begin() as conn:
        seqs = reserve_seqs(conn, sizes.console_visits + sizes.console_tickets + sizes.console_orders)
        visits = []
        for _ in range(sizes.console_visits):
            h = rng.choice(households)
            at = noon - timedelta(minutes=rng.randrange(365 * 24 * 60))
            visits.append({"id": new_id(), "household_id": h, "butler_id": butler_of[h], "visited_at": at,
                           "kind": "routine", "checklist": {"门窗": {"ok": True, "note": ""}}, "needs": [],
                           "satisfaction": rng.choice((5, 5, 4, 4, 3, 2)),
                           "products_interest": rng.sample(PRODUCTS, rng.choice((0, 0, 1, 2))),
                           "notes": "", "follow_up_at": None, "version": 1, "deleted": rng.random() < 0.01,
                           "created_at": at, "updated_at": at, "seq": next(seqs), "field_meta": meta})
        insert(conn, Visit.__table__, visits)
        tickets = []
        for _ in range(sizes.console_tickets):
            h = rng.choice(households)
            created = noon - timedelta(minutes=rng.randrange(120 * 24 * 60))
            status = rng.choice(STATUSES)
            accepted = created + timedelta(minutes=rng.randint(2, 60)) if status not in ("new", "dispatched", "cancelled") else None
            resolved = accepted + timedelta(hours=rng.randint(1, 80)) if accepted and status in ("resolved", "closed") else None
            tickets.append({"id": new_id(), "household_id": h, "raised_by": None, "category": rng.choice(CATEGORIES),
                            "description": "厨房漏水", "status": status,
                            "assignee_id": butler_of[h] if status not in ("new", "cancelled") else None,
                            "accepted_at": accepted, "resolved_at": resolved,
                            "closed_at": resolved + timedelta(hours=2) if status == "closed" else None,
                            "resolution_note": "", "rating": rng.randint(1, 5) if status == "closed" else None,
                            "rating_comment": "", "backoffice_rating": rng.randint(2, 5) if resolved else None,
                            "escalated": rng.choice((None, None, None, "accept", "resolve")),
                            "escalated_at": None, "version": 1, "deleted": False, "created_at": created,
                            "updated_at": created, "seq": next(seqs), "field_meta": {}})
        insert(conn, Ticket.__table__, tickets)
        orders = []
        for _ in range(sizes.console_orders):
            at = noon - timedelta(minutes=rng.randrange(120 * 24 * 60))
            orders.append({"id": new_id(), "household_id": rng.choice(households), "product_code": rng.choice(PRODUCTS),
                           "quantity": rng.randint(1, 3), "status": rng.choice(("placed", "confirmed", "cancelled")),
                           "note": "", "ordered_by": None, "recommended_by": None, "version": 1, "deleted": False,
                           "created_at": at, "updated_at": at, "seq": next(seqs), "field_meta": {}})
        insert(conn, Order.__table__, orders)
    return world.community_id


class StatementTimes:
    """Each SQL statement's time on the engine, while active."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.times, self._start = engine, [], 0.0

    def _before(self, *args) -> None:
        self._start = time.perf_counter()

    def _after(self, conn, cursor, statement, *args) -> None:
        self.times.append((time.perf_counter() - self._start, " ".join(statement.split())[:90]))

    def __enter__(self) -> "StatementTimes":
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)


def run(database: Database, sizes: Sizes, root: Path) -> dict:
    app = make_app(database.fresh(), root / f"console-{database.kind}")
    try:
        started = time.perf_counter()
        community_id = build(app, sizes)
        analyze(app)
        built = time.perf_counter() - started
        call = dict(community_id=community_id, start=TODAY - timedelta(days=89), end=TODAY, today=TODAY, sla=Sla())
        runs = []
        with app.app_context():
            tables = figures.dashboard(db.session, **call)  # warm-up
            db.session.remove()
            for _ in range(sizes.console_reps):
                with quiet_gc():
                    with StatementTimes(db.engine) as statements:
                        start = time.perf_counter()
                        figures.dashboard(db.session, **call)
                        runs.append(time.perf_counter() - start)
                db.session.remove()
        slowest = sorted(statements.times, reverse=True)[:3]
        seconds = median(runs)
        return {"households": sizes.console_households, "visits": sizes.console_visits,
                "tickets": sizes.console_tickets, "orders": sizes.console_orders, "build_seconds": built,
                "dashboard_seconds": seconds, "dashboard_min": min(runs), "dashboard_max": max(runs),
                "runs": runs, "statements": len(statements.times),
                "statements_seconds": sum(t for t, _ in statements.times),
                "slowest_statements": [{"ms": round(t * 1000, 1), "sql": sql} for t, sql in slowest],
                "rows": {name: len(table.rows) for name, table in tables.items()},
                "goals": {"limits": GOALS, "met": {"dashboard_seconds": seconds < GOALS["dashboard_seconds"]}}}
    finally:
        dispose(app)
