"""The order of changes that pulls walk, and what a change of scope means for each user's phone.

Every write to a replicated record stamps it with a sequence number (`seq`); a pull sends the
records whose number is past its cursor. The promise the numbers must keep (the contract's "no
missed change"): once a reader has seen number n, no transaction may still commit a change
numbered n or below. How that is kept depends on the database:

- **PostgreSQL: the transaction id, bounded by the oldest running one.** A write is numbered with
  its transaction's id (`pg_current_xact_id()`, plus a fixed offset so that numbers from before
  this scheme stay below). Writers take no shared lock, so writers in different communities (or
  the same one) never wait on each other. A reader only trusts numbers below the oldest
  transaction still running (`pg_snapshot_xmin` of its snapshot): every transaction numbered
  below that has ended, and every later one gets a larger id. Rows of one transaction share a
  number; pages break ties by (type, id). The cost: a change becomes visible to pulls only once
  every transaction that started before it has ended (milliseconds, or as long as the longest
  writer then running).
- **SQLite: one counter row.** SQLite lets one writer in at a time anyway; taking the next number
  from `sync_counter` locks the row until commit, so numbers become visible in the order they
  were handed out.
"""
from __future__ import annotations

import itertools
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import bulk
from server.auth.models import User
from server.community.models import Grid, Household
from server.records import among, dialect_name, utcnow
from server.resources.registry import household_children, registry
from server.syncing.models import SyncConflict, SyncCounter, SyncEviction

COUNTER_ID = 1
BLOCK = "guanjia.seq_block"  # session.info key (SQLite): numbers reserved ahead for a batch
TRANSACTION_SEQ = "guanjia.transaction_seq"  # session.info key (PostgreSQL): this transaction's number

Executor = Session | sa.Connection

_TRANSACTION_SEQ = sa.select(
    sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger) + SyncCounter.xid_offset
).where(SyncCounter.id == COUNTER_ID)
_SAFE_SEQ = sa.select(
    sa.cast(sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text), sa.BigInteger)
    - 1 + SyncCounter.xid_offset
).where(SyncCounter.id == COUNTER_ID)


def by_transaction(executor: Executor) -> bool:
    """Whether numbers come from transaction ids (PostgreSQL) rather than the counter row."""
    bind = executor if isinstance(executor, sa.Connection) else executor.get_bind()
    return bind.dialect.name == "postgresql"


def transaction_seq(session: Session) -> int:
    """PostgreSQL: the number of every change this transaction writes (asked once per transaction)."""
    if TRANSACTION_SEQ not in session.info:
        session.info[TRANSACTION_SEQ] = session.execute(_TRANSACTION_SEQ).scalar_one()
    return session.info[TRANSACTION_SEQ]


def taken_transaction_seq(session: Session) -> int | None:
    """PostgreSQL: the number this transaction's writes took, if it wrote any (else None)."""
    return session.info.get(TRANSACTION_SEQ)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_transaction_seq(session: Session, transaction) -> None:
    if transaction.parent is None:  # a savepoint's end keeps the transaction, and its id
        session.info.pop(TRANSACTION_SEQ, None)


def _reserve(session: Executor, count: int) -> range:
    last = session.execute(
        sa.update(SyncCounter).where(SyncCounter.id == COUNTER_ID)
        .values(value=SyncCounter.value + count).returning(SyncCounter.value)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def reserve_block(session: Session, size: int) -> None:
    """Get numbers ready for a batch. SQLite: one UPDATE instead of one per write (outside any
    savepoint: a rolled-back reservation would hand the same numbers out twice). PostgreSQL: the
    transaction's own number, asked once."""
    if by_transaction(session):
        transaction_seq(session)
    else:
        session.info[BLOCK] = iter(_reserve(session, size))


def drop_block(session: Session) -> None:
    session.info.pop(BLOCK, None)


def next_seqs(session: Executor, count: int = 1) -> list[int] | range:
    """`count` non-decreasing numbers for this transaction's writes. SQLite: increasing and never
    reused, and taking them locks the counter until commit. PostgreSQL: the transaction's one
    number, no lock. A Core connection (bulk loads) is served like a session without a block."""
    if count <= 0:
        return range(0)
    if by_transaction(session):
        if isinstance(session, sa.Connection):
            return [session.execute(_TRANSACTION_SEQ).scalar_one()] * count
        return [transaction_seq(session)] * count
    block = None if isinstance(session, sa.Connection) else session.info.get(BLOCK)
    if block is not None:
        taken = list(itertools.islice(block, count))
        if len(taken) == count:
            return taken
        drop_block(session)  # exhausted: the rest are gaps, which the cursor does not mind
    return _reserve(session, count)


def next_seq(session: Executor) -> int:
    return next_seqs(session, 1)[0]


def high_water(session: Executor) -> int:
    """A number such that every change numbered at or below it is committed (and visible to this
    statement) or never will be: the safe end of a pull."""
    if by_transaction(session):
        return session.execute(_SAFE_SEQ).scalar_one()
    return session.execute(sa.select(SyncCounter.value).where(SyncCounter.id == COUNTER_ID)).scalar_one()


def horizon_and_high_water(session: Executor) -> tuple[int, int]:
    """Both ends a pull needs, in one statement: the purge horizon and the high water."""
    safe = _SAFE_SEQ.selected_columns[0] if by_transaction(session) else SyncCounter.value
    return tuple(session.execute(sa.select(SyncCounter.horizon, safe).where(SyncCounter.id == COUNTER_ID)).one())


# A restore starts numbering this far past every number in the restored data: more changes than
# any deployment makes between a backup and its restore, so every cursor from before is below it.
TIMELINE_GAP = 1 << 32


def new_timeline(session: Session) -> int:
    """After a restore from backup: number every later change past anything a phone may have seen
    before (the lost writes after the backup included), and raise the horizon to there, so that
    every cursor from before the restore is answered with a full resend. On PostgreSQL the
    restored cluster's transaction ids have nothing to do with the old ones: the offset is set
    again from the current one. Returns the first number of the new timeline."""
    numbered = _numbered_tables()
    restored = max([session.execute(sa.select(sa.func.max(t.c.seq))).scalar() or 0 for t in numbered]
                   + list(session.execute(sa.select(SyncCounter.value, SyncCounter.horizon)
                                          .where(SyncCounter.id == COUNTER_ID)).one()))
    start = restored + TIMELINE_GAP
    if by_transaction(session):
        # Numbers are xid + offset: this transaction (which numbers no change) gets `start`, every
        # later one more.
        xid = session.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
        values = {"xid_offset": start - xid}
    else:
        values = {}
    session.execute(sa.update(SyncCounter).where(SyncCounter.id == COUNTER_ID)
                    .values(value=start, horizon=start, **values))
    session.info.pop(TRANSACTION_SEQ, None)
    return start


def _numbered_tables() -> list[sa.Table]:
    """Every table whose rows carry a place in the change order."""
    from server.extensions import db

    return [table for table in db.metadata.sorted_tables if "seq" in table.c]


# ---- scope changes ------------------------------------------------------------------------------

def audience(session: Session, household_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(user id, household id) for every non-admin who may see each household now."""
    ids = list(household_ids)
    if not ids:
        return set()
    butlers = session.execute(
        sa.select(Grid.butler_id, Household.id).join(Grid, Grid.id == Household.grid_id)
        .where(Household.id.in_(ids), Household.deleted.is_(False), Grid.butler_id.is_not(None),
               Grid.deleted.is_(False))
    ).all()
    residents = session.execute(
        sa.select(User.id, Household.id).join(Household, Household.id == User.household_id)
        .where(Household.id.in_(ids), Household.deleted.is_(False), User.role == "resident")
    ).all()
    supervisors = session.execute(
        sa.select(User.id, Household.id).join(Household, Household.community_id == User.community_id)
        .where(Household.id.in_(ids), Household.deleted.is_(False), User.role == "supervisor")
    ).all()
    return {(u, h) for u, h in [*butlers, *residents, *supervisors]}


def apply_scope_change(session: Session, before: set[tuple[str, str]], after: set[tuple[str, str]]) -> None:
    """Evict what users lost; re-send what users gained (a new sequence number puts it in their pull).

    Set-based, whatever the number of households: the records on the households lost are read in
    one statement per type (per 500 households), their evictions inserted in one (COPY on
    PostgreSQL), and the records on the households gained renumbered in one UPDATE per type (per 500
    households). A re-imported file that moved 2,000 households between grids sent ~20 statements
    per household before (docs/benchmarks.md, "Grid move by import"). The rows one UPDATE renumbers
    share one number, as every row of a transaction does on PostgreSQL: pulls break ties by (type, id)."""
    lost = sorted(before - after)
    gained = sorted({h for _, h in after - before})
    if not lost and not gained:
        return
    dialect = dialect_name(session)
    types = (("conflict", SyncConflict), *household_children().items())  # its conflicts go and come with it
    rows = []
    if lost:
        on: dict[str, list[tuple[str, str]]] = {h: [("household", h)] for _, h in lost}
        ids = sorted(on)
        for rtype, model in types:
            statement = _ids_on_households(model, dialect)
            for start in range(0, len(ids), 500):
                for record_id, household_id in session.execute(statement, {"ids": ids[start:start + 500]}):
                    on[household_id].append((rtype, record_id))
        rows = [(user_id, rtype, record_id, household_id)
                for user_id, household_id in lost for rtype, record_id in on[household_id]]
    chunks = [gained[start:start + 500] for start in range(0, len(gained), 500)]
    tables = (Household.__table__, *(model.__table__ for _, model in types))
    seqs = iter(next_seqs(session, len(rows) + len(chunks) * len(tables)))  # SQLite: one counter UPDATE
    if rows:
        now = utcnow()
        bulk.insert_rows(session, SyncEviction.__table__, [  # Core: no ORM bookkeeping for 16,000 rows
            {"seq": next(seqs), "user_id": u, "record_type": t, "record_id": r, "household_id": h, "created_at": now}
            for u, t, r, h in rows])
    for chunk in chunks:
        for table in tables:
            # Core, not the ORM's bulk UPDATE: the session's objects keep the number they had, which
            # nothing reads in the rest of the transaction (a later write gives a record a newer one).
            column = table.c.id if table is Household.__table__ else table.c.household_id
            session.execute(sa.update(table).where(among(column, "ids", dialect)).values(seq=next(seqs)),
                            {"ids": chunk})


def _ids_on_households(model, dialect: str) -> sa.Select:
    """(id, household id) of a type's records on the households named (`ids`)."""
    return sa.select(model.id, model.household_id).where(among(model.household_id, "ids", dialect))


def record_moved(session: Session, *, rtype: str, record_id: str, old_household: str | None,
                 new_household: str | None, old_assignee: str | None = None,
                 new_assignee: str | None = None, old_team: str | None = None,
                 new_team: str | None = None) -> None:
    """One record changed household (or a ticket its assignee or team): evict it for whoever could
    see it before and cannot now. Whoever gains it gets it by its new sequence number."""
    before = {u for u, _ in audience(session, [old_household] if old_household else [])}
    if old_assignee:
        before.add(old_assignee)
    before |= team_members(session, old_team)
    after = {u for u, _ in audience(session, [new_household] if new_household else [])}
    if new_assignee:  # a ticket's assignee sees it wherever it hangs
        after.add(new_assignee)
    after |= team_members(session, new_team)  # and so does its team (the pool)
    lost = sorted(before - after)
    attached = _attached(session, rtype, record_id)
    if after - before:
        # Its photos go with it: a new number each, or a phone that gains the record (a technician
        # handed a ticket) would never pull the photos taken before, numbered below its cursor.
        for child, child_ids in itertools.groupby(attached, key=lambda pair: pair[0]):
            touch(session, registry()[child].model, [child_id for _, child_id in child_ids])
    if not lost:
        return
    evicted = [(rtype, record_id), *attached]  # whoever no longer sees a ticket no longer sees its photos
    seqs = iter(next_seqs(session, len(lost) * len(evicted)))
    session.add_all([SyncEviction(seq=next(seqs), user_id=u, record_type=t, record_id=r,
                                  household_id=old_household) for u in lost for t, r in evicted])


def _attached(session: Session, rtype: str, record_id: str) -> list[tuple[str, str]]:
    """(type, id) of the records attached to one record (its photos), if its type takes any."""
    if not registry()[rtype].attachments:
        return []
    return [(child, child_id) for child, res in sorted(registry().items()) if res.scope == "of_record"
            for child_id in session.scalars(sa.select(res.model.id).where(
                res.model.record_type == rtype, res.model.record_id == record_id).order_by(res.model.id))]


def team_members(session: Session, team_id: str | None) -> set[str]:
    """The technicians of a team (they see the tickets handed to it)."""
    if not team_id:
        return set()
    return set(session.scalars(sa.select(User.id).where(User.team_id == team_id)))


def touch(session: Session, model, ids: list[str]) -> None:
    """Give records new sequence numbers so that every phone whose scope holds them pulls them again."""
    if not ids:
        return
    seqs = next_seqs(session, len(ids))
    session.execute(sa.update(model), [{"id": rid, "seq": seq} for rid, seq in zip(sorted(ids), seqs)])


def evicted_recently(session: Session, *, user_id: str, household_id: str, since) -> object | None:
    """When the user lost the household, if that was after `since` (for work done offline before)."""
    return session.scalar(
        sa.select(sa.func.max(SyncEviction.created_at))
        .where(SyncEviction.user_id == user_id, SyncEviction.household_id == household_id,
               SyncEviction.record_type == "household", SyncEviction.created_at >= since)
    )


def purge_tombstones(session: Session, *, older_than) -> dict[str, int]:
    """Forget deleted records and evictions older than `older_than`; raise the horizon past them.

    A cursor from before the horizon may have missed a delete that is no longer kept, so the
    engine answers it with a full resend (reset). Records that something still points at stay.
    """
    children = household_children()
    purged: dict[str, int] = {}
    newest = 0
    for name, model in children.items():
        doomed = sa.select(model.id).where(model.deleted.is_(True), model.updated_at < older_than)
        newest = max(newest, session.scalar(sa.select(sa.func.max(model.seq)).where(model.id.in_(doomed))) or 0)
        purged[name] = session.execute(sa.delete(model).where(model.id.in_(doomed))).rowcount
    referenced = sa.union(*[sa.select(m.household_id) for m in children.values()],
                          sa.select(User.household_id).where(User.household_id.is_not(None)))
    doomed = sa.select(Household.id).where(Household.deleted.is_(True), Household.updated_at < older_than,
                                           Household.id.not_in(referenced))
    newest = max(newest, session.scalar(sa.select(sa.func.max(Household.seq)).where(Household.id.in_(doomed))) or 0)
    purged["household"] = session.execute(sa.delete(Household).where(Household.id.in_(doomed))).rowcount
    old_evictions = sa.select(SyncEviction.id).where(SyncEviction.created_at < older_than)
    newest = max(newest, session.scalar(sa.select(sa.func.max(SyncEviction.seq)).where(
        SyncEviction.id.in_(old_evictions))) or 0)
    purged["eviction"] = session.execute(sa.delete(SyncEviction).where(SyncEviction.id.in_(old_evictions))).rowcount
    if newest:
        session.execute(sa.update(SyncCounter).where(SyncCounter.id == COUNTER_ID)
                        .values(horizon=sa.func.max(SyncCounter.horizon, newest) if session.get_bind().dialect.name == "sqlite"
                                else sa.func.greatest(SyncCounter.horizon, newest)))
    return purged


def erase_conflicting_values(session: Session, *, rtype: str, record_id: str, fields: list[str]) -> None:
    """Personal data that must go (consent withdrawn) goes from conflict records too: they are
    closed with both values erased."""
    from server.records import utcnow
    from server.syncing import bookkeeping
    from server.syncing.models import SyncConflict

    for conflict in session.scalars(sa.select(SyncConflict).where(
            SyncConflict.record_type == rtype, SyncConflict.record_id == record_id, SyncConflict.field.in_(fields))):
        conflict.kept_value = conflict.other_value = conflict.chosen = None
        conflict.status, conflict.settled_at = "settled", utcnow()
        bookkeeping.changed(session, None, conflict)
