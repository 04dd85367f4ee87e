"""Domain rules of orders for service products."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth.models import User
from server.errors import FieldError, Forbidden, ValidationFailed
from server.products.models import Order
from server.resources.hooks import Rules

RESIDENT_MOVES = {("placed", "cancelled")}


def _order_create(session: Session, user: User, values: dict) -> None:
    if user.role == "resident":
        values.setdefault("household_id", user.household_id)
    elif "household_id" not in values:
        raise ValidationFailed([FieldError("household_id", "required")])
    values["ordered_by"] = user.id
    if user.role == "butler":
        values["recommended_by"] = user.id


def _order_update(session: Session, user: User, order: Order, changes: dict) -> None:
    to = changes.get("status", order.status)
    if user.role == "resident" and to != order.status and (order.status, to) not in RESIDENT_MOVES:
        raise Forbidden(errors=[FieldError("status", "not_writable")])


ORDER_RULES = Rules(prepare_create=_order_create, prepare_update=_order_update)
