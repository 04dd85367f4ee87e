"""A community's households as the console lists them: filtered by grid, building, status and the
numbers of their address, sorted by address or by last visit (上次走访, never visited first, then the
longest ago), and a page at a time by keyset (server/keyset.py), so a community of thousands of
households costs a page's worth per page.

The search looks at building, unit and room only, and only for digits and Latin letters ("3-2-1201",
"A 12"): it travels in the page's address, where no name or phone number may go.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
from server.community.models import Household
from server.records import UTCDateTime, unindexed
from server.visits.models import Visit

PAGE = 50
SORTS = ("address", "visit")  # visit: never visited first, then the longest ago
NO_GRID = "none"  # the grid filter's value for households in no grid
SEARCH_MAX = 20
SEARCH_PATTERN = r"[0-9A-Za-z\- ]{0,%d}" % SEARCH_MAX  # the form's pattern too: numbers and letters only
NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the last visit of a household never visited, for its key


@dataclass(frozen=True)
class HouseholdQuery:
    grid_id: str | None = None  # a grid's id, or NO_GRID
    building: str | None = None
    status: str | None = None
    search: str = ""  # terms of digits and letters, apart at spaces or dashes; each in building, unit or room
    sort: str = "address"
    after: str | None = None  # the token of the last row of the page before
    before: str | None = None  # the token of the first row of the page after
    limit: int = PAGE


def searchable(text: str) -> bool:
    """Whether a search may be used: numbers and letters of an address, nothing else."""
    return re.fullmatch(SEARCH_PATTERN, text) is not None


def _conditions(community_id: str | None, query: HouseholdQuery) -> list:
    conditions = [Household.community_id == community_id, Household.deleted.is_(False)]
    no_grid = query.grid_id == NO_GRID
    if no_grid:
        conditions.append(Household.grid_id.is_(None))
    conditions += [column == value for column, value in ((Household.grid_id, None if no_grid else query.grid_id),
                                                         (Household.building, query.building),
                                                         (Household.status, query.status)) if value]
    for term in re.split(r"[\s-]+", query.search if searchable(query.search) else ""):
        if term:
            conditions.append(sa.or_(Household.building.ilike(f"%{term}%"), Household.unit.ilike(f"%{term}%"),
                                     Household.room.ilike(f"%{term}%")))
    return conditions


def _last_visits(session: Session, community_id: str | None):
    """Each of the community's visited households' last visit (a scan of the visits: see records.unindexed)."""
    household = unindexed(Visit.household_id, session.get_bind().dialect.name == "postgresql")  # not in the select list: the join back needs its column
    return (sa.select(Visit.household_id.label("household_id"), sa.func.max(Visit.visited_at).label("last_at"))
            .where(household.in_(sa.select(Household.id).where(Household.community_id == community_id,
                                                                 Household.deleted.is_(False))),
                   Visit.deleted.is_(False))
            .group_by(household).subquery("last_visit"))


def _address_keys() -> tuple:
    """Building, unit and room in natural order ("2" before "10": shorter first), then the id."""
    keys = []
    for column in (Household.building, Household.unit, Household.room):
        keys += [keyset.Key(sa.func.length(column), int), keyset.Key(column, str)]
    return (*keys, keyset.Key(Household.id, str))


def _address_of(household: Household) -> tuple:
    parts = (household.building, household.unit, household.room)
    return (*(value for part in parts for value in (len(part), part)), household.id)


def household_page(session: Session, community_id: str | None, query: HouseholdQuery) -> keyset.Page:
    """One page of the community's households that match `query`, in its order, each with its last
    visit ((Household, datetime or None) rows), and the filtered total. Raises keyset.BadPageToken for a token it did not write."""
    conditions = _conditions(community_id, query)
    total = session.scalar(sa.select(sa.func.count()).select_from(Household).where(*conditions))
    if query.sort == "visit":
        last = _last_visits(session, community_id)
        at = sa.func.coalesce(last.c.last_at, sa.literal(NEVER, UTCDateTime))
        order = keyset.Order("households:visit", (keyset.Key(at, datetime), *_address_keys()), False,
                             lambda row: (row[1] or NEVER, *_address_of(row[0])))
        statement = (sa.select(Household, last.c.last_at).outerjoin(last, last.c.household_id == Household.id)
                     .where(*conditions))
        found = keyset.page(session, statement, order, limit=query.limit, after=query.after, before=query.before)
        rows = [(household, at) for household, at in found.rows]
    else:
        order = keyset.Order("households:address", _address_keys(), False, lambda row: _address_of(row[0]))
        found = keyset.page(session, sa.select(Household).where(*conditions), order, limit=query.limit,
                            after=query.after, before=query.before)
        ids = [household.id for household, in found.rows]
        visited = dict(session.execute(
            sa.select(Visit.household_id, sa.func.max(Visit.visited_at))
            .where(Visit.household_id.in_(ids), Visit.deleted.is_(False)).group_by(Visit.household_id)).all()) \
            if ids else {}
        rows = [(household, visited.get(household.id)) for household, in found.rows]
    return replace(found, rows=rows, total=total)
