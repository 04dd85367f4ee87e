"""Domain rules of tickets: who raises them, and the state machine they move through."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Grid, Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.records import utcnow
from server.resources.hooks import Rules
from server.tickets import handoff
from server.tickets.events import ticket_written
from server.tickets.models import Ticket

# The state machine: from -> the states it may go to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"dispatched", "accepted", "cancelled"}),
    "dispatched": frozenset({"dispatched", "accepted", "cancelled"}),
    "accepted": frozenset({"in_progress", "resolved", "cancelled"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}

# Which moves each role may make (admins and supervisors: all).
ROLE_MOVES: dict[str, frozenset[str]] = {
    "butler": frozenset({"accepted", "in_progress", "resolved", "closed"}),
    "resident": frozenset({"cancelled", "closed"}),
    # The back office does the job; the butler (or the resident) closes it.
    "technician": frozenset({"accepted", "in_progress", "resolved"}),
}
# A resident cancels only before anyone has taken the ticket.
RESIDENT_CANCELLABLE = frozenset({"new", "dispatched"})
RATEABLE = frozenset({"resolved", "closed"})
HELD = frozenset({"accepted", "in_progress", "resolved", "closed"})
NOT_FIXED_RATING = 2  # a rating at or below this, with "not fixed", reopens the ticket


def reopens(status_after: str, rating: int | None, not_fixed: bool) -> bool:
    """Whether a rating sends a ticket back to work: 1–2★ with "not fixed" (还没修好) on a resolved or
    closed ticket. It goes back to "accepted" with the assignee it had (and any team), its service
    clock started again."""
    return bool(not_fixed) and rating is not None and rating <= NOT_FIXED_RATING and status_after in RATEABLE


def reopen_changes(now) -> dict:
    """What reopening a ticket writes: accepted again, no longer resolved or closed, its service level
    measured from now, any escalation forgotten. The assignee is left as it is."""
    return {"status": "accepted", "accepted_at": now, "reopened_at": now, "resolved_at": None,
            "closed_at": None, "escalated": None, "escalated_at": None}


def _check_assignee(session: Session, household_id: str | None, assignee_id: str | None) -> None:
    """A ticket goes only to active staff (butler or supervisor) of its household's community.

    Anyone else would gain read and write access to a household outside their own scope.
    """
    if assignee_id is None or household_id is None:
        return
    household = session.get(Household, household_id)
    assignee = session.get(User, assignee_id)
    if household is None or assignee is None:
        return  # the reference check reports what is missing
    if (assignee.role not in ("butler", "supervisor") or not assignee.active
            or assignee.community_id != household.community_id):
        raise ValidationFailed([FieldError("assignee_id", "invalid")])


def _ticket_create(session: Session, user: User, values: dict) -> None:
    if user.role == "resident":
        values.setdefault("household_id", user.household_id)
    elif "household_id" not in values:
        raise ValidationFailed([FieldError("household_id", "required")])
    household = session.get(Household, values["household_id"])
    values["address"] = handoff.address_of(household)
    values["raised_by"] = user.id
    if values.get("team_id") is not None or _is_technician(session, values.get("assignee_id")):
        # Raised straight for the back office (a supervisor): checked and logged as a hand-off.
        changes = {name: values.pop(name) for name in ("team_id", "assignee_id", "handoff_note") if name in values}
        pending = Ticket(household_id=values["household_id"], status="new", team_id=None, assignee_id=None,
                         handoffs=[], escalated=None)
        handoff.apply(session, user, pending, changes, grid_butler=grid_butler, check_staff=_check_assignee)
        changes.pop("escalated", None), changes.pop("escalated_at", None)
        values.update(changes)
        return
    _check_assignee(session, values["household_id"], values.get("assignee_id"))
    values.setdefault("status", "new")
    if values["status"] == "new" and values.get("assignee_id") is None:
        dispatch(session, values)


def _is_technician(session: Session, user_id: str | None) -> bool:
    person = session.get(User, user_id) if user_id else None
    return person is not None and person.role == "technician"


def grid_butler(session: Session, household_id: str | None) -> User | None:
    """The active butler of the household's grid, if it has one."""
    household = session.get(Household, household_id) if household_id else None
    grid = session.get(Grid, household.grid_id) if household is not None and household.grid_id else None
    butler = session.get(User, grid.butler_id) if grid is not None and not grid.deleted and grid.butler_id else None
    return butler if butler is not None and butler.active and butler.role == "butler" else None


def dispatch(session: Session, values: dict) -> None:
    """派单: a new ticket goes to the butler of its household's grid at once ("dispatched"). With no
    butler on the grid it stays "new" and unassigned, which the community's supervisors see."""
    butler = grid_butler(session, values.get("household_id"))
    if butler is not None:
        values["assignee_id"], values["status"] = butler.id, "dispatched"


def move(user: User, ticket: Ticket, to: str, changes: dict) -> None:
    """Check one status change and add what it implies (timestamps, the claim)."""
    frm = ticket.status
    if to == "accepted" and frm in HELD and ticket.assignee_id is not None:
        if ticket.assignee_id != user.id:
            raise ValidationFailed([FieldError("status", "already_claimed")])
        if frm == "accepted":
            return  # accepting twice is harmless
    if user.role == "technician" and frm == "resolved":
        raise Forbidden(errors=[FieldError("status", "not_writable")])  # reopening is the resident's or the butler's
    if user.role == "technician" and not handoff.holds(user, ticket):
        # Someone of the team took it from the pool first, or it was handed to another.
        raise ValidationFailed([FieldError("status", "already_claimed")])
    allowed_by_role = ROLE_MOVES.get(user.role)
    if allowed_by_role is not None and to not in allowed_by_role:
        raise Forbidden(errors=[FieldError("status", "not_writable")])
    if to not in TRANSITIONS[frm] or (user.role == "resident" and to == "cancelled"
                                      and frm not in RESIDENT_CANCELLABLE):
        raise ValidationFailed([FieldError("status", "invalid_transition", from_status=frm, to_status=to)])
    now = utcnow()
    if to == "accepted":
        changes.setdefault("assignee_id", user.id if user.role in ("butler", "technician") else ticket.assignee_id)
        if user.role == "butler" and changes["assignee_id"] == user.id:
            changes["team_id"] = None  # a butler who takes it does it themselves
        handoff.grabbed(user, ticket, changes)
        changes["accepted_at"] = now
    elif to == "resolved":
        changes["resolved_at"] = now
    elif to == "closed":
        changes["closed_at"] = now
    elif to == "in_progress" and frm == "resolved":
        changes["resolved_at"] = None  # reopened


def _ticket_update(session: Session, user: User, ticket: Ticket, changes: dict) -> None:
    if handoff.is_hand_off(ticket, changes) and not _claims(user, ticket, changes):
        if not _involves_back_office(session, user, ticket, changes):
            # Between staff (a supervisor gives a butler's ticket to another): as it always was.
            _check_assignee(session, ticket.household_id, changes.get("assignee_id"))
        else:
            if "status" in changes and changes["status"] != ticket.status:
                raise ValidationFailed([FieldError("status", "not_with_hand_off")])
            changes.pop("status", None)
            handoff.apply(session, user, ticket, changes, grid_butler=grid_butler, check_staff=_check_assignee)
            return
    if "handoff_note" in changes and changes["handoff_note"] != ticket.handoff_note:
        raise ValidationFailed([FieldError("handoff_note", "not_with_hand_off")])
    # Accepting is a claim even when the status already reads "accepted": someone else may hold it.
    if "status" in changes and (changes["status"] != ticket.status or changes["status"] == "accepted"):
        move(user, ticket, changes["status"], changes)
    status_after = changes.get("status", ticket.status)
    for name in ("rating", "rating_comment", "backoffice_rating", "not_fixed"):
        if name in changes and status_after not in RATEABLE:
            raise ValidationFailed([FieldError(name, "not_rateable")])
    if changes.get("not_fixed") and reopens(status_after, changes.get("rating", ticket.rating), True):
        changes.update(reopen_changes(utcnow()))


def _involves_back_office(session: Session, user: User, ticket: Ticket, changes: dict) -> bool:
    """Whether a change of hands is a hand-off (server/tickets/handoff.py): a technician makes it, or a
    team is left, named, or reached through one of its technicians."""
    return (user.role == "technician" or ticket.team_id is not None or changes.get("team_id") is not None
            or _is_technician(session, changes.get("assignee_id")))


def _claims(user: User, ticket: Ticket, changes: dict) -> bool:
    """Accepting with oneself as the assignee (the old way a phone claims a ticket) is a claim, not a hand-off."""
    return (changes.get("status") == "accepted" and changes.get("assignee_id", user.id) == user.id
            and "team_id" not in changes)


def _ticket_refuse_hidden(user: User, ticket: Ticket, changes: dict) -> None:
    """A butler who accepts a ticket that left their view because another butler claimed it first
    (it was handed to them, or to their grid) is told so, not just refused."""
    if (user.role in ("butler", "technician") and changes.get("status") == "accepted"
            and (ticket.status in HELD or user.role == "technician") and ticket.assignee_id not in (None, user.id)):
        raise ValidationFailed([FieldError("status", "already_claimed")])


def _ticket_lets_go(user: User, ticket: Ticket, previous: dict) -> bool:
    """A technician who passed on (or gave back) a ticket they held no longer sees it: that is the point."""
    return user.role == "technician" and (previous.get("assignee_id") == user.id or (
        previous.get("team_id") is not None and previous.get("team_id") == user.team_id))


TICKET_RULES = Rules(prepare_create=_ticket_create, prepare_update=_ticket_update, after_write=ticket_written,
                     refuse_hidden=_ticket_refuse_hidden, lets_go=_ticket_lets_go)
