"""A community's tickets as the back office reads them: filtered, sorted and a page at a time.

A page is found by keyset (the last row's sort key, carried in an opaque `after` token), never by an
offset: the first page of a community of 10,000 tickets costs what the tenth does, and a ticket
written while a supervisor pages is neither skipped nor shown twice.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.community.models import Household
from server.tickets import sla as service_levels
from server.tickets.models import Ticket

OPEN = ("new", "dispatched", "accepted", "in_progress")
PAGE = 50
SORTS = ("priority", "oldest", "newest", "updated")  # priority: urgent first, then oldest first
NOBODY = "none"  # the assignee filter's value for tickets no one holds


@dataclass(frozen=True)
class TicketQuery:
    status: str = "open"  # "open" (the four open states), "all", or one state
    category: str | None = None
    grid_id: str | None = None
    assignee: str | None = None  # a user id, or NOBODY
    priority: str | None = None
    overdue: bool = False
    sort: str = "priority"
    after: str | None = None  # the token of the last row of the page before
    limit: int = PAGE


@dataclass(frozen=True)
class TicketPage:
    rows: list  # (Ticket, Household)
    total: int  # every ticket the filters match
    next_after: str | None  # the token of the page after this one, None on the last


class BadPageToken(ValueError):
    """The `after` token is not one this module wrote (edited, or from another sort)."""


# Each sort's key, by name (the last is the id: a total order), and the sorts that run newest first.
_KEYS = {"priority": ("rank", "created_at", "id"), "oldest": ("created_at", "id"),
         "newest": ("created_at", "id"), "updated": ("updated_at", "id")}
_DESCENDING = frozenset({"newest", "updated"})
_COLUMNS = {"rank": sa.case((Ticket.priority == "urgent", 0), else_=1),  # urgent first
            "created_at": Ticket.created_at, "updated_at": Ticket.updated_at, "id": Ticket.id}


def _token(sort: str, ticket: Ticket) -> str:
    def value(name: str):
        if name == "rank":
            return 0 if ticket.priority == "urgent" else 1
        found = getattr(ticket, name)
        return found.isoformat() if isinstance(found, datetime) else found

    return base64.urlsafe_b64encode(json.dumps([sort, *map(value, _KEYS[sort])]).encode()).decode().rstrip("=")


def _read_token(sort: str, token: str) -> list:
    def value(name: str, raw):
        if name == "rank":
            if raw not in (0, 1):
                raise ValueError(raw)
            return raw
        return datetime.fromisoformat(raw) if name.endswith("_at") else str(raw)

    try:
        found = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(found, list) or found[0] != sort or len(found) != len(_KEYS[sort]) + 1:
            raise BadPageToken(token)
        return [value(name, raw) for name, raw in zip(_KEYS[sort], found[1:])]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, IndexError) as exc:
        raise BadPageToken(token) from exc


def _filtered(community_id: str | None, query: TicketQuery, sla: service_levels.Sla, now: datetime):
    conditions = [Household.community_id == community_id, Ticket.deleted.is_(False)]
    if query.status == "open":
        conditions.append(Ticket.status.in_(OPEN))
    elif query.status != "all":
        conditions.append(Ticket.status == query.status)
    if query.category:
        conditions.append(Ticket.category == query.category)
    if query.priority:
        conditions.append(Ticket.priority == query.priority)
    if query.grid_id:
        conditions.append(Household.grid_id == query.grid_id)
    if query.assignee == NOBODY:
        conditions.append(Ticket.assignee_id.is_(None))
    elif query.assignee:
        conditions.append(Ticket.assignee_id == query.assignee)
    if query.overdue:
        conditions.append(service_levels.overdue(sla, now))
    return conditions


def ticket_page(session: Session, community_id: str | None, query: TicketQuery, *,
                sla: service_levels.Sla, now: datetime) -> TicketPage:
    """One page of the community's tickets that match `query`, in its order, with the filtered total.

    Raises BadPageToken for an `after` token it did not write."""
    conditions = _filtered(community_id, query, sla, now)
    columns, descending = [_COLUMNS[name] for name in _KEYS[query.sort]], query.sort in _DESCENDING
    total = session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                           .join(Household, Household.id == Ticket.household_id).where(*conditions))
    if query.after:
        after = _read_token(query.sort, query.after)
        row = sa.tuple_(*columns)
        bound = sa.tuple_(*(sa.literal(value, type_=column.type) for column, value in zip(columns, after)))
        conditions.append(row < bound if descending else row > bound)
    order = [column.desc() for column in columns] if descending else list(columns)
    rows = session.execute(sa.select(Ticket, Household).join(Household, Household.id == Ticket.household_id)
                           .where(*conditions).order_by(*order).limit(query.limit + 1)).all()
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return TicketPage(rows=rows, total=total, next_after=_token(query.sort, rows[-1][0]) if more and rows else None)
