"""Data for the benchmarks, written fast with SQLAlchemy Core, and a phone that talks to /api/v1/sync.

Records made here look like records written through sync: each bulk load numbers its rows as the
app numbers a transaction's writes (server/syncing/changes.py: one counter UPDATE on SQLite, the
transaction's id on PostgreSQL) and carries field metadata, so a pull sees them exactly as it
would in production.
"""
from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

import sqlalchemy as sa
from flask import Flask

from bench.harness import CLIENT_ID, dumps
from server.auth.models import Device, User
from server.auth.service import hash_token
from server.community.models import Community, Grid, Household, Person
from server.extensions import db
from server.resources import kept_wire
from server.syncing import changes as change_order
from server.visits.models import DEFAULT_CHECKLIST, Visit

CHUNK = 5_000  # rows per executemany
T0 = datetime(2026, 11, 1, 2, tzinfo=timezone.utc)
VISIT_FIELDS = ("household_id", "visited_at", "kind", "checklist", "needs", "satisfaction",
                "products_interest", "notes")


@dataclass
class World:
    community_id: str
    butler_ids: list[str]  # one per grid
    grid_ids: list[str]
    households: list[list[str]]  # household ids per grid
    token: str  # a device token of butler 0 (the one who pushes and pulls)
    rooms: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def butler_id(self) -> str:
        return self.butler_ids[0]


def new_id() -> str:
    return str(uuid.uuid4())


def reserve_seqs(conn: sa.Connection, count: int) -> Iterable[int]:
    """Numbers for a bulk load, as the app numbers its writes (server/syncing/changes.py)."""
    return iter(change_order.next_seqs(conn, count))


def insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[start:start + CHUNK])


def meta_of(names: Iterable[str], user_id: str) -> dict:
    return {name: [1, CLIENT_ID, user_id] for name in names}


def create_world(app: Flask, *, grids: int, households_per_grid: int) -> World:
    """A community with `grids` grids, one butler each, and their households (no people, no visits)."""
    now = datetime.now(timezone.utc)
    community_id = new_id()
    butler_ids = [new_id() for _ in range(grids)]
    grid_ids = [new_id() for _ in range(grids)]
    token = f"bench-token-{new_id()}"
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(Community.__table__.insert(), [{"id": community_id, "name": "基准小区", "city": "杭州",
                                                     "version": 1, "deleted": False, "created_at": now,
                                                     "updated_at": now}])
        conn.execute(User.__table__.insert(), [
            {"id": b, "username": f"bench-butler-{i}-{b[:8]}", "password_hash": "-", "role": "butler",
             "name": f"管家{i}", "language": "zh-CN", "community_id": community_id, "active": True,
             "demo": False, "created_at": now} for i, b in enumerate(butler_ids)])
        conn.execute(Grid.__table__.insert(), [
            {"id": g, "community_id": community_id, "name": f"网格{i}", "butler_id": b, "version": 1,
             "deleted": False, "created_at": now, "updated_at": now}
            for i, (g, b) in enumerate(zip(grid_ids, butler_ids))])
        conn.execute(Device.__table__.insert(), [{"id": new_id(), "user_id": butler_ids[0],
                                                  "token_hash": hash_token(token), "name": "bench",
                                                  "created_at": now}])
    world = World(community_id, butler_ids, grid_ids, [[] for _ in range(grids)], token)
    add_households(app, world, households_per_grid)
    return world


def add_households(app: Flask, world: World, per_grid: int) -> None:
    now = datetime.now(timezone.utc)
    with app.app_context(), db.engine.begin() as conn:
        seqs = reserve_seqs(conn, per_grid * len(world.grid_ids))
        rows = []
        for g, grid_id in enumerate(world.grid_ids):
            for _ in range(per_grid):
                n = next(world.rooms)
                hid = new_id()
                world.households[g].append(hid)
                rows.append({"id": hid, "community_id": world.community_id, "grid_id": grid_id,
                             "building": f"{n // 1000 + 1}栋", "unit": f"{n // 100 % 10 + 1}单元",
                             "room": str(n), "status": "self_occupied", "area_m2": 89.5,
                             "tags": ["独居老人"], "notes": "内部备注：周末在家", "visit_cycle_days": 90,
                             "version": 1, "deleted": False, "created_at": now, "updated_at": now,
                             "seq": next(seqs),
                             "field_meta": meta_of(("building", "room", "status", "tags", "notes"),
                                                   world.butler_ids[g])})
        insert(conn, Household.__table__, rows)


def add_people(app: Flask, world: World, households: list[str], count: int, butler_id: str) -> None:
    """`count` people spread over `households`, each with an (encrypted) phone number."""
    now = datetime.now(timezone.utc)
    with app.app_context(), db.engine.begin() as conn:
        seqs = reserve_seqs(conn, count)
        rows = [{"id": new_id(), "household_id": households[i % len(households)], "name": "王芳",
                 "relation": "owner" if i < len(households) else "family", "phone": f"1380013{i % 10000:04d}",
                 "birth_year": 1950 + i % 60, "tags": ["长者"], "notes": "", "consent": True,
                 "consent_at": now, "version": 1, "deleted": False, "created_at": now, "updated_at": now,
                 "seq": next(seqs), "field_meta": meta_of(("name", "relation", "phone", "consent"), butler_id)}
                for i in range(count)]
        insert(conn, Person.__table__, rows)


def answered_checklist(found: dict | None = None) -> dict:
    """A new visit's checklist: every item of the default one (the seeded communities have none of their
    own) answered, `found` as given and the rest ok (其余全部正常); the server refuses one that is not."""
    return {item["key"]: {"ok": True, "note": ""} for item in DEFAULT_CHECKLIST} | (found or {})


def visit_fields(household_id: str, n: int) -> dict:
    """What a phone sends for one home visit (the PWA's visit form)."""
    return {"household_id": household_id,
            "visited_at": (T0 + timedelta(minutes=n)).isoformat(),
            "kind": "routine",
            "checklist": answered_checklist({"utilities": {"ok": False, "note": "燃气阀门老化，建议更换"}}),
            "needs": ["维修"],
            "satisfaction": 4,
            "products_interest": ["water"],
            "notes": "入户走访，业主反映楼道灯不亮，已报修。"}


def visit_row(vid: str, fields: dict, butler_id: str, seq: int, now: datetime) -> dict:
    """The row a synced visit becomes (the same columns and values the service layer writes)."""
    return {"id": vid, "household_id": fields["household_id"], "butler_id": butler_id,
            "visited_at": datetime.fromisoformat(fields["visited_at"]), "kind": fields["kind"],
            "checklist": fields["checklist"], "needs": fields["needs"], "satisfaction": fields["satisfaction"],
            "products_interest": fields.get("products_interest", []), "notes": fields["notes"], "follow_up_at": None,
            "version": 1, "deleted": False, "created_at": now, "updated_at": now, "seq": seq,
            "field_meta": meta_of(fields, butler_id)}


def add_visits(app: Flask, households: list[str], butler_of: dict[str, str], count: int) -> None:
    """`count` visits spread round-robin over `households`, each by its household's butler."""
    now = datetime.now(timezone.utc)
    with app.app_context(), db.engine.begin() as conn:
        seqs = reserve_seqs(conn, count)
        for start in range(0, count, CHUNK):
            rows = []
            for i in range(start, min(count, start + CHUNK)):
                hid = households[i % len(households)]
                row = visit_row(new_id(), visit_fields(hid, i), butler_of[hid], next(seqs), now)
                kept_wire.keep_row("visit", row)  # as sync writes a visit
                rows.append(row)
            conn.execute(Visit.__table__.insert(), rows)


# ---- the phone ------------------------------------------------------------------------------------

class Phone:
    """A client of POST /api/v1/sync through Flask's test client (no app context held around it,
    so each request gets its own context and session, as under gunicorn)."""

    def __init__(self, app: Flask, token: str):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.cursor: str | None = None

    def body(self, *, cursor: str | None, mutations: list[dict] = (), limit: int | None = None) -> bytes:
        envelope = {"client_id": CLIENT_ID, "schema": 1, "cursor": cursor, "mutations": list(mutations)}
        if limit:
            envelope["limit"] = limit
        return dumps(envelope)

    def post(self, body: bytes):
        response = self.client.post("/api/v1/sync", data=body, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"sync answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
        return response

    @staticmethod
    def answer(response) -> dict:
        return json.loads(response.get_data())


def put(rtype: str, rid: str, fields: dict) -> dict:
    return {"mid": new_id(), "type": rtype, "id": rid, "op": "put", "base": None, "fields": fields,
            "at": "2026-11-27T09:15:02+08:00"}
