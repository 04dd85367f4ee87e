"""The two sides one sync contract suite runs against (tests/contract): the engine on the in-memory
store, and the app's POST /api/v1/sync on SQLAlchemy (SQLite and PostgreSQL), driven as a phone does.

Both offer the same small vocabulary: two butlers each holding one household, a way to sync as
either of them, and the server's truth about a record (its value, whether it stands, a conflict's
state), so a promise is written once and checked on both."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sync.engine import Engine, EngineConfig
from sync.errors import Problem
from sync.memory import MemoryStore, MemoryUser
from sync.protocol import Limits
from tests.support.phone import PHONE_A

AT = "2026-11-27T09:15:02+08:00"


def new_id() -> str:
    return str(uuid.uuid4())


def envelope(mutations, *, client: str, cursor: str | None, limit: int | None) -> dict:
    body = {"client_id": client, "schema": 1, "cursor": cursor, "mutations": list(mutations)}
    if limit:
        body["limit"] = limit
    return body


def _satisfaction_rule(values: dict) -> list[Problem]:
    s = values.get("satisfaction")
    return [Problem("satisfaction", "out_of_range", {"min": "1", "max": "5"})] \
        if s is not None and not 1 <= s <= 5 else []


class MemoryBackend:
    """The engine over sync/memory.py: what the contract promises, with no server behind it."""

    def __init__(self):
        self.store = MemoryStore(validators={"visit": _satisfaction_rule}, serial={"ticket": frozenset({"status"})})
        supervisor = MemoryUser("supervisor", supervisor=True)
        self.h1, self.h2 = new_id(), new_id()
        for hid in (self.h1, self.h2):
            self.store.create(supervisor, "household", hid, {"notes": "", "status": "self_occupied"}, meta={}, at=None)
        self.butler, self.other = MemoryUser("butler-1", {self.h1}), MemoryUser("butler-2", {self.h2})
        self.engine = Engine(EngineConfig(cursor_key=b"k" * 32, limits=Limits(max_mutations=100, max_bytes=200_000)),
                             lambda code, field, params, language: f"{language}:{code}:{field}")

    def sync(self, user, *mutations, client=PHONE_A, cursor=None, limit=None) -> dict:
        return self.engine.sync(self.store, user, envelope(mutations, client=client, cursor=cursor, limit=limit))

    def visit(self, household: str, **fields) -> dict:
        return {"household_id": household, **fields}

    def value(self, rtype: str, rid: str, field: str):
        row = self.store.rows[(rtype, rid)]
        return row.version if field == "version" else row.values.get(field)

    def stands(self, rtype: str, rid: str) -> bool:
        row = self.store.rows.get((rtype, rid))
        return row is not None and not row.deleted

    def conflict_status(self, conflict_id: str) -> str:
        return self.store.conflicts[conflict_id]["status"]

    def move_household(self, household: str, *, from_user, to_user) -> None:
        self.store.move_household(household, from_user=from_user, to_user=to_user)

    def purge_tombstones(self) -> None:
        self.store.purge_tombstones()


class ServerBackend:
    """The app itself: POST /api/v1/sync through the Flask test client, on the test's database."""

    def __init__(self, client, session):
        from tests.factories import auth, make_community, make_grid, make_household, make_user

        self.client, self.session = client, session
        community = make_community()
        self.butler, self.other = make_user("butler", community_id=community.id), \
            make_user("butler", community_id=community.id)
        self.supervisor = make_user("supervisor", community_id=community.id)
        self.grids = {self.butler.id: make_grid(community, self.butler), self.other.id: make_grid(community, self.other)}
        self.h1 = make_household(community, self.grids[self.butler.id], notes="").id
        self.h2 = make_household(community, self.grids[self.other.id], notes="").id
        self._headers = {user.id: {**auth(user), "Content-Type": "application/json"}
                         for user in (self.butler, self.other, self.supervisor)}

    def sync(self, user, *mutations, client=PHONE_A, cursor=None, limit=None) -> dict:
        response = self.client.post("/api/v1/sync", headers=self._headers[user.id],
                                    data=json.dumps(envelope(mutations, client=client, cursor=cursor, limit=limit)))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def visit(self, household: str, **fields) -> dict:
        from tests.factories import complete_visit  # the server's: a new visit answers its whole checklist

        butler = self.butler if household == self.h1 else self.other
        return complete_visit({"household_id": household, "butler_id": butler.id, "visited_at": AT, **fields})

    def _model(self, rtype: str):
        from server.resources.registry import registry
        from server.syncing.models import SyncConflict

        return SyncConflict if rtype == "conflict" else registry()[rtype].model

    def value(self, rtype: str, rid: str, field: str):
        self.session.expire_all()
        return getattr(self.session.get(self._model(rtype), rid), field)

    def stands(self, rtype: str, rid: str) -> bool:
        self.session.expire_all()
        record = self.session.get(self._model(rtype), rid)
        return record is not None and not record.deleted

    def conflict_status(self, conflict_id: str) -> str:
        return self.value("conflict", conflict_id, "status")

    def move_household(self, household: str, *, from_user, to_user) -> None:
        response = self.client.patch(f"/api/v1/households/{household}", json={"grid_id": self.grids[to_user.id].id},
                                     headers=self._headers[self.supervisor.id])
        assert response.status_code == 200, response.get_json()

    def purge_tombstones(self) -> None:
        from server.records import utcnow
        from server.syncing.changes import purge_tombstones

        purge_tombstones(self.session, older_than=utcnow() + timedelta(seconds=1))
        self.session.commit()
