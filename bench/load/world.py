"""The load test's world: many communities, each with grids of households, their butlers, residents
and a supervisor, written fast with SQLAlchemy Core.

Records look like records written through sync (bench/world.py): every household, person and visit
takes its own sequence number from sync_counter (reserved in one UPDATE per bulk load) and carries
field metadata, so the phones' first syncs pull them exactly as in production.

Residents get a device token written here (a phone that logged in long ago); the butlers log in
through POST /api/v1/auth/login when the servers are up (bench/load/__main__.py), and the
supervisors through the console's form inside the load test. Every account shares one password,
hashed once: an argon2 hash per account would cost minutes and change nothing measured.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import Flask

from bench.world import insert, meta_of, new_id, reserve_seqs, visit_fields, visit_row
from server.auth.models import Device, User
from server.auth.service import hash_password, hash_token
from server.community.models import Community, Grid, Household, Person
from server.extensions import db
from server.visits.models import DEFAULT_CHECKLIST, Visit

PASSWORD = "guanjia-load"
# The seeded communities keep the default visit checklist: the items every new visit answers.
CHECKLIST_KEYS = [item["key"] for item in DEFAULT_CHECKLIST]


@dataclass(frozen=True)
class Shape:
    communities: int = 10
    grids_per_community: int = 20  # one butler each: 200 butlers
    households_per_grid: int = 200
    people_per_household: int = 2
    visits_per_household: int = 2
    residents: int = 1_000  # spread over the communities' households

    @property
    def butlers(self) -> int:
        return self.communities * self.grids_per_community

    @property
    def households(self) -> int:
        return self.butlers * self.households_per_grid


@dataclass
class Seeded:
    butlers: list[str] = field(default_factory=list)  # usernames, one per grid
    supervisors: list[str] = field(default_factory=list)  # usernames, one per community
    residents: list[str] = field(default_factory=list)  # device tokens, in seeding order
    counts: dict[str, int] = field(default_factory=dict)


def seed(app: Flask, shape: Shape, *, rng: random.Random | None = None) -> Seeded:
    """Write the whole world in a few transactions; returns the accounts the load test uses."""
    rng = rng or random.Random(20261204)
    now = datetime.now(timezone.utc)
    hired = now - timedelta(days=365)
    password_hash = hash_password(PASSWORD)
    out = Seeded()
    communities, users, grids, households, people, visits, devices = [], [], [], [], [], [], []
    resident_homes: list[str] = []
    per_community_residents = [shape.residents // shape.communities + (1 if c < shape.residents % shape.communities else 0)
                               for c in range(shape.communities)]

    def user(username: str, role: str, name: str, community_id: str, household_id: str | None = None) -> str:
        uid = new_id()
        users.append({"id": uid, "username": username, "password_hash": password_hash, "role": role, "name": name,
                      "language": "zh-CN", "community_id": community_id, "household_id": household_id,
                      "active": True, "demo": False, "created_at": hired})
        return uid

    with app.app_context(), db.engine.begin() as conn:
        seqs = reserve_seqs(conn, shape.households * (1 + shape.people_per_household + shape.visits_per_household))
        for c in range(shape.communities):
            cid = new_id()
            communities.append({"id": cid, "name": f"压测小区{c + 1}", "city": "杭州", "version": 1, "deleted": False,
                                "created_at": hired, "updated_at": hired})
            out.supervisors.append(f"load-supervisor-{c}")
            user(out.supervisors[-1], "supervisor", f"主管{c + 1}", cid)
            community_homes = []
            for g in range(shape.grids_per_community):
                username = f"load-butler-{c}-{g}"
                butler_id = user(username, "butler", f"管家{c + 1}-{g + 1}", cid)
                out.butlers.append(username)
                grid_id = new_id()
                grids.append({"id": grid_id, "community_id": cid, "name": f"{g + 1}号网格", "butler_id": butler_id,
                              "version": 1, "deleted": False, "created_at": hired, "updated_at": hired})
                for h in range(shape.households_per_grid):
                    hid = new_id()
                    community_homes.append(hid)
                    building, rest = divmod(g * shape.households_per_grid + h, 100)
                    households.append({
                        "id": hid, "community_id": cid, "grid_id": grid_id, "building": f"{building + 1}栋",
                        "unit": f"{rest // 50 + 1}单元", "room": f"{rest % 50 // 2 + 1}{rest % 2 + 1:02d}",
                        "status": rng.choices(["self_occupied", "rented", "vacant", "custody"], [70, 18, 8, 4])[0],
                        "area_m2": rng.choice([89.5, 98.0, 118.6, 126.0]), "tags": ["独居老人"] if rng.random() < 0.08 else [],
                        "notes": "", "visit_cycle_days": 90, "version": 1, "deleted": False, "created_at": hired,
                        "updated_at": hired, "seq": next(seqs),
                        "field_meta": meta_of(("building", "unit", "room", "status", "tags"), butler_id)})
                    for p in range(shape.people_per_household):
                        people.append({
                            "id": new_id(), "household_id": hid, "name": "王芳" if p else "李建国",
                            "relation": "owner" if p == 0 else "family", "phone": f"13{rng.randrange(10**9):09d}",
                            "birth_year": rng.randint(1940, 2010), "tags": [], "notes": "", "consent": True,
                            "consent_at": hired, "version": 1, "deleted": False, "created_at": hired,
                            "updated_at": hired, "seq": next(seqs),
                            "field_meta": meta_of(("name", "relation", "phone", "consent"), butler_id)})
                    for v in range(shape.visits_per_household):
                        fields = visit_fields(hid, rng.randrange(60 * 24 * 120))
                        fields["visited_at"] = (now - timedelta(minutes=rng.randrange(60 * 24 * 120))).isoformat()
                        visits.append(visit_row(new_id(), fields, butler_id, next(seqs), hired))
            wanted = per_community_residents[c]  # more residents than homes: some share one (a family)
            homes = rng.sample(community_homes, min(wanted, len(community_homes)))
            for home in homes + rng.choices(community_homes, k=wanted - len(homes)):
                resident_homes.append(home)
                rid = user(f"load-resident-{len(resident_homes)}", "resident", f"住户{len(resident_homes)}", cid, home)
                token = secrets.token_urlsafe(32)
                out.residents.append(token)
                devices.append({"id": new_id(), "user_id": rid, "token_hash": hash_token(token), "name": "住户的手机",
                                "created_at": hired, "last_seen_at": hired})
        conn.execute(Community.__table__.insert(), communities)
        # Residents point at households, which point at grids, which point at butlers: users without a
        # household first, then the rest once the households exist.
        insert(conn, User.__table__, [u for u in users if u["household_id"] is None])
        insert(conn, Grid.__table__, grids)
        insert(conn, Household.__table__, households)
        insert(conn, User.__table__, [u for u in users if u["household_id"] is not None])
        insert(conn, Device.__table__, devices)
        insert(conn, Person.__table__, people)
        insert(conn, Visit.__table__, visits)
    out.counts = {"communities": len(communities), "butlers": len(out.butlers), "supervisors": len(out.supervisors),
                  "residents": len(out.residents), "households": len(households), "people": len(people),
                  "visits": len(visits)}
    return out
