"""Domain rules of home visits and touchpoints."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth.models import User
from server.errors import FieldError, Forbidden, ValidationFailed
from server.products.models import Product
from server.records import utcnow
from server.visits.models import DEFAULT_CHECKLIST, ChecklistTemplate
from server.resources.hooks import Rules


def _author(user: User, values: dict) -> None:
    """A butler records visits and touchpoints as themselves, never as another butler."""
    if user.role == "butler":
        if values.setdefault("butler_id", user.id) != user.id:
            raise Forbidden(errors=[FieldError("butler_id", "out_of_scope")])
    elif "butler_id" not in values:
        raise ValidationFailed([FieldError("butler_id", "required")])


def _check_products(session: Session, codes: list[str] | None) -> None:
    if not codes:
        return
    # session.get, not a query: the catalogue is small and a sync batch holds it loaded, so
    # checking 500 visits costs no statement (and no flush) at all.
    if any(session.get(Product, code) is None for code in set(codes)):
        raise ValidationFailed([FieldError("products_interest", "not_found")])


def _visit_create(session: Session, user: User, values: dict) -> None:
    _author(user, values)
    _check_products(session, values.get("products_interest"))


def _keep_author(user: User, changes: dict) -> None:
    """A butler cannot hand their visit or touchpoint to another butler."""
    if "butler_id" in changes and user.role == "butler" and changes["butler_id"] != user.id:
        raise Forbidden(errors=[FieldError("butler_id", "out_of_scope")])


def _visit_update(session: Session, user: User, visit, changes: dict) -> None:
    _keep_author(user, changes)
    _check_products(session, changes.get("products_interest"))


def _touchpoint_create(session: Session, user: User, values: dict) -> None:
    _author(user, values)


def _touchpoint_update(session: Session, user: User, touchpoint, changes: dict) -> None:
    _keep_author(user, changes)


VISIT_RULES = Rules(prepare_create=_visit_create, prepare_update=_visit_update)
TOUCHPOINT_RULES = Rules(prepare_create=_touchpoint_create, prepare_update=_touchpoint_update)


def checklist_template(session: Session, *, user: User, community_id: str | None = None) -> dict:
    """The visit checklist of the user's community (an admin may name another), or the default one."""
    community_id = _template_community(user, community_id)
    template = session.get(ChecklistTemplate, community_id) if community_id else None
    if template is None:
        return {"items": [dict(item) for item in DEFAULT_CHECKLIST], "version": 0, "updated_at": None}
    return {"items": template.items, "version": template.version, "updated_at": template.updated_at}


def _template_community(user: User, community_id: str | None) -> str | None:
    if community_id is None or community_id == user.community_id:
        return user.community_id
    if user.role != "admin":
        raise Forbidden()
    return community_id


def set_checklist_template(session: Session, *, user: User, items: list[dict],
                           community_id: str | None = None) -> dict:
    """A supervisor changes their community's checklist (an admin, any community's); phones pick it up
    at their next sync. Visits already made keep their answers by item key."""
    community_id = _template_community(user, community_id)
    if user.role not in ("supervisor", "admin") or not community_id:
        raise Forbidden()
    keys = [item["key"] for item in items]
    if len(set(keys)) != len(keys):
        raise ValidationFailed([FieldError("items", "duplicate")])
    template = session.get(ChecklistTemplate, community_id)
    if template is None:
        template = ChecklistTemplate(community_id=community_id, version=0)
        session.add(template)
    template.items = [{"key": i["key"], "zh": i["zh"], "en": i.get("en", "")} for i in items]
    template.version += 1
    template.updated_at, template.updated_by = utcnow(), user.id
    session.flush()
    return checklist_template(session, user=user, community_id=community_id)
