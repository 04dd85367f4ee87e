"""The supervisors' dashboard: server time of every figure for a big community.

A community of `console_households` households (10 grids, one butler each, 6 buildings) with
`console_visits` visits spread over the year before "today" (random households, satisfaction and
products of interest), `console_tickets` tickets over the last 120 days (every status, category and
escalation) and `console_orders` orders, all written with Core bulk inserts (bench/world.py). Then
`server.console.figures.dashboard()` is called for the last 90 days: once to warm up (statement
compilation, the database's caches), then `console_reps` times, each on a fresh session as a request
would have. Reported: the median, min and max, the statements per call and the slowest statements of
the last call. Goal: under 1 s, computed in the database.

Then the console's ticket list (server/console/tickets.py) as a logged-in supervisor asks for it over
the app (test client: routing, the session, the queries, the page's HTML): its first page, open tickets
urgent first, `console_reps` times after a warm-up; beside it, in the same run, the list's own query
alone (server/tickets/listing.py), the floor no page can go under. Goal: the first page under 300 ms.

The same way, the other long lists: the set-up page with the first page of the community's households
(server/community/listing.py) in address order and in last-visit order (every household's last visit
found and sorted), and the first page of `console_notices` notices (server/notices/listing.py). Goal:
each under 300 ms.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.harness import CLIENT_ID, Database, Sizes, analyze, dispose, make_app, median, quiet_gc
from bench.world import create_world, insert, new_id, reserve_seqs
from server.auth.models import User
from server.auth.service import hash_password
from server.console import figures
from server.extensions import db
from server.notices.models import Notice
from server.records import utcnow
from server.community import listing as households
from server.notices import listing as notices
from server.tickets import listing
from server.products.models import Order
from server.tickets.models import CATEGORIES, Ticket
from server.tickets.sla import Sla
from server.visits.models import Visit

GOALS = {"dashboard_seconds": 1.0, "ticket_list_seconds": 0.3, "household_list_seconds": 0.3,
         "household_visit_list_seconds": 0.3, "notice_list_seconds": 0.3}
SUPERVISOR, PASSWORD = "bench-supervisor", "bench-console-password"
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
        seqs = reserve_seqs(conn, sizes.console_visits + sizes.console_tickets + sizes.console_orders
                            + sizes.console_notices)
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
        notices = []
        for i in range(sizes.console_notices):
            at = noon - timedelta(minutes=rng.randrange(365 * 24 * 60))
            notices.append({"id": new_id(), "community_id": world.community_id, "title": f"公告 {i}", "body": "停水通知",
                            "published_at": at, "building": "", "pinned": i % 50 == 0, "notified_at": at,
                            "version": 1, "deleted": rng.random() < 0.05, "created_at": at, "updated_at": at,
                            "seq": next(seqs), "field_meta": {}})
        insert(conn, Notice.__table__, notices)
        conn.execute(User.__table__.insert(), [{"id": new_id(), "username": SUPERVISOR, "name": "主管",
                                                "password_hash": hash_password(PASSWORD), "role": "supervisor",
                                                "community_id": world.community_id}])
    return world.community_id


def _logged_in(app):
    client = app.test_client()
    login = client.get("/console/login").get_data(as_text=True)
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/console/login", data={"username": SUPERVISOR, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def _first_page(client, path: str, row: str, rows: int, reps: int) -> list[float]:
    """The page at `path`, `reps` times after a warm-up; each must show `rows` rows."""
    first = client.get(path)  # warm-up
    assert first.status_code == 200 and first.get_data(as_text=True).count(f'data-testid="{row}"') == rows, path
    times = []
    for _ in range(reps):
        with quiet_gc():
            start = time.perf_counter()
            answer = client.get(path)
            times.append(time.perf_counter() - start)
        assert answer.status_code == 200
    return times


def ticket_list(app, community_id: str, reps: int) -> dict:
    """The first page of the console's ticket list, and its query alone, `reps` times each."""
    pages = _first_page(_logged_in(app), "/console/tickets", "ticket-row", listing.PAGE, reps)
    queries = []
    for _ in range(reps):
        with app.app_context(), quiet_gc():
            start = time.perf_counter()
            listing.ticket_page(db.session, community_id, listing.TicketQuery(), sla=Sla(), now=utcnow())
            queries.append(time.perf_counter() - start)
            db.session.remove()
    return {"ticket_list_seconds": median(pages), "ticket_list_runs": pages,
            "ticket_list_query_seconds": median(queries),
            "ticket_list_ratio_to_query": median(pages) / median(queries)}


def other_lists(app, reps: int) -> dict:
    """The first pages of the households (by address, by last visit) and of the notices, `reps` times each."""
    client = _logged_in(app)
    found = {}
    for name, path, row, rows in (
            ("household_list", "/console/setup", "setup-household-row", households.PAGE),
            ("household_visit_list", "/console/setup?sort=visit", "setup-household-row", households.PAGE),
            ("notice_list", "/console/notices", "notice-row", notices.PAGE)):
        runs = _first_page(client, path, row, rows, reps)
        found |= {f"{name}_seconds": median(runs), f"{name}_runs": runs}
    return found


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
        tickets = ticket_list(app, community_id, sizes.console_reps)
        lists = other_lists(app, sizes.console_reps)
        return {"households": sizes.console_households, "visits": sizes.console_visits,
                "tickets": sizes.console_tickets, "orders": sizes.console_orders, "build_seconds": built,
                "dashboard_seconds": seconds, "dashboard_min": min(runs), "dashboard_max": max(runs),
                "runs": runs, "statements": len(statements.times),
                "statements_seconds": sum(t for t, _ in statements.times),
                "slowest_statements": [{"ms": round(t * 1000, 1), "sql": sql} for t, sql in slowest],
                "notices": sizes.console_notices,
                "rows": {name: len(table.rows) for name, table in tables.items()}, **tickets, **lists,
                "goals": {"limits": GOALS, "met": {
                    "dashboard_seconds": seconds < GOALS["dashboard_seconds"],
                    **{name: (tickets | lists)[name] < GOALS[name] for name in GOALS if name != "dashboard_seconds"}}}}
    finally:
        dispose(app)
