"""A community's tickets as the back office reads them: filtered, sorted and a page at a time.

A page is found by keyset (server/keyset.py: the last row's sort key, carried in an opaque `after`
token), never by an offset: the first page of a community of 10,000 tickets costs what the tenth does,
and a ticket written while a supervisor pages is neither skipped nor shown twice.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
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
    before: str | None = None  # the token of the first row of the page after
    limit: int = PAGE


BadPageToken = keyset.BadPageToken  # a page token it did not write (edited, or from another sort)


def _orders() -> dict[str, keyset.Order]:
    """Each sort's key (the last is the id: a total order) and which way it runs."""
    rank = keyset.Key(sa.case((Ticket.priority == "urgent", 0), else_=1), int)  # urgent first
    created, updated = keyset.Key(Ticket.created_at, datetime), keyset.Key(Ticket.updated_at, datetime)
    ident = keyset.Key(Ticket.id, str)

    def rank_of(ticket: Ticket) -> int:
        return 0 if ticket.priority == "urgent" else 1

    return {
        "priority": keyset.Order("priority", (rank, created, ident), False,
                                 lambda row: (rank_of(row[0]), row[0].created_at, row[0].id)),
        "oldest": keyset.Order("oldest", (created, ident), False, lambda row: (row[0].created_at, row[0].id)),
        "newest": keyset.Order("newest", (created, ident), True, lambda row: (row[0].created_at, row[0].id)),
        "updated": keyset.Order("updated", (updated, ident), True, lambda row: (row[0].updated_at, row[0].id)),
    }


_ORDERS = _orders()


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
                sla: service_levels.Sla, now: datetime) -> keyset.Page:
    """One page of the community's tickets that match `query` ((Ticket, Household) rows), in its order,
    with the filtered total.

    Raises BadPageToken for an `after` token it did not write."""
    conditions = _filtered(community_id, query, sla, now)
    total = session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                           .join(Household, Household.id == Ticket.household_id).where(*conditions))
    found = keyset.page(session, sa.select(Ticket, Household).join(Household, Household.id == Ticket.household_id)
                        .where(*conditions), _ORDERS[query.sort], limit=query.limit, after=query.after,
                        before=query.before)
    return replace(found, total=total)
