"""What a ticket's changes set off, in the same transaction: who is notified, and 回访 tasks.

- A new ticket: its assignee (the grid's butler, see service.dispatch), or with nobody assigned
  the community's supervisors. Urgent: someone must take it within minutes.
- Handed to someone else: the new assignee, urgently.
- A new status: the household's residents and the assignee (they follow it).
- A rating of 1–2: a 回访 (follow-up) task for the supervisors, who are told.
- Handed to a team with nobody named (server/tickets/handoff.py): the team's members, urgently.
- Escalated (server/tickets/sla.py): the supervisors of its community and whoever holds it (the
  assignee, or the members of the team whose pool it waits in), urgently.
- Reopened ("not fixed" with a rating of 1–2, server/tickets/service.py): the assignee, urgently.
Whoever made the change is never notified of it.

Every change also leaves a step on the ticket's timeline (TicketEvent): created, each status change,
each change of hands (a hand-off with its team and reason), each rating, a reopening, each escalation.
It is the one ordered list the console's ticket page and GET /api/v1/tickets/<id>/timeline read.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Household
from server.notify import outbox
from server.records import utcnow
from server.syncing.changes import team_members
from server.tickets.models import HANDOFF_KINDS, FollowUp, Ticket, TicketEvent

LOW_RATING = 2  # a rating at or below this opens a 回访 task


def ticket_written(session: Session, user: User, ticket: Ticket, previous: dict, created: bool) -> None:
    """Rules.after_write of tickets (server/resources/registry.py)."""
    timeline(session, user, ticket, previous, created)
    if created:
        recipients = [ticket.assignee_id] if ticket.assignee_id else outbox.supervisors(
            session, _community_id(session, ticket))
        if ticket.priority == "urgent" and ticket.assignee_id:  # the supervisors hear of an urgent one at once
            recipients = [*recipients, *outbox.supervisors(session, _community_id(session, ticket))]
        outbox.record(session, event="ticket.created", ticket=ticket, recipients=recipients, urgent=True,
                      exclude=user.id)
        return
    if "priority" in previous and previous["priority"] != ticket.priority == "urgent":
        outbox.record(session, event="ticket.updated", ticket=ticket, recipients=[
            ticket.assignee_id, *outbox.supervisors(session, _community_id(session, ticket))], urgent=True,
            exclude=user.id)
    if "assignee_id" in previous and ticket.assignee_id not in (None, previous["assignee_id"]):
        outbox.record(session, event="ticket.updated", ticket=ticket, recipients=[ticket.assignee_id],
                      urgent=True, exclude=user.id)
    if "reopened_at" in previous and ticket.reopened_at is not None and previous["reopened_at"] != ticket.reopened_at:
        outbox.record(session, event="ticket.updated", ticket=ticket, recipients=[ticket.assignee_id], urgent=True,
                      exclude=user.id)
    if ("team_id" in previous and ticket.team_id not in (None, previous["team_id"])
            and ticket.assignee_id is None):
        outbox.record(session, event="ticket.updated", ticket=ticket,
                      recipients=sorted(team_members(session, ticket.team_id)), urgent=True, exclude=user.id)
    if "status" in previous and previous["status"] != ticket.status:
        outbox.record(session, event="ticket.updated", ticket=ticket,
                      recipients=[*outbox.residents(session, ticket.household_id), ticket.assignee_id],
                      exclude=user.id)
    if ("rating" in previous and ticket.rating is not None and ticket.rating <= LOW_RATING
            and previous["rating"] != ticket.rating):
        open_follow_up(session, ticket)
        outbox.record(session, event="ticket.updated", ticket=ticket,
                      recipients=outbox.supervisors(session, _community_id(session, ticket)), exclude=user.id)


def timeline(session: Session, user: User | None, ticket: Ticket, previous: dict, created: bool) -> None:
    """Write the steps this write adds to the ticket's timeline (one statement)."""
    now, actor = utcnow(), user.id if user is not None else None
    steps = steps_of(ticket, previous, created)
    if steps:
        session.execute(sa.insert(TicketEvent), [
            {"ticket_id": ticket.id, "at": now, "actor_id": actor, **step} for step in steps])


def steps_of(ticket: Ticket, previous: dict, created: bool) -> list[dict]:
    """The steps a write adds (pure: the ticket after the write and its changed fields' old values).
    A change of hands is one step: the hand-off, with its team and reason, when it was one
    (server/tickets/handoff.py); else a plain "assignee" step."""
    handed = _hand_off(ticket, previous, created)
    steps = []
    if created:
        steps.append(_step("created", None, ticket.status))
        if handed is not None:
            steps.append(handed)
        elif ticket.assignee_id:
            steps.append(_step("assignee", None, ticket.assignee_id))
        return steps
    if "reopened_at" in previous and ticket.reopened_at is not None and previous["reopened_at"] != ticket.reopened_at:
        steps.append(_step("reopened", previous.get("status"), ticket.status))
    elif "status" in previous and previous["status"] != ticket.status:
        steps.append(_step("status", previous["status"], ticket.status))
    if handed is not None:
        steps.append(handed)
    elif "assignee_id" in previous and previous["assignee_id"] != ticket.assignee_id:
        steps.append(_step("assignee", previous["assignee_id"], ticket.assignee_id))
    if "rating" in previous and previous["rating"] != ticket.rating and ticket.rating is not None:
        steps.append(_step("rated", None if previous["rating"] is None else str(previous["rating"]),
                           str(ticket.rating)))
    return steps


def _step(kind: str, frm: str | None, to: str | None, team_id: str | None = None, note: str = "") -> dict:
    return {"kind": kind, "from_value": frm, "to_value": to, "team_id": team_id, "note": note}


def _hand_off(ticket: Ticket, previous: dict, created: bool) -> dict | None:
    """The step of the hand-off this write made, if it made one: server/tickets/handoff.py adds its
    entry to the ticket's `handoffs` (the phone's copy), and the step is made from that same entry."""
    if not (created or "handoffs" in previous) or not ticket.handoffs:
        return None
    if not created and (previous["handoffs"] or []) == ticket.handoffs:
        return None
    item = ticket.handoffs[-1]
    if item.get("kind") not in HANDOFF_KINDS:
        return None
    before = None if created else previous.get("assignee_id", ticket.assignee_id)
    return _step(item["kind"], before, item.get("assignee_id"), item.get("team_id"), item.get("note") or "")


def history_of(ticket: Ticket) -> list[dict]:
    """A ticket's timeline as its columns tell it, for a ticket written without its steps (the demo
    data): created, each hand-off of its log, and a status step at each of accepted_at,
    resolved_at and closed_at; as rows of TicketEvent, oldest first."""
    rows = [{"at": ticket.created_at, "actor_id": ticket.raised_by, **_step("created", None, "new")}]
    before = None
    for item in ticket.handoffs or []:
        rows.append({"at": datetime.fromisoformat(item["at"]), "actor_id": item.get("by"),
                     **_step(item["kind"], before, item.get("assignee_id"), item.get("team_id"),
                             item.get("note") or "")})
        before = item.get("assignee_id")
    for status, at in (("accepted", ticket.accepted_at), ("resolved", ticket.resolved_at),
                       ("closed", ticket.closed_at)):
        if at is not None:
            rows.append({"at": at, "actor_id": ticket.assignee_id if status != "closed" else None,
                         **_step("status", None, status)})
    rows.sort(key=lambda row: row["at"])
    return [{"ticket_id": ticket.id, **row} for row in rows]


def ticket_escalated(session: Session, ticket: Ticket) -> None:
    """Tell the supervisors (and whoever holds it) that a ticket is past its service level."""
    holders = [ticket.assignee_id] if ticket.assignee_id else sorted(team_members(session, ticket.team_id))
    outbox.record(session, event="ticket.escalated", ticket=ticket, urgent=True,
                  recipients=[*outbox.supervisors(session, _community_id(session, ticket)), *holders])


def escalation_steps(session: Session, tickets: list[Ticket], *, at, actor_id: str | None = None) -> None:
    """The timeline steps of escalations, one statement for them all: the stage each ticket was
    escalated for, and who held it then (the person, the team); `actor_id` a supervisor who
    escalated by hand, none when the deadline passed."""
    if tickets:
        session.execute(sa.insert(TicketEvent), [
            {"ticket_id": t.id, "at": at, "actor_id": actor_id, **escalation_step(t)} for t in tickets])


def escalation_step(ticket: Ticket) -> dict:
    """The step of a ticket just escalated (pure): its stage, and the person and team holding it."""
    return _step("escalated", ticket.assignee_id, ticket.escalated, ticket.team_id)


def open_follow_up(session: Session, ticket: Ticket) -> FollowUp:
    """A 回访 task for the ticket, opened again if one was already done."""
    follow_up = session.scalar(sa.select(FollowUp).where(FollowUp.ticket_id == ticket.id).with_for_update())
    if follow_up is None:
        follow_up = FollowUp(ticket_id=ticket.id, community_id=_community_id(session, ticket),
                             rating=ticket.rating, status="open", created_at=utcnow())
        session.add(follow_up)
    else:
        follow_up.rating, follow_up.status, follow_up.done_at, follow_up.done_by = ticket.rating, "open", None, None
    session.flush()
    return follow_up


def _community_id(session: Session, ticket: Ticket) -> str | None:
    household = session.get(Household, ticket.household_id)
    return household.community_id if household is not None else None
