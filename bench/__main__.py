"""`python -m bench`: run every benchmark on each database, print readable lines, then one JSON line.

Parts: sync (bench/push.py, bench/pull.py), notify (bench/notify.py, notification
latency and worker throughput), console (bench/console.py, the supervisors' dashboard), gridmove
(bench/gridmove.py, a file re-imported that moves every household to another grid), incident
(bench/incident.py, an emergency pushed to every device of a 2,000-household community, one
notification worker per core) on each database;
phone (bench/browser.py) once, on SQLite; wire (bench/wire.py, sync over HTTP against
real gunicorn servers on a durable throwaway PostgreSQL, beside the PouchDB peer of bench/peer.py) once,
on its own database server; photos (bench/photos.py, uploads' server CPU against the network time of
their bytes, and a grid's first sync with photos ÷ without) once, the same way.

Environment:
  BENCH_QUICK=1                  smaller sizes (about two minutes with both databases)
  GUANJIA_TEST_POSTGRES_URL=...  also measure on this PostgreSQL server (headline figures are then PostgreSQL's)
  BENCH_DATABASES=sqlite         only these kinds (comma-separated: sqlite, postgresql)
  BENCH_BROWSER=0                skip the butler's phone in Chromium (bench/browser.py)
  BENCH_ONLY=notify              only these parts (comma-separated: sync, notify, console, gridmove, incident,
                                 phone, wire, photos);
                                 default all. sync = push, bootstrap and incremental pulls; notify =
                                 bench/notify.py; console = bench/console.py; gridmove = bench/gridmove.py;
                                 phone = bench/browser.py
                                 (BENCH_BROWSER=0 still skips it); wire = bench/wire.py, which needs
                                 PostgreSQL's binaries, node and npm, and fails without them; photos =
                                 bench/photos.py, which needs PostgreSQL's binaries
  BENCH_PEER=bench/pouchdb-peer  the PouchDB peer benchmark's folder for the wire part (relative to the
                                 repository root; read-only: copied, then `npm ci` and `node bench.js`)
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import browser, console, gridmove, incident, notify, photos, pull, push, wire
from bench.harness import PostgresDatabase, Sizes, SqliteDatabase, environment_flag, temp_root

GOALS = {"push_ratio": 2.0, "bootstrap_ratio": 2.0, "incremental_growth": 2.0}
# Writers in two communities never wait on each other: two pushes at once take about one's time
# (PostgreSQL; SQLite lets one writer in at a time by design, so it is not measured there).
TWO_COMMUNITIES_GOAL = 1.3
# The phone: first sync of the grid, JS heap, reopening offline, our own shell's size.
BROWSER_GOALS = {"first_sync_seconds": 5.0, "heap_peak_mib": 150.0, "offline_reload_seconds": 1.0, "shell_kib": 150.0}
# Notifications: a new ticket reaches the butler's push service within 1 s (p95), worker running.
NOTIFY_GOALS = notify.GOALS
# The supervisors' dashboard: every figure for 5,000 households and 100,000 visits under 1 s.
CONSOLE_GOALS = console.GOALS
# A mass grid move by import: the import's time ÷ the plain UPDATE of the households' grid, same run
# (a limit per database).
GRIDMOVE_GOALS = gridmove.GOALS
# An emergency: every subscribed device of a 2,000-household community reached within 5 s (p95).
INCIDENT_GOALS = incident.GOALS
# Sync over HTTP beside PouchDB (bench/wire.py): time ÷ PouchDB's, flat incremental, server CPU in µs.
WIRE_GOALS = wire.GOALS
WIRE_FIGURES = (*WIRE_GOALS, "postgres_cpu_us_per_pushed_mutation", "postgres_cpu_us_per_pulled_record",
                "first_sync_bytes")
# Photos (bench/photos.py): an upload's app-server CPU ÷ its bytes' time at 1 Mbit/s; a grid's first
# sync with an attachment record per 10 visits ÷ without.
PHOTO_GOALS = photos.GOALS
PHOTO_FIGURES = (*PHOTO_GOALS, "photo_upload_cpu_over_network_with_postgres", "photo_upload_server_cpu_ms_per_mb",
                 "photo_upload_raw_cpu_ms_per_mb", "photo_upload_checked_cpu_ms_per_mb",
                 "photo_upload_postgres_cpu_ms_per_mb", "photo_upload_overhead_vs_raw",
                 "photo_upload_overhead_vs_checked", "bootstrap_with_photos_cpu_ratio",
                 "bootstrap_with_photos_records_ratio", "bootstrap_with_photos_bytes_ratio")
PARTS = ("sync", "notify", "console", "gridmove", "incident", "phone", "wire", "photos")
# The pull's peak memory is "bounded by the page size" when doubling the grid leaves it within 25 %.
MEMORY_GROWTH_LIMIT = 1.25
ROOT = Path(__file__).resolve().parent.parent


def say(text: str = "") -> None:
    print(text, flush=True)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal")), 0)
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def code_state() -> dict:
    """The commit measured, and the files that differ from it (the benchmark's own aside)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if line[3:] and not line[3:].startswith(("bench/", "docs/benchmarks.md"))]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or os.environ.get("BENCH_COMMIT"), "uncommitted_files": changed,
            "directory": str(ROOT)}


def databases(root: Path) -> list:
    wanted = [k.strip() for k in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",") if k.strip()]
    found = []
    if "sqlite" in wanted:
        found.append(lambda: SqliteDatabase(root))
    url = os.environ.get("GUANJIA_TEST_POSTGRES_URL")
    if "postgresql" in wanted and url:
        found.append(lambda: PostgresDatabase(url, root))
    elif "postgresql" in wanted:
        say("PostgreSQL: skipped (GUANJIA_TEST_POSTGRES_URL is not set)")
    return found


def parts() -> tuple[str, ...]:
    wanted = tuple(p.strip() for p in os.environ.get("BENCH_ONLY", ",".join(PARTS)).split(",") if p.strip())
    unknown = [p for p in wanted if p not in PARTS]
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return wanted


def run_one(database, sizes: Sizes, root: Path, *, engine_variant: bool, only: tuple[str, ...]) -> dict:
    info = {"kind": database.kind, "version": database.version()}
    if isinstance(database, PostgresDatabase):
        info["settings"] = database.settings()
    say(f"\n== {database.kind} {info['version']}" + (f" {info['settings']}" if "settings" in info else ""))
    if "sync" in only:
        info.update(run_sync(database, sizes, root, engine_variant=engine_variant))
    if "notify" in only:
        info["notify"] = run_notify(database, sizes, root)
    if "console" in only:
        info["console"] = run_console(database, sizes, root)
    if "gridmove" in only:
        info["gridmove"] = run_gridmove(database, sizes, root)
    if "incident" in only:
        info["incident"] = run_incident(database, sizes, root)
    return info


def run_incident(database, sizes: Sizes, root: Path) -> dict:
    started = time.perf_counter()
    work = root / f"incident-{database.kind}"
    work.mkdir()
    workers = os.cpu_count() or 1  # as `make run` starts them
    r = incident.run(database, work, households=sizes.incident_households,
                     workers_count=workers, reps=sizes.incident_reps)
    say(f"emergency to every home: {r['households']} households, {r['devices']} devices, {workers} notification "
        f"worker(s); commit → push request at the stand-in, per incident:")
    for rep in r["reps"]:
        say(f"    p50 {rep['p50_seconds']:.2f} s, p95 {rep['p95_seconds']:.2f} s, max {rep['max_seconds']:.2f} s")
    say(f"  worst p95 {r['p95_seconds_worst']:.2f} s (goal < {INCIDENT_GOALS['p95_seconds']:.0f}); worker CPU "
        f"{r['worker_cpu_ms_per_message']:.2f} ms per message   [{time.perf_counter() - started:.0f} s]")
    return r


def run_sync(database, sizes: Sizes, root: Path, *, engine_variant: bool) -> dict:
    started = time.perf_counter()
    p = push.run(database, sizes, root, engine_variant=engine_variant)
    say(f"push: {p['visits']} visits in {p['batches']} batches of {p['batch']}")
    say(f"  floor (Core executemany, visits + change log, one transaction): {p['floor_seconds']:.3f} s "
        f"(median of {len(p['floor_runs'])}; {p['per_visit_ms']['floor']:.3f} ms/visit); with the audit rows "
        f"too {p['floor_with_audit_seconds']:.3f} s")
    say(f"  POST /api/v1/sync: {p['http_seconds']:.3f} s ({p['per_visit_ms']['http']:.3f} ms/visit; "
        f"batch median {p['http_batch_median']:.3f} s, min {p['http_batch_min']:.3f}, max {p['http_batch_max']:.3f})")
    if "engine_seconds" in p:
        say(f"  Engine.push on SqlStore (no HTTP, no pull): {p['engine_seconds']:.3f} s, "
            f"ratio {p['engine_ratio']:.2f}")
    kinds = ", ".join(f"{k} {v}" for k, v in list(p["statements"]["by_kind_per_mutation"].items())[:6])
    say(f"  SQL statements per mutation: {p['statements']['per_mutation']} ({kinds})")
    say(f"  push_ratio = {p['ratio']:.2f} (goal <= {GOALS['push_ratio']:g}); to the floor with audit rows "
        f"{p['ratio_to_floor_with_audit']:.2f}   [{time.perf_counter() - started:.0f} s]")

    t = None
    if isinstance(database, PostgresDatabase):
        started = time.perf_counter()
        t = push.two_communities(database, sizes, root)
        say(f"two communities pushing {t['batch']} visits each at the same moment (two processes): "
            f"{t['together']['wall_median']:.3f} s, one alone {t['alone']['wall_median']:.3f} s; "
            f"two_communities_ratio = {t['two_communities_ratio']:.2f} (goal <= {TWO_COMMUNITIES_GOAL:g})   "
            f"[{time.perf_counter() - started:.0f} s]")
        together, alone = t["together"], t["alone"]
        say(f"  in the pair, a backend blocked by another's lock in {together['lock_blocked_samples']} of "
            f"{together['lock_samples']} samples; app CPU per push {alone['app_cpu_seconds_median']:.3f} s alone, "
            f"{together['app_cpu_seconds_median']:.3f} s in the pair")

    started = time.perf_counter()
    b = pull.run_bootstrap(database, sizes, root)
    full, half = b["full"], b["half"]
    say(f"bootstrap pull: grid of {b['households']} households, {b['people']} people, {b['visits']} visits; "
        f"pages of {b['page']}")
    for name, m in (("half grid", half), ("full grid", full)):
        say(f"  {name}: {m['changes']} changes in {m['pages']} pages, pull {m['pull_seconds']:.3f} s "
            f"({m['page_ms_mean']:.0f} ms/page, {m['statements_per_page']} statements/page), floor {m['floor_seconds']:.3f} s, "
            f"ratio {m['ratio']:.2f}")
        say(f"    peak memory (tracemalloc): per page {m['memory_mib']['pull_page_peak']} MiB, whole pull "
            f"{m['memory_mib']['pull_whole_peak']} MiB, retained after {m['memory_mib']['pull_retained_after']} MiB; "
            f"floor {m['memory_mib']['floor_peak']} MiB")
    g = b["memory_growth"]
    say(f"  memory growth full/half grid: pull page peak x{g['page_peak']:.2f}, whole pull x{g['whole_pull_peak']:.2f} "
        f"(floor x{g['floor_peak']:.2f})")
    say(f"  bootstrap_ratio = {b['ratio']:.2f} (goal <= {GOALS['bootstrap_ratio']:g})   "
        f"[{time.perf_counter() - started:.0f} s]")

    started = time.perf_counter()
    i = pull.run_incremental(database, sizes, root)
    say(f"incremental pull of {i['new_changes']} new changes (median of {i['small']['runs']}):")
    for level in (i["small"], i["large"]):
        say(f"  {level['visits_in_tables']} visits in the tables ({level['own_visits']} the butler's): "
            f"{level['pull_seconds'] * 1000:.1f} ms (min {level['pull_min'] * 1000:.1f}, "
            f"max {level['pull_max'] * 1000:.1f}; {level['statements']} statements)")
    say(f"  incremental_growth = {i['growth']:.2f} (goal <= {GOALS['incremental_growth']:g})   "
        f"[{time.perf_counter() - started:.0f} s]")
    return {"push": p, "bootstrap": b, "incremental": i, **({"two_communities": t} if t else {})}


def run_notify(database, sizes: Sizes, root: Path) -> dict:
    started = time.perf_counter()
    n = notify.run(database, sizes, root)
    lat, one, two = n["latency"], n["throughput"]["1"], n["throughput"]["2"]
    say(f"notifications: {lat['tickets']} tickets raised {lat['gap_ms'][0]:.0f}–{lat['gap_ms'][1]:.0f} ms apart, "
        f"`flask notify-worker` running (poll 0.25 s)")
    say(f"  commit → push request at the stand-in: p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms, "
        f"max {lat['max_ms']:.0f} ms (min {lat['min_ms']:.0f}); sent twice {lat['sent_twice']}")
    say(f"  {one['expected']} queued deliveries ({one['browsers']} browsers × {one['tickets']} tickets), "
        f"first arrival → last:")
    for t in (one, two):
        say(f"    {t['workers']} worker{'s' if t['workers'] > 1 else ''}: {t['msgs_per_second']:.0f} msg/s "
            f"({t['seconds_from_first']:.1f} s; from the start {t['msgs_per_second_from_start']:.0f} msg/s, "
            f"start-up {t['startup_seconds']:.1f} s); CPU per message: workers "
            f"{t['cpu_ms_per_message']['workers']:.1f} ms, stand-in {t['cpu_ms_per_message']['standin']:.1f} ms "
            f"(CPU s per worker: {', '.join(f'{c:.1f}' for c in t['cpu_seconds_per_worker'])}); "
            f"sent twice {t['sent_twice']}, retried {sum(t['retried'].values())}")
    say(f"  latency p95 {lat['p95_ms']:.0f} ms (goal < {NOTIFY_GOALS['latency_p95_ms']:.0f})   "
        f"[{time.perf_counter() - started:.0f} s]")
    return n


def run_console(database, sizes: Sizes, root: Path) -> dict:
    started = time.perf_counter()
    c = console.run(database, sizes, root)
    say(f"supervisors' dashboard: {c['households']} households, {c['visits']} visits, {c['tickets']} tickets, "
        f"{c['orders']} orders (built in {c['build_seconds']:.1f} s)")
    say(f"  dashboard() for 90 days: median {c['dashboard_seconds'] * 1000:.0f} ms (min {c['dashboard_min'] * 1000:.0f}, "
        f"max {c['dashboard_max'] * 1000:.0f}; {len(c['runs'])} runs); {c['statements']} statements, "
        f"{c['statements_seconds'] * 1000:.0f} ms in them")
    for s in c["slowest_statements"]:
        say(f"    {s['ms']:.0f} ms  {s['sql']}")
    say(f"  dashboard {c['dashboard_seconds'] * 1000:.0f} ms (goal < {CONSOLE_GOALS['dashboard_seconds'] * 1000:.0f})   "
        f"[{time.perf_counter() - started:.0f} s]")
    say(f"  console ticket list, first page of {c['tickets']} tickets: median {c['ticket_list_seconds'] * 1000:.0f} ms "
        f"(goal < {CONSOLE_GOALS['ticket_list_seconds'] * 1000:.0f}); its query alone "
        f"{c['ticket_list_query_seconds'] * 1000:.1f} ms (page ÷ query {c['ticket_list_ratio_to_query']:.1f})")
    for name, what in (("household_list", f"set-up page, first page of {c['households']} households by address"),
                       ("household_visit_list", f"set-up page, first page of {c['households']} households by last visit"),
                       ("notice_list", f"notices, first page of {c['notices']} notices")):
        say(f"  console {what}: median {c[name + '_seconds'] * 1000:.0f} ms "
            f"(goal < {CONSOLE_GOALS[name + '_seconds'] * 1000:.0f})")
    return c


def run_gridmove(database, sizes: Sizes, root: Path) -> dict:
    started = time.perf_counter()
    m = gridmove.run(database, sizes, root)
    say(f"mass grid move by import: {m['households']} households ({m['people']} people, {m['visits']} visits) "
        f"each to the other grid (built in {m['build_seconds']:.1f} s)")
    say(f"  baseline, one UPDATE of the households' grid: {m['baseline_seconds'] * 1000:.1f} ms (median of "
        f"{len(m['baseline_runs'])})")
    say(f"  importing.plan + apply: {m['import_seconds']:.3f} s (median of {len(m['import_runs'])}); "
        f"{m['statements']} statements; {m['evictions']} evictions, each once")
    say(f"  gridmove_ratio = {m['ratio']:.1f} (goal <= {GRIDMOVE_GOALS['gridmove_ratio'][database.kind]:g})   "
        f"[{time.perf_counter() - started:.0f} s]")
    return m


def run_browser(root: Path, sizes: Sizes) -> dict:
    started = time.perf_counter()
    database = SqliteDatabase(root / "browser")
    try:
        b = browser.run(database.fresh(), sizes, root)
    finally:
        database.close()
    figures = {"first_sync_seconds": b["first_sync_seconds"], "heap_peak_mib": b["heap_peak_mib"],
               "offline_reload_seconds": b["offline_reload_seconds"], "shell_kib": b["shell"]["bytes"] / 1024}
    say(f"\nthe butler's phone (headless Chromium, {b['households']} households, {b['people']} people, "
        f"{b['visits']} visits):")
    say(f"  first sync into IndexedDB: {b['first_sync_seconds']:.2f} s for {b['records_on_phone']} records; "
        f"JS heap peak {b['heap_peak_mib']:.0f} MiB ({b['heap_after_gc_mib']:.0f} MiB after GC); "
        f"{b['sync_requests']} requests, waiting for the server {b['waiting_for_server_seconds']:.2f} s of it")
    say(f"  offline reload to a usable grid list: {b['offline_reload_seconds'] * 1000:.0f} ms (median of "
        f"{len(b['offline_reload_runs'])})")
    say(f"  app shell (our HTML, JS, CSS as served, gzipped): {figures['shell_kib']:.1f} KiB in "
        f"{len(b['shell']['files'])} files ({b['shell']['minified_bytes'] / 1024:.1f} KiB minified, "
        f"{b['shell']['source_bytes'] / 1024:.1f} KiB of commented source)   "
        f"[{time.perf_counter() - started:.0f} s]")
    return {**{k: round(v, 3) for k, v in figures.items()}, "limits": BROWSER_GOALS,
            "met": {k: figures[k] <= BROWSER_GOALS[k] for k in figures}, "details": b}


def run_wire(root: Path, sizes: Sizes) -> dict:
    started = time.perf_counter()
    say("\nsync over the wire (gunicorn as `make run`, durable PostgreSQL) beside PouchDB ⇄ express-pouchdb:")
    w = wire.run(sizes, root, log=say)
    g, p = w["guanjia"], w["pouchdb"]
    push, boot, inc = g["push"], g["bootstrap"], g["incremental"]
    say(f"  push {push['visits']} visits in batches of {push['batch']}: {push['seconds']:.3f} s (median of "
        f"{push['reps']}, min {push['seconds_min']:.3f}); PouchDB {p['push_10k_s']:.3f} s")
    say(f"  first sync of {boot['records']} records in {boot['pages']} pages: {boot['seconds']:.3f} s (median of "
        f"{boot['reps']}), {boot['bytes_down'] / 1e6:.2f} MB down; PouchDB {p['bootstrap_28k_s']:.3f} s, "
        f"{(w['pouchdb_first_sync_bytes'] or 0) / 1e6:.2f} MB down (gzipped)")
    say(f"  incremental {inc['new_changes']}: {inc['small']['seconds'] * 1000:.1f} ms at "
        f"{inc['small']['visits_in_deployment']} visits, {inc['large']['seconds'] * 1000:.1f} ms at "
        f"{inc['large']['visits_in_deployment']} (median of {inc['small']['runs']}); PouchDB "
        f"{p['incremental_100_at_28k_s'] * 1000:.1f} ms at 28,000 documents")
    say(f"  server CPU: gunicorn {w['server_cpu_us_per_pushed_mutation']:.0f} µs per pushed mutation, "
        f"{w['server_cpu_us_per_pulled_record']:.0f} µs per pulled record; PostgreSQL "
        f"{w['postgres_cpu_us_per_pushed_mutation']:.0f} and {w['postgres_cpu_us_per_pulled_record']:.0f} µs")
    for name, limit in WIRE_GOALS.items():
        say(f"  {name} = {w[name]:.2f} (goal <= {limit:g}): {'met' if w['met'][name] else 'MISSED'}")
    say(f"  [{time.perf_counter() - started:.0f} s]")
    return w


def run_photos(root: Path, sizes: Sizes) -> dict:
    started = time.perf_counter()
    say("\nphotos (gunicorn as `make run`, durable PostgreSQL, the default store: a folder):")
    f = photos.run(sizes, root / "photos", log=say)
    up, boot = f["details"]["upload"], f["details"]["bootstrap"]
    rep = up["reps"][0]
    say(f"  upload: {rep['photos']} photos per rep × {len(up['reps'])} reps, {up['edge']} px JPEGs of "
        f"{up['photo_bytes']['min'] / 1e3:.0f}–{up['photo_bytes']['max'] / 1e3:.0f} KB, in pieces of "
        f"{up['piece'] // 1024} KB ({rep['requests']} requests a rep; records synced first)")
    for n, r in enumerate(up["reps"], 1):
        kinds = ", ".join(f"{k} {v['gunicorn'] * 1000 / r['requests_by_kind'][k]:.0f} ms"
                          for k, v in r["cpu_by_kind"].items())
        say(f"    rep {n}: {r['bytes'] / 1e6:.2f} MB in {r['wall_seconds']:.2f} s; gunicorn CPU "
            f"{r['cpu_seconds']['gunicorn']:.2f} s, PostgreSQL {r['cpu_seconds'].get('postgres', 0):.2f} s "
            f"(per request: {kinds}); floors raw {r['floors']['raw_cpu_seconds'] * 1000:.0f} ms, "
            f"checked {r['floors']['checked_cpu_seconds'] * 1000:.0f} ms")
    say(f"  server CPU {f['photo_upload_server_cpu_ms_per_mb']:.0f} ms/MB (PostgreSQL "
        f"{f['photo_upload_postgres_cpu_ms_per_mb']:.0f}); floors: raw {f['photo_upload_raw_cpu_ms_per_mb']:.1f} ms/MB "
        f"(sha256 + store), checked {f['photo_upload_checked_cpu_ms_per_mb']:.0f} ms/MB (+ Pillow check, thumbnail); "
        f"overhead ×{f['photo_upload_overhead_vs_raw']:.0f} raw, ×{f['photo_upload_overhead_vs_checked']:.2f} checked")
    say(f"  first sync without photos {boot['without']['seconds']:.3f} s ({boot['without']['records']} records, "
        f"{boot['without']['bytes_down'] / 1e6:.2f} MB down), with {boot['photos']} photos "
        f"{boot['with']['seconds']:.3f} s ({boot['with']['records']} records, {boot['with']['bytes_down'] / 1e6:.2f} MB) "
        f"(median of {boot['reps']}; runs without {', '.join(f'{x:.2f}' for x in boot['without']['runs'])}, with "
        f"{', '.join(f'{x:.2f}' for x in boot['with']['runs'])}); gunicorn CPU "
        f"{boot['without']['cpu_seconds']['gunicorn']:.2f} s without, {boot['with']['cpu_seconds']['gunicorn']:.2f} s with")
    say(f"  photo_upload_cpu_over_network = {f['photo_upload_cpu_over_network']:.3f} (goal <= "
        f"{PHOTO_GOALS['photo_upload_cpu_over_network']:g}; with PostgreSQL's "
        f"{f['photo_upload_cpu_over_network_with_postgres']:.3f}): "
        f"{'met' if f['met']['photo_upload_cpu_over_network'] else 'MISSED'}")
    say(f"  bootstrap_with_photos_ratio = {f['bootstrap_with_photos_ratio']:.3f} (goal <= "
        f"{PHOTO_GOALS['bootstrap_with_photos_ratio']:g}; records ×{f['bootstrap_with_photos_records_ratio']:.3f}, "
        f"bytes ×{f['bootstrap_with_photos_bytes_ratio']:.3f}, app-server CPU ×"
        f"{f['bootstrap_with_photos_cpu_ratio'] or float('nan'):.3f}): "
        f"{'met' if f['met']['bootstrap_with_photos_ratio'] else 'MISSED'}   [{time.perf_counter() - started:.0f} s]")
    return f


def main() -> int:
    quick = environment_flag("BENCH_QUICK")
    only = parts()
    sizes = Sizes.quick() if quick else Sizes()
    started = time.perf_counter()
    root = temp_root()
    box = machine()
    load_at_start = os.getloadavg()
    say(f"Guanjia benchmark ({'quick' if quick else 'full'}; {', '.join(only)}): {box['nproc']} CPUs ({box['cpu']}), "
        f"{box['memory_gib']} GiB, Python {box['python']}; load average {load_at_start[0]:.2f}")
    results: dict[str, dict] = {}
    try:
        for make in databases(root) if {"sync", "notify", "console", "gridmove", "incident"} & set(only) else []:
            database = make()
            try:
                results[database.kind] = run_one(database, sizes, root, engine_variant=not quick, only=only)
            finally:
                database.close()
        phone = run_browser(root, sizes) if "phone" in only and os.environ.get("BENCH_BROWSER", "1") != "0" else None
        over_wire = run_wire(root, sizes) if "wire" in only else None
        with_photos = run_photos(root, sizes) if "photos" in only else None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not results and not phone and not over_wire and not with_photos:
        say("no database to measure")
        return 1

    headline = "postgresql" if "postgresql" in results else "sqlite"
    h = results.get(headline, {})
    summary: dict = {}
    limits: dict = {}
    goals: dict[str, bool] = {}
    per_db_goals: dict[str, dict[str, bool]] = {kind: {} for kind in results}
    headline_line = []
    if "push" in h:
        figures = {"push_ratio": h["push"]["ratio"], "bootstrap_ratio": h["bootstrap"]["ratio"],
                   "incremental_growth": h["incremental"]["growth"]}
        memory_growth = h["bootstrap"]["memory_growth"]["page_peak"]
        goals.update({name: value <= GOALS[name] for name, value in figures.items()})
        goals["bootstrap_memory_bounded"] = memory_growth <= MEMORY_GROWTH_LIMIT
        for kind, r in results.items():
            per_db_goals[kind].update({
                "push_ratio": r["push"]["ratio"] <= GOALS["push_ratio"],
                "bootstrap_ratio": r["bootstrap"]["ratio"] <= GOALS["bootstrap_ratio"],
                "incremental_growth": r["incremental"]["growth"] <= GOALS["incremental_growth"],
                "bootstrap_memory_bounded": r["bootstrap"]["memory_growth"]["page_peak"] <= MEMORY_GROWTH_LIMIT})
        for kind, r in results.items():
            if "two_communities" in r:
                per_db_goals[kind]["two_communities_ratio"] = (
                    r["two_communities"]["two_communities_ratio"] <= TWO_COMMUNITIES_GOAL)
        if "two_communities" in h:
            figures["two_communities_ratio"] = h["two_communities"]["two_communities_ratio"]
            goals["two_communities_ratio"] = figures["two_communities_ratio"] <= TWO_COMMUNITIES_GOAL
            limits["two_communities_ratio"] = TWO_COMMUNITIES_GOAL
        summary.update({k: round(v, 3) for k, v in figures.items()})
        summary["bootstrap_memory_growth"] = round(memory_growth, 3)
        limits.update({**GOALS, "bootstrap_memory_growth": MEMORY_GROWTH_LIMIT})
        headline_line.append(f"push_ratio {figures['push_ratio']:.2f}, bootstrap_ratio "
                             f"{figures['bootstrap_ratio']:.2f}, incremental_growth "
                             f"{figures['incremental_growth']:.2f}, pull memory growth x{memory_growth:.2f}")
    if "notify" in h:
        n = h["notify"]
        summary["notify_latency_p95_ms"] = round(n["latency"]["p95_ms"], 1)
        summary["notify_latency_p50_ms"] = round(n["latency"]["p50_ms"], 1)
        summary["notify_msgs_per_second"] = {w: round(t["msgs_per_second"], 1) for w, t in n["throughput"].items()}
        goals["notify_latency_p95_ms"] = n["goals"]["met"]["latency_p95_ms"]
        for kind, r in results.items():
            per_db_goals[kind]["notify_latency_p95_ms"] = r["notify"]["goals"]["met"]["latency_p95_ms"]
        limits.update({"notify_latency_p95_ms": NOTIFY_GOALS["latency_p95_ms"]})  # strictly below
        headline_line.append(f"notification latency p95 {n['latency']['p95_ms']:.0f} ms, "
                             + ", ".join(f"{w} worker(s) {t['msgs_per_second']:.0f} msg/s"
                                         for w, t in n["throughput"].items()))
    if "console" in h:
        c = h["console"]
        for name in CONSOLE_GOALS:  # strictly below
            summary[f"console_{name}"] = round(c[name], 4)
            goals[f"console_{name}"] = c["goals"]["met"][name]
            limits[f"console_{name}"] = CONSOLE_GOALS[name]
            for kind, r in results.items():
                per_db_goals[kind][f"console_{name}"] = r["console"]["goals"]["met"][name]
        headline_line.append(f"supervisors' dashboard {c['dashboard_seconds'] * 1000:.0f} ms, "
                             f"ticket list {c['ticket_list_seconds'] * 1000:.0f} ms, "
                             f"household list {c['household_list_seconds'] * 1000:.0f} ms")
    if "gridmove" in h:
        m = h["gridmove"]
        summary["gridmove_ratio"] = round(m["ratio"], 2)
        summary["gridmove_import_seconds"] = round(m["import_seconds"], 3)
        goals["gridmove_ratio"] = m["ratio"] <= GRIDMOVE_GOALS["gridmove_ratio"][headline]
        for kind, r in results.items():
            per_db_goals[kind]["gridmove_ratio"] = r["gridmove"]["ratio"] <= GRIDMOVE_GOALS["gridmove_ratio"][kind]
        limits["gridmove_ratio"] = GRIDMOVE_GOALS["gridmove_ratio"][headline]
        headline_line.append(f"grid move by import {m['import_seconds']:.2f} s, ratio {m['ratio']:.1f}")
    if "incident" in h:
        i = h["incident"]
        summary["incident_p95_seconds"] = round(i["p95_seconds_worst"], 2)
        goals["incident_p95_seconds"] = i["met"]
        limits["incident_p95_seconds"] = INCIDENT_GOALS["p95_seconds"]  # strictly below
        for kind, r in results.items():
            per_db_goals[kind]["incident_p95_seconds"] = r["incident"]["met"]
        headline_line.append(f"emergency to {i['devices']} devices p95 {i['p95_seconds_worst']:.2f} s")
    if results:
        say(f"\nheadline ({headline}): " + "; ".join(headline_line))
    for kind, met in per_db_goals.items():
        say(f"  goals on {kind}: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items()))
    if over_wire:
        summary.update({k: None if over_wire[k] is None else round(over_wire[k], 3) for k in WIRE_FIGURES})
        goals.update(over_wire["met"])
        limits.update(WIRE_GOALS)
        say("  goals over the wire: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in over_wire["met"].items()))
    if with_photos:
        summary.update({k: None if with_photos[k] is None else round(with_photos[k], 4) for k in PHOTO_FIGURES})
        goals.update(with_photos["met"])
        limits.update(PHOTO_GOALS)
        say("  goals of photos: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in with_photos["met"].items()))
    if phone:
        say("  goals on the phone: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in phone["met"].items()))
    summary.update({
        **({"phone": phone} if phone else {}),
        **({"wire": over_wire} if over_wire else {}),
        **({"photos": with_photos} if with_photos else {}),
        "headline_database": headline if results else None,
        "goals": {"limits": limits, "met": goals, "met_by_database": per_db_goals},
        "parts": list(only),
        "quick": quick,
        "sizes": dataclasses.asdict(sizes),
        "machine": {**box, "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg()},
        "code": code_state(),
        "elapsed_seconds": round(time.perf_counter() - started, 1),
        "databases": results,
    })
    say(json.dumps(_rounded(summary), ensure_ascii=False, separators=(",", ":")))
    return 0


def _rounded(value):
    """Floats to 5 decimals (10 µs on a time in seconds): the line stays readable."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
