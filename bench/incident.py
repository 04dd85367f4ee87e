"""Emergencies: how soon an incident raised for a whole community reaches every subscribed device's push
service. Figures: docs/benchmarks.md, "Emergencies".

A community of `households` homes (2,000 by default) in 10 buildings, one resident per home and
one subscribed browser per resident, 4 butlers whose grids hold them, one supervisor; the butlers
are subscribed too. The supervisor raises an incident for the whole community through Flask's test
client (POST /api/v1/incidents; the console's form and a phone's sync write through the same
service), which writes the incident and one outbox delivery per device in its transaction. The real worker
(`flask notify-worker`, bench/notify.py's Workers: default poll, batch and threads) sends them to the
tests' stand-in push service (tests/support/pushservice.py: it checks VAPID and decrypts each message
as the browser would). One incident warms the worker up first and is not counted. Each device's
clock runs from the incident's COMMIT to the arrival of its push request at the stand-in. The run
fails if any device gets nothing or a message twice, or a message that is not urgent.

    .venv/bin/python -m bench.incident [--db sqlite|postgresql] [--households 2000] [--workers 1] [--reps 3]

PostgreSQL: GUANJIA_TEST_POSTGRES_URL names the server (a throwaway database is made on it).
Goal: p95 < 5 s from the raise to the delivery.
"""
from __future__ import annotations

import argparse
import resource
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from bench.harness import PostgresDatabase, SqliteDatabase, dispose
from bench.notify import CommitClock, Workers, _app, new_key, percentile, standin, wait_for
from server.auth.models import Device, User
from server.auth.service import hash_token
from server.community.models import Community, Grid, Household
from server.extensions import db
from server.notify import subscriptions, vapid
from server.notify.models import Delivery

GOALS = {"p95_seconds": 5.0}
BUILDINGS = 10
BUTLERS = 4


def _device(user: User) -> tuple[Device, str]:
    token = f"bench-token-{os.urandom(12).hex()}"
    device = Device(user_id=user.id, token_hash=hash_token(token), name="bench")
    db.session.add(device)
    return device, token


def build(app: Flask, service, public: str, households: int) -> tuple[str, dict[str, str]]:
    """The community and its subscribed browsers; returns the supervisor's token and each browser's
    owner (stand-in subscription name → user id)."""
    owners: dict[str, str] = {}
    with app.app_context():
        community = Community(name="应急小区", city="杭州")
        db.session.add(community)
        db.session.flush()
        butlers = [User(username=f"bench-butler{i}", password_hash="-", role="butler", name=f"管家{i}",
                        community_id=community.id) for i in range(BUTLERS)]
        supervisor = User(username="bench-supervisor", password_hash="-", role="supervisor", name="主管",
                          community_id=community.id)
        db.session.add_all([*butlers, supervisor])
        db.session.flush()
        grids = [Grid(community_id=community.id, name=f"网格{i}", butler_id=b.id) for i, b in enumerate(butlers)]
        db.session.add_all(grids)
        db.session.flush()
        homes = [Household(community_id=community.id, grid_id=grids[n * BUTLERS // households].id,
                           building=f"{n % BUILDINGS + 1}栋", unit="1单元", room=str(100 + n)) for n in range(households)]
        db.session.add_all(homes)
        db.session.flush()
        residents = [User(username=f"bench-resident{n}", password_hash="-", role="resident", name="住户",
                          community_id=community.id, household_id=home.id) for n, home in enumerate(homes)]
        db.session.add_all(residents)
        db.session.flush()
        _, token = _device(supervisor)
        hosts = ("127.0.0.1",)
        for user in [*residents, *butlers]:
            device, _ = _device(user)
            db.session.flush()
            browser = service.subscribe(application_server_key=public)
            keys = browser.to_json()
            subscriptions.subscribe(db.session, user=user, device=device, endpoint=keys["endpoint"],
                                    p256dh=keys["keys"]["p256dh"], auth=keys["keys"]["auth"], hosts=hosts)
            owners[browser.name] = user.id
        db.session.commit()
        db.session.remove()
    return token, owners


def raise_incident(client, token: str, n: int) -> str:
    r = client.post("/api/v1/incidents", json={"kind": "fire_alarm", "severity": "critical", "title": f"火警演练 {n}",
                                               "buildings": []},
                    headers={"Authorization": f"Bearer {token}"})
    if r.status_code != 201:
        raise RuntimeError(f"raising an incident answered {r.status_code}: {r.get_data(as_text=True)[:300]}")
    return r.get_json()["id"]


def close_incident(client, token: str, incident_id: str) -> None:
    r = client.patch(f"/api/v1/incidents/{incident_id}", json={"ended_at": "2100-01-01T00:00:00+00:00"},
                     headers={"Authorization": f"Bearer {token}"})
    if r.status_code != 200:
        raise RuntimeError(f"closing an incident answered {r.status_code}: {r.get_data(as_text=True)[:300]}")


def run(database, root: Path, *, households: int = 2_000, workers_count: int = 1, reps: int = 3) -> dict:
    key = new_key()
    app = _app(database.fresh(), root / "instance", key)
    client = app.test_client()
    reps_out = []
    with standin() as service:
        started = time.perf_counter()
        token, owners = build(app, service, vapid.public_key(key), households)
        build_seconds = time.perf_counter() - started
        devices = len(owners)
        workers = Workers(app.config["DATABASE_URL"], key, root / "worker-instance", root / "worker.log")
        cpu_before = _children_cpu()
        try:
            workers.start(workers_count)
            seen = 0
            for rep in range(reps + 1):  # the first warms the worker up (imports, first claim): not counted
                with CommitClock() as clock:
                    incident = raise_incident(client, token, rep)
                    committed = clock.last
                raised_seconds = time.time() - committed
                wait_for(service, seen + devices, workers, timeout=300)
                time.sleep(0.5)  # anything sent twice would arrive now
                mine = [m for m in service.messages if m.json["id"] == incident]
                seen = len(service.messages)
                per_device = Counter(m.subscription for m in mine)
                late = [m.time - committed for m in mine]
                if set(per_device) != set(owners) or max(per_device.values()) != 1:
                    raise RuntimeError(f"rep {rep}: {len(set(owners) - set(per_device))} devices missed, "
                                       f"{sum(c - 1 for c in per_device.values())} sent twice")
                if any(m.urgency != "high" for m in mine):
                    raise RuntimeError(f"rep {rep}: a message was not sent with Urgency: high")
                if rep == 0:
                    warm_up = {"p95_seconds": percentile(late, 95), "max_seconds": max(late)}
                else:
                    reps_out.append({"devices": devices, "p50_seconds": percentile(late, 50),
                                     "p95_seconds": percentile(late, 95), "max_seconds": max(late),
                                     "min_seconds": min(late), "request_seconds_after_commit": raised_seconds})
                close_incident(client, token, incident)  # the all-clear, not measured: waited for below
                wait_for(service, seen + devices, workers, timeout=300)
                time.sleep(0.5)
                seen = len(service.messages)
        finally:
            codes = workers.stop()
        # The workers' own CPU (user + system, their start included) over every message they sent:
        # the raise and the all-clear of each rep, warm-up too.
        worker_cpu = _children_cpu() - cpu_before
        with app.app_context():
            statuses = dict(db.session.execute(sa.select(Delivery.status, sa.func.count())
                                               .group_by(Delivery.status)).all())
            db.session.remove()
        dispose(app)
    p95s = [r["p95_seconds"] for r in reps_out]
    return {"database": database.kind, "households": households, "devices": len(owners),
            "workers": workers_count, "build_seconds": build_seconds, "warm_up": warm_up, "reps": reps_out,
            "p95_seconds_worst": max(p95s), "p95_seconds_median": sorted(p95s)[len(p95s) // 2],
            "deliveries": statuses, "worker_exit_codes": codes, "worker_cpu_seconds": worker_cpu,
            "worker_cpu_ms_per_message": 1000 * worker_cpu / max(1, statuses.get("sent", 0)),
            "goal": GOALS, "met": max(p95s) < GOALS["p95_seconds"]}


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the workers, once stopped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--households", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="guanjia-bench-incident-") as tmp:
        root = Path(tmp)
        if args.db == "postgresql":
            url = os.environ.get("GUANJIA_TEST_POSTGRES_URL")
            if not url:
                raise SystemExit("GUANJIA_TEST_POSTGRES_URL names no PostgreSQL server")
            database = PostgresDatabase(url, root)
        else:
            database = SqliteDatabase(root)
        try:
            result = run(database, root, households=args.households, workers_count=args.workers, reps=args.reps)
        finally:
            database.close()
    for n, rep in enumerate(result["reps"]):
        print(f"rep {n}: {rep['devices']} devices, p50 {rep['p50_seconds']:.2f} s, p95 {rep['p95_seconds']:.2f} s, "
              f"max {rep['max_seconds']:.2f} s", file=sys.stderr)
    print(f"worker CPU {result['worker_cpu_ms_per_message']:.2f} ms per message", file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
