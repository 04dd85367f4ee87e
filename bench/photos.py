"""Photos: what an upload costs the app server against the network time of its bytes, and whether a
grid's first sync is slowed by the attachment records it carries (docs/attachments.md).

Like the wire part (bench/wire.py, whose machinery it reuses) the app runs as `make run` serves it:
gunicorn with gunicorn.conf.py on a throwaway PostgreSQL with the default durability (fsync and
synchronous commit on), reached over its Unix socket; the photos' store is the default one, a folder
under the instance folder (FileStore: each object written beside, fsynced, renamed). This process
is the phone, over keep-alive HTTP/1.1 connections.

- Upload. A butler's phone holds its grid; it syncs `photo_uploads` new visits, then one attachment
  record per visit (POST /api/v1/sync, as the design asks: the record first), then uploads the
  photos' bytes as the protocol says: GET /api/v1/uploads/<sha256> for where the server stands,
  then PATCH pieces of `photo_piece` bytes (256 KB) from there, going on from the offset a 409
  names. The photos are JPEGs as the phone sends them: downsized to `photo_edge` px on the long side
  (1920), re-encoded at quality 85 with no EXIF, camera-like content (a lit scene, surfaces with
  texture, sensor grain), 0.4–1 MB each, every one different (the bytes are their name: the same
  bytes twice would cost nothing the second time). The CPU of the gunicorn tree (master and
  workers) and, beside it, of PostgreSQL's tree is read from /proc around the uploads of each rep,
  and around each request kind (the first GET, a piece that is not the last, the last piece, which
  checks and stores the photo), the request kinds summed over the rep.

  `photo_upload_cpu_over_network` = the app server's CPU seconds for the uploads ÷ the time the
  same photo bytes take at 1 Mbit/s (bytes × 8 / 10⁶ s): the share of a server core a phone on a
  slow mobile link keeps busy. Beside it, two floors measured in this process in the same run,
  before and after each rep: `raw` is the work the upload cannot avoid, SHA-256 of the bytes and
  writing them to a FileStore (the product's, fsync included); `checked` adds what the design asks
  of the server besides, Pillow's check of the image (decoding every pixel) and the 320 px
  thumbnail, written too. The overhead over each is the server's CPU ÷ the floor's CPU.

- First sync with photos. Two grids of the same size in one database (two communities): one with no
  photos, one with an attachment record per `photo_every` visits (uploaded, as most are). Each
  butler's phone makes the first sync of its grid (POST /api/v1/sync, pages of 1,000 while `more`),
  the two alternately; `bootstrap_with_photos_ratio` = the median with ÷ the median without. The
  bytes of photos are never in a pull (only the records: hash, size, type, dimensions, who, when),
  so the ratio is the extra records' share, about 1 + 1/14 at one per 10 visits; the bytes down and
  the app server's CPU for the same pulls, with ÷ without (steadier than wall time on a shared
  machine), are reported beside.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import sqlalchemy as sa
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from bench import pull, wire
from bench.harness import PostgresDatabase, Sizes, analyze, dispose, make_app, median
from bench.load import servers
from bench.world import T0, World, add_people, add_visits, create_world, meta_of, new_id, put, visit_fields
from server.attachments import images
from server.attachments.models import Attachment
from server.attachments.storage import FileStore
from server.extensions import db
from server.resources import kept_wire
from server.visits.models import Visit

# An upload keeps at most this share of one app-server core busy per phone on a 1 Mbit/s link; a
# grid's first sync with photos takes at most this much longer than without (the records only).
GOALS = {"photo_upload_cpu_over_network": 0.10, "bootstrap_with_photos_ratio": 1.10}
LINK_BITS_PER_SECOND = 1_000_000  # a slow mobile uplink: the network time of the photos' bytes
OCTETS = "application/offset+octet-stream"
JPEG_QUALITY = 85  # what a phone's canvas re-encode uses, about
ATTACHMENT_FIELDS = ("household_id", "record_type", "record_id", "sha256", "content_type", "size", "width",
                     "height", "role", "item", "taken_at")


# ---- photos like the phone's ------------------------------------------------------------------------

def photo(seed: int, edge: int = 1920) -> tuple[bytes, int, int]:
    """A JPEG like the phone sends: `edge` px on the long side (4:3, landscape or portrait), quality 85,
    no EXIF; a smooth lit scene of shapes (walls, pipes, fixtures), textured surfaces and sensor grain,
    whose strength sets the size (0.4–1 MB at 1920 px). `seed` picks the scene; Pillow's noise is not
    seeded, so no two calls make the same bytes. Returns the bytes and the width and height."""
    rnd = random.Random(seed)
    width, height = (edge, edge * 3 // 4) if rnd.random() < 0.7 else (edge * 3 // 4, edge)
    sw, sh = max(8, width // 8), max(8, height // 8)
    small = Image.new("RGB", (sw, sh))
    draw = ImageDraw.Draw(small)
    top, bottom = rnd.randrange(150, 230), rnd.randrange(40, 110)
    tint = [rnd.randrange(-15, 16) for _ in range(3)]
    for y in range(sh):
        level = top + (bottom - top) * y / sh
        draw.line([(0, y), (sw, y)], fill=tuple(int(level + t) for t in tint))
    for _ in range(rnd.randrange(10, 25)):
        x0, y0 = rnd.randrange(sw), rnd.randrange(sh)
        box = [x0, y0, x0 + rnd.randrange(2, max(3, sw // 2)), y0 + rnd.randrange(2, max(3, sh // 2))]
        colour = tuple(rnd.randrange(30, 230) for _ in range(3))
        (draw.rectangle if rnd.random() < 0.6 else draw.ellipse)(box, fill=colour)
    scene = small.filter(ImageFilter.GaussianBlur(0.6)).resize((width, height), Image.BICUBIC)
    texture = Image.effect_noise((max(1, width // 3), max(1, height // 3)), rnd.uniform(6, 36)) \
        .resize((width, height), Image.BICUBIC)
    dx, dy = rnd.randrange(_GRAIN_MARGIN), rnd.randrange(_GRAIN_MARGIN)
    grain = _grain(edge, rnd.randrange(len(_GRAIN_SIGMAS))).crop((dx, dy, dx + width, dy + height))
    luma = ImageChops.add(texture, grain, 1.0, -128)
    image = ImageChops.add(scene, Image.merge("RGB", [luma] * 3), 1.0, -128)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), width, height


_GRAIN_SIGMAS = (2, 4, 6, 8)
_GRAIN_MARGIN = 97


@functools.cache
def _grain(edge: int, level: int) -> Image.Image:
    """Sensor grain, made once per strength and cut at another place for each photo: generating it
    full-size for every photo took most of a photo's making."""
    return Image.effect_noise((edge + _GRAIN_MARGIN, edge + _GRAIN_MARGIN), _GRAIN_SIGMAS[level])


# ---- the floors ---------------------------------------------------------------------------------------

def floors(photos: list[bytes], folder: Path) -> dict[str, float]:
    """CPU seconds (this process) of the raw work, SHA-256 and the FileStore write of each photo, and
    of the checked work, those plus Pillow's check and the thumbnail, written too. Wall seconds beside."""
    out = {}
    for name, checked in (("raw", False), ("checked", True)):
        store = FileStore(folder / name)
        cpu, wall = time.process_time(), time.perf_counter()
        for data in photos:
            digest = hashlib.sha256(data).hexdigest()
            store.put(f"full/{digest}", data, "image/jpeg")
            if checked:
                images.check(data)
                store.put(f"thumb/{digest}", images.thumbnail(data), "image/jpeg")
        out[f"{name}_cpu_seconds"] = time.process_time() - cpu
        out[f"{name}_wall_seconds"] = time.perf_counter() - wall
        for path in (folder / name).rglob("*"):
            if path.is_file():
                path.unlink()
    return out


# ---- CPU of request kinds -------------------------------------------------------------------------------

def _pid_cpu(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2:].split()
    return sum(int(x) for x in fields[11:15]) / servers.CLOCK_TICKS


class KindClock:
    """CPU seconds of the processes of some trees, summed per request kind. The trees' pids are listed
    once (a /proc scan), then read one by one around each request: cheap enough to do per request. A
    process started meanwhile (a new PostgreSQL backend) is missed here, not in the whole stretch."""

    def __init__(self, roots: dict[str, int]):
        stats = servers._stats()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        self.pids: dict[str, list[int]] = {}
        for name, root in roots.items():
            found, todo = [], [root]
            while todo:
                pid = todo.pop()
                found.append(pid)
                todo.extend(children.get(pid, []))
            self.pids[name] = found
        self.spent: dict[str, dict[str, float]] = {}
        self.count: dict[str, int] = {}

    def now(self) -> dict[str, float]:
        return {name: sum(_pid_cpu(p) for p in pids) for name, pids in self.pids.items()}

    @contextlib.contextmanager
    def kind(self, kind: str) -> Iterator[None]:
        before = self.now()
        yield
        after = self.now()
        spent = self.spent.setdefault(kind, {})
        for name in self.pids:
            spent[name] = spent.get(name, 0.0) + after[name] - before[name]
        self.count[kind] = self.count.get(kind, 0) + 1


# ---- the phone's upload -----------------------------------------------------------------------------------

def upload(phone: wire.Phone, data: bytes, piece: int, clock: KindClock | None = None) -> dict:
    """The phone's upload of one photo's bytes after its record has synced: where does the server
    stand, then the pieces from there; a 409 says where to go on. Returns counts of what it took."""
    digest = hashlib.sha256(data).hexdigest()
    path = f"/api/v1/uploads/{digest}"
    kind = clock.kind if clock else (lambda _: contextlib.nullcontext())
    with kind("state"):
        status, _, raw = phone.request("GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {raw[:300]!r}")
    state = json.loads(raw)
    offset, pieces, mismatches = state["offset"], 0, 0
    while not state["complete"]:
        end = min(offset + piece, len(data))
        headers = {"Upload-Offset": str(offset), "Upload-Length": str(len(data))}
        with kind("last_piece" if end == len(data) else "piece"):
            status, _, raw = phone.request("PATCH", path, data[offset:end], content_type=OCTETS, headers=headers)
        pieces += 1
        if status == 409:  # taken already (an answer lost on a reconnect): on from where the server is
            offset, mismatches = json.loads(raw)["details"]["offset"], mismatches + 1
            continue
        if status != 200:
            raise RuntimeError(f"PATCH {path} at {offset} answered {status}: {raw[:300]!r}")
        state = json.loads(raw)
        offset = state["offset"]
    return {"pieces": pieces, "mismatches": mismatches}


def _applied(answer: dict, count: int, what: str) -> None:
    results = answer["results"]
    if len(results) != count or any(r["status"] != "applied" for r in results):
        raise RuntimeError(f"{what}: not every mutation was applied: {results[:3]}")


def attachment_records(phone: wire.Phone, world: World, shots: list[tuple[bytes, int, int]]) -> float:
    """A visit per photo and the photo's attachment record, synced as the phone syncs them (two
    round trips: the visits, then the records). Returns the wall seconds."""
    start = time.perf_counter()
    households = world.households[0]
    visits = [put("visit", new_id(), visit_fields(households[n % len(households)], n)) for n in range(len(shots))]
    _applied(phone.sync(visits), len(visits), "visits")
    records = []
    for n, ((data, width, height), visit) in enumerate(zip(shots, visits)):
        records.append(put("attachment", new_id(), {
            "household_id": visit["fields"]["household_id"], "record_type": "visit", "record_id": visit["id"],
            "sha256": hashlib.sha256(data).hexdigest(), "content_type": "image/jpeg", "size": len(data),
            "width": width, "height": height, "role": "photo", "item": "",
            "taken_at": (T0 + timedelta(minutes=n)).isoformat()}))
    _applied(phone.sync(records), len(records), "attachment records")
    return time.perf_counter() - start


def warm_ups(sizes: Sizes) -> int:
    """Uploads made before the measured ones: the worker's first Pillow decode, the first store write."""
    return min(4, sizes.photo_uploads)


# ---- seeding: a grid with photos -------------------------------------------------------------------

def add_attachments(app, world: World, every: int) -> int:
    """An attachment record (uploaded) on every `every`-th visit of the world's grid, as sync writes
    one: numbered in the change order, with field metadata. Returns how many."""
    now = datetime.now(timezone.utc)
    with app.app_context(), db.engine.begin() as conn:
        visits = conn.execute(sa.select(Visit.id, Visit.household_id).where(
            Visit.household_id.in_(world.households[0])).order_by(Visit.seq, Visit.id)).all()[::every]
        seqs = iter(pull.change_order.next_seqs(conn, len(visits)))
        rows = []
        for n, (visit_id, household_id) in enumerate(visits):
            row = {"id": new_id(), "household_id": household_id, "record_type": "visit", "record_id": visit_id,
                   "sha256": hashlib.sha256(visit_id.encode()).hexdigest(), "content_type": "image/jpeg",
                   "size": 400_000 + n % 600_000, "width": 1920, "height": 1440, "role": "photo", "item": "",
                   "taken_at": T0 + timedelta(minutes=n), "author_id": world.butler_id, "uploaded_at": now,
                   "version": 2, "deleted": False, "created_at": now, "updated_at": now, "seq": next(seqs),
                   "field_meta": meta_of(ATTACHMENT_FIELDS, world.butler_id)}
            kept_wire.keep_row("attachment", row)
            rows.append(row)
        for start in range(0, len(rows), 5_000):
            conn.execute(Attachment.__table__.insert(), rows[start:start + 5_000])
    return len(rows)


def _grid(app, sizes: Sizes) -> World:
    world = create_world(app, grids=1, households_per_grid=sizes.grid_households)
    households = world.households[0]
    add_people(app, world, households, sizes.grid_people, world.butler_id)
    add_visits(app, households, {h: world.butler_id for h in households}, sizes.grid_visits)
    return world


# ---- the measurement ------------------------------------------------------------------------------------

def run(sizes: Sizes, root: Path, log: Callable[[str], None] = print) -> dict:
    """The whole part on a durable throwaway PostgreSQL of its own."""
    with servers.throwaway_postgres(durable=True) as (url, pg_pid):
        return measure(url, pg_pid, sizes, root, log=log)


def measure(url: str, pg_pid: int | None, sizes: Sizes, root: Path, *, log: Callable[[str], None] = print) -> dict:
    database = PostgresDatabase(url, root)
    try:
        settings = wire.postgres_settings(database.admin)
        started = time.perf_counter()
        count = warm_ups(sizes) + sizes.photo_uploads * sizes.photo_reps
        shots = [photo(seed, sizes.photo_edge) for seed in range(count)]
        made = time.perf_counter() - started
        main_url = database.fresh()
        app = make_app(main_url, root / "seed")
        try:
            plain, with_photos = _grid(app, sizes), _grid(app, sizes)
            attachments = add_attachments(app, with_photos, sizes.photo_every)
            catalogue = pull._catalogue(app)
            uploader = create_world(app, grids=1, households_per_grid=min(20, sizes.photo_uploads))
            analyze(app)
        finally:
            dispose(app)
        with database.admin.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")  # the seeding's dirty pages written now, not while timing
        log(f"  {len(shots)} photos made in {made:.0f} s; two grids seeded, {attachments} photos on one, in "
            f"{time.perf_counter() - started - made:.0f} s (PostgreSQL {settings['server_version']}, fsync "
            f"{settings['fsync']}, synchronous_commit {settings['synchronous_commit']}, "
            f"{'Unix socket' if str(sa.make_url(url).query.get('host', '')).startswith('/') else 'TCP'})")
        grid_records = sizes.grid_households + sizes.grid_people + sizes.grid_visits + catalogue
        with wire.app_servers({"main": main_url}, root / "servers") as running:
            process = running["main"]
            roots = {"gunicorn": process.pid, **({"postgres": pg_pid} if pg_pid else {})}
            out = {"postgres": settings,
                   "bootstrap": _bootstrap(process.url, {"without": (plain.token, grid_records),
                                                         "with": (with_photos.token, grid_records + attachments)},
                                           sizes, roots),
                   "upload": _uploads(process.url, uploader, shots, sizes, roots, root / "floors"),
                   "store": str(root / "servers" / "instance" / "attachments"),
                   "server": {"workers": "gunicorn.conf.py", "pids": {"main": process.pid}, "postgres_pid": pg_pid}}
            out["upload"]["check"] = _check_stored(main_url, len(shots), len(shots) + attachments)
        out["bootstrap"]["photos"] = attachments
        out["seconds"] = time.perf_counter() - started
        return {**figures(out), "limits": GOALS, "details": out}
    finally:
        database.close()


def _bootstrap(url: str, grids: dict[str, tuple[str, int]], sizes: Sizes, roots: dict) -> dict:
    """Each grid's first sync, the two alternately, after a warm-up of each that checks it all arrives."""
    cpu = {name: wire.Cpu(roots) for name in grids}
    runs: dict[str, list[float]] = {name: [] for name in grids}
    down: dict[str, int] = {}
    pages: dict[str, int] = {}
    for rep in range(sizes.bootstrap_reps + 1):
        for name, (token, expected) in grids.items():
            phone = wire.Phone(url, token, limit=sizes.page)  # a phone holding nothing
            with cpu[name].stretch() if rep else contextlib.nullcontext():
                start = time.perf_counter()
                _, changes, pages[name] = phone.round()
                seconds = time.perf_counter() - start
            phone.close()
            if changes != expected:
                raise RuntimeError(f"the first sync of the grid {name} photos brought {changes} changes, "
                                   f"expected {expected}")
            if rep:
                runs[name].append(seconds)
            down[name] = phone.bytes_down
    out = {name: {"records": grids[name][1], "pages": pages[name], "runs": runs[name],
                  "seconds": median(runs[name]), "bytes_down": down[name], "cpu_seconds": cpu[name].spent}
           for name in grids}
    out["reps"] = sizes.bootstrap_reps
    return out


def _uploads(url: str, world: World, shots: list, sizes: Sizes, roots: dict, floor_folder: Path) -> dict:
    """The first few photos warm the server up (not measured); then each rep uploads `photo_uploads`
    new ones, its floors measured just before and just after it."""
    floor_folder.mkdir(parents=True, exist_ok=True)
    phone = wire.Phone(url, world.token)
    phone.round()  # the phone holds its grid before it goes out (not timed)
    records_cpu = wire.Cpu(roots)
    with records_cpu.stretch():
        records_seconds = attachment_records(phone, world, shots)
    warm, measured = shots[:warm_ups(sizes)], shots[warm_ups(sizes):]
    for data, _, _ in warm:
        upload(phone, data, sizes.photo_piece)
    reps = []
    for rep in range(sizes.photo_reps):
        batch = [data for data, _, _ in measured[rep * sizes.photo_uploads:(rep + 1) * sizes.photo_uploads]]
        before = floors(batch, floor_folder)
        clock, whole = KindClock(roots), wire.Cpu(roots)
        sent, requests = phone.sent, phone.requests
        counts = {"pieces": 0, "mismatches": 0}
        with whole.stretch():
            start = time.perf_counter()
            for data in batch:
                for key, value in upload(phone, data, sizes.photo_piece, clock).items():
                    counts[key] += value
            seconds = time.perf_counter() - start
        after = floors(batch, floor_folder)
        photo_bytes = sum(len(d) for d in batch)
        reps.append({"photos": len(batch), "bytes": photo_bytes, "wire_bytes_up": phone.sent - sent,
                     "requests": phone.requests - requests, **counts, "wall_seconds": seconds,
                     "cpu_seconds": whole.spent, "cpu_by_kind": clock.spent, "requests_by_kind": clock.count,
                     "floors": {key: median([before[key], after[key]]) for key in before},
                     "floor_runs": [before, after]})
    phone.close()
    sizes_of = [len(d) for d, _, _ in shots]
    return {"reps": reps, "piece": sizes.photo_piece, "edge": sizes.photo_edge, "jpeg_quality": JPEG_QUALITY,
            "photo_bytes": {"min": min(sizes_of), "median": median(sizes_of), "max": max(sizes_of)},
            "records": {"photos": len(shots), "wall_seconds": records_seconds, "cpu_seconds": records_cpu.spent}}


def _check_stored(url: str, stored_expected: int, uploaded_expected: int) -> dict:
    """After the uploads: every photo is stored and marked uploaded, and no piece is left over (the
    seeded grid's photos are marked uploaded with no bytes: they count among the marked only)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            count = lambda sql: conn.exec_driver_sql(f"SELECT count(*) FROM {sql}").scalar_one()  # noqa: E731
            uploaded = count("attachment WHERE uploaded_at IS NOT NULL")
            stored = count("attachment_blob WHERE stored_at IS NOT NULL")
            left = count("attachment_chunk")
    finally:
        engine.dispose()
    if stored != stored_expected or uploaded != uploaded_expected or left:
        raise RuntimeError(f"after the uploads: {stored} photos stored (expected {stored_expected}), {uploaded} "
                           f"marked uploaded (expected {uploaded_expected}), {left} pieces left")
    return {"stored": stored, "attachments_uploaded": uploaded, "pieces_left": left}


# ---- the figures -------------------------------------------------------------------------------------------

def figures(out: dict) -> dict:
    """The part's figures from its measurement: medians over the reps of the upload's ratios."""
    reps, boot = out["upload"]["reps"], out["bootstrap"]

    def per_rep(fn) -> float:
        return median([fn(r) for r in reps])

    def network(r) -> float:
        return r["bytes"] * 8 / LINK_BITS_PER_SECOND

    pull_cpu = {name: boot[name]["cpu_seconds"]["gunicorn"] for name in ("with", "without")}
    server = lambda r: r["cpu_seconds"]["gunicorn"]  # noqa: E731
    database = lambda r: r["cpu_seconds"].get("postgres", 0.0)  # noqa: E731
    figures = {
        "photo_upload_cpu_over_network": per_rep(lambda r: server(r) / network(r)),
        "photo_upload_cpu_over_network_with_postgres": per_rep(lambda r: (server(r) + database(r)) / network(r)),
        "photo_upload_server_cpu_ms_per_mb": per_rep(lambda r: server(r) * 1000 / (r["bytes"] / 1e6)),
        "photo_upload_postgres_cpu_ms_per_mb": per_rep(lambda r: database(r) * 1000 / (r["bytes"] / 1e6)),
        "photo_upload_raw_cpu_ms_per_mb": per_rep(lambda r: r["floors"]["raw_cpu_seconds"] * 1000 / (r["bytes"] / 1e6)),
        "photo_upload_checked_cpu_ms_per_mb": per_rep(
            lambda r: r["floors"]["checked_cpu_seconds"] * 1000 / (r["bytes"] / 1e6)),
        "photo_upload_overhead_vs_raw": per_rep(lambda r: server(r) / max(r["floors"]["raw_cpu_seconds"], 1e-6)),
        "photo_upload_overhead_vs_checked": per_rep(
            lambda r: server(r) / max(r["floors"]["checked_cpu_seconds"], 1e-6)),
        "bootstrap_with_photos_ratio": boot["with"]["seconds"] / boot["without"]["seconds"],
        # The app server's CPU for the same pulls, with ÷ without: steadier than wall time on a shared machine.
        "bootstrap_with_photos_cpu_ratio": pull_cpu["with"] / pull_cpu["without"] if pull_cpu["without"] else None,
        "bootstrap_with_photos_records_ratio": boot["with"]["records"] / boot["without"]["records"],
        "bootstrap_with_photos_bytes_ratio": boot["with"]["bytes_down"] / boot["without"]["bytes_down"],
    }
    figures["met"] = {name: figures[name] <= limit for name, limit in GOALS.items()}
    return figures

