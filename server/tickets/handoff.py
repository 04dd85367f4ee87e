"""Hand-offs of a ticket to the back office (后台): 指派, 抢单, 转派, 退回.

A ticket is held by a person (`assignee_id`), a team (`team_id`), or both:

- 指派 assign: a butler or a supervisor hands it to a team (it waits in the team's pool) or to a
  person in a team. It goes back to "dispatched": the new holder must accept it.
- 抢单 grab: a technician of that team takes a ticket waiting in its pool by accepting it.
- 转派 transfer: whoever holds it (or a butler, a supervisor) passes it to another team or person;
  it waits for that holder's acceptance again.
- 退回 return: a technician gives it back to the butler of its household's grid, with a reason
  (required): team cleared, "dispatched" to the butler ("new", for the supervisors, with none).

Each one restarts the accept clock (`handed_at`, server/tickets/sla.py), clears an acceptance
escalation (the new holder's clock is a new one) and is a step of the ticket's timeline
(server/tickets/events.py: kind, from/to, team, reason). Its entry is also added to the ticket's
`handoffs`, the phone's copy of those steps (the phones show it offline); the step is made from it. Only open tickets (not yet resolved) are handed on. The rules are
plain functions of the ticket and the change, checked by tests/domain.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.records import utcnow
from server.teams.models import Team

HANDABLE = frozenset({"new", "dispatched", "accepted", "in_progress"})
STAFF = frozenset({"butler", "supervisor", "admin"})
KEEP = 50  # hand-offs kept on a ticket (the latest)


def is_hand_off(ticket, changes: dict) -> bool:
    """Whether a change moves the ticket to another holder (not a claim by accepting)."""
    return (("team_id" in changes and changes["team_id"] != ticket.team_id)
            or ("assignee_id" in changes and changes["assignee_id"] != ticket.assignee_id))


def holds(user: User, ticket) -> bool:
    """A technician holds a ticket handed to them, or waiting in their team's pool."""
    if ticket.assignee_id == user.id:
        return True
    return ticket.assignee_id is None and ticket.team_id is not None and ticket.team_id == user.team_id


def kind_of(user: User, ticket, changes: dict) -> str:
    """What a hand-off is: "returned", "assigned" or "transferred" (the rules of who may, below)."""
    if user.role == "technician":
        if changes.get("team_id", ticket.team_id) is None and changes.get("assignee_id") is None:
            return "returned"
        return "transferred"
    return "transferred" if ticket.team_id is not None else "assigned"


def check(user: User, ticket, changes: dict) -> str:
    """The hand-off's kind, if `user` may make it (pure: no database); raises otherwise."""
    if ticket.status not in HANDABLE:
        raise ValidationFailed([FieldError("team_id", "not_open")])
    if user.role == "technician":
        if not holds(user, ticket):
            raise Forbidden(errors=[FieldError("assignee_id", "not_holder")])
    elif user.role not in STAFF:
        raise Forbidden(errors=[FieldError("team_id", "not_writable")])
    kind = kind_of(user, ticket, changes)
    if kind == "returned" and not str(changes.get("handoff_note") or "").strip():
        raise ValidationFailed([FieldError("handoff_note", "reason_required")])
    return kind


def entry(kind: str, *, by: str, team_id: str | None, assignee_id: str | None, note: str,
          at: datetime) -> dict:
    return {"kind": kind, "at": at.isoformat(), "by": by, "team_id": team_id, "assignee_id": assignee_id,
            "note": note}


def logged(ticket, item: dict) -> list:
    return [*(ticket.handoffs or []), item][-KEEP:]


def address_of(household: Household | None) -> str:
    if household is None:
        return ""
    return "-".join(part for part in (household.building, household.unit, household.room) if part)


def _target(session: Session, household: Household, team_id: str | None, assignee_id: str | None,
            check_staff) -> tuple[str | None, str | None]:
    """The team and person a hand-off goes to, checked: a live team of the household's community;
    a technician of that team (their own team when none is named), or staff as before."""
    team = None
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None or team.deleted or team.community_id != household.community_id:
            raise ValidationFailed([FieldError("team_id", "invalid")])
    if assignee_id is None:
        return team_id, None
    person = session.get(User, assignee_id)
    if person is None:
        raise ValidationFailed([FieldError("assignee_id", "not_found")])
    if person.role == "technician":
        if (not person.active or person.community_id != household.community_id or person.team_id is None
                or (team is not None and person.team_id != team.id)):
            raise ValidationFailed([FieldError("assignee_id", "invalid")])
        return person.team_id, person.id
    if team is not None:  # a butler or supervisor is in no team
        raise ValidationFailed([FieldError("assignee_id", "invalid")])
    check_staff(session, household.id, assignee_id)
    return None, person.id


def apply(session: Session, user: User, ticket, changes: dict, *, grid_butler, check_staff) -> None:
    """Turn a hand-off change into the ticket's new holder, status and log (changes is updated)."""
    kind = check(user, ticket, changes)
    household = session.get(Household, ticket.household_id)
    now = utcnow()
    if kind == "returned":
        butler = grid_butler(session, ticket.household_id)
        team_id, assignee_id = None, butler.id if butler is not None else None
    else:
        wanted_team = changes["team_id"] if "team_id" in changes else (
            None if "assignee_id" in changes else ticket.team_id)
        team_id, assignee_id = _target(session, household, wanted_team, changes.get("assignee_id"), check_staff)
        if team_id is None and assignee_id is None:  # staff taking it off the back office: to the grid's butler
            butler = grid_butler(session, ticket.household_id)
            assignee_id = butler.id if butler is not None else None
    note = str(changes.get("handoff_note") or "").strip()
    changes.update(team_id=team_id, assignee_id=assignee_id, handoff_note=note,
                   status="dispatched" if assignee_id or team_id else "new",
                   accepted_at=None, handed_at=now, address=address_of(household),
                   handoffs=logged(ticket, entry(kind, by=user.id, team_id=team_id, assignee_id=assignee_id,
                                                 note=note, at=now)))
    if ticket.escalated == "accept":
        changes["escalated"], changes["escalated_at"] = None, None  # the new holder's clock starts now


def grabbed(user: User, ticket, changes: dict) -> None:
    """A technician accepts a ticket from their team's pool (抢单): it is theirs; logged."""
    if user.role != "technician" or ticket.assignee_id is not None:
        return
    now = utcnow()
    changes["handoffs"] = logged(ticket, entry("grabbed", by=user.id, team_id=ticket.team_id, assignee_id=user.id,
                                               note="", at=now))
