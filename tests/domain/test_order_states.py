"""The order state machine (服务订单) and the ticket reopen rule, called as the services call them: no
HTTP, no database."""
import itertools
from datetime import datetime, timezone

import pytest

from server.errors import Forbidden, ValidationFailed
from server.products.models import ORDER_STATUSES
from server.products.service import order_move, order_step_changes
from server.tickets.service import reopen_changes, reopens

# The product's rules, written out: who may move an order from where to where.
STAFF = {("placed", "confirmed"), ("confirmed", "delivered"), ("placed", "cancelled"), ("confirmed", "cancelled")}
ALLOWED = {
    "resident": {("placed", "cancelled")},
    "butler": STAFF,
    "supervisor": STAFF | {("delivered", "refunded")},
    "admin": STAFF | {("delivered", "refunded")},
}
NOW = datetime(2026, 12, 6, 8, tzinfo=timezone.utc)


@pytest.mark.parametrize("role, frm, to", [(r, f, t) for r in ALLOWED
                                           for f, t in itertools.product(ORDER_STATUSES, ORDER_STATUSES) if f != t])
def test_each_role_makes_exactly_the_order_moves_the_product_allows(role, frm, to):
    try:
        order_move(role, frm, to, reason="缺货")
        moved = True
    except (Forbidden, ValidationFailed):
        moved = False
    assert moved == ((frm, to) in ALLOWED[role])


@pytest.mark.parametrize("role, frm, to", [("butler", "placed", "cancelled"), ("butler", "confirmed", "cancelled"),
                                           ("supervisor", "delivered", "refunded"), ("admin", "placed", "cancelled")])
def test_staff_must_say_why_they_cancel_or_refund(role, frm, to):
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            order_move(role, frm, to, reason=blank)
        assert [(e.field, e.code) for e in refused.value.errors] == [("reason", "required")]


def test_a_resident_cancels_before_confirmation_without_a_reason_but_not_after():
    order_move("resident", "placed", "cancelled")
    with pytest.raises((Forbidden, ValidationFailed)):
        order_move("resident", "confirmed", "cancelled")


def test_a_butler_may_not_refund():
    with pytest.raises(Forbidden):
        order_move("butler", "delivered", "refunded", reason="坏了")


def test_the_end_states_go_nowhere():
    for end in ("cancelled", "refunded"):
        for to in ORDER_STATUSES:
            with pytest.raises(ValidationFailed):
                order_move("admin", end, to, reason="x")


@pytest.mark.parametrize("to, stamp", [("confirmed", "confirmed_at"), ("delivered", "delivered_at"),
                                       ("cancelled", "cancelled_at"), ("refunded", "refunded_at")])
def test_each_step_stamps_its_time_for_the_residents_timeline(to, stamp):
    assert order_step_changes("placed", to, NOW) == {stamp: NOW}


# ---- the reopen rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("rating", [1, 2])
@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_low_rating_saying_not_fixed_reopens_a_resolved_or_closed_ticket(rating, status):
    assert reopens(status, rating, True)


@pytest.mark.parametrize("status, rating, not_fixed", [
    ("resolved", 3, True), ("closed", 5, True),  # a good rating never reopens
    ("resolved", 1, False), ("closed", 2, False),  # a low rating alone opens a 回访 task, not the ticket
    ("accepted", 1, True), ("new", 1, True),  # not yet done: nothing to reopen
    ("resolved", None, True),
])
def test_nothing_else_reopens_a_ticket(status, rating, not_fixed):
    assert not reopens(status, rating, not_fixed)


def test_reopening_goes_back_to_accepted_keeps_the_assignee_and_restarts_the_clock():
    changes = reopen_changes(NOW)
    assert changes["status"] == "accepted"
    assert "assignee_id" not in changes and "team_id" not in changes
    assert changes["accepted_at"] == changes["reopened_at"] == NOW
    assert changes["resolved_at"] is None and changes["closed_at"] is None
    assert changes["escalated"] is None and changes["escalated_at"] is None
