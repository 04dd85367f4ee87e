"""Reading a ticket's timeline: its steps (TicketEvent, written by server/tickets/events.py) as one
ordered list, for the console's ticket page and GET /api/v1/tickets/<id>/timeline.

Ordered by when each step happened, then by id (the steps of one write, in the order written):
steps moved in from an older record (the hand-off log, a ticket's creation) keep their own time.
A user from whom a ticket's hand-offs are hidden (a resident: who passes it on inside the back
office and why is not theirs) is given its other steps only.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import scopes
from server.auth.models import User
from server.tickets.models import HANDOFF_KINDS, TicketEvent

NAMES_PEOPLE = frozenset({"assignee", *HANDOFF_KINDS, "escalated"})  # from/to values that are people
INTERNAL = frozenset({*HANDOFF_KINDS, "escalated"})  # steps of the back office and the supervisors


def steps(session: Session, ticket_id: str) -> list[TicketEvent]:
    """Every step of a ticket, oldest first."""
    return list(session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.at, TicketEvent.id)))


def steps_for(session: Session, user: User, ticket_id: str) -> list[TicketEvent]:
    """The steps `user` may read (the caller checked that the ticket is in their scope)."""
    found = steps(session, ticket_id)
    if "handoffs" in scopes.hidden_fields(user, "ticket"):
        return [step for step in found if step.kind not in INTERNAL]
    return found
