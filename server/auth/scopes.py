"""Who may read and write what. Every read and write of a record passes through here.

- admin: everything.
- supervisor: their community and everything in it.
- butler: the households of their grids and all that hangs on them (people, visits, touchpoints,
  tickets, orders), plus tickets assigned to them; the catalogue.
- resident: their own household without the butler's internal notes and tags, its tickets and
  orders; the catalogue. Never people, visits or touchpoints.
- notices (公告): a supervisor writes their community's; its butlers read them all, its residents
  those for the whole community and those for their household's building (a notice for one
  building is not another building's residents' business). A resident who can no longer read one
  (it now targets another building, or they moved) is sent `evict` for it (server/notices/service.py).
- technician (the back office: 工程, 保洁, 秩序, 外委): the tickets handed to them or waiting in their
  team's pool, with the household's address on the ticket; never households, people or visits. Their
  community's teams and notices.
- attachments (photos): whoever sees the record a photo is attached to (a visit, a ticket) sees it.
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
from server.errors import FieldError, Forbidden, ValidationFailed
from server.resources.hooks import Rights
from server.resources.registry import registry

_NOTHING = Rights()
_EVERYTHING = Rights(create=frozenset({"*"}), update=frozenset({"*"}), delete=True)


def rights(user: User, rtype: str) -> Rights:
    """The role's rights on a type, as the type declares them; admins may do everything with every field."""
    if user.role == "admin":
        return _EVERYTHING
    resource = registry().get(rtype)
    return resource.rights.get(user.role, _NOTHING) if resource is not None else _NOTHING


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


def team_of(user: User | Viewer):
    """The team a technician works in, as a subquery (none: no row)."""
    return sa.select(User.team_id).where(User.id == user.id, User.team_id.is_not(None)).scalar_subquery()


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
    if user.role == "technician":
        return column == user.community_id if user.community_id is not None else sa.false()
    if user.role == "butler":
        held = column.in_(sa.select(Grid.community_id).where(Grid.butler_id == user.id, Grid.deleted.is_(False)))
        return sa.or_(column == user.community_id, held) if user.community_id is not None else held
    return column.in_(sa.select(Household.community_id).where(household_filter(user)))


def building_filter(user: User | Viewer, model) -> ColumnElement[bool]:
    """Records of a community for all of it or one building (notices): a resident reads those of
    their community for all buildings and those for their household's; everyone else as
    community_filter."""
    in_community = community_filter(user, model.community_id)
    if user.role != "resident":
        return in_community
    if user.household_id is None:
        return sa.false()
    their_building = sa.select(Household.building).where(household_filter(user)).scalar_subquery()
    return sa.and_(in_community, sa.or_(model.building == "", model.building == their_building))


def visible_filter(user: User | Viewer, rtype: str, model, *, in_change_order: bool = False) -> ColumnElement[bool]:
    """The WHERE clause that limits `model` (of wire type `rtype`) to what `user` may read.

    `in_change_order`: the query walks the (seq, id) index (a pull). The household test is then
    written so that no index can serve it, or SQLite's planner fetches every record of the
    user's households and sorts them all to keep one page (the same rows either way).
    """
    if user.role == "admin":
        return sa.true()
    resource = registry().get(rtype)
    if resource is None:
        return sa.false()
    scope = resource.scope
    if scope == "catalogue":
        return model.active.is_(True)
    if scope == "household":
        return household_filter(user)
    if scope == "community":
        if user.role == "supervisor":
            return model.id == user.community_id
        return model.id.in_(sa.select(Household.community_id).where(household_filter(user)))
    if scope == "community_wide":
        return community_filter(user, model.community_id)
    if scope == "community_or_building":
        return building_filter(user, model)
    if scope == "own_in_community":
        if user.role == "supervisor":
            return model.community_id == user.community_id if user.community_id is not None else sa.false()
        if user.role == "butler":
            return model.butler_id == user.id
        return sa.false()
    if scope == "grid":
        if user.role == "supervisor":
            return model.community_id == user.community_id
        if user.role == "butler":
            return model.butler_id == user.id
        return sa.false()
    if scope == "of_record":
        return _of_visible_record(user, model, in_change_order)
    if user.role == "technician":
        if scope != "in_household_or_assigned":
            return sa.false()  # the household file is not the back office's
        return sa.or_(model.assignee_id == user.id, model.team_id == team_of(user))
    # It hangs on a household.
    if not reads_household_records(user, rtype):
        return sa.false()
    household = sa.func.coalesce(model.household_id, "") if in_change_order else model.household_id
    in_households = household.in_(sa.select(Household.id).where(household_filter(user)))
    if scope == "in_household_or_assigned" and user.role == "butler":
        return sa.or_(in_households, model.assignee_id == user.id)
    return in_households


def _of_visible_record(user: User | Viewer, model, in_change_order: bool) -> ColumnElement[bool]:
    """An attachment is seen by whoever sees its record, whatever that record's own rules are."""
    parents = [(rtype, res.model) for rtype, res in sorted(registry().items()) if res.attachments]
    return sa.or_(*(sa.and_(model.record_type == rtype,
                            model.record_id.in_(sa.select(parent.id).where(
                                visible_filter(user, rtype, parent, in_change_order=in_change_order))))
                    for rtype, parent in parents))


def reads_household_records(user: User | Viewer, rtype: str) -> bool:
    """Whether the user reads this type's records in the households they see: residents read
    their tickets and orders, not the butler's people, visits or touchpoints."""
    return not (user.role == "resident" and not registry()[rtype].residents_read)


def is_visible(session, user: User, rtype: str, model, record_id: str) -> bool:
    """Whether one record (deleted or not) lies in the user's read scope."""
    query = sa.select(sa.literal(1)).where(model.id == record_id, visible_filter(user, rtype, model))
    return session.execute(query).first() is not None


def manages_people(user: User, community_id: str | None) -> bool:
    """Whether the user manages a community's staff accounts and teams (technicians, membership, the
    console's invites and requests to join): a supervisor their own community, an admin any."""
    return user.role == "admin" or (user.role == "supervisor" and community_id is not None
                                    and user.community_id == community_id)


def household_in_scope(session, user: User, household_id: str | None) -> bool:
    if not household_id:
        return False
    return is_visible(session, user, "household", Household, household_id)


def community_of_new_record(user: User, values: dict) -> None:
    """A new record of a community (a notice, a team, a poll): a supervisor's own community, filled in
    when left out and refused when another; an administrator must name one."""
    if user.role == "supervisor":
        values.setdefault("community_id", user.community_id)
        if not user.community_id or values["community_id"] != user.community_id:
            raise Forbidden(errors=[FieldError("community_id", "out_of_scope")])
    elif not values.get("community_id"):
        raise ValidationFailed([FieldError("community_id", "required")])
