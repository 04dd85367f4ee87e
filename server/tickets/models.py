"""Residents' requests (报事报修)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import JSONType, KeepsWire, Synced, Tracked, UTCDateTime, enum, index_change_order, index_household_changes, new_id, utcnow
from server.tickets import categories

CATEGORIES = categories.CODES  # defined, with their names, in server/tickets/categories.py
STATUSES = ("new", "dispatched", "accepted", "in_progress", "resolved", "closed", "cancelled")
# 紧急: a leak into the flat below, someone trapped in a lift: accepted and resolved on shorter clocks
# (server/tickets/sla.py), and the supervisors are told at once.
PRIORITIES = ("normal", "urgent")


class Ticket(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "ticket"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    raised_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    category: Mapped[str] = mapped_column(enum(*CATEGORIES, name="ticket_category"), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    priority: Mapped[str] = mapped_column(enum(*PRIORITIES, name="ticket_priority"), nullable=False,
                                          default="normal")
    status: Mapped[str] = mapped_column(enum(*STATUSES, name="ticket_status"), nullable=False,
                                        default="new", index=True)
    assignee_id: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    # The back-office team it is handed to (server/teams): its members see it; with no assignee it
    # waits in the team's pool (抢单). Hand-offs are server/tickets/handoff.py's.
    team_id: Mapped[str | None] = mapped_column(sa.ForeignKey("team.id"), index=True)
    # When the current holder got it (the accept clock restarts there, server/tickets/sla.py).
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The note of the latest hand-off (why it was passed on or given back), as its writer typed it.
    handoff_note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # The phone's copy of the hand-off steps of its timeline, oldest first (the latest 50):
    # [{"kind", "at", "by", "team_id", "assignee_id", "note"}]. The timeline itself is TicketEvent,
    # written from the same entry in the same write (server/tickets/events.py); the server reads that.
    handoffs: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    # The household's address as the back office needs it (building-unit-room): a technician never
    # reads the household file, only where to go.
    address: Mapped[str] = mapped_column(sa.String(80), nullable=False, default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    rating: Mapped[int | None] = mapped_column(sa.Integer)
    rating_comment: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # The butler's 1–5 rating of the back-office team that did the work (后台能力评价).
    backoffice_rating: Mapped[int | None] = mapped_column(sa.Integer)
    # Past its service level (server/tickets/sla.py): "accept" or "resolve", and since when.
    escalated: Mapped[str | None] = mapped_column(sa.String(10))  # written by the server only
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The resident's 1–2★ rating said "not fixed" (还没修好): the ticket went back to its assignee and
    # its service-level clock runs from here (server/tickets/sla.py).
    not_fixed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # written by the server only


index_change_order(Ticket)
index_household_changes(Ticket)


FOLLOW_UP_STATES = ("open", "done")


class FollowUp(db.Model):
    """回访: a resident rated a ticket 1–2; a supervisor calls back. One per ticket, reopened by a
    later low rating."""

    __tablename__ = "ticket_follow_up"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(sa.ForeignKey("ticket.id"), nullable=False, unique=True)
    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    rating: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[str] = mapped_column(enum(*FOLLOW_UP_STATES, name="follow_up_status"), nullable=False,
                                        default="open", index=True)
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the supervisor reached the resident


# The steps of a ticket's timeline: its creation, each status change, a change of hands between staff
# ("assignee"), each hand-off to or within the back office (server/tickets/handoff.py: 指派 assigned,
# 抢单 grabbed, 转派 transferred, 退回 returned), each rating, a reopening, an escalation (server/tickets/sla.py).
HANDOFF_KINDS = ("assigned", "grabbed", "transferred", "returned")
TICKET_EVENT_KINDS = ("created", "status", "assignee", "rated", "reopened", *HANDOFF_KINDS, "escalated")


class TicketEvent(db.Model):
    """One step of a ticket's timeline, the one list every reader of the timeline reads (the
    console's ticket page, GET /api/v1/tickets/<id>/timeline). Written by server/tickets/events.py in
    the transaction of the change; only ever added. Listed in order of `at`, then `id`.

    - created, status, reopened: `from_value`/`to_value` are status codes;
    - assignee (a change of hands between staff): the person before and after;
    - a hand-off (HANDOFF_KINDS): the person before and after, `team_id` the team it went to (none:
      given back to the butler) and `note` the reason its writer typed (required to give it back);
    - rated: the rating before and after;
    - escalated: `to_value` the stage ("accept" or "resolve"), `from_value` and `team_id` who held it
      then (its supervisors and they were told); `actor_id` the supervisor who escalated it by hand,
      none when its deadline passed.
    """

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(sa.ForeignKey("ticket.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(enum(*TICKET_EVENT_KINDS, name="ticket_event_kind"), nullable=False)
    from_value: Mapped[str | None] = mapped_column(sa.String(36))  # a status code, an assignee id, a rating
    to_value: Mapped[str | None] = mapped_column(sa.String(36))
    team_id: Mapped[str | None] = mapped_column(sa.ForeignKey("team.id"))  # a hand-off's team, an escalation's
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")  # a hand-off's reason

    __table_args__ = (sa.Index("ix_ticket_event_ticket_id", "ticket_id", "id"),)
