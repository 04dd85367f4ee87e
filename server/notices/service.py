"""Domain rules of notices: a notice belongs to one community for good, and always has a title.

A notice is for its whole community, or for one building (`building`): its residents and the butlers of
the grids its households are in. It is published at `published_at`: at once, or later (scheduled).
When it is published its audience is told through the notification outbox: at once by the write that
publishes it, or, for a scheduled one, by `publish_due`, which the notification worker runs with the
tickets' escalation (server/notify/worker.py) and `flask publish-due` runs by hand. `notified_at`
records that it was told, so nobody hears of one notice twice. Withdrawing a notice deletes it (the
phones drop it); pinning lists it first.

Who reads one is the scope rule's (server/auth/scopes.py building_filter): a resident only those for
their whole community or their household's building. When that changes for a resident (the notice
now targets another building; their household is moved to another building; they move house), the
notice is evicted from their phone at its next pull (a `sync_eviction` row, as every scope change
does), and a notice they gain is given a new place in the change order so that their pull sends it.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import scopes
from server.auth.models import User
from server.community.models import Grid, Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.notices.models import Notice
from server.notify import outbox
from server.records import utcnow
from server.resources.hooks import Rules
from server.syncing import bookkeeping
from server.syncing.changes import next_seqs, touch
from server.syncing.models import SyncEviction


def _check_title(values: dict) -> None:
    if "title" in values and not str(values["title"] or "").strip():
        raise ValidationFailed([FieldError("title", "required")])


def is_due(published_at: datetime | None, notified_at: datetime | None, now: datetime) -> bool:
    """Whether a notice's audience should be told now: published by now and not told yet."""
    return notified_at is None and published_at is not None and published_at <= now


def _notice_create(session: Session, user: User, values: dict) -> None:
    scopes.community_of_new_record(user, values)
    _check_title(values)
    values["title"] = values["title"].strip()
    values["building"] = (values.get("building") or "").strip()
    now = utcnow()
    values.setdefault("published_at", now)
    values["notified_at"] = now if is_due(values["published_at"], None, now) else None


def _notice_update(session: Session, user: User, notice: Notice, changes: dict) -> None:
    # Its readers are the community's: moving it elsewhere would leave it on the old readers' phones.
    if "community_id" in changes and changes["community_id"] != notice.community_id:
        raise Forbidden(errors=[FieldError("community_id", "not_writable")])
    _check_title(changes)
    if "title" in changes:
        changes["title"] = changes["title"].strip()
    if "building" in changes:
        changes["building"] = (changes["building"] or "").strip()
    now = utcnow()
    if is_due(changes.get("published_at", notice.published_at), notice.notified_at, now):
        changes["notified_at"] = now


def audience(session: Session, notice: Notice) -> list[str]:
    """Who hears of a notice: the residents of its households and the butlers of their grids (the
    community's butlers for a community-wide one)."""
    homes = sa.select(Household.id).where(Household.community_id == notice.community_id,
                                          Household.deleted.is_(False))
    if notice.building:
        homes = homes.where(Household.building == notice.building)
    residents = sa.select(User.id).where(User.role == "resident", User.active.is_(True),
                                         User.household_id.in_(homes))
    if notice.building:
        butler_ids = sa.select(Grid.butler_id).where(Grid.deleted.is_(False), Grid.id.in_(
            sa.select(Household.grid_id).where(Household.id.in_(homes))))
        butlers = sa.select(User.id).where(User.role == "butler", User.active.is_(True), User.id.in_(butler_ids))
    else:
        butlers = sa.select(User.id).where(User.role == "butler", User.active.is_(True),
                                           User.community_id == notice.community_id)
    return sorted(set(session.scalars(residents)) | set(session.scalars(butlers)))


def notice_written(session: Session, user: User, notice: Notice, previous: dict, created: bool) -> None:
    """Rules.after_write of notices: tell its audience when this write published it; evict it from
    the phones of residents who may no longer read it."""
    if not created and "building" in previous and previous["building"] != notice.building:
        lost = (resident_readers(session, notice.community_id, previous["building"])
                - resident_readers(session, notice.community_id, notice.building))
        evict(session, {(user_id, notice.id) for user_id in lost})
    if notice.notified_at is not None and (created or ("notified_at" in previous and previous["notified_at"] is None)):
        outbox.record_notice(session, notice=notice, recipients=audience(session, notice), exclude=user.id)


def publish_due(session: Session, now: datetime | None = None) -> list[Notice]:
    """Tell the audiences of scheduled notices that have fallen due; returns them. The caller commits."""
    now = now or utcnow()
    due = list(session.scalars(sa.select(Notice).where(
        Notice.deleted.is_(False), Notice.notified_at.is_(None), Notice.published_at <= now)
        .order_by(Notice.published_at, Notice.id).with_for_update()))
    for notice in due:
        notice.notified_at = now
        bookkeeping.changed(session, "notice", notice, now=now)
    session.flush()
    for notice in due:
        outbox.record_notice(session, notice=notice, recipients=audience(session, notice))
    return due


NOTICE_RULES = Rules(prepare_create=_notice_create, prepare_update=_notice_update, after_write=notice_written)


# ---- who reads a notice, when it changes -------------------------------------------------------------

def resident_readers(session: Session, community_id: str, building: str) -> set[str]:
    """The residents who may read a notice of the community for `building` ("" : all of them)."""
    homes = sa.select(Household.id).where(Household.community_id == community_id)
    if building:
        homes = homes.where(Household.building == building)
    return set(session.scalars(sa.select(User.id).where(User.role == "resident", User.household_id.in_(homes))))


def readable(session: Session, resident_ids: list[str]) -> set[tuple[str, str]]:
    """(resident id, notice id) for every live notice each of these residents may read now."""
    if not resident_ids:
        return set()
    return set(session.execute(
        sa.select(User.id, Notice.id).join(Household, Household.id == User.household_id)
        .join(Notice, Notice.community_id == Household.community_id)
        .where(User.id.in_(resident_ids), User.role == "resident", Notice.deleted.is_(False),
               sa.or_(Notice.building == "", Notice.building == Household.building))).tuples())


def readers_changed(session: Session, before: set[tuple[str, str]], after: set[tuple[str, str]]) -> None:
    """Residents' notices before and after a change (`readable`): evict what they lost; what they
    gained gets a new place in the change order, so that their next pull sends it."""
    evict(session, before - after)
    touch(session, Notice, sorted({notice_id for _, notice_id in after - before}))


def household_building_changed(session: Session, household: Household, old_building: str) -> None:
    """A household now stands in another building: its residents lose the old building's notices
    and gain the new one's."""
    residents = list(session.scalars(sa.select(User.id).where(User.role == "resident",
                                                              User.household_id == household.id)))
    if not residents:
        return

    def of(building: str) -> set[tuple[str, str]]:
        if not building:
            return set()
        notices = session.scalars(sa.select(Notice.id).where(
            Notice.community_id == household.community_id, Notice.building == building, Notice.deleted.is_(False)))
        return {(resident, notice_id) for notice_id in notices for resident in residents}

    readers_changed(session, of(old_building), of(household.building))


def evict(session: Session, pairs: set[tuple[str, str]]) -> None:
    """Tell these (user id, notice id) phones to drop the notice at their next pull."""
    if not pairs:
        return
    ordered = sorted(pairs)
    seqs = iter(next_seqs(session, len(ordered)))
    session.add_all([SyncEviction(seq=next(seqs), user_id=user_id, record_type="notice", record_id=notice_id)
                     for user_id, notice_id in ordered])
