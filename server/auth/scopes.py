"""Who may read and write what. Every read and write of a record passes through here.

- admin: everything.
- supervisor: their community and everything in it.
- butler: the households of their grids and all that hangs on them (people, visits, touchpoints,
  tickets, orders), plus tickets assigned to them; the catalogue.
- resident: their own household without the butler's internal notes and tags, its tickets and
  orders; the catalogue. Never people, visits or touchpoints.
- notices (公告): a supervisor writes their community's; its butlers and residents read them.
- check-ins (签到/签退): a butler makes their own and reads their own; nobody changes one (a check-in is
  a fact); a supervisor reads their community's and may delete one. Residents: nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from server.auth.models import User
from server.community.models import Grid, Household

# Types whose records hang on a household through `household_id`.
HOUSEHOLD_CHILDREN = ("person", "visit", "touchpoint", "ticket", "order")


@dataclass(frozen=True)
class Rights:
    """What one role may do with one record type."""

    create: frozenset[str] = frozenset()  # fields it may set on a new record; empty = may not create
    update: frozenset[str] = frozenset()  # fields it may change
    delete: bool = False
    hidden: frozenset[str] = frozenset()  # fields it never sees
    own_only: bool = False  # may change only records it authored (visits, touchpoints)


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


_PERSON = _f("household_id", "name", "relation", "phone", "birth_year", "tags", "notes", "consent")
_VISIT = _f("household_id", "butler_id", "visited_at", "kind", "checklist", "needs", "satisfaction",
            "products_interest", "notes", "follow_up_at")
_TOUCHPOINT = _f("household_id", "butler_id", "at", "channel", "summary")
_HOUSEHOLD = _f("community_id", "grid_id", "building", "unit", "room", "status", "area_m2", "tags",
                "notes", "visit_cycle_days")
_ALL = None  # admin: every loadable field

RIGHTS: dict[str, dict[str, Rights]] = {
    "butler": {
        "household": Rights(update=_f("status", "area_m2", "tags", "notes", "visit_cycle_days")),
        "person": Rights(create=_PERSON, update=_PERSON, delete=True),
        "visit": Rights(create=_VISIT, update=_VISIT, delete=True, own_only=True),
        "touchpoint": Rights(create=_TOUCHPOINT, update=_TOUCHPOINT, delete=True, own_only=True),
        "ticket": Rights(create=_f("household_id", "category", "description"),
                         update=_f("category", "description", "status", "resolution_note",
                                   "backoffice_rating")),
        "order": Rights(create=_f("household_id", "product_code", "quantity", "note"),
                        update=_f("quantity", "note", "status")),
        "checkin": Rights(create=_f("kind", "at", "note")),  # butler and community: the server's
    },
    "resident": {
        "household": Rights(hidden=_f("notes", "tags")),
        "ticket": Rights(create=_f("household_id", "category", "description"),
                         update=_f("status", "rating", "rating_comment"),
                         hidden=_f("backoffice_rating")),
        "order": Rights(create=_f("household_id", "product_code", "quantity", "note"),
                        update=_f("status")),
    },
    "supervisor": {
        "community": Rights(update=_f("name", "city", "timezone")),
        "grid": Rights(create=_f("community_id", "name", "butler_id"),
                       update=_f("name", "butler_id"), delete=True),
        "household": Rights(create=_HOUSEHOLD, update=_HOUSEHOLD, delete=True),
        "person": Rights(create=_PERSON, update=_PERSON, delete=True),
        "visit": Rights(update=_VISIT - {"household_id", "butler_id"}, delete=True),
        "touchpoint": Rights(update=_TOUCHPOINT - {"household_id", "butler_id"}, delete=True),
        "ticket": Rights(create=_f("household_id", "category", "description", "assignee_id"),
                         update=_f("category", "description", "status", "assignee_id",
                                   "resolution_note")),
        "order": Rights(create=_f("household_id", "product_code", "quantity", "note"),
                        update=_f("quantity", "note", "status"), delete=True),
        "notice": Rights(create=_f("community_id", "title", "body", "published_at"),
                         update=_f("title", "body", "published_at"), delete=True),
        "checkin": Rights(delete=True),
    },
}

_NOTHING = Rights()


_EVERYTHING = Rights(create=frozenset({"*"}), update=frozenset({"*"}), delete=True)


def rights(user: User, rtype: str) -> Rights:
    """The role's rights on a type; admins may do everything with every field."""
    if user.role == "admin":
        return _EVERYTHING
    return RIGHTS.get(user.role, {}).get(rtype, _NOTHING)


def may_write_field(user: User, rtype: str, name: str, *, creating: bool) -> bool:
    return not fields_refused(user, rtype, [name], creating=creating)


def fields_refused(user: User, rtype: str, names, *, creating: bool) -> list[str]:
    """The names among `names` that the user may not write (on creating, or on changing a record)."""
    granted = rights(user, rtype)
    allowed = granted.create if creating else granted.update
    if "*" in allowed:
        return []
    return [name for name in names if name not in allowed]


def hidden_fields(user: User, rtype: str) -> frozenset[str]:
    return rights(user, rtype).hidden


# ---- reading: a filter per type, applied to every query ---------------------------------------

@dataclass(frozen=True)
class Viewer:
    """A user as a reusable statement sees them: the role, and the links they have, as parameters.

    A statement built with `viewer(viewer_shape(user))` in place of the user is the same for every user of that
    shape (role, and whether they have a community and a household); its values come from
    `viewer_values(user)` when it runs. Building a pull's filters and their cache key took longer
    than running the pull; a statement kept per shape is built once."""

    role: str
    id: Any
    community_id: Any
    household_id: Any


def viewer_shape(user: User) -> tuple[str, bool, bool]:
    return user.role, user.community_id is not None, user.household_id is not None


@cache
def viewer(shape: tuple[str, bool, bool]) -> Viewer:
    """The Viewer of users of one shape (`viewer_shape(user)`)."""
    role, has_community, has_household = shape

    def param(name: str, present: bool = True):
        return sa.bindparam(name, type_=sa.String) if present else None

    return Viewer(role, param("viewer_id"), param("viewer_community_id", has_community),
                  param("viewer_household_id", has_household))


def viewer_values(user: User) -> dict[str, str | None]:
    """The parameters of a statement built for the user's Viewer."""
    return {"viewer_id": user.id, "viewer_community_id": user.community_id,
            "viewer_household_id": user.household_id}


def butler_grid_ids(user: User | Viewer):
    """The grids a butler holds, as a subquery."""
    return sa.select(Grid.id).where(Grid.butler_id == user.id, Grid.deleted.is_(False))


def household_filter(user: User | Viewer) -> ColumnElement[bool]:
    """Which households the user may see."""
    if user.role == "admin":
        return sa.true()
    if user.role == "supervisor":
        return Household.community_id == user.community_id if user.community_id is not None else sa.false()
    if user.role == "butler":
        return Household.grid_id.in_(butler_grid_ids(user))
    if user.role == "resident":
        return Household.id == user.household_id if user.household_id is not None else sa.false()
    return sa.false()


def community_filter(user: User | Viewer, column) -> ColumnElement[bool]:
    """Whether `column` names a community the user belongs to (for community-wide records such as
    notices): a supervisor's own; a butler's own and those of the grids they hold; a resident's
    is their household's (none once they move out)."""
    if user.role == "admin":
        return sa.true()
    if user.role == "supervisor":
        return column == user.community_id if user.community_id is not None else sa.false()
    if user.role == "butler":
        held = column.in_(sa.select(Grid.community_id).where(Grid.butler_id == user.id, Grid.deleted.is_(False)))
        return sa.or_(column == user.community_id, held) if user.community_id is not None else held
    return column.in_(sa.select(Household.community_id).where(household_filter(user)))


def visible_filter(user: User | Viewer, rtype: str, model, *, in_change_order: bool = False) -> ColumnElement[bool]:
    """The WHERE clause that limits `model` (of wire type `rtype`) to what `user` may read.

    `in_change_order`: the query walks the (seq, id) index (a pull). The household test is then
    written so that no index can serve it, or SQLite's planner fetches every record of the
    user's households and sorts them all to keep one page (the same rows either way).
    """
    if user.role == "admin":
        return sa.true()
    if rtype == "product":
        return model.active.is_(True)
    if rtype == "household":
        return household_filter(user)
    if rtype == "community":
        if user.role == "supervisor":
            return model.id == user.community_id
        return model.id.in_(sa.select(Household.community_id).where(household_filter(user)))
    if rtype == "notice":
        return community_filter(user, model.community_id)
    if rtype == "checkin":
        if user.role == "supervisor":
            return model.community_id == user.community_id if user.community_id is not None else sa.false()
        if user.role == "butler":
            return model.butler_id == user.id
        return sa.false()
    if rtype == "grid":
        if user.role == "supervisor":
            return model.community_id == user.community_id
        if user.role == "butler":
            return model.butler_id == user.id
        return sa.false()
    if rtype in HOUSEHOLD_CHILDREN:
        if not reads_household_records(user, rtype):
            return sa.false()
        household = sa.func.coalesce(model.household_id, "") if in_change_order else model.household_id
        in_households = household.in_(sa.select(Household.id).where(household_filter(user)))
        if rtype == "ticket" and user.role == "butler":
            return sa.or_(in_households, model.assignee_id == user.id)
        return in_households
    return sa.false()


def reads_household_records(user: User | Viewer, rtype: str) -> bool:
    """Whether the user reads this type's records in the households they see: residents read
    their tickets and orders, not the butler's people, visits or touchpoints."""
    return not (user.role == "resident" and rtype not in ("ticket", "order"))


def is_visible(session, user: User, rtype: str, model, record_id: str) -> bool:
    """Whether one record (deleted or not) lies in the user's read scope."""
    query = sa.select(sa.literal(1)).where(model.id == record_id, visible_filter(user, rtype, model))
    return session.execute(query).first() is not None


def household_in_scope(session, user: User, household_id: str | None) -> bool:
    if not household_id:
        return False
    return is_visible(session, user, "household", Household, household_id)
