"""What a sync batch learns up front, so that its simple writes need no query of their own.

A batch of 500 visits written one by one costs ~12 statements each (existence, locks, scope,
savepoints, the insert). With the batch's records, locks and scope fetched in a few queries
first, each write is checked in Python and inserted with the others at the end; the scope of
what was written is then checked for all of them in one query per type, by the same filter
(server/auth/scopes.py). If anything fails at that point the caller redoes the batch the
careful way, one savepoint per write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from server import bulk
from server.auth import scopes
from server.auth.models import User
from server.community.models import Grid, Household
from server.records import among, dialect_name
from server.resources.registry import registry, types


class BatchInvalid(Exception):
    """The batch's deferred checks failed: redo it the careful way."""


@dataclass(frozen=True)
class Written:
    """A record created in a batch, not yet inserted: what the writer learns of it."""

    id: str
    version: int


@dataclass
class Batch:
    user: User
    absent: set[tuple[str, str]] = field(default_factory=set)  # known not to exist
    visible: set[tuple[str, str]] = field(default_factory=set)  # existing and in the user's scope
    written: dict[str, set[str]] = field(default_factory=dict)  # type -> ids written fast
    # New records as column values, inserted together: one executemany per type instead of an ORM
    # object each (building and flushing 500 objects cost more than the checks).
    unsaved: dict[str, list[dict]] = field(default_factory=dict)
    unsaved_ids: set[tuple[str, str]] = field(default_factory=set)
    # Records the batch's writes point at (households, butlers), as the session loaded them.
    referenced: dict[tuple[type, str], object] = field(default_factory=dict)
    # Fast writes whose type tells people of each write (an order tells its butler): (type, id, the
    # changed fields' old values, created), for the type's `after_write` once the batch has passed.
    after_writes: list[tuple[str, str, dict, bool]] = field(default_factory=list)
    # The records loaded by the prefetch and their households, held for the batch's length (the
    # session's identity map keeps only weak references: each write would load its record again).
    held: list = field(default_factory=list)

    def fast(self, rtype: str) -> bool:
        return rtype in types(fast=True)

    def note_written(self, rtype: str, rid: str) -> None:
        self.written.setdefault(rtype, set()).add(rid)
        self.absent.discard((rtype, rid))
        self.visible.add((rtype, rid))  # checked with the others at the end

    def add_row(self, rtype: str, row: dict) -> None:
        self.unsaved.setdefault(rtype, []).append(row)
        self.unsaved_ids.add((rtype, row["id"]))
        self.note_written(rtype, row["id"])

    def after_write(self, rtype: str, rid: str, previous: dict, created: bool) -> None:
        """Note a fast write whose type's `after_write` must run (see run_after_writes)."""
        self.after_writes.append((rtype, rid, previous, created))

    def run_after_writes(self, session: Session) -> None:
        """What the batch's fast writes set off (their notifications), once the batch is written and
        its scope checked, just before it commits: into the outbox in the batch's transaction, so a
        notification leaves (push, the live channel) only after the commit, exactly once per write
        applied, and never for a write refused or a batch rolled back (redone the careful way, where
        each write runs its own in its savepoint). The records in one query per type, not one each."""
        if not self.after_writes:
            return
        wanted: dict[str, set[str]] = {}
        for rtype, rid, _, _ in self.after_writes:
            wanted.setdefault(rtype, set()).add(rid)
        loaded: dict[tuple[str, str], object] = {}
        for rtype, ids in wanted.items():
            for chunk in _chunks(sorted(ids), 500):
                for record in session.scalars(_records(rtype, dialect_name(session)), {"ids": chunk}):
                    loaded[(rtype, record.id)] = record
        # What the hooks read of each record's place (its household, the household's grid and butler),
        # loaded in one query each and held while they run: the session's identity map keeps only
        # weak references, so each hook asked for them again.
        dialect = dialect_name(session)
        homes = sorted({h for r in loaded.values() if isinstance(h := getattr(r, "household_id", None), str)})
        held = [household for chunk in _chunks(homes, 500)
                for household in session.scalars(_households(dialect), {"ids": chunk})]
        grids = sorted({h.grid_id for h in held if h.grid_id})
        held += [grid for chunk in _chunks(grids, 500) for grid in session.scalars(_grids(dialect), {"ids": chunk})]
        for rtype, rid, previous, created in self.after_writes:
            registry()[rtype].rules.after_write(session, self.user, loaded[(rtype, rid)], previous, created)
        self.after_writes.clear()
        del held

    def save_rows(self, session: Session) -> None:
        """Insert the new records (before anything reads them). ORM bulk INSERT: attribute names,
        column defaults and types (phone encryption) apply as for objects."""
        for rtype, rows in self.unsaved.items():
            bulk.insert_rows(session, registry()[rtype].model, rows)
        self.unsaved.clear()
        self.unsaved_ids.clear()

    def check(self, session: Session) -> None:
        """After the flush: everything written fast must lie in the user's scope."""
        for rtype, ids in self.written.items():
            model = registry()[rtype].model
            statement = _count_visible(rtype, scopes.viewer_shape(self.user), dialect_name(session))
            for chunk in _chunks(sorted(ids), 500):
                seen = session.scalar(statement, {**scopes.viewer_values(self.user), "ids": chunk})
                if seen != len(chunk):
                    raise BatchInvalid(rtype)


def prefetch(session: Session, user: User, wanted: dict[str, set[str]]) -> Batch:
    """Lock and load the batch's existing records; note which exist, and which the user may see."""
    batch = Batch(user)
    for rtype, ids in wanted.items():
        if rtype not in types(fast=True) or not ids:
            continue
        found: set[str] = set()
        statement = _lock_with_scope(rtype, scopes.viewer_shape(user), dialect_name(session))
        for chunk in _chunks(sorted(ids), 500):
            for record, visible in session.execute(statement, {**scopes.viewer_values(user), "ids": chunk}):
                found.add(record.id)
                batch.held.append(record)
                if visible:
                    batch.visible.add((rtype, record.id))
        batch.absent.update((rtype, rid) for rid in ids - found)
    homes = sorted({h for r in batch.held if isinstance(h := getattr(r, "household_id", None), str)})
    for chunk in _chunks(homes, 500):  # what their writes' checks and audit events read
        batch.held += session.scalars(_households(dialect_name(session)), {"ids": chunk}).all()
    return batch


# The batch's statements, built once per type, kind of user (scopes.Viewer) and database; the ids
# are bound as one list (records.among).

@lru_cache(maxsize=256)
def _lock_with_scope(rtype: str, shape: tuple[str, bool, bool], dialect: str) -> sa.Select:
    """Each record named, locked and loaded, with whether the user may see it."""
    model = registry()[rtype].model
    visible = scopes.visible_filter(scopes.viewer(shape), rtype, model).label("visible")
    return sa.select(model, visible).where(among(model.id, "ids", dialect)).with_for_update(of=model)


@lru_cache(maxsize=64)
def _records(rtype: str, dialect: str) -> sa.Select:
    """The records of a type named (`ids`), as the session holds them."""
    model = registry()[rtype].model
    return sa.select(model).where(among(model.id, "ids", dialect))


@lru_cache(maxsize=4)
def _households(dialect: str) -> sa.Select:
    return sa.select(Household).where(among(Household.id, "ids", dialect))


@lru_cache(maxsize=4)
def _grids(dialect: str) -> sa.Select:
    return sa.select(Grid).where(among(Grid.id, "ids", dialect))


@lru_cache(maxsize=256)
def _count_visible(rtype: str, shape: tuple[str, bool, bool], dialect: str) -> sa.Select:
    """How many of the records named the user may see.

    The records named are found by their ids first (a materialised CTE: the primary key, 500
    look-ups), then the scope is tested on them. Left to itself the planner walked every record of
    the user's households and kept the ones named, a cost that grew with the grid's history."""
    model = registry()[rtype].model
    # The columns the scope filter reads of a household's record (every fast type is one).
    named = (sa.select(model.id, model.household_id).where(among(model.id, "ids", dialect))
             .cte("named").prefix_with("MATERIALIZED"))
    record = aliased(model, named)
    return sa.select(sa.func.count()).select_from(record).where(
        scopes.visible_filter(scopes.viewer(shape), rtype, record))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
