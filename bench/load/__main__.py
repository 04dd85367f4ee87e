"""`python -m bench.load` (`make load`): many phones at once against one or two real app servers.

Sets up everything itself: a throwaway PostgreSQL with default durability (scripts/throwaway-postgres
--durable), a migrated database seeded with a many-community world (bench/load/world.py), N gunicorn
servers started as `make run` starts one (gunicorn.conf.py) and the notification worker; logs the
butlers in through the API, then runs Locust headless (bench/load/locustfile.py) for a bounded time
and request count. Traffic goes only to 127.0.0.1. Prints readable lines, then one JSON line last.

Environment (defaults in brackets):
  LOAD_SECONDS [60]          how long Locust runs (users are spawned within it)
  LOAD_MAX_REQUESTS [200000] Locust stops after this many requests, whichever comes first
  LOAD_SERVERS [1]           app servers on one database; every phone sends each request to the next
  LOAD_COMPARE [0]           1: run once with one server and once with two, and report the ratio
  LOAD_PHONES [200]          butlers' phones: a first sync, then a sync every ~LOAD_SYNC_EVERY s
  LOAD_CHANNELS [1000]       open live channels (long polls): the phones' own, the rest residents'
  LOAD_REPORTERS [20]        residents raising a request every ~LOAD_TICKET_EVERY s (through sync)
  LOAD_SUPERVISORS [1]       supervisors loading the console's dashboard every ~LOAD_DASHBOARD_EVERY s
  LOAD_SYNC_EVERY [4], LOAD_TICKET_EVERY [15], LOAD_DASHBOARD_EVERY [10]   seconds, ±25 %
  LOAD_SPAWN_RATE [100]      users started per second
  LOAD_WARM [1]              1: every phone makes its first sync before the run (four at a time), so the
                             run measures everyday syncs; 0: all first syncs inside the run, at once
  LOAD_COMMUNITIES [10], LOAD_GRIDS [20] per community, LOAD_HOUSEHOLDS [200] per grid,
  LOAD_RESIDENTS [1000]      the world (one butler per grid, one supervisor per community)
  LOAD_WORKER_CLASS          gunicorn's worker class (else gunicorn.conf.py's: GUANJIA_WORKER_CLASS or gevent)
  LOAD_POSTGRES_URL          use this PostgreSQL server (databases are created and dropped there)
                             instead of starting a durable throwaway one
  LOAD_PG_TCP [0]            1: reach the throwaway PostgreSQL over TCP on 127.0.0.1 instead of its Unix socket
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import asdict
from pathlib import Path

import sqlalchemy as sa

from bench.harness import DATA_KEY, SECRET_KEY, _migrate, analyze, dispose, make_app
from bench.load import servers, world

SYNC_KINDS = ("first sync", "sync", "resident first sync", "ticket raise")
KINDS = ("first sync", "first sync (all pages)", "sync", "live start", "live poll", "poke latency",
         "resident first sync", "ticket raise", "console login form", "console login", "dashboard")


def say(text: str = "") -> None:
    print(text, flush=True)


def number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def settings() -> dict:
    s = {name: int(number(f"LOAD_{name.upper()}", default)) for name, default in (
        ("seconds", 60), ("max_requests", 200_000), ("servers", 1), ("compare", 0), ("phones", 200),
        ("channels", 1000), ("reporters", 20), ("supervisors", 1), ("spawn_rate", 100), ("communities", 10),
        ("grids", 20), ("households", 200), ("residents", 1000), ("warm", 1), ("pg_tcp", 0))}
    for name, default in (("sync_every", 4.0), ("ticket_every", 15.0), ("dashboard_every", 10.0)):
        every = number(f"LOAD_{name.upper()}", default)
        s[f"{name}_min"], s[f"{name}_max"] = round(every * 0.75, 3), round(every * 1.25, 3)
    s["worker_class"] = os.environ.get("LOAD_WORKER_CLASS") or os.environ.get("GUANJIA_WORKER_CLASS") or "gevent"
    butlers = s["communities"] * s["grids"]
    if s["phones"] > butlers:
        raise SystemExit(f"LOAD_PHONES={s['phones']} is more than the world's {butlers} butlers")
    if s["channels"] < s["phones"] or s["channels"] - s["phones"] > s["residents"]:
        raise SystemExit("LOAD_CHANNELS must be at least LOAD_PHONES and at most LOAD_PHONES + LOAD_RESIDENTS")
    if s["reporters"] > s["residents"] or s["supervisors"] > s["communities"]:
        raise SystemExit("LOAD_REPORTERS ≤ LOAD_RESIDENTS and LOAD_SUPERVISORS ≤ LOAD_COMMUNITIES")
    return s


# ---- set-up -----------------------------------------------------------------------------------------

def login_butlers(urls: list[str], usernames: list[str]) -> tuple[list[dict], list[float]]:
    """Each butler's phone logs in once through POST /api/v1/auth/login (successful logins are not
    throttled; only failures are); their tokens go to Locust. Returns the tokens and the times."""
    def one(i: int) -> tuple[dict, float]:
        body = json.dumps({"username": usernames[i], "password": world.PASSWORD, "device_name": "压测手机",
                           "client_id": str(uuid.uuid4())}).encode()
        request = urllib.request.Request(f"{urls[i % len(urls)]}/api/v1/auth/login", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            token = json.loads(response.read())["token"]
        return {"username": usernames[i], "token": token}, time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        done = list(pool.map(one, range(len(usernames))))
    return [d for d, _ in done], [t for _, t in done]


def first_syncs(urls: list[str], phones: list[dict]) -> list[float]:
    """Before the measured run (LOAD_WARM=1): each phone's first sync, paged to the end, four at a
    time; its cursor, client id and households go to Locust, so the run measures the everyday
    syncs of phones already holding their grid. Returns each first sync's time."""
    def one(i: int) -> float:
        phone, client_id, cursor, households = phones[i], str(uuid.uuid4()), None, []
        started = time.perf_counter()
        while True:
            body = json.dumps({"client_id": client_id, "schema": 1, "cursor": cursor, "mutations": []}).encode()
            request = urllib.request.Request(f"{urls[i % len(urls)]}/api/v1/sync", data=body, method="POST",
                                             headers={"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {phone['token']}"})
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.loads(response.read())
            cursor = answer["cursor"]
            households += [c["id"] for c in answer["changes"] if c["type"] == "household" and c["op"] == "put"]
            if not answer["more"]:
                break
        phone.update(client_id=client_id, cursor=cursor, households=households)
        return time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return sorted(pool.map(one, range(len(phones))))


def read_stats(prefix: Path) -> tuple[dict, list[dict]]:
    kinds = {}
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kinds[row["Name"]] = {"count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                  "p50_ms": _ms(row["50%"]), "p95_ms": _ms(row["95%"]), "p99_ms": _ms(row["99%"]),
                                  "max_ms": _ms(row["Max Response Time"]), "mean_ms": _ms(row["Average Response Time"])}
    failures = []
    with contextlib.suppress(OSError), open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as f:
        failures = [{"name": r["Name"], "error": r["Error"][:300], "count": int(r["Occurrences"])} for r in csv.DictReader(f)]
    return kinds, failures


def _ms(raw: str) -> float | None:
    try:
        return round(float(raw), 1)
    except ValueError:
        return None


def run_once(s: dict, count: int, admin: sa.Engine, template: str, seeded: world.Seeded, root: Path,
             pg_pid: int | None) -> dict:
    """One Locust run against `count` fresh servers on a fresh copy of the seeded database."""
    name = f"{template.removesuffix('_tpl')}_{count}s"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    here = root / f"servers{count}"
    env = servers.app_env(url, here / "instance", SECRET_KEY, DATA_KEY, GUANJIA_WORKER_CLASS=s["worker_class"])
    try:
        with servers.running(count, env, here / "logs") as running:
            say(f"\n== {count} app server(s) ({s['worker_class']}): {', '.join(running.urls)}")
            tokens, login_times = login_butlers(running.urls, seeded.butlers[:s["phones"]])
            login_times.sort()
            say(f"  {len(tokens)} butlers logged in through the API "
                f"(p50 {1000 * login_times[len(login_times) // 2]:.0f} ms)")
            warm_times = first_syncs(running.urls, tokens) if s["warm"] else []
            if warm_times:
                say(f"  warm-up: {len(warm_times)} first syncs before the run, four at a time "
                    f"(p50 {1000 * warm_times[len(warm_times) // 2]:.0f} ms, max {1000 * warm_times[-1]:.0f} ms)")
            counts = {"butler_phones": s["phones"], "butler_channels": s["phones"],
                      "resident_channels": s["channels"] - s["phones"], "reporters": s["reporters"],
                      "supervisors": s["supervisors"]}
            plan = {"hosts": running.urls, "butlers": tokens, "residents": seeded.residents,
                    "supervisors": [{"username": u, "password": world.PASSWORD} for u in seeded.supervisors],
                    "counts": counts, "settings": s, "report": str(here / "observed.json"),
                    "checklist": world.CHECKLIST_KEYS}
            (here / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
            roots = {p.name: p.pid for p in running.all()} | ({"postgres": pg_pid} if pg_pid else {})
            users = sum(counts.values())
            argv = [str(servers.BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
                    "--users", str(users), "--spawn-rate", str(s["spawn_rate"]), "--run-time", f"{s['seconds']}s",
                    "--csv", str(here / "locust"), "--only-summary", "--loglevel", "WARNING"]
            say(f"  Locust: {users} users ({counts}) for {s['seconds']} s")
            before, started = servers.cpu_snapshot(roots), time.monotonic()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            samples: list[tuple[float, dict]] = []  # (time, CPU so far), each second: for the steady window
            waits: list[tuple[int, int]] = []  # (backends waiting on a lock, backends active), each second
            sampling = threading.Event()
            watcher = sa.create_engine(url, poolclass=sa.pool.NullPool)

            def sample() -> None:
                with watcher.connect() as conn:
                    while not sampling.wait(1.0):
                        samples.append((time.time(), servers.cpu_snapshot(roots)))
                        # Writing syncs queue on the change-order counter's row lock (docs/scaling.md).
                        waits.append(tuple(conn.execute(sa.text(
                            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE state = "
                            "'active') - 1 FROM pg_stat_activity WHERE datname = current_database()")).one()))
                        conn.rollback()

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            try:
                with open(here / "logs" / "locust.log", "wb") as log:
                    locust = subprocess.run(argv, env={**os.environ, "LOAD_PLAN": str(here / "plan.json")},
                                            stdout=log, stderr=subprocess.STDOUT, timeout=s["seconds"] + 180)
            finally:
                sampling.set()
                sampler.join()
                watcher.dispose()
            wall = time.monotonic() - started
            after = servers.cpu_snapshot(roots)
            done = resource.getrusage(resource.RUSAGE_CHILDREN)  # Locust's own CPU: the load generator's share
            locust_cpu = (done.ru_utime + done.ru_stime) - (children.ru_utime + children.ru_stime)
            crashed = [p.name for p in running.all() if p.popen.poll() is not None]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not (here / "observed.json").exists():
        raise SystemExit(f"Locust did not finish (exit {locust.returncode}):\n"
                         f"{servers.tail(here / 'logs' / 'locust.log', 40)}")
    kinds, failures = read_stats(here / "locust")
    if kinds.get("Aggregated", {}).get("failures") or crashed:
        kept = Path(tempfile.mkdtemp(prefix=f"guanjia-load-logs-{count}s-"))
        shutil.copytree(here / "logs", kept, dirs_exist_ok=True)
        say(f"  errors: the servers' and Locust's logs are kept in {kept}")
    observed = json.loads((here / "observed.json").read_text())
    seconds = observed["seconds"] or wall
    cpu = {k: round(after[k] - before[k], 2) for k in roots} | {"locust": round(locust_cpu, 2)}
    app_cpu = sum(v for k, v in cpu.items() if k.startswith("app"))
    syncs = sum(kinds.get(k, {}).get("count", 0) for k in SYNC_KINDS)
    total = kinds.get("Aggregated", {})
    steady = steady_window(observed, samples, s, counts)
    return {
        "servers": count, "worker_class": s["worker_class"], "seconds": round(seconds, 1), "users": users,
        "requests": observed["requests"], "errors": total.get("failures", 0), "failures": failures,
        "resends": observed["resends"],
        "crashed": crashed, "locust_exit": locust.returncode,
        "requests_per_second": round(observed["requests"] / seconds, 1),
        "syncs": syncs, "syncs_per_second": round(syncs / seconds, 2),
        "steady_syncs_per_second": round(kinds.get("sync", {}).get("count", 0) / seconds, 2),
        "kinds": {k: v for k, v in kinds.items() if k != "Aggregated"},
        "per_server": {u: {**v, "requests_per_second": round(v["requests"] / seconds, 1),
                           "syncs_per_second": round(v["syncs"] / seconds, 2)}
                       for u, v in observed["per_server"].items()},
        "cpu_seconds": cpu, "app_cpu_seconds": round(app_cpu, 2),
        "app_cpu_seconds_per_sync": round(app_cpu / syncs, 5) if syncs else None,
        "postgres_cpu_seconds_per_sync": round(cpu["postgres"] / syncs, 5) if syncs and "postgres" in cpu else None,
        "worker_cpu_seconds": cpu.get("notify-worker"),
        "tickets_raised": observed["tickets_raised"], "pokes": observed["pokes"],
        "first_syncs": observed["first_syncs"], "first_sync_records": observed["first_sync_records"],
        "mutations_applied": observed["mutations_applied"],
        "stopped_by_request_limit": observed["stopped_by_request_limit"],
        "login_p50_ms": round(1000 * login_times[len(login_times) // 2], 1) if login_times else None,
        "warm_first_syncs": {"count": len(warm_times), "p50_ms": round(1000 * warm_times[len(warm_times) // 2], 1),
                             "max_ms": round(1000 * warm_times[-1], 1)} if warm_times else None,
        "steady": steady,
        "postgres_lock_waiters": {"mean": round(sum(w for w, _ in waits) / len(waits), 2) if waits else None,
                                  "max": max((w for w, _ in waits), default=None),
                                  "active_mean": round(sum(a for _, a in waits) / len(waits), 2) if waits else None},
    }


def steady_window(observed: dict, samples: list[tuple[float, dict]], s: dict, counts: dict) -> dict | None:
    """After every phone has finished its first sync, until the end: the syncs in that window and the CPU
    the servers used in it. First syncs are a phone's first day (a few pages of its whole grid); this is
    the everyday cost, the figure to multiply for capacity."""
    ready = observed["ready_times"]
    if len(ready) < counts["butler_phones"] + counts["reporters"] or len(samples) < 2:
        return None  # some phone never finished its first sync: no steady state was reached
    start_at = max(ready) + 1.0
    window = [(t, cpu) for t, cpu in samples if start_at <= t <= observed["stopped_at"]]
    if len(window) < 5:
        return None
    (t0, cpu0), (t1, cpu1) = window[0], window[-1]
    syncs = sum(1 for t in observed["sync_times"] if t0 < t <= t1)
    used = {k: round(cpu1[k] - cpu0[k], 2) for k in cpu0}
    app = sum(v for k, v in used.items() if k.startswith("app"))
    seconds = t1 - t0
    return {"seconds": round(seconds, 1), "syncs": syncs, "syncs_per_second": round(syncs / seconds, 2),
            "kinds": steady_percentiles(observed.get("latencies", {}), t0, t1),
            "cpu_seconds": used, "app_cores_busy": round(app / seconds, 2),
            "postgres_cores_busy": round(used["postgres"] / seconds, 2) if "postgres" in used else None,
            "app_cpu_seconds_per_sync": round(app / syncs, 5) if syncs else None,
            "postgres_cpu_seconds_per_sync": round(used["postgres"] / syncs, 5) if syncs and "postgres" in used else None}


def steady_percentiles(latencies: dict[str, list], t0: float, t1: float) -> dict:
    """Per kind, the requests that ended inside the window: count and p50/p95/p99 (nearest rank, ms).
    Whole-run figures include the first minute's burst: every app opening its channel at once."""
    out = {}
    for kind, timed in latencies.items():
        ms = sorted(v for t, v in timed if t0 < t <= t1)
        if ms:
            out[kind] = {"count": len(ms), **{f"p{p}_ms": round(ms[min(len(ms) - 1, math.ceil(p / 100 * len(ms)) - 1)], 1)
                                              for p in (50, 95, 99)}}
    return out


def print_run(r: dict) -> None:
    say(f"  {r['requests']} requests in {r['seconds']} s ({r['requests_per_second']}/s), errors {r['errors']}, "
        f"resent after a dropped connection {r['resends']}"
        + (f", processes that died: {r['crashed']}" if r["crashed"] else ""))
    say(f"  syncs: {r['syncs']} ({r['syncs_per_second']}/s; steady syncs {r['steady_syncs_per_second']}/s), "
        f"tickets raised {r['tickets_raised']}, pokes timed {r['pokes']}")
    say(f"  {'kind':<24}{'count':>8}{'fail':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for kind in KINDS:
        k = r["kinds"].get(kind)
        if k:
            say(f"  {kind:<24}{k['count']:>8}{k['failures']:>6}{k['p50_ms'] or 0:>10.0f}{k['p95_ms'] or 0:>10.0f}"
                f"{k['p99_ms'] or 0:>10.0f}")
    for url, v in r["per_server"].items():
        say(f"  {url}: {v['requests_per_second']} requests/s, {v['syncs_per_second']} syncs/s")
    say(f"  CPU seconds: {r['cpu_seconds']}; app servers per sync {r['app_cpu_seconds_per_sync']}, "
        f"PostgreSQL per sync {r['postgres_cpu_seconds_per_sync']}")
    st = r["steady"]
    if st:
        say(f"  steady ({st['seconds']} s after the last first sync): {st['syncs_per_second']} syncs/s, app servers "
            f"{st['app_cpu_seconds_per_sync']} CPU s per sync ({st['app_cores_busy']} cores busy), PostgreSQL "
            f"{st['postgres_cpu_seconds_per_sync']} ({st['postgres_cores_busy']} cores)")
        for kind in ("sync", "poke latency", "ticket raise", "live poll"):
            k = st["kinds"].get(kind)
            if k:
                say(f"    steady {kind}: {k['count']}, p50 {k['p50_ms']:.0f} ms, p95 {k['p95_ms']:.0f} ms, "
                    f"p99 {k['p99_ms']:.0f} ms")
    else:
        say("  steady: not reached (a phone was still on its first sync, or too little time was left)")
    lw = r["postgres_lock_waiters"]
    say(f"  PostgreSQL backends waiting on a lock: mean {lw['mean']}, max {lw['max']} (active: mean {lw['active_mean']})")
    for f in r["failures"][:10]:
        say(f"  failure: {f['count']} × {f['name']}: {f['error']}")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}


def commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=servers.ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=servers.ROOT, capture_output=True,
                               text=True).stdout.strip()
        return out + ("+changes" if dirty else "")
    return None


def main() -> None:
    s = settings()
    started = time.monotonic()
    load_before = machine()["loadavg"]
    root = Path(tempfile.mkdtemp(prefix="guanjia-load-"))
    given = os.environ.get("LOAD_POSTGRES_URL")
    try:
        database = (contextlib.nullcontext((given, None)) if given
                    else servers.throwaway_postgres(durable=True, tcp=bool(s["pg_tcp"])))
        with database as (pg, pid):
            admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
            template = f"guanjia_load_{uuid.uuid4().hex[:8]}_tpl"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{template}"')
                pg_settings = {n: conn.exec_driver_sql(f"SHOW {n}").scalar_one()
                               for n in ("server_version", "fsync", "synchronous_commit", "max_connections")}
            try:
                say(f"PostgreSQL {pg_settings}")
                url = admin.url.set(database=template).render_as_string(hide_password=False)
                _migrate(url, root / "seed-instance")
                app = make_app(url, root / "seed-instance")
                shape = world.Shape(communities=s["communities"], grids_per_community=s["grids"],
                                    households_per_grid=s["households"], residents=s["residents"])
                t0 = time.monotonic()
                seeded = world.seed(app, shape)
                analyze(app)
                dispose(app)
                say(f"world: {seeded.counts} in {time.monotonic() - t0:.1f} s")
                counts = [1, 2] if s["compare"] else [s["servers"]]
                runs = []
                for n in counts:
                    runs.append(run_once(s, n, admin, template, seeded, root, pid))
                    print_run(runs[-1])
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                admin.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    last = runs[-1]
    result = {
        "errors": sum(r["errors"] for r in runs),
        "resends": sum(r["resends"] for r in runs),
        "syncs_per_second": last["syncs_per_second"],
        "app_cpu_seconds_per_sync": last["app_cpu_seconds_per_sync"],
        "steady_app_cpu_seconds_per_sync": (last["steady"] or {}).get("app_cpu_seconds_per_sync"),
        "steady_percentiles_ms": (last["steady"] or {}).get("kinds"),
        "percentiles_ms": {k: {p: v[p] for p in ("p50_ms", "p95_ms", "p99_ms")} | {"count": v["count"]}
                           for k, v in last["kinds"].items()},
        "runs": runs,
        "settings": s, "world": seeded.counts, "shape": asdict(shape), "postgres": pg_settings,
        "machine": machine() | {"loadavg_before": load_before}, "commit": commit(),
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    if len(runs) == 2:
        one, two = runs
        result["two_over_one"] = {
            "syncs_per_second": round(two["syncs_per_second"] / one["syncs_per_second"], 3) if one["syncs_per_second"] else None,
            "requests_per_second": round(two["requests_per_second"] / one["requests_per_second"], 3)
            if one["requests_per_second"] else None}
        say(f"\ntwo servers ÷ one: syncs/s {result['two_over_one']['syncs_per_second']}, "
            f"requests/s {result['two_over_one']['requests_per_second']}")
    say(json.dumps(result, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    main()
