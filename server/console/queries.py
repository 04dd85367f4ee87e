"""The records the console's pages list, read with SQL (the dashboard's figures are in figures.py).

Each function takes the SQLAlchemy session first (and mostly the community the page shows); none writes.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from server.attachments.models import Attachment
from server.auth import scopes
from server.auth.models import Device, User
from server.community.models import Community, Grid, Household
from server.operations.models import WorkPlanItem
from server.products.models import Product
from server.syncing.models import SyncConflict
from server.tickets.models import Ticket
from server.visits.models import Touchpoint, Visit


# ---- communities and people -----------------------------------------------------------------------

def communities(session) -> list:
    """Every community's (id, name), by name: an admin's choices."""
    return session.execute(sa.select(Community.id, Community.name).order_by(Community.name)).all()


def community_timezone(session, community: str) -> str | None:
    return session.scalar(sa.select(Community.timezone).where(Community.id == community))


def users_of(session, community: str | None) -> dict[str, User]:
    """The community's users by id (active or not)."""
    return {user.id: user for user in session.scalars(sa.select(User).where(User.community_id == community))}


def users_by_id(session, ids: Iterable[str]) -> dict[str, User]:
    """Those users by id, whatever their community."""
    ids = set(ids)
    return {user.id: user for user in session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}


def active_users(session, community: str | None, roles: Iterable[str], *, by_role: bool = False) -> list[User]:
    """The community's active users of those roles, by name (by role first if asked)."""
    order = (User.role, User.name, User.username) if by_role else (User.name, User.username)
    return list(session.scalars(sa.select(User).where(
        User.community_id == community, User.role.in_(tuple(roles)), User.active.is_(True)).order_by(*order)))


def butlers_and_devices(session, community: str | None) -> tuple[list[User], dict[str, list[Device]]]:
    """The community's butlers (active or not), and each one's devices, last seen first."""
    butlers = list(session.scalars(sa.select(User).where(User.community_id == community, User.role == "butler")
                                   .order_by(User.name, User.username)))
    devices: dict[str, list[Device]] = {butler.id: [] for butler in butlers}
    if butlers:
        for device in session.scalars(sa.select(Device).where(Device.user_id.in_(list(devices)))
                                      .order_by(Device.last_seen_at.desc(), Device.created_at.desc())):
            devices[device.user_id].append(device)
    return butlers, devices


def devices_by_id(session, ids: Iterable[str]) -> dict[str, Device]:
    ids = set(ids)
    return {d.id: d for d in session.scalars(sa.select(Device).where(Device.id.in_(ids)))} if ids else {}


def may_act_in(session, community: str) -> list[User]:
    """Whoever may act in the community: its own users, and the administrators."""
    return list(session.scalars(sa.select(User).where(sa.or_(User.community_id == community, User.role == "admin"))
                                .order_by(User.role, User.name, User.username)))


# ---- grids and households -------------------------------------------------------------------------

def grids(session, community: str | None) -> list[Grid]:
    """The community's grids, by name."""
    return list(session.scalars(sa.select(Grid).where(Grid.community_id == community, Grid.deleted.is_(False))
                                .order_by(Grid.name)))


def household_counts(session, community: str | None) -> dict[str | None, int]:
    """How many households each grid has (None: those in no grid)."""
    return dict(session.execute(
        sa.select(Household.grid_id, sa.func.count()).where(Household.community_id == community,
                                                            Household.deleted.is_(False))
        .group_by(Household.grid_id)).all())


def _household_filter(community: str | None, with_deleted: bool) -> list:
    where = [Household.community_id == community]
    if not with_deleted:
        where.append(Household.deleted.is_(False))
    return where


def buildings(session, community: str | None, *, with_deleted: bool = False) -> list[str]:
    """The community's buildings, in order."""
    return list(session.scalars(sa.select(Household.building).where(*_household_filter(community, with_deleted))
                                .distinct().order_by(Household.building)))


def households_in(session, community: str | None, building: str, *, with_deleted: bool = False) -> list[Household]:
    """A building's households, by unit and room."""
    return list(session.scalars(sa.select(Household).where(*_household_filter(community, with_deleted),
                                                           Household.building == building)
                                .order_by(Household.unit, Household.room)))


def households_by_id(session, ids: Iterable[str]) -> dict[str, Household]:
    ids = set(ids)
    return {h.id: h for h in session.scalars(sa.select(Household).where(Household.id.in_(ids)))} if ids else {}


# ---- tickets, conflicts, the catalogue, the plan -----------------------------------------------------

def open_tickets(session, community: str | None, statuses: Iterable[str]) -> list:
    """(Ticket, Household) rows of the community's tickets in those statuses: urgent ones (紧急) first,
    then oldest first."""
    return session.execute(
        sa.select(Ticket, Household).join(Household, Household.id == Ticket.household_id)
        .where(Household.community_id == community, Ticket.deleted.is_(False), Ticket.status.in_(tuple(statuses)))
        .order_by((Ticket.priority == "urgent").desc(), Ticket.created_at, Ticket.id)).all()


def ticket_to_change(session, ticket_id: str) -> Ticket:
    """The ticket, its row locked until the commit, for a write that reads it first."""
    return session.execute(sa.select(Ticket).where(Ticket.id == ticket_id).with_for_update()).scalar_one()


def open_conflicts(session, community: str | None) -> list[SyncConflict]:
    """The community's open sync conflicts, oldest first."""
    return list(session.scalars(sa.select(SyncConflict).where(
        SyncConflict.community_id == community, SyncConflict.deleted.is_(False), SyncConflict.status == "open")
        .order_by(SyncConflict.created_at, SyncConflict.id)))


def settled_conflicts(session, community: str | None, since: datetime, limit: int = 100) -> list[SyncConflict]:
    """The community's sync conflicts settled since then, latest first."""
    return list(session.scalars(sa.select(SyncConflict).where(
        SyncConflict.community_id == community, SyncConflict.deleted.is_(False), SyncConflict.status == "settled",
        SyncConflict.settled_at >= since).order_by(SyncConflict.settled_at.desc()).limit(limit)))


def products(session) -> list[Product]:
    """The catalogue: products on sale first, then by category and code."""
    return list(session.scalars(sa.select(Product).where(Product.deleted.is_(False))
                                .order_by(Product.active.desc(), Product.category, Product.id)))


def plan_titles(session, ids: Iterable[str]) -> dict[str, str]:
    """Those plan items' titles by id."""
    ids = set(ids)
    return dict(session.execute(sa.select(WorkPlanItem.id, WorkPlanItem.title)
                                .where(WorkPlanItem.id.in_(ids))).all()) if ids else {}


# ---- a household's visits and touchpoints, photos -------------------------------------------------

def latest_of_household(session, user: User, model, rtype: str, household_id: str, when, limit: int) -> list:
    """A household's latest live visits or touchpoints (`model`, ordered by its column `when`) that the
    user sees, newest first."""
    return list(session.scalars(sa.select(model).where(
        model.household_id == household_id, model.deleted.is_(False), scopes.visible_filter(user, rtype, model))
        .order_by(when.desc(), model.id).limit(limit)))


def latest_visits(session, user: User, household_id: str, limit: int) -> list[Visit]:
    return latest_of_household(session, user, Visit, "visit", household_id, Visit.visited_at, limit)


def latest_touchpoints(session, user: User, household_id: str, limit: int) -> list[Touchpoint]:
    return latest_of_household(session, user, Touchpoint, "touchpoint", household_id, Touchpoint.at, limit)


def photo_marks(session, user: User, rtype: str, record_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """record id -> (its photos the user sees, how many of them still wait for their bytes), for the
    records that have any: one grouped query for a whole list."""
    ids = list(set(record_ids))
    if not ids:
        return {}
    waiting = sa.func.sum(sa.case((Attachment.uploaded_at.is_(None), 1), else_=0))
    rows = session.execute(sa.select(Attachment.record_id, sa.func.count(), waiting).where(
        Attachment.record_type == rtype, Attachment.record_id.in_(ids), Attachment.deleted.is_(False),
        scopes.visible_filter(user, "attachment", Attachment)).group_by(Attachment.record_id)).all()
    return {record_id: (count, int(pending or 0)) for record_id, count, pending in rows}
