"""Domain rules of orders for service products: who places them, and the steps they go through.

The state machine (every move in plain functions, tested per role in tests/domain):

    placed ──confirmed──> confirmed ──delivered──> delivered ──refunded──> refunded
       │                      │
       └──────cancelled───────┘

- A resident cancels their own order only before it is confirmed; a reason is optional.
- The butler of the household's grid confirms, delivers, and cancels (with a reason: out of stock…).
- Supervisors (and administrators) make every move; only they refund, always with a reason.
Each step stamps its time (the resident's timeline); the household's residents and its grid's butler
hear of it through the notification outbox (never the one who made it).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.notify import outbox
from server.products.models import Order
from server.records import utcnow
from server.resources.hooks import Rules

# from -> the states it may go to
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "placed": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"delivered", "cancelled"}),
    "delivered": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
# Which moves each role may make, as (from, to); supervisors and administrators: every move.
ORDER_ROLE_MOVES: dict[str, frozenset[tuple[str, str]]] = {
    "resident": frozenset({("placed", "cancelled")}),
    "butler": frozenset({("placed", "confirmed"), ("confirmed", "delivered"), ("placed", "cancelled"),
                         ("confirmed", "cancelled")}),
}
# The moves staff must give a reason for (a resident cancelling need not).
REASON_NEEDED = frozenset({"cancelled", "refunded"})
STAMPS = {"confirmed": "confirmed_at", "delivered": "delivered_at", "cancelled": "cancelled_at",
          "refunded": "refunded_at"}


def order_move(role: str, frm: str, to: str, reason: str = "") -> None:
    """Check one status change of an order by someone of `role`; raises Forbidden or ValidationFailed."""
    if to not in ORDER_TRANSITIONS.get(frm, ()):
        raise ValidationFailed([FieldError("status", "invalid_transition", from_status=frm, to_status=to)])
    allowed = ORDER_ROLE_MOVES.get(role)
    if allowed is not None and (frm, to) not in allowed:
        raise Forbidden(errors=[FieldError("status", "not_writable")])
    if to in REASON_NEEDED and role != "resident" and not reason.strip():
        raise ValidationFailed([FieldError("reason", "required")])


def order_step_changes(frm: str, to: str, now) -> dict:
    """What a move implies besides the status: the time of its step."""
    return {STAMPS[to]: now} if to in STAMPS else {}


def _order_create(session: Session, user: User, values: dict) -> None:
    if user.role == "resident":
        values.setdefault("household_id", user.household_id)
    elif "household_id" not in values:
        raise ValidationFailed([FieldError("household_id", "required")])
    values["ordered_by"] = user.id
    if user.role == "butler":
        values["recommended_by"] = user.id
    status = values.setdefault("status", "placed")
    if status != "placed":  # an order starts placed; its steps are moves
        raise ValidationFailed([FieldError("status", "invalid_transition", from_status="placed", to_status=status)])


def _order_update(session: Session, user: User, order: Order, changes: dict) -> None:
    to = changes.get("status", order.status)
    if to != order.status:
        order_move(user.role, order.status, to, changes.get("reason") or "")
        changes.update(order_step_changes(order.status, to, utcnow()))
    elif user.role == "resident" and set(changes) - {"status"}:
        raise Forbidden(errors=[FieldError("reason", "not_writable")])
    if "reason" in changes:
        changes["reason"] = (changes["reason"] or "").strip()


def order_written(session: Session, user: User, order: Order, previous: dict, created: bool) -> None:
    """Rules.after_write of orders: a new one goes to the grid's butler (the community's supervisors
    when the grid has none); each step to the household's residents and the butler."""
    from server.tickets.service import grid_butler  # the same butler tickets are dispatched to

    butler = grid_butler(session, order.household_id)
    if created:
        household = session.get(Household, order.household_id)
        recipients = [butler.id] if butler is not None else outbox.supervisors(
            session, household.community_id if household is not None else None)
        outbox.record_order(session, event="order.created", order=order, recipients=recipients, exclude=user.id)
        return
    if "status" in previous and previous["status"] != order.status:
        outbox.record_order(session, event="order.updated", order=order,
                            recipients=[*outbox.residents(session, order.household_id),
                                        butler.id if butler is not None else None], exclude=user.id)


ORDER_RULES = Rules(prepare_create=_order_create, prepare_update=_order_update, after_write=order_written)
