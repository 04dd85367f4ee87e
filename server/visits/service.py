"""Domain rules of home visits and touchpoints."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.products.models import Product
from server.records import loaded, utcnow
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
    # By key, not a query: the catalogue is small and a sync batch holds it loaded, so checking 500
    # visits costs no statement (and no flush) at all.
    if any(loaded(session, Product, code) is None for code in set(codes)):
        raise ValidationFailed([FieldError("products_interest", "not_found")])


# How long after a community changes its checklist a phone may still hold the one before (it reads the
# template at its next sync); as long as sync accepts work done offline (SYNC_GRACE_DAYS' default).
TEMPLATE_CHANGE_GRACE = timedelta(days=7)
_TEMPLATES_READ = "visit_templates_read"


@event.listens_for(Session, "after_transaction_end")
def _forget_templates(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TEMPLATES_READ, None)


def _template_keys(session: Session, community_id: str) -> tuple[list[str], datetime | None]:
    """The item keys of a community's checklist and when it last changed (None: the default one).
    Kept for the transaction: checking 500 visits of a sync batch reads the template once."""
    known = session.info.setdefault(_TEMPLATES_READ, {})
    if community_id not in known:
        template = session.get(ChecklistTemplate, community_id)
        known[community_id] = ((template.items, template.updated_at) if template is not None
                               else (list(DEFAULT_CHECKLIST), None))
    items, changed_at = known[community_id]
    return [item["key"] for item in items], changed_at


def unanswered(session: Session, user: User, values: dict) -> list[FieldError]:
    """What a new visit leaves out: a visit that records nothing of the home is no visit (it would count
    toward coverage). Every item of the community's checklist is answered, and satisfaction is given
    (1–5) or explicitly unrated (null). A phone that may still hold the checklist from before its last
    change (changed after the visit, or less than TEMPLATE_CHANGE_GRACE before it) need only answer some
    item; an answer to an item the checklist does not have is kept as it is. Leaving satisfaction out is how the app sends
    未评价 — it saves no visit without a rating or 未评价 — so it is read as unrated when the checklist is
    complete, and as missing otherwise (docs/sync-protocol.md, the visit record)."""
    community_id = user.community_id if user.role == "butler" else None  # a butler's homes are in theirs
    if community_id is None:  # else the household's (a missing one: the reference check says so)
        household = session.get(Household, values.get("household_id"))
        if household is None:
            return []
        community_id = household.community_id
    checklist = values.get("checklist") or {}
    keys, changed_at = _template_keys(session, community_id)
    visited_at = values.get("visited_at")
    lately_changed = (changed_at is not None and visited_at is not None
                      and changed_at > visited_at - TEMPLATE_CHANGE_GRACE)
    if lately_changed and checklist:
        errors = []
    else:
        errors = [FieldError(f"checklist.{key}", "required") for key in keys if key not in checklist]
    if errors and "satisfaction" not in values:
        errors.append(FieldError("satisfaction", "required"))
    return errors


def _visit_create(session: Session, user: User, values: dict) -> None:
    _author(user, values)
    _check_products(session, values.get("products_interest"))
    errors = unanswered(session, user, values)
    if errors:
        raise ValidationFailed(errors)


def _keep_author(user: User, changes: dict) -> None:
    """A butler cannot hand their visit or touchpoint to another butler."""
    if "butler_id" in changes and user.role == "butler" and changes["butler_id"] != user.id:
        raise Forbidden(errors=[FieldError("butler_id", "out_of_scope")])


def taken_back(visit, changes: dict) -> list[FieldError]:
    """What an edit would take back: an item the visit has answered cannot be left unanswered again (the
    answer may change, 正常 to 异常 and back; a visit stored before the rule with items unanswered may stay
    so). Else an edit could empty a visit that the create rule let count as one."""
    if "checklist" not in changes:
        return []
    kept = changes["checklist"] or {}
    return [FieldError(f"checklist.{key}", "required") for key in (visit.checklist or {}) if key not in kept]


def _visit_update(session: Session, user: User, visit, changes: dict) -> None:
    _keep_author(user, changes)
    _check_products(session, changes.get("products_interest"))
    errors = taken_back(visit, changes)
    if errors:
        raise ValidationFailed(errors)


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
    session.info.pop(_TEMPLATES_READ, None)
    return checklist_template(session, user=user, community_id=community_id)
