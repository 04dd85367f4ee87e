"""Service levels of tickets: how soon one must be accepted and resolved, and escalation past that.

Times run from the ticket's creation, or from its reopening when the resident said it was not
fixed; the time to accept runs from its last hand-off or reopening instead (`handed_at`,
server/tickets/handoff.py): a ticket passed to another team or person waits for that holder's
acceptance, on a clock of its own. A ticket not accepted in time is escalated for acceptance;
one accepted but not resolved in time, for resolution (a ticket can be escalated for both, in that
order). Escalating flags the ticket (escalated, escalated_at), which every phone that holds it
pulls, leaves an "escalated" step on its timeline (the stage, who held it), and tells the supervisors through the notification outbox (server/tickets/events.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import FieldError, ValidationFailed
from server.records import utcnow
from server.syncing import bookkeeping
from server.syncing import changes as change_order
from server.tickets.events import escalation_steps, ticket_escalated
from server.tickets.models import CATEGORIES, Ticket

WAITING = ("new", "dispatched")  # not yet accepted
IN_HAND = ("accepted", "in_progress")  # accepted, not yet resolved
# Hours to resolve by category: a repair within a day, a complaint within three; the rest as repairs.
DEFAULT_RESOLVE_HOURS = {category: 72 if category == "complaint" else 24 for category in CATEGORIES}


@dataclass(frozen=True)
class Sla:
    accept: timedelta = timedelta(minutes=15)
    resolve: dict[str, timedelta] = field(default_factory=lambda: {
        category: timedelta(hours=hours) for category, hours in DEFAULT_RESOLVE_HOURS.items()})
    # An urgent ticket (紧急), whatever its category: accepted within minutes, resolved within hours.
    urgent_accept: timedelta = timedelta(minutes=5)
    urgent_resolve: timedelta = timedelta(hours=4)

    @classmethod
    def from_config(cls, config) -> "Sla":
        """SLA_ACCEPT_MINUTES (int) and SLA_RESOLVE_HOURS ("repair=24,complaint=72": those named
        change); for urgent tickets SLA_URGENT_ACCEPT_MINUTES and SLA_URGENT_RESOLVE_HOURS."""
        resolve = dict(DEFAULT_RESOLVE_HOURS)
        for part in filter(None, (config.get("SLA_RESOLVE_HOURS") or "").split(",")):
            category, _, hours = part.partition("=")
            if category.strip() not in CATEGORIES or not hours.strip().isdigit() or int(hours) <= 0:
                raise ValueError(f"GUANJIA_SLA_RESOLVE_HOURS: {part!r} is not <category>=<hours>")
            resolve[category.strip()] = int(hours)
        minutes, urgent_minutes, urgent_hours = (
            _positive(config, "SLA_ACCEPT_MINUTES", 15), _positive(config, "SLA_URGENT_ACCEPT_MINUTES", 5),
            _positive(config, "SLA_URGENT_RESOLVE_HOURS", 4))
        return cls(accept=timedelta(minutes=minutes),
                   resolve={category: timedelta(hours=hours) for category, hours in resolve.items()},
                   urgent_accept=timedelta(minutes=urgent_minutes), urgent_resolve=timedelta(hours=urgent_hours))

    def to_accept(self, ticket: Ticket) -> timedelta:
        return self.urgent_accept if ticket.priority == "urgent" else self.accept

    def to_resolve(self, ticket: Ticket) -> timedelta:
        return self.urgent_resolve if ticket.priority == "urgent" else self.resolve[ticket.category]

    def deadline(self, ticket: Ticket) -> tuple[str, datetime] | None:
        """The stage the ticket is in ("accept" or "resolve") and when it is due; None when neither."""
        start = ticket.reopened_at or ticket.created_at  # a reopened ticket's clock starts again
        if ticket.status in WAITING:
            return "accept", max((at for at in (ticket.handed_at, ticket.reopened_at) if at is not None),
                                 default=ticket.created_at) + self.to_accept(ticket)
        if ticket.status in IN_HAND:
            return "resolve", start + self.to_resolve(ticket)
        return None


def late_to_accept(sla: Sla, now: datetime):
    """SQL: the ticket waits for acceptance past its time (`Sla.deadline`'s "accept" stage)."""
    def waiting_since_before(cutoff: datetime):  # the latest of creation, hand-off and reopening
        return sa.and_(Ticket.created_at < cutoff, sa.or_(Ticket.handed_at.is_(None), Ticket.handed_at < cutoff),
                       sa.or_(Ticket.reopened_at.is_(None), Ticket.reopened_at < cutoff))

    return sa.and_(Ticket.status.in_(WAITING), sa.or_(
        sa.and_(Ticket.priority == "normal", waiting_since_before(now - sla.accept)),
        sa.and_(Ticket.priority == "urgent", waiting_since_before(now - sla.urgent_accept))))


def late_to_resolve(sla: Sla, now: datetime):
    """SQL: the ticket is in hand past its time to resolve (one term per category: no date arithmetic
    in SQL, so SQLite and PostgreSQL read it alike)."""
    since = sa.func.coalesce(Ticket.reopened_at, Ticket.created_at)
    normal = Ticket.priority == "normal"
    return sa.and_(Ticket.status.in_(IN_HAND), sa.or_(
        sa.and_(Ticket.priority == "urgent", since < now - sla.urgent_resolve),
        *(sa.and_(normal, Ticket.category == category, since < now - allowed)
          for category, allowed in sla.resolve.items())))


def overdue(sla: Sla, now: datetime):
    """SQL: the ticket is past the time of the stage it is in."""
    return sa.or_(late_to_accept(sla, now), late_to_resolve(sla, now))


def escalate_overdue(session: Session, *, sla: Sla, now: datetime | None = None) -> list[Ticket]:
    """Flag every ticket past its time that is not yet escalated for its stage; returns them.

    Selected in the database (one query per category), so a community of thousands of tickets costs
    a few indexed queries; calling it again escalates nothing twice.
    """
    now = now or utcnow()
    not_yet_for_resolve = sa.or_(Ticket.escalated.is_(None), Ticket.escalated == "accept")
    late = [sa.and_(late_to_accept(sla, now), Ticket.escalated.is_(None)),
            sa.and_(late_to_resolve(sla, now), not_yet_for_resolve)]
    tickets = list(session.scalars(sa.select(Ticket).where(Ticket.deleted.is_(False), sa.or_(*late))
                                   .order_by(Ticket.created_at, Ticket.id).with_for_update()))
    if not tickets:
        return tickets
    change_order.reserve_block(session, len(tickets))  # SQLite: their numbers in one counter update
    try:
        for ticket in tickets:
            ticket.escalated = "accept" if ticket.status in WAITING else "resolve"
            ticket.escalated_at = now
            bookkeeping.changed(session, "ticket", ticket, now=now)  # phones holding the ticket pull the flag
    finally:
        change_order.drop_block(session)
    session.flush()
    escalation_steps(session, tickets, at=now)  # on each one's timeline, in one statement
    for ticket in tickets:
        ticket_escalated(session, ticket)
    return tickets


def _positive(config, name: str, default: int) -> int:
    given = config.get(name)
    value = default if given in (None, "") else int(given)
    if value <= 0:
        raise ValueError(f"GUANJIA_{name} must be positive")
    return value


ESCALATION_STAGES = ("accept", "resolve")
OPEN = WAITING + IN_HAND


def escalate_now(session: Session, ticket: Ticket, stage: str, now: datetime | None = None, *,
                 actor_id: str | None = None) -> Ticket:
    """Escalate one open ticket by hand (a supervisor in the console), as escalate_overdue would.

    The caller checks that the ticket is in the supervisor's scope. Refused (422) for a closed
    ticket, an unknown stage, or a stage the ticket is already escalated for (or past: "resolve"
    comes after "accept").
    """
    if stage not in ESCALATION_STAGES:
        raise ValidationFailed([FieldError("escalated", "invalid_choice", choices="accept, resolve")])
    if ticket.deleted or ticket.status not in OPEN:
        raise ValidationFailed([FieldError("escalated", "not_open")])
    if ticket.escalated == stage or (ticket.escalated == "resolve" and stage == "accept"):
        raise ValidationFailed([FieldError("escalated", "already_escalated")])
    now = now or utcnow()
    ticket.escalated = stage
    ticket.escalated_at = now
    bookkeeping.changed(session, "ticket", ticket, now=now)  # phones holding the ticket pull the flag
    session.flush()
    escalation_steps(session, [ticket], at=now, actor_id=actor_id)
    ticket_escalated(session, ticket)
    return ticket
