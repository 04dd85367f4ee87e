"""What the engine needs from storage: the interface that the in-memory and SQL stores implement.

A store also owns the scope rules (what a user may read and write): the engine never decides
permissions itself, it asks the store, which asks the scope module it was built with.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sync.cursor import Cursor
from sync.merge import Collision, FieldMeta


@dataclass
class Stored:
    """A record as the engine sees it."""

    values: dict[str, Any]
    version: int
    deleted: bool
    meta: FieldMeta = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    seq: int
    type: str
    id: str
    op: str  # put | delete | evict
    version: int | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    more: bool
    high_water: int  # every change at or below it is committed: a safe cursor when the page is the last


class Store(Protocol):
    # ---- transactions -------------------------------------------------------------------------
    def write_batch(self, user: Any, mutations: list, *, careful: bool) -> AbstractContextManager[None]:
        """One transaction around a batch of mutations; commits on success. Unless `careful`, the
        store may take a fast way and raise RetryCarefully at the end (nothing kept)."""

    def savepoint(self, mutation: Any) -> AbstractContextManager[None]:
        """Undo one mutation's writes if it fails, leaving the batch's others. A failure of storage
        itself on this mutation's values (not of the whole store) is raised as Unstorable."""

    # ---- exactly once -------------------------------------------------------------------------
    def recorded_result(self, user: Any, mid: str) -> dict | None: ...

    def record_result(self, user: Any, mid: str, result: dict) -> None: ...

    # ---- records (each call checks the user's scope and the type's rules; raises Rejected) -----
    def synced_types(self) -> frozenset[str]: ...

    def serial_fields(self, rtype: str) -> frozenset[str]: ...

    def normalize(self, rtype: str, fields: dict) -> dict:
        """Incoming values as the store would hold and send them ("Z" and "+00:00" are one time),
        so that equal values are never taken for a conflict; as given when they do not validate."""

    def load(self, user: Any, rtype: str, rid: str) -> Stored | None:
        """The record for writing (locked), whether or not the user may see it."""

    def create(self, user: Any, rtype: str, rid: str, fields: dict, *, meta: FieldMeta, client_id: str,
               at: datetime) -> int: ...

    def update(self, user: Any, rtype: str, rid: str, fields: dict, *, meta: FieldMeta, client_id: str,
               at: datetime) -> int: ...

    def delete(self, user: Any, rtype: str, rid: str) -> int: ...

    # ---- conflicts ----------------------------------------------------------------------------
    def add_conflict(self, user: Any, rtype: str, rid: str, collision: Collision, *, client_id: str,
                     at: datetime) -> str: ...

    def settle_conflict(self, user: Any, conflict_id: str, fields: dict, *, client_id: str,
                        at: datetime) -> int: ...

    # ---- pull ---------------------------------------------------------------------------------
    def horizon(self) -> int:
        """The oldest sequence number a cursor may still start from (tombstones purged below)."""

    def changes(self, user: Any, *, after: Cursor, limit: int) -> Page:
        """Changes after the position in (seq, type, id) order; without tombstones and evictions
        while `after.resend`."""
