"""The ticket state machine (报事报修), called as the services call it: no HTTP, no database."""
import itertools

import pytest

from server.auth.models import User
from server.errors import Forbidden, ValidationFailed
from server.tickets.models import STATUSES, Ticket
from server.tickets.service import move

# The product's rules, written out: who may move a ticket from where to where.
WORK = {("new", "accepted"), ("dispatched", "accepted"), ("accepted", "in_progress"), ("accepted", "resolved"),
        ("in_progress", "resolved"), ("resolved", "closed"), ("resolved", "in_progress")}
ALLOWED = {
    "butler": WORK,
    # The back office does the work on what it holds; closing and reopening are not theirs.
    "technician": WORK - {("resolved", "closed"), ("resolved", "in_progress")},
    "resident": {("new", "cancelled"), ("dispatched", "cancelled"), ("resolved", "closed")},
    "supervisor": WORK | {("new", "dispatched"), ("dispatched", "dispatched"), ("new", "cancelled"),
                          ("dispatched", "cancelled"), ("accepted", "cancelled")},
}


def user(role: str, uid: str = "u-1") -> User:
    return User(id=uid, role=role, username=uid, name=uid, password_hash="-")


def ticket(status: str, assignee_id: str | None = None) -> Ticket:
    return Ticket(id="t-1", household_id="h-1", category="repair", status=status, assignee_id=assignee_id)


@pytest.mark.parametrize("role, frm, to", [(r, f, t) for r in ALLOWED for f, t in itertools.product(STATUSES, STATUSES)
                                           if f != t or (f, t) == ("dispatched", "dispatched")])
def test_each_role_makes_exactly_the_moves_the_product_allows(role, frm, to):
    changes = {}
    mover = user(role)
    try:
        move(mover, ticket(frm, assignee_id=mover.id), to, changes)
        moved = True
    except (Forbidden, ValidationFailed):
        moved = False
    assert moved == ((frm, to) in ALLOWED[role])


def test_accepting_stamps_the_time_and_claims_the_ticket_for_the_butler():
    changes = {}
    move(user("butler", "b-1"), ticket("dispatched"), "accepted", changes)
    assert changes["assignee_id"] == "b-1" and changes["accepted_at"] is not None


def test_a_ticket_another_butler_holds_cannot_be_claimed():
    with pytest.raises(ValidationFailed) as refused:
        move(user("butler", "b-2"), ticket("accepted", assignee_id="b-1"), "accepted", {})
    assert [(e.field, e.code) for e in refused.value.errors] == [("status", "already_claimed")]


def test_reopening_a_resolved_ticket_clears_its_resolution_time():
    changes = {}
    move(user("butler"), ticket("resolved"), "in_progress", changes)
    assert changes == {"resolved_at": None}


def test_a_resident_cannot_cancel_once_someone_has_taken_it():
    with pytest.raises(ValidationFailed) as refused:
        move(user("resident"), ticket("accepted"), "cancelled", {})
    assert refused.value.errors[0].code == "invalid_transition"
