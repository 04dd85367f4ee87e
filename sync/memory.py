"""An in-memory Store: the engine's behaviour tested in milliseconds (cosmicpython's fake repository).

Its scope is deliberately simple: a user sees the households in `user.households` and every
record whose `household_id` is one of them. Validation is a per-type function given by the test.
"""
from __future__ import annotations

import copy
import itertools
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator

from sync.errors import Problem, Rejected
from sync.merge import Collision, FieldMeta, stamp
from sync.store import Change, Page, Stored

Validator = Callable[[dict[str, Any]], list[Problem]]


@dataclass
class MemoryUser:
    id: str
    households: set[str] = field(default_factory=set)
    supervisor: bool = False  # sees everything, settles any conflict


@dataclass
class _Row:
    type: str
    id: str
    values: dict[str, Any]
    version: int
    deleted: bool
    meta: FieldMeta
    seq: int


class MemoryStore:
    TYPES = frozenset({"household", "person", "visit", "ticket"})

    def __init__(self, validators: dict[str, Validator] | None = None, serial: dict[str, frozenset] | None = None):
        self.validators = validators or {}
        self.serial = serial or {"ticket": frozenset({"status"})}
        self.rows: dict[tuple[str, str], _Row] = {}
        self.results: dict[tuple[str, str], dict] = {}
        self.evictions: list[tuple[int, str, str, str]] = []  # seq, user id, type, record id
        self.conflicts: dict[str, dict] = {}
        self._seq = itertools.count(1)
        self.last_seq = 0
        self.purged_through = 0
        self.commits = 0

    # ---- transactions -------------------------------------------------------------------------
    @contextmanager
    def write_batch(self, user, mutations, *, careful: bool) -> Iterator[None]:
        yield
        self.commits += 1

    @contextmanager
    def savepoint(self, mutation=None) -> Iterator[None]:
        saved = copy.deepcopy((self.rows, self.evictions, self.conflicts, self.last_seq))
        try:
            yield
        except BaseException:
            self.rows, self.evictions, self.conflicts, self.last_seq = saved
            raise

    def _next_seq(self) -> int:
        self.last_seq = max(self.last_seq + 1, next(self._seq))
        return self.last_seq

    # ---- exactly once -------------------------------------------------------------------------
    def recorded_result(self, user: MemoryUser, mid: str) -> dict | None:
        return copy.deepcopy(self.results.get((user.id, mid)))

    def record_result(self, user: MemoryUser, mid: str, result: dict) -> None:
        self.results[(user.id, mid)] = copy.deepcopy(result)

    # ---- scope ----------------------------------------------------------------------------------
    def _household_of(self, rtype: str, rid: str, values: dict) -> str | None:
        return rid if rtype == "household" else values.get("household_id")

    def visible(self, user: MemoryUser, rtype: str, rid: str, values: dict) -> bool:
        return user.supervisor or self._household_of(rtype, rid, values) in user.households

    def _check(self, user: MemoryUser, rtype: str, rid: str, values: dict) -> None:
        if not self.visible(user, rtype, rid, values):
            raise Rejected([Problem("household_id", "out_of_scope")])
        problems = self.validators.get(rtype, lambda v: [])(values)
        if problems:
            raise Rejected(problems)

    # ---- records --------------------------------------------------------------------------------
    def synced_types(self) -> frozenset[str]:
        return self.TYPES

    def serial_fields(self, rtype: str) -> frozenset[str]:
        return self.serial.get(rtype, frozenset())

    def normalize(self, rtype: str, fields: dict) -> dict:
        return fields

    def load(self, user: MemoryUser, rtype: str, rid: str) -> Stored | None:
        row = self.rows.get((rtype, rid))
        if row is None:
            return None
        if not self.visible(user, rtype, rid, row.values):
            raise Rejected([Problem(None, "out_of_scope")])
        return Stored(copy.deepcopy(row.values), row.version, row.deleted, copy.deepcopy(row.meta))

    def create(self, user, rtype, rid, fields, *, meta, client_id="", at=None) -> int:
        self._check(user, rtype, rid, fields)
        self.rows[(rtype, rid)] = _Row(rtype, rid, copy.deepcopy(fields), 1, False, meta, self._next_seq())
        return 1

    def update(self, user, rtype, rid, fields, *, meta, client_id="", at=None) -> int:
        row = self.rows[(rtype, rid)]
        values = {**row.values, **copy.deepcopy(fields)}
        self._check(user, rtype, rid, values)
        row.values, row.meta, row.version, row.seq = values, meta, row.version + 1, self._next_seq()
        return row.version

    def delete(self, user, rtype, rid) -> int:
        row = self.rows[(rtype, rid)]
        row.deleted, row.version, row.seq = True, row.version + 1, self._next_seq()
        return row.version

    # ---- conflicts --------------------------------------------------------------------------------
    def add_conflict(self, user, rtype, rid, collision: Collision, *, client_id: str, at: datetime) -> str:
        conflict_id = str(uuid.uuid4())
        row = self.rows[(rtype, rid)]
        self.conflicts[conflict_id] = {
            "id": conflict_id, "record_type": rtype, "record_id": rid, "field": collision.field,
            "household_id": self._household_of(rtype, rid, row.values),
            "kept": {"value": collision.yours, "user_id": user.id, "client_id": client_id},
            "other": {"value": collision.theirs, "user_id": collision.their_user_id,
                      "client_id": collision.their_client_id},
            "status": "open", "version": 1, "seq": self._next_seq(),
        }
        return conflict_id

    def settle_conflict(self, user, conflict_id, fields, *, client_id, at) -> int:
        conflict = self.conflicts.get(conflict_id)
        if conflict is None or not (user.supervisor or conflict["household_id"] in user.households):
            raise Rejected([Problem(None, "not_found")])
        if conflict["status"] != "open":
            raise Rejected([Problem(None, "already_settled")])
        if set(fields) != {"chosen"}:
            raise Rejected([Problem("chosen", "required")])
        row = self.rows[(conflict["record_type"], conflict["record_id"])]
        name = conflict["field"]
        meta = stamp(row.meta, [name], version=row.version + 1, client_id=client_id, user_id=user.id)
        self.update(user, row.type, row.id, {name: fields["chosen"]}, meta=meta, at=at)
        conflict.update(status="settled", chosen=fields["chosen"], version=conflict["version"] + 1,
                        seq=self._next_seq())
        return conflict["version"]

    # ---- scope changes (what the server does when a household changes grid) --------------------
    def move_household(self, household_id: str, *, from_user: MemoryUser, to_user: MemoryUser) -> None:
        from_user.households.discard(household_id)
        to_user.households.add(household_id)
        for row in list(self.rows.values()):
            if self._household_of(row.type, row.id, row.values) == household_id:
                self.evictions.append((self._next_seq(), from_user.id, row.type, row.id))
                row.seq = self._next_seq()  # the new holder receives it at their next pull

    def purge_tombstones(self) -> None:
        """Forget deleted records; cursors from before now must start over (reset)."""
        for key in [k for k, r in self.rows.items() if r.deleted]:
            del self.rows[key]
        self.purged_through = self.last_seq

    # ---- pull ---------------------------------------------------------------------------------
    def horizon(self) -> int:
        return self.purged_through

    def changes(self, user: MemoryUser, *, after, limit: int) -> Page:
        high_water = self.last_seq
        found: list[Change] = []
        for row in self.rows.values():
            if after.before(row.seq, row.type, row.id) and self.visible(user, row.type, row.id, row.values):
                if row.deleted:
                    if after.wants_removals(row.seq):
                        found.append(Change(row.seq, row.type, row.id, "delete", row.version))
                else:
                    found.append(Change(row.seq, row.type, row.id, "put", row.version,
                                        {"id": row.id, **copy.deepcopy(row.values), "version": row.version}))
        for conflict in self.conflicts.values():
            if after.before(conflict["seq"], "conflict", conflict["id"]) and (user.supervisor or conflict["household_id"] in user.households):
                data = {k: v for k, v in conflict.items() if k != "seq"}
                found.append(Change(conflict["seq"], "conflict", conflict["id"], "put", conflict["version"], data))
        found += [Change(seq, rtype, rid, "evict") for seq, uid, rtype, rid in self.evictions
                  if after.before(seq, rtype, rid) and uid == user.id and after.wants_removals(seq)]
        found.sort(key=lambda c: (c.seq, c.type, c.id))
        return Page(found[:limit], len(found) > limit, high_water)
