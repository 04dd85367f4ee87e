"""Sync over the wire, beside PouchDB: Guanjia's real path timed from another process, and the peer.

Guanjia's side runs the app as `make run` serves it: gunicorn with gunicorn.conf.py (gevent workers,
the access log), on a throwaway PostgreSQL with PostgreSQL's default durability (fsync and
synchronous commit on; scripts/throwaway-postgres --durable), reached over its Unix socket. The
notification worker is not started: visits notify nobody, and its poll would count in PostgreSQL's CPU.

This process is the phone: one keep-alive HTTP/1.1 connection (`http.client`) per phone, speaking
POST /api/v1/sync as the PWA does (pwa/js/sync.js): a batch of mutations with the cursor it holds
and `limit: 1000`, then pages while `more`. What is timed is the phone's wall clock, encoding its
requests and parsing the answers included (as PouchDB's times include its client's work).

- push: a butler whose phone holds its grid (100 households; its first sync is made first, not
  timed) pushes 10,000 new visits in batches of 500. Each answer also brings the batch's visits back
  as changes, as it does to the PWA. Each rep is a fresh butler in a community of its own; one more
  warms the server up before.
- bootstrap: the first sync of a grid of 2,000 households, 6,000 people and 20,000 visits (28,005
  changes with the catalogue) by a phone holding nothing, all pages; the bytes on the wire too.
- incremental: two deployments built alike (bench/pull.py: ten grids, visits spread over all),
  20,000 and 200,000 visits, each with its own app server; a phone whose cursor stands before the
  last 100 visits of its grid pulls them, the two deployments alternately.
- CPU: utime + stime from /proc of the gunicorn tree (master, workers) and, separately, the
  PostgreSQL tree (postmaster, backends, WAL writer, checkpointer…), read before and after each
  timed push and first sync, and around a run of incremental pulls of one deployment (made again
  after the timed ones: /proc counts in 10 ms ticks, a pull's order of time) → µs per pushed
  mutation and per pulled record.

The workload is the peer's whatever the sizes (`peer_sized`): BENCH_QUICK only lowers repetitions.
The peer (bench/peer.py) runs after, in the same run; each `vs_pouchdb_*` is Guanjia's time ÷ its.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gzip
import http.client
import json
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable, Iterator

import brotli
import sqlalchemy as sa
from backports import zstd

from bench import peer, pull, push
from bench.harness import DATA_KEY, SECRET_KEY, PostgresDatabase, Sizes, analyze, dispose, make_app, median
from bench.load import servers
from bench.world import create_world

# The peer's workload (its README): the same counts on both sides.
PEER_WORKLOAD = {"push_visits": 10_000, "push_batch": 500, "push_households": 100, "grid_households": 2_000,
                 "grid_people": 6_000, "grid_visits": 20_000, "page": 1_000, "incremental_small": 20_000,
                 "incremental_large": 200_000, "incremental_new": 100}
GOALS = {"vs_pouchdb_push": 0.5, "vs_pouchdb_bootstrap": 0.5, "vs_pouchdb_incremental": 1.0,
         "wire_incremental_growth": 1.25, "server_cpu_us_per_pushed_mutation": 150.0,
         "server_cpu_us_per_pulled_record": 50.0}
PAGE = 1_000  # the PWA's `limit`
# What Chromium asks for over HTTPS, as a phone meets a deployment; the answers are undone here, in
# the timed stretch, as the browser does.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
DECODERS = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}
SCHEMA = 1


def peer_sized(sizes: Sizes) -> Sizes:
    """The sizes with the peer's workload; repetitions as given (BENCH_QUICK lowers them)."""
    return dataclasses.replace(sizes, **PEER_WORKLOAD)


# ---- the phone: a keep-alive HTTP client of POST /api/v1/sync ----------------------------------------

class _Connection(http.client.HTTPConnection):
    """Counts the bytes it sends (request line, headers and body)."""

    sent = 0

    def send(self, data) -> None:
        self.sent += len(data)
        super().send(data)


class Phone:
    """One installed app: its client id, token, cursor and one keep-alive connection."""

    def __init__(self, base_url: str, token: str, client_id: str | None = None, limit: int = PAGE):
        self.limit = limit
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.token = token
        self.client_id = client_id or str(uuid.uuid4())
        self.cursor: str | None = None
        self.connection: _Connection | None = None
        self.requests = self.bytes_up = self.bytes_down = self.reconnects = 0

    def close(self) -> None:
        if self.connection:
            self.bytes_up += self.connection.sent
            self.connection.close()
            self.connection = None

    def post(self, path: str, body: bytes) -> bytes:
        status, _, raw = self.request("POST", path, body)
        if status != 200:
            raise RuntimeError(f"POST {path} answered {status}: {raw[:500]!r}")
        return raw

    def request(self, method: str, path: str, body: bytes | None = None, *,
                content_type: str = "application/json", headers: dict[str, str] | None = None,
                ) -> tuple[int, http.client.HTTPResponse, bytes]:
        """One request on the keep-alive connection: (status, response, decoded body)."""
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.token}",
                   "Accept-Encoding": ACCEPT_ENCODING, "Accept-Language": "zh-CN", **(headers or {})}
        for attempt in (0, 1):
            fresh = self.connection is None
            if fresh:
                self.connection = _Connection(self.host, self.port, timeout=600)
            try:
                self.connection.request(method, path, body, headers)
                response = self.connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if fresh or attempt:
                    raise
                self.reconnects += 1  # the server closed an idle keep-alive connection: the same body again
                continue
            self.requests += 1
            self.bytes_down += (len(f"HTTP/1.1 {response.status} {response.reason}\r\n\r\n")
                                + sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + len(raw))
            if response.will_close:
                self.close()
            encoding = (response.getheader("Content-Encoding") or "identity").lower()
            if encoding != "identity":
                raw = DECODERS[encoding](raw)
            return response.status, response, raw
        raise AssertionError("unreachable")

    @property
    def sent(self) -> int:
        """Bytes sent so far, the open connection's included."""
        return self.bytes_up + (self.connection.sent if self.connection else 0)

    def sync(self, mutations: list[dict] = ()) -> dict:
        envelope = {"client_id": self.client_id, "schema": SCHEMA, "cursor": self.cursor, "limit": self.limit,
                    "mutations": list(mutations)}
        answer = json.loads(self.post("/api/v1/sync", json.dumps(envelope, ensure_ascii=False,
                                                                  separators=(",", ":")).encode()))
        self.cursor = answer["cursor"]
        return answer

    def round(self, mutations: list[dict] = ()) -> tuple[list[dict], int, int]:
        """One sync run as the PWA makes it: push `mutations`, then pull pages while `more`.
        Returns the results, the changes pulled and the requests made."""
        answer = self.sync(mutations)
        results, changes, requests = answer["results"], len(answer["changes"]), 1
        while answer["more"]:
            answer = self.sync()
            changes += len(answer["changes"])
            requests += 1
        return results, changes, requests


# ---- servers and CPU ---------------------------------------------------------------------------------

@contextlib.contextmanager
def app_servers(urls: dict[str, str], root: Path) -> Iterator[dict[str, servers.Process]]:
    """One gunicorn per database, each started as `make run` starts one (gunicorn.conf.py), all at once."""
    logs, instance = root / "logs", root / "instance"
    logs.mkdir(parents=True, exist_ok=True)
    first = next(iter(urls.values()))
    subprocess.run([str(servers.BIN / "flask"), "--app", "server", "vapid-keys"], cwd=servers.ROOT, check=True,
                   env=servers.app_env(first, instance, SECRET_KEY, DATA_KEY), capture_output=True, timeout=120)
    started: dict[str, servers.Process] = {}
    try:
        for name, url in urls.items():
            started[name] = servers.start_app(name, servers.app_env(url, instance, SECRET_KEY, DATA_KEY),
                                              logs / f"{name}.log")
        for process in started.values():
            servers.wait_healthy(process.url, process, timeout=120)
        yield started
    finally:
        for process in started.values():
            servers.stop(process)


class Cpu:
    """CPU seconds of process trees (gunicorn's, PostgreSQL's), summed over marked stretches."""

    def __init__(self, roots: dict[str, int | None]):
        self.roots = {name: pid for name, pid in roots.items() if pid}
        self.spent: dict[str, float] = {}

    @contextlib.contextmanager
    def stretch(self) -> Iterator[None]:
        before = servers.cpu_snapshot(self.roots)
        yield
        after = servers.cpu_snapshot(self.roots)
        for name in self.roots:
            self.spent[name] = self.spent.get(name, 0.0) + after[name] - before[name]

    def per(self, name: str, count: int) -> float | None:
        """µs of `name`'s tree per item, or None when that tree is not watched."""
        return self.spent.get(name, 0.0) / count * 1e6 if name in self.roots and count else None


# ---- the measurement ------------------------------------------------------------------------------------

def postgres_settings(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {name: conn.exec_driver_sql(f"SHOW {name}").scalar_one()
                for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers")}


def guanjia(sizes: Sizes, root: Path, log: Callable[[str], None] = print) -> dict:
    """Guanjia's side on a durable throwaway PostgreSQL of its own (failing if it is not durable)."""
    with servers.throwaway_postgres(durable=True) as (url, pg_pid):
        return measure(url, pg_pid, sizes, root, log=log, durable=True)


def measure(url: str, pg_pid: int | None, sizes: Sizes, root: Path, *, log: Callable[[str], None] = print,
            durable: bool = True) -> dict:
    """Seed the databases, start their app servers, time push, bootstrap and incremental over HTTP."""
    database = PostgresDatabase(url, root)
    try:
        settings = postgres_settings(database.admin)
        if durable and (settings["fsync"] != "on" or settings["synchronous_commit"] != "on"):
            raise RuntimeError(f"the wire benchmark's PostgreSQL must keep the default durability: {settings}")
        started = time.perf_counter()
        main_url = database.fresh()
        app = make_app(main_url, root / "seed")
        try:
            grid = create_world(app, grids=1, households_per_grid=sizes.grid_households)
            pull._fill(app, grid, grid.households[0], sizes.grid_people, sizes.grid_visits)
            expected = sizes.grid_households + sizes.grid_people + sizes.grid_visits + pull._catalogue(app)
            pushers = [create_world(app, grids=1, households_per_grid=sizes.push_households)
                       for _ in range(sizes.wire_push_reps + 1)]  # the first warms the server up
            analyze(app)
        finally:
            dispose(app)
        levels = {}
        for name, level in (("small", sizes.incremental_small), ("large", sizes.incremental_large)):
            app = make_app(database.fresh(), root / f"seed-{name}")
            try:
                test_phone, body, _ = pull._prepare_level(app, sizes, level)
                levels[name] = (app.config["DATABASE_URL"], test_phone.headers["Authorization"].split(" ", 1)[1],
                                json.loads(body))
            finally:
                dispose(app)
        with database.admin.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")  # the seeding's dirty pages written now, not while timing
        log(f"  seeded in {time.perf_counter() - started:.0f} s (PostgreSQL {settings['server_version']}, "
            f"fsync {settings['fsync']}, synchronous_commit {settings['synchronous_commit']}, Unix socket)")

        urls = {"main": main_url, **{f"incremental-{n}": levels[n][0] for n in levels}}
        with app_servers(urls, root / "servers") as running:
            cpu_roots = {name: process.pid for name, process in running.items()}
            main = running["main"].url
            out = {"postgres": settings,
                   "bootstrap": _bootstrap(main, grid.token, expected, sizes, cpu_roots, pg_pid),
                   "push": _push(main, pushers, sizes, cpu_roots, pg_pid),
                   "incremental": _incremental({n: (running[f"incremental-{n}"].url, *levels[n][1:]) for n in levels},
                                               sizes, cpu_roots, pg_pid),
                   "server": {"workers": "gunicorn.conf.py", "pids": cpu_roots, "postgres_pid": pg_pid}}
        out["seconds"] = time.perf_counter() - started
        return out
    finally:
        database.close()


def _bootstrap(url: str, token: str, expected: int, sizes: Sizes, roots: dict, pg_pid: int | None) -> dict:
    warm = Phone(url, token, limit=sizes.page)
    _, changes, _ = warm.round()  # warm-up, and a check that all arrives
    warm.close()
    if changes != expected:
        raise RuntimeError(f"a first sync over HTTP brought {changes} changes, expected {expected}")
    cpu = Cpu({"gunicorn": roots["main"], "postgres": pg_pid})
    runs, phones = [], []
    for _ in range(sizes.bootstrap_reps):
        phone = Phone(url, token, limit=sizes.page)  # a phone holding nothing: new client, new connection
        with cpu.stretch():
            start = time.perf_counter()
            _, changes, requests = phone.round()
            runs.append(time.perf_counter() - start)
        phone.close()
        if changes != expected:
            raise RuntimeError(f"a first sync over HTTP brought {changes} changes, expected {expected}")
        phones.append((requests, phone.sent, phone.bytes_down))
    pulled = expected * len(runs)
    requests, up, down = phones[0]
    return {"records": expected, "pages": requests, "reps": len(runs), "runs": runs, "seconds": median(runs),
            "seconds_min": min(runs), "bytes_down": down, "bytes_up": up,
            "cpu_seconds": cpu.spent, "cpu_us_per_record": {"gunicorn": cpu.per("gunicorn", pulled),
                                                            "postgres": cpu.per("postgres", pulled)}}


def _push(url: str, pushers: list, sizes: Sizes, roots: dict, pg_pid: int | None) -> dict:
    cpu = Cpu({"gunicorn": roots["main"], "postgres": pg_pid})
    runs, requests, echoed, up, down = [], [], [], [], []
    for n, world in enumerate(pushers):
        work = push.batches(world, sizes, sizes.push_visits if n else sizes.push_batch)
        phone = Phone(url, world.token, limit=sizes.page)
        phone.round()  # the phone holds its grid before it goes out visiting (not timed)
        sent, received, made = phone.sent, phone.bytes_down, phone.requests
        measuring = cpu.stretch() if n else contextlib.nullcontext()
        pulled = 0
        with measuring:
            start = time.perf_counter()
            for batch in work:
                results, changes, _ = phone.round(batch)
                if len(results) != len(batch) or any(r["status"] != "applied" for r in results):
                    raise RuntimeError(f"a pushed visit was not applied: {results[:3]}")
                pulled += changes
            seconds = time.perf_counter() - start
        phone.close()
        if n:  # the first phone only warmed the server up
            runs.append(seconds)
            requests.append(phone.requests - made)
            echoed.append(pulled)
            up.append(phone.sent - sent)
            down.append(phone.bytes_down - received)
    pushed = sizes.push_visits * len(runs)
    return {"visits": sizes.push_visits, "batch": sizes.push_batch, "reps": len(runs), "runs": runs,
            "seconds": median(runs), "seconds_min": min(runs), "requests": requests[0],
            "changes_pulled_back": echoed[0], "bytes_up": up[0], "bytes_down": down[0],
            "cpu_seconds": cpu.spent, "cpu_us_per_mutation": {"gunicorn": cpu.per("gunicorn", pushed),
                                                              "postgres": cpu.per("postgres", pushed)}}


def _incremental(levels: dict[str, tuple[str, str, dict]], sizes: Sizes, roots: dict, pg_pid: int | None) -> dict:
    """The same pull (the same cursor) timed again and again on each deployment, alternately."""
    phones, cpus, times = {}, {}, {}
    for name, (url, token, envelope) in levels.items():
        phone = Phone(url, token, client_id=envelope["client_id"])
        phone.cursor = envelope["cursor"]
        phones[name] = (phone, envelope["cursor"])
        cpus[name] = Cpu({"gunicorn": roots[f"incremental-{name}"], "postgres": pg_pid})
        times[name] = []
    for rep in range(sizes.wire_incremental_reps + 1):  # the first of each: warm-up, not timed
        for name, (phone, cursor) in phones.items():
            phone.cursor = cursor
            start = time.perf_counter()
            answer = phone.sync()
            seconds = time.perf_counter() - start
            if len(answer["changes"]) != sizes.incremental_new or answer["more"]:
                raise RuntimeError(f"an incremental pull brought {len(answer['changes'])} changes "
                                   f"(more={answer['more']}), expected {sizes.incremental_new}")
            if rep:
                times[name].append(seconds)
    # CPU: the same pulls again, one deployment's in a row. /proc counts in 10 ms ticks, about one pull's
    # time: read around each pull alone, the sum is mostly rounding; around a run of them it is not.
    for name, (phone, cursor) in phones.items():
        with cpus[name].stretch():
            for _ in range(sizes.wire_incremental_reps):
                phone.cursor = cursor
                phone.sync()
    out = {"new_changes": sizes.incremental_new}
    for name, level in (("small", sizes.incremental_small), ("large", sizes.incremental_large)):
        phone, _ = phones[name]
        runs, pulled = times[name], sizes.incremental_new * sizes.wire_incremental_reps
        out[name] = {"visits_in_deployment": level, "runs": len(runs), "seconds": median(runs),
                     "seconds_min": min(runs), "seconds_max": max(runs),
                     "bytes_down_per_pull": phone.bytes_down // phone.requests,
                     "cpu_us_per_record": {"gunicorn": cpus[name].per("gunicorn", pulled),
                                           "postgres": cpus[name].per("postgres", pulled)}}
        phone.close()
    out["growth"] = out["large"]["seconds"] / out["small"]["seconds"]
    return out


# ---- beside the peer -------------------------------------------------------------------------------------

def compare(g: dict, p: dict) -> dict:
    """The figures and goals of the part: Guanjia's measurement `g` beside the peer's JSON `p`."""
    figures = {
        **peer.ratios({"push": g["push"]["seconds"], "bootstrap": g["bootstrap"]["seconds"],
                       "incremental": g["incremental"]["small"]["seconds"]}, p),
        "wire_incremental_growth": g["incremental"]["growth"],
        "server_cpu_us_per_pushed_mutation": g["push"]["cpu_us_per_mutation"]["gunicorn"],
        "server_cpu_us_per_pulled_record": g["bootstrap"]["cpu_us_per_record"]["gunicorn"],
        "postgres_cpu_us_per_pushed_mutation": g["push"]["cpu_us_per_mutation"]["postgres"],
        "postgres_cpu_us_per_pulled_record": g["bootstrap"]["cpu_us_per_record"]["postgres"],
        "first_sync_bytes": g["bootstrap"]["bytes_down"],
        "first_sync_bytes_up": g["bootstrap"]["bytes_up"],
        "pouchdb_first_sync_bytes": (p.get("summary") or {}).get("wire_bootstrap_28k_bytes_down"),
    }
    met = {name: figures[name] is not None and figures[name] <= limit for name, limit in GOALS.items()}
    return {**figures, "limits": GOALS, "met": met,
            "seconds": {"guanjia": {"push": g["push"]["seconds"], "bootstrap": g["bootstrap"]["seconds"],
                                    "incremental_20k": g["incremental"]["small"]["seconds"],
                                    "incremental_200k": g["incremental"]["large"]["seconds"]},
                        "pouchdb": {"push": p["push_10k_s"], "bootstrap": p["bootstrap_28k_s"],
                                    "incremental_28k": p["incremental_100_at_28k_s"]}}}


def run(sizes: Sizes, root: Path, log: Callable[[str], None] = print) -> dict:
    """The whole part: check the peer can run, measure Guanjia, run the peer, set them side by side."""
    peer.preflight()  # fail before minutes of measuring, not after
    sizes = peer_sized(sizes)
    started = time.perf_counter()
    g = guanjia(sizes, root / "wire", log=log)
    log(f"  Guanjia measured in {time.perf_counter() - started:.0f} s; the PouchDB peer next")
    p = peer.run(log=log)
    return {**compare(g, p), "guanjia": g, "pouchdb": p}
