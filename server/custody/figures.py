"""The dashboard's custody table: the homes in custody whose inspection is overdue (server/console)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from server.auth.models import User
from server.community.models import Grid
from server.console.figures import PLACE_COLUMNS, Column, Table
from server.custody.service import schedule

OVERDUE_CUSTODY_LIMIT = 200


def overdue_custody(session, community_id: str, today: date) -> Table:
    """Homes in custody overdue for an inspection as of `today`, the most overdue first. No owner's
    name: an address, its grid and butler, the day it was due."""
    late = [d for d in schedule(session, community_id=community_id, today=today) if d.state == "overdue"]
    grids = {g.id: g for g in session.scalars(sa.select(Grid).where(
        Grid.id.in_({d.household.grid_id for d in late if d.household.grid_id})))} if late else {}
    butlers = dict(session.execute(sa.select(User.id, User.name).where(
        User.id.in_({g.butler_id for g in grids.values() if g.butler_id}))).all()) if grids else {}
    rows = []
    for d in sorted(late, key=lambda d: -d.days_late)[:OVERDUE_CUSTODY_LIMIT]:
        grid = grids.get(d.household.grid_id)
        rows.append((d.household.building, d.household.unit, d.household.room, grid.name if grid else "",
                     butlers.get(grid.butler_id, "") if grid else "", d.due_on, d.days_late))
    return Table("overdue_custody", f"托管房屋逾期未巡查（最多 {OVERDUE_CUSTODY_LIMIT} 户）",
                 f"Homes in custody overdue for an inspection (at most {OVERDUE_CUSTODY_LIMIT})", (
                     *PLACE_COLUMNS,
                     Column("due_on", "应巡查日期", "Due on", "date"),
                     Column("days_overdue", "逾期天数", "Days overdue", "int"),
                 ), tuple(rows), chart="none")
