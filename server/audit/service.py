"""Recording and listing the audit trail (docs/audit.md).

Changes are recorded by server/resources/service.py, in the transaction of the write; reads of the
household file (households and the people in them) and of tickets where records leave the server:
the REST reads (server/resources/api.py) and the sync pull (server/syncing/store.py, one statement
per page). The caller commits.
Events name fields, never values.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import datetime
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import bulk
from server.audit.models import AuditEvent
from server.auth.models import User
from server.records import among, dialect_name, loaded, utcnow
from server.resources.registry import registry

# The household file: the record types whose fields are a household's personal data (each type
# declares them: `personal_fields` in server/<area>/resources.py). Reads of these are recorded, and
# of the types that declare `read_fields` (tickets: the console's ticket page lists who read one).
# (Visits, touchpoints and orders are the work done for a household; their changes are recorded,
# their reads are not: see docs/audit.md.)
PAGE = 50
PENDING = "audit.pending"  # session.info key: events of a sync batch's fast writes, inserted with the batch
_EMPTY = (None, "", [])


@dataclass(frozen=True)
class Via:
    """How an action reached the server: the channel, the device, and who acted when that is not the
    user whose rights made the write (a supervisor settling a conflict writes as the butler who typed
    the value kept)."""

    channel: str
    device_id: str | None = None
    actor_id: str | None = None


CONSOLE = Via("console")


@cache
def personal_fields() -> dict[str, frozenset[str]]:
    """The household file's types, with their personal fields."""
    return {rtype: res.personal_fields for rtype, res in registry().items() if res.personal_fields}


@cache
def read_audited() -> dict[str, frozenset[str]]:
    """The types whose reads are recorded, with the fields an event may name: the household file's,
    and those that declare `read_fields` (a ticket)."""
    return {rtype: res.personal_fields | res.read_fields for rtype, res in registry().items()
            if res.personal_fields or res.read_fields}


# ---- recording ------------------------------------------------------------------------------------

def change_event(session: Session, *, user: User, action: str, rtype: str, record: Any,
                 fields: Iterable[str], via: Via | None, at: datetime | None = None) -> dict:
    """The event of one write as a row to insert. `record` is the model object or, for a row not yet
    inserted (a sync batch's new records), its column values."""
    via = via or CONSOLE
    household_id, community_id = _placement(session, user, rtype, record)
    return {"at": at or utcnow(), "user_id": via.actor_id or user.id, "device_id": via.device_id,
            "community_id": community_id, "household_id": household_id, "action": action,
            "record_type": rtype, "record_id": _value(record, "id"), "fields": sorted(fields),
            "channel": via.channel}


def insert(session: Session, events: list[dict]) -> None:
    """Append events: one statement however many (an executemany)."""
    bulk.insert_rows(session, AuditEvent.__table__, events)


def defer(session: Session, event: dict) -> None:
    """Keep an event of a sync batch's fast write, to be inserted with the batch (flush_deferred)."""
    session.info.setdefault(PENDING, []).append(event)


def flush_deferred(session: Session) -> None:
    insert(session, session.info.pop(PENDING, []))


def drop_deferred(session: Session) -> None:
    """The batch was rolled back: so are its events."""
    session.info.pop(PENDING, None)


def read_events(session: Session, *, user: User, via: Via, reads: Iterable[tuple[str, Mapping]],
                at: datetime | None = None) -> list[dict]:
    """The events of records sent to `user`: (type, data as sent) pairs; only the household file and
    the types that declare `read_fields` (tickets) count.

    Each event names the fields of note that were sent with a value (a resident's copy has no notes;
    a person without consent, no phone number)."""
    at = at or utcnow()
    personal = read_audited()
    sent = [(rtype, data) for rtype, data in reads if rtype in personal]
    communities = household_communities(session, {data["household_id"] for rtype, data in sent
                                                  if rtype != "household" and data.get("household_id")})
    events = []
    for rtype, data in sent:
        if rtype == "household":
            household_id, community_id = data["id"], data.get("community_id")
        else:
            household_id = data.get("household_id")
            community_id = communities.get(household_id)
        fields = [name for name in personal[rtype] if name in data and data[name] not in _EMPTY]
        events.append({"at": at, "user_id": user.id, "device_id": via.device_id, "community_id": community_id,
                       "household_id": household_id, "action": "read", "record_type": rtype,
                       "record_id": data["id"], "fields": sorted(fields), "channel": via.channel})
    return events


def record_reads(session: Session, *, user: User, via: Via, reads: Iterable[tuple[str, Mapping]]) -> int:
    """Record the household-file records among those sent to `user`; returns how many."""
    events = read_events(session, user=user, via=via, reads=reads)
    insert(session, events)
    return len(events)


def record_account_action(session: Session, *, actor: User, action: str, record_type: str, record_id: str,
                          community_id: str | None, fields: Iterable[str] = (), via: Via = CONSOLE) -> None:
    """A supervisor's action on an account (a new butler, a password reset, a revoked device)."""
    insert(session, [{"at": utcnow(), "user_id": via.actor_id or actor.id, "device_id": via.device_id,
                      "community_id": community_id, "household_id": None, "action": action,
                      "record_type": record_type, "record_id": record_id, "fields": sorted(fields),
                      "channel": via.channel}])


def household_communities(session: Session, household_ids: set[str]) -> dict[str, str]:
    """household id -> community id, in one query per 500."""
    ids, found = sorted(household_ids), {}
    statement = _communities_of(dialect_name(session))
    for start in range(0, len(ids), 500):
        found.update(session.execute(statement, {"ids": ids[start:start + 500]}).all())
    return found


@cache
def _communities_of(dialect: str) -> sa.Select:
    from server.community.models import Household

    return sa.select(Household.id, Household.community_id).where(among(Household.id, "ids", dialect))


def _value(record: Any, name: str) -> Any:
    # (a dict itself: an isinstance of typing's Mapping is an abstract-class check, paid per event)
    return record.get(name) if type(record) is dict else getattr(record, name, None)


def _placement(session: Session, user: User, rtype: str, record: Any) -> tuple[str | None, str | None]:
    """(household id, community id) of a record: what the trail is listed by."""
    from server.community.models import Household

    if rtype == "household":
        return _value(record, "id"), _value(record, "community_id")
    resource = registry().get(rtype)
    if resource is not None and resource.on_household:
        household_id = _value(record, "household_id")
        household = loaded(session, Household, household_id) if household_id else None  # loaded already, mostly
        return household_id, household.community_id if household is not None else None
    if rtype == "community":
        return None, _value(record, "id")
    community_id = _value(record, "community_id")  # grids, notices
    return None, community_id if community_id is not None else user.community_id  # the catalogue: the actor's


# ---- listing --------------------------------------------------------------------------------------

def list_events(session: Session, *, community_id: str, household_id: str | None = None,
                user_id: str | None = None, before: int | None = None,
                limit: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """A community's events, newest first, optionally of one household or one user; keyset pages by id.

    Returns the page and the id to ask for the next (older) page `before`, or None on the last page.
    """
    query = sa.select(AuditEvent).where(AuditEvent.community_id == community_id)
    if household_id is not None:
        query = query.where(AuditEvent.household_id == household_id)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    limit = max(1, min(limit or PAGE, 500))
    events = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    if len(events) > limit:
        return events[:limit], events[limit - 1].id
    return events, None


def list_for_household(session: Session, *, community_id: str, household_id: str, before: int | None = None,
                       limit: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """Who read or changed one household's file and what hangs on it, newest first."""
    return list_events(session, community_id=community_id, household_id=household_id, before=before, limit=limit)


def list_for_user(session: Session, *, community_id: str, user_id: str, before: int | None = None,
                  limit: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """What one user read and changed in a community, newest first."""
    return list_events(session, community_id=community_id, user_id=user_id, before=before, limit=limit)
