"""Notifications: how soon a new ticket reaches the butler's push service, and how fast
the worker empties a queue. Figures and findings: docs/benchmarks.md, "Notifications".

Everything real but the push service: tickets are raised by a resident through Flask's test client
(POST /api/v1/tickets, the route the phone uses, which writes the outbox in the ticket's
transaction), the butler's browsers subscribe through POST /api/v1/push/subscriptions, and the
worker is the real command, `python -m flask --app server notify-worker`, in its own process(es),
configured only through GUANJIA_* variables as in production (default poll 0.25 s, batch 100,
8 sending threads, 10 s timeout). It sends to the local stand-in push service of the tests
(tests/support/pushservice.py), which checks VAPID,
decrypts each message as the browser would, and notes time.time() when a request has been read
(before checking or decrypting it).

- Latency: the worker runs; the resident raises `notify_latency_tickets` tickets 20–50 ms apart
  (uniform, seeded). For each, the time from its COMMIT (a session `after_commit` hook in this
  process: the moment the ticket and its outbox rows are durable) to the push request's arrival at
  the stand-in, matched by the ticket id in the decrypted payload. One warm-up ticket first, not
  counted. Goal: p95 < 1 s.
- Throughput: with no worker running, `notify_browsers` browsers of the butler and
  `notify_tickets` tickets queue browsers × tickets deliveries; then 1 worker process (and, on a
  fresh database, 2 at once) is started, and the clock runs until the stand-in has them all.
  Messages per second are counted from the first arrival to the last (the worker's sending rate;
  the process's start-up, about 1–3 s of imports and app creation, is reported apart), and also
  from the Popen. Every (ticket, browser) pair must arrive exactly once. The CPU each worker and
  this process (the stand-in) used between the first and the last arrival is reported per message.
"""
from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from py_vapid import Vapid
from sqlalchemy.orm import Session as OrmSession

from bench.harness import DATA_KEY, SECRET_KEY, Database, Sizes, dispose, make_app
from server.auth.models import Device, User
from server.auth.service import hash_token
from server.community.models import Community, Grid, Household
from server.extensions import db
from server.notify import vapid
from server.notify.models import Delivery
from tests.support.pushservice import PushService

GOALS = {"latency_p95_ms": 1000.0}
GAP_SECONDS = (0.020, 0.050)  # between two tickets in the latency run
ROOT = Path(__file__).resolve().parent.parent
WORKER = [sys.executable, "-m", "flask", "--app", "server", "notify-worker"]


# ---- the place: a community, a butler with browsers, a resident ------------------------------------

class Place:
    """A butler whose browsers are subscribed at the stand-in, and a resident of their grid."""

    def __init__(self, app: Flask, service: PushService, key: Vapid, browsers: int):
        self.app, self.client = app, app.test_client()
        public = vapid.public_key(key)
        with app.app_context():
            community = Community(name="通知小区", city="杭州")
            db.session.add(community)
            db.session.flush()
            butler = User(username="bench-butler", password_hash="-", role="butler", name="王管家",
                          community_id=community.id)
            db.session.add(butler)
            db.session.flush()
            grid = Grid(community_id=community.id, name="一网格", butler_id=butler.id)
            db.session.add(grid)
            db.session.flush()
            household = Household(community_id=community.id, grid_id=grid.id, building="5栋", unit="1单元",
                                  room="502")
            db.session.add(household)
            db.session.flush()
            resident = User(username="bench-resident", password_hash="-", role="resident", name="刘女士",
                            community_id=community.id, household_id=household.id)
            db.session.add(resident)
            db.session.flush()
            self.resident_token = self._device(resident)
            butler_tokens = [self._device(butler) for _ in range(browsers)]  # one login per phone
            db.session.commit()
            db.session.remove()
        self.browsers = []
        for token in butler_tokens:
            browser = service.subscribe(application_server_key=public)
            r = self.client.post("/api/v1/push/subscriptions", json=browser.to_json(),
                                 headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 201:
                raise RuntimeError(f"subscribing answered {r.status_code}: {r.get_data(as_text=True)[:300]}")
            self.browsers.append(browser)

    @staticmethod
    def _device(user: User) -> str:
        token = f"bench-token-{os.urandom(12).hex()}"
        db.session.add(Device(user_id=user.id, token_hash=hash_token(token), name="bench"))
        return token

    def raise_ticket(self, n: int) -> str:
        r = self.client.post("/api/v1/tickets", json={"category": "repair", "description": f"厨房漏水 {n}"},
                             headers={"Authorization": f"Bearer {self.resident_token}"})
        if r.status_code != 201:
            raise RuntimeError(f"raising a ticket answered {r.status_code}: {r.get_data(as_text=True)[:300]}")
        return r.get_json()["id"]

    def deliveries(self) -> dict[str, int]:
        with self.app.app_context():
            try:
                return dict(db.session.execute(sa.select(Delivery.status, sa.func.count())
                                               .group_by(Delivery.status)).all())
            finally:
                db.session.remove()

    def retried(self) -> dict[str, int]:
        """Deliveries claimed more than once, by the last error they met."""
        with self.app.app_context():
            try:
                return {str(error): n for error, n in db.session.execute(
                    sa.select(Delivery.last_error, sa.func.count()).where(Delivery.attempts > 1)
                    .group_by(Delivery.last_error)).all()}
            finally:
                db.session.remove()


class CommitClock:
    """time.time() at the end of every session commit in this process, while active."""

    def __init__(self):
        self.last = 0.0

    def _mark(self, session) -> None:
        self.last = time.time()

    def __enter__(self) -> "CommitClock":
        sa.event.listen(OrmSession, "after_commit", self._mark)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(OrmSession, "after_commit", self._mark)


# ---- the worker processes -------------------------------------------------------------------------

class Workers:
    """`count` real `flask notify-worker` processes, stopped with SIGTERM (as systemd would)."""

    def __init__(self, url: str, key: Vapid, instance: Path, log: Path):
        self.env = {**os.environ, "GUANJIA_DATABASE_URL": url, "GUANJIA_DATA_KEY": DATA_KEY,
                    "GUANJIA_SECRET_KEY": SECRET_KEY, "GUANJIA_INSTANCE_PATH": str(instance),
                    "GUANJIA_VAPID_PRIVATE_KEY": key.private_pem().decode(),
                    "GUANJIA_PUSH_ALLOWED_HOSTS": "127.0.0.1", "GUANJIA_ESCALATE_EVERY_SECONDS": "0"}
        for name in [n for n in self.env if n.startswith("GUANJIA_NOTIFY_") or n == "GUANJIA_PUSH_TIMEOUT_SECONDS"]:
            del self.env[name]  # the defaults are what is measured
        self.log = log
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> float:
        started = time.time()
        with open(self.log, "ab") as output:
            for _ in range(count):
                self.processes.append(subprocess.Popen(WORKER, env=self.env, cwd=ROOT, stdout=output,
                                                       stderr=subprocess.STDOUT))
        return started

    def stop(self) -> list[int | None]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=20))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                codes.append(None)
        self.processes = []
        return codes

    def cpu_seconds(self) -> list[float]:
        """User + system CPU each live worker has used so far (/proc/<pid>/stat)."""
        used = []
        for process in self.processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                used.append(0.0)
                continue
            used.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))  # utime, stime
        return used

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"notify-worker exited with {process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_for(service: PushService, count: int, workers: Workers, timeout: float) -> list:
    """The stand-in's messages once it has `count` of them (checking that the workers still live)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return service.wait_for_messages(count, timeout=min(2.0, max(deadline - time.monotonic(), 0.01)))
        except AssertionError:
            workers.check_alive()
            if time.monotonic() >= deadline:
                raise RuntimeError(f"waited {timeout:.0f} s for {count} push messages, got {len(service.messages)}; "
                                   f"failures {[r.problem for r in service.failures][:3]}\n{workers.tail()}") from None


# ---- the scenarios ----------------------------------------------------------------------------------

def standin() -> PushService:
    """The stand-in push service (its listen backlog is 128, as a real service takes many
    connections at once)."""
    return PushService()


def new_key() -> Vapid:
    key = Vapid()
    key.generate_keys()
    return key


def _app(url: str, instance: Path, key: Vapid) -> Flask:
    return make_app(url, instance, VAPID_PRIVATE_KEY=key.private_pem().decode(), PUSH_ALLOWED_HOSTS="127.0.0.1")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p95 of 200 values is the 190th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))]


def latency(database: Database, sizes: Sizes, root: Path) -> dict:
    key = new_key()
    work = root / "notify-latency"
    app = _app(database.fresh(), work / "instance", key)
    rng = random.Random(5)
    with standin() as service:
        place = Place(app, service, key, browsers=1)
        workers = Workers(app.config["DATABASE_URL"], key, work / "worker-instance", work / "worker.log")
        commits: dict[str, float] = {}
        posted: dict[str, float] = {}
        try:
            started = workers.start(1)
            warm = place.raise_ticket(0)
            [first] = wait_for(service, 1, workers, timeout=60)
            if first.json["id"] != warm:
                raise RuntimeError(f"the warm-up message is not the warm-up ticket: {first.json}")
            ready = first.time - started
            with CommitClock() as clock:
                for n in range(1, sizes.notify_latency_tickets + 1):
                    time.sleep(rng.uniform(*GAP_SECONDS))
                    before = clock.last
                    ticket = place.raise_ticket(n)
                    posted[ticket], commits[ticket] = time.time(), clock.last
                    if clock.last == before:
                        raise RuntimeError("no commit was seen while raising a ticket")
            messages = wait_for(service, 1 + len(commits), workers, timeout=60)
            time.sleep(0.5)  # anything sent twice would arrive now
            messages = list(service.messages)
        finally:
            codes = workers.stop()
        statuses = place.deliveries()
        retried = place.retried()
        dispose(app)
    arrivals: dict[str, list[float]] = {}
    for message in messages:
        arrivals.setdefault(message.json["id"], []).append(message.time)
    missing = [t for t in commits if t not in arrivals]
    if missing or service.failures:
        raise RuntimeError(f"{len(missing)} tickets never arrived; failures {service.failures[:3]}")
    ms = [(arrivals[t][0] - commits[t]) * 1000 for t in commits]
    from_response = [(arrivals[t][0] - posted[t]) * 1000 for t in commits]
    return {
        "tickets": len(ms), "gap_ms": [g * 1000 for g in GAP_SECONDS],
        "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "max_ms": max(ms), "min_ms": min(ms),
        "mean_ms": statistics.fmean(ms),
        "p95_from_response_ms": percentile(from_response, 95),
        "sent_twice": sum(len(v) - 1 for v in arrivals.values()),
        "deliveries": statuses, "retried": retried, "worker_exit_codes": codes,
        "worker_ready_seconds": ready,  # Popen → the warm-up ticket's arrival
        "met": percentile(ms, 95) < GOALS["latency_p95_ms"],
    }


def throughput(database: Database, sizes: Sizes, root: Path, workers_count: int) -> dict:
    key = new_key()
    work = root / f"notify-throughput-{workers_count}"
    app = _app(database.fresh(), work / "instance", key)
    expected = sizes.notify_browsers * sizes.notify_tickets
    with standin() as service:
        place = Place(app, service, key, browsers=sizes.notify_browsers)
        queue_started = time.perf_counter()
        tickets = [place.raise_ticket(n) for n in range(sizes.notify_tickets)]
        queue_seconds = time.perf_counter() - queue_started
        queued = place.deliveries()
        if queued != {"pending": expected}:
            raise RuntimeError(f"expected {expected} pending deliveries, found {queued}")
        dispose(app)  # nothing of this process holds the SQLite file while the workers write it
        workers = Workers(app.config["DATABASE_URL"], key, work / "worker-instance", work / "worker.log")
        try:
            started = workers.start(workers_count)
            wait_for(service, 1, workers, timeout=60)
            cpu_workers, cpu_here = workers.cpu_seconds(), time.process_time()
            messages = wait_for(service, expected, workers, timeout=300)
            cpu_workers = [b - a for a, b in zip(cpu_workers, workers.cpu_seconds())]
            cpu_here = time.process_time() - cpu_here
            deadline = time.monotonic() + 10  # let the workers record the last outcomes
            while (statuses := place.deliveries()) != {"sent": expected} and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # anything sent twice would arrive now
            messages = list(service.messages)
        finally:
            codes = workers.stop()
        statuses = place.deliveries()
        retried = place.retried()
        dispose(app)
    pairs = Counter((m.json["id"], m.subscription) for m in messages)
    wanted = {(t, b.name) for t in tickets for b in place.browsers}
    times = sorted(m.time for m in messages)
    first, last = times[0], times[expected - 1]
    result = {
        "workers": workers_count, "browsers": sizes.notify_browsers, "tickets": sizes.notify_tickets,
        "messages": len(messages), "expected": expected,
        "queue_seconds": queue_seconds,
        "startup_seconds": first - started,  # Popen → first arrival (imports, app, first claim)
        "seconds_from_first": last - first, "seconds_from_start": last - started,
        "msgs_per_second": (expected - 1) / (last - first) if last > first else float("inf"),
        "msgs_per_second_from_start": expected / (last - started),
        "sent_twice": sum(c - 1 for c in pairs.values() if c > 1),
        "missing": len(wanted - set(pairs)), "unexpected": len(set(pairs) - wanted),
        "failures": len(service.failures), "deliveries": statuses, "retried": retried,
        # CPU per message between the first arrival and the last: the worker processes', and this
        # process's (almost all of it the stand-in: HTTP, VAPID check, decryption)
        "cpu_ms_per_message": {"workers": sum(cpu_workers) * 1000 / expected, "standin": cpu_here * 1000 / expected},
        "cpu_seconds_per_worker": cpu_workers,  # with 2 workers: did both work?
        "requests": len(service.requests), "longest_gap_seconds": max(b - a for a, b in zip(times, times[1:])),
        "worker_exit_codes": codes,
    }
    if result["missing"] or result["unexpected"] or result["failures"]:
        raise RuntimeError(f"throughput run with {workers_count} workers went wrong: {result}")
    return result


def run(database: Database, sizes: Sizes, root: Path) -> dict:
    lat = latency(database, sizes, root)
    one = throughput(database, sizes, root, 1)
    two = throughput(database, sizes, root, 2)
    return {"latency": lat, "throughput": {"1": one, "2": two},
            "goals": {"limits": GOALS, "met": {"latency_p95_ms": lat["met"]}}}
