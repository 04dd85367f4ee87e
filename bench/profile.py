"""Where a sync path spends its time: cProfile's top functions and the SQL it sends, timed.

    .venv/bin/python -m bench.profile push         [--db sqlite|postgresql] [--visits 2000] [--no-products]
    .venv/bin/python -m bench.profile everyday     [--db ...] [--reps 20]   (two visits, then the pull)
    .venv/bin/python -m bench.profile bootstrap    [--db ...] [--households 2000 --people 6000 --visits 20000]
    .venv/bin/python -m bench.profile incremental  [--db ...] [--small 20000 --large 200000]

push and everyday take --cpu: profile this process's CPU time instead of wall time.

The garbage collector is set as gunicorn sets it in each worker (gunicorn.conf.py): with Python's
defaults a quarter of a push's CPU went to collections, charged to whatever line allocated when one
began, which production never pays.

PostgreSQL needs GUANJIA_TEST_POSTGRES_URL. Not part of `make bench`: run it when a goal is missed.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import runpy
import time
from collections import defaultdict

import sqlalchemy as sa

from bench.harness import PostgresDatabase, Sizes, SqliteDatabase, analyze, dispose, make_app, temp_root
from bench.world import Phone, add_visits, create_world
from server import ROOT
from server.extensions import db


class StatementTimer:
    """Per statement shape (the SQL text, parameters aside): how many, and the time spent in the driver."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.count: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        spent = time.perf_counter() - conn.info["bench_t0"].pop()
        key = " ".join(statement.split())
        self.count[key] += 1
        self.seconds[key] += spent

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def report(self, top: int = 15, width: int = 150, per: tuple[str, int] | None = None) -> str:
        lines = [f"  {sum(self.count.values())} statements, {self.total_seconds:.3f} s in the driver"]
        for key in sorted(self.seconds, key=lambda k: -self.seconds[k])[:top]:
            each = f", {self.count[key] / per[1]:.2f} per {per[0]}" if per else ""
            lines.append(f"  {self.seconds[key]:8.3f} s {self.count[key]:6d}x{each}  {key[:width]}")
        return "\n".join(lines)


def profile_report(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def collect_garbage_as_served() -> None:
    """The app server's garbage-collector settings, from the one file that sets them."""
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](None)


def _database(kind: str, root):
    if kind == "sqlite":
        return SqliteDatabase(root)
    url = os.environ.get("GUANJIA_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("GUANJIA_TEST_POSTGRES_URL is not set")
    return PostgresDatabase(url, root)


def _profiled(app, run, cpu: bool) -> tuple[float, "StatementTimer", cProfile.Profile]:
    """Run `run()` under cProfile with every statement timed: the wall time, the timer, the profile.
    With `cpu` the profile counts this process's CPU time (the app's own work, without the waits on
    the database) instead of wall time."""
    with app.app_context():
        engine = db.engine
    profile = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
    with StatementTimer(engine) as timer:
        start = time.perf_counter()
        profile.enable()
        run()
        profile.disable()
        wall = time.perf_counter() - start
    return wall, timer, profile


def _phone_holding_its_grid(app, *, households: int):
    """A butler's grid, and the butler's phone after its first sync (holding the cursor)."""
    world = create_world(app, grids=1, households_per_grid=households)
    phone = Phone(app, world.token)
    answer = phone.answer(phone.post(phone.body(cursor=None)))
    while answer["more"]:
        answer = phone.answer(phone.post(phone.body(cursor=answer["cursor"])))
    phone.cursor = answer["cursor"]
    return world, phone


def profile_push(app, args) -> None:
    from bench.push import batches

    world, phone = _phone_holding_its_grid(app, households=100)
    sizes = Sizes()
    for batch in batches(world, sizes, 500, offset=10**7):  # warm-up
        phone.post(phone.body(cursor=phone.cursor, mutations=batch, limit=1))
    work = batches(world, sizes, args.visits)
    if args.no_products:  # the visits name no product: no per-visit catalogue lookup
        for m in (m for b in work for m in b):
            m["fields"].pop("products_interest")
    bodies = [phone.body(cursor=phone.cursor, mutations=b, limit=1) for b in work]
    wall, timer, profile = _profiled(app, lambda: [phone.post(body) for body in bodies], args.cpu)
    print(f"push of {args.visits} visits in {len(bodies)} requests: {wall:.2f} s under the profiler "
          f"({wall / args.visits * 1000:.3f} ms per visit)")
    print(timer.report(per=("mutation", args.visits)))
    print(profile_report(profile, args.top))


def profile_everyday(app, args) -> None:
    """The sync a phone makes every few seconds all day: two new visits, and the pull that follows."""
    from bench.push import batches

    world, phone = _phone_holding_its_grid(app, households=200)
    work = batches(world, Sizes(push_batch=2), 2 * (2 * args.reps + 10))

    def syncs(some: list[list[dict]]) -> None:
        for batch in some:
            phone.cursor = phone.answer(phone.post(phone.body(cursor=phone.cursor, mutations=batch)))["cursor"]

    syncs(work[:10])  # warm-up
    plain, work = work[10:10 + args.reps], work[10 + args.reps:]
    start = time.perf_counter()
    syncs(plain)
    print(f"{args.reps} everyday syncs (2 visits each): {(time.perf_counter() - start) / args.reps * 1000:.2f} ms "
          f"per sync, no profiler")
    wall, timer, profile = _profiled(app, lambda: syncs(work), args.cpu)
    print(f"{args.reps} everyday syncs (2 visits each): {wall / args.reps * 1000:.2f} ms per sync under the profiler")
    print(timer.report(per=("sync", args.reps)))
    print(profile_report(profile, args.top))


def profile_bootstrap(app, args) -> None:
    from bench.pull import _fill, paged_pull

    world = create_world(app, grids=1, households_per_grid=args.households)
    _fill(app, world, world.households[0], args.people, args.visits)
    analyze(app)
    phone = Phone(app, world.token)
    paged_pull(phone, args.page)  # warm-up
    with app.app_context():
        engine = db.engine
    profile = cProfile.Profile()
    with StatementTimer(engine) as timer:
        start = time.perf_counter()
        profile.enable()
        _, pages, changes = paged_pull(phone, args.page)
        profile.disable()
        wall = time.perf_counter() - start
    print(f"bootstrap pull of {changes} changes in {pages} pages: {wall:.2f} s under the profiler")
    print(timer.report(per=("page", pages)))
    if engine.dialect.name == "sqlite":
        _explain_sqlite(app, timer)
    print(profile_report(profile, args.top))


def profile_incremental(app, args) -> None:
    from bench.pull import INCREMENTAL_GRIDS, INCREMENTAL_HOUSEHOLDS_PER_GRID
    from server.syncing.api import ENGINE
    from server.syncing import changes as change_order
    from sync import cursor as cursors

    world = create_world(app, grids=INCREMENTAL_GRIDS, households_per_grid=INCREMENTAL_HOUSEHOLDS_PER_GRID)
    butler_of = {h: world.butler_ids[g] for g, hs in enumerate(world.households) for h in hs}
    everywhere = list(butler_of)
    key = app.extensions[ENGINE].config.cursor_key
    with app.app_context():
        engine = db.engine
    phone, held = Phone(app, world.token), 0
    for level in (args.small, args.large):
        add_visits(app, everywhere, butler_of, level - 100 - held)
        analyze(app)
        with app.app_context():
            high = change_order.high_water(db.session)
        body = phone.body(cursor=cursors.encode(cursors.Cursor(high), key=key, user_id=world.butler_id))
        add_visits(app, world.households[0], butler_of, 100)
        held = level
        phone.post(body)  # warm-up
        profile = cProfile.Profile()
        with StatementTimer(engine) as timer:
            start = time.perf_counter()
            profile.enable()
            for _ in range(args.reps):
                phone.post(body)
            profile.disable()
            wall = time.perf_counter() - start
        print(f"\n== {level} visits in the tables: {args.reps} pulls of 100 new changes, "
              f"{wall / args.reps * 1000:.1f} ms each under the profiler")
        print(timer.report(top=20, per=("pull", args.reps)))
        if engine.dialect.name == "sqlite":
            _explain_sqlite(app, timer)
        print(profile_report(profile, args.top))


def _explain_sqlite(app, timer: StatementTimer) -> None:
    """The plans of the slowest SELECTs (their parameters replaced by plausible values)."""
    print("  query plans of the three slowest SELECTs (SQLite):")
    with app.app_context():
        conn = db.session.connection()
        for key in sorted(timer.seconds, key=lambda k: -timer.seconds[k])[:3]:
            if not key.startswith("SELECT"):
                continue
            params = tuple(_plausible(i) for i in range(key.count("?")))
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + key, params).all()
            print(f"   {key[:400]}")
            for row in plan:
                print(f"     {row[-1]}")
        db.session.rollback()


def _plausible(_i: int):
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", choices=("push", "everyday", "bootstrap", "incremental"))
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--visits", type=int, default=None)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-products", action="store_true",
                        help="push: visits without products_interest (isolates the per-visit product lookup)")
    parser.add_argument("--cpu", action="store_true",
                        help="push, everyday: profile this process's CPU time instead of wall time "
                             "(waits on the database drop out)")
    args = parser.parse_args()
    if args.visits is None:
        args.visits = 2000 if args.path == "push" else 20_000
    root = temp_root()
    database = _database(args.db, root)
    try:
        app = make_app(database.fresh(), root / "profile-instance")
        collect_garbage_as_served()
        try:
            {"push": profile_push, "everyday": profile_everyday, "bootstrap": profile_bootstrap, "incremental": profile_incremental}[args.path](app, args)
        finally:
            dispose(app)
    finally:
        database.close()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
