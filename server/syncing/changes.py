"""The one global order of changes, and what a change of scope means for each user's phone.

Every write to a replicated record takes the next sequence number from sync_counter. Taking it
locks the counter row until the transaction ends, so numbers become visible in the order they
were given: no reader can see number n while a smaller number is still uncommitted, which is
what lets a pull promise that it missed nothing (the contract's promise 5).
"""
from __future__ import annotations

import itertools
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Grid, Household
from server.syncing.models import SyncCounter, SyncEviction

COUNTER_ID = 1


BLOCK = "guanjia.seq_block"  # session.info key: numbers reserved ahead for a batch


def _reserve(session: Session, count: int) -> range:
    last = session.execute(
        sa.update(SyncCounter).where(SyncCounter.id == COUNTER_ID)
        .values(value=SyncCounter.value + count).returning(SyncCounter.value)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def reserve_block(session: Session, size: int) -> None:
    """Reserve numbers ahead for a batch (one UPDATE instead of one per write). Must be called
    outside any savepoint: a rolled-back reservation would hand the same numbers out twice."""
    session.info[BLOCK] = iter(_reserve(session, size))


def drop_block(session: Session) -> None:
    session.info.pop(BLOCK, None)


def next_seqs(session: Session, count: int = 1) -> list[int] | range:
    """`count` consecutive-or-not, increasing, never reused sequence numbers; taking them locks
    the counter until commit."""
    if count <= 0:
        return range(0)
    block = session.info.get(BLOCK)
    if block is not None:
        taken = list(itertools.islice(block, count))
        if len(taken) == count:
            return taken
        drop_block(session)  # exhausted: the rest are gaps, which the cursor does not mind
    return _reserve(session, count)


def next_seq(session: Session) -> int:
    return next_seqs(session, 1)[0]


def high_water(session: Session) -> int:
    """The last number handed out by a committed transaction: every change at or below it is visible."""
    return session.execute(sa.select(SyncCounter.value).where(SyncCounter.id == COUNTER_ID)).scalar_one()


def horizon(session: Session) -> int:
    return session.execute(sa.select(SyncCounter.horizon).where(SyncCounter.id == COUNTER_ID)).scalar_one()


# ---- scope changes ------------------------------------------------------------------------------

def household_children():
    """The replicated types that hang on a household, with their models."""
    from server.community.models import Person
    from server.products.models import Order
    from server.tickets.models import Ticket
    from server.visits.models import Touchpoint, Visit

    return {"person": Person, "visit": Visit, "touchpoint": Touchpoint, "ticket": Ticket, "order": Order}


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
    """Evict what users lost; re-send what users gained (a new sequence number puts it in their pull)."""
    lost = before - after
    gained_households = {h for _, h in after - before}
    rows = []
    from server.syncing.models import SyncConflict

    for user_id, household_id in sorted(lost):
        rows.append(("household", household_id, household_id))
        for conflict_id in session.scalars(sa.select(SyncConflict.id).where(SyncConflict.household_id == household_id)):
            rows.append(("conflict", conflict_id, household_id))
        for rtype, model in household_children().items():
            for record_id in session.scalars(sa.select(model.id).where(model.household_id == household_id)):
                rows.append((rtype, record_id, household_id))
        seqs = iter(next_seqs(session, len(rows)))
        session.add_all([SyncEviction(seq=next(seqs), user_id=user_id, record_type=t, record_id=r, household_id=h)
                         for t, r, h in rows])
        rows = []
    for household_id in sorted(gained_households):
        touch(session, Household, [household_id])
        for model in (*household_children().values(), SyncConflict):  # its conflicts come back with it
            touch(session, model, list(session.scalars(sa.select(model.id).where(model.household_id == household_id))))


def record_moved(session: Session, *, rtype: str, record_id: str, old_household: str | None,
                 new_household: str | None, old_assignee: str | None = None,
                 new_assignee: str | None = None) -> None:
    """One record changed household (or a ticket its assignee): evict it for whoever could see
    it before and cannot now. Whoever gains it gets it by its new sequence number."""
    before = {u for u, _ in audience(session, [old_household] if old_household else [])}
    if old_assignee:
        before.add(old_assignee)
    after = {u for u, _ in audience(session, [new_household] if new_household else [])}
    if new_assignee:  # a ticket's assignee sees it wherever it hangs
        after.add(new_assignee)
    lost = sorted(before - after)
    seqs = iter(next_seqs(session, len(lost)))
    session.add_all([SyncEviction(seq=next(seqs), user_id=u, record_type=rtype, record_id=record_id,
                                  household_id=old_household) for u in lost])


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
    from server.community.models import Person
    from server.products.models import Order
    from server.tickets.models import Ticket
    from server.visits.models import Touchpoint, Visit

    purged: dict[str, int] = {}
    newest = 0
    for name, model in (("visit", Visit), ("touchpoint", Touchpoint), ("ticket", Ticket), ("order", Order),
                        ("person", Person)):
        doomed = sa.select(model.id).where(model.deleted.is_(True), model.updated_at < older_than)
        newest = max(newest, session.scalar(sa.select(sa.func.max(model.seq)).where(model.id.in_(doomed))) or 0)
        purged[name] = session.execute(sa.delete(model).where(model.id.in_(doomed))).rowcount
    referenced = sa.union(*[sa.select(m.household_id) for m in (Person, Visit, Touchpoint, Ticket, Order)],
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
    from server.syncing.models import SyncConflict

    for conflict in session.scalars(sa.select(SyncConflict).where(
            SyncConflict.record_type == rtype, SyncConflict.record_id == record_id, SyncConflict.field.in_(fields))):
        conflict.kept_value = conflict.other_value = conflict.chosen = None
        conflict.status, conflict.settled_at = "settled", utcnow()
        conflict.version += 1
        conflict.updated_at = utcnow()
        conflict.seq = next_seq(session)
