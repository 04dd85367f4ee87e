"""The back office's scorecard (the console's dashboard): per team and vendor, the tickets it
finished in the period, how fast it took and did them, and how residents and butlers rated it.

A ticket counts for the team that holds it when it is resolved (`team_id`; a 1–2★ "not fixed"
reopens it with the same team). Times run from when that team got it (`handed_at`, the last
hand-off) to its acceptance and to its resolution; medians are computed in the database, as the
dashboard's other figures (server/console/figures.py), the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from server.community.models import Household
from server.console.figures import Column, Table, _minutes, _natural, _number, _Sql
from server.teams.models import Team
from server.tickets.models import Ticket


def _medians(session, base, key, value) -> dict:
    """The median of `value` per `key` of the CTE `base`, by row_number (no percentile_cont on SQLite)."""
    ranked = (sa.select(base.c[key].label("k"), base.c[value].label("v"),
                        sa.func.row_number().over(partition_by=base.c[key], order_by=base.c[value]).label("n"),
                        sa.func.count().over(partition_by=base.c[key]).label("of"))
              .where(base.c[value].is_not(None)).subquery(f"ranked_{value}"))
    return dict(session.execute(sa.select(ranked.c.k, sa.func.avg(ranked.c.v))
                                .where(ranked.c.n.in_([(ranked.c.of + 1) // 2, (ranked.c.of + 2) // 2]))
                                .group_by(ranked.c.k)).all())


def team_scorecard(session, q: _Sql, community_id: str, since: datetime, until: datetime) -> Table:
    """One row per live team of the community (none finished: zeros and blanks), by name."""
    got = q.micros(sa.func.coalesce(Ticket.handed_at, Ticket.created_at))
    base = (sa.select(Ticket.team_id.label("team_id"),
                      sa.case((Ticket.accepted_at.is_not(None), q.micros(Ticket.accepted_at) - got)).label("to_accept"),
                      (q.micros(Ticket.resolved_at) - got).label("to_resolve"),
                      Ticket.rating, Ticket.backoffice_rating)
            .join(Household, Household.id == Ticket.household_id)
            .where(Household.community_id == community_id, Household.deleted.is_(False), Ticket.deleted.is_(False),
                   Ticket.team_id.is_not(None), Ticket.resolved_at.is_not(None),
                   Ticket.resolved_at >= since, Ticket.resolved_at < until)
            .cte("done"))
    totals = {row[0]: row[1:] for row in session.execute(
        sa.select(base.c.team_id, sa.func.count(), sa.func.avg(base.c.rating), sa.func.count(base.c.rating),
                  sa.func.avg(base.c.backoffice_rating), sa.func.count(base.c.backoffice_rating))
        .group_by(base.c.team_id)).all()}
    accept = _medians(session, base, "team_id", "to_accept")
    resolve = _medians(session, base, "team_id", "to_resolve")
    teams = session.execute(sa.select(Team.id, Team.name, Team.kind, Team.company)
                            .where(Team.community_id == community_id, Team.deleted.is_(False))).all()
    rows = []
    for team_id, name, kind, company in sorted(teams, key=lambda t: (_natural(t.name), t.id)):
        done, rating, ratings, backoffice, backoffice_ratings = totals.get(team_id, (0, None, 0, None, 0))
        rows.append((name, kind, company, done, _minutes(accept.get(team_id)), _minutes(resolve.get(team_id)),
                     _number(rating), ratings, _number(backoffice), backoffice_ratings))
    return Table("team_scorecard", "后台班组与外委评分", "Back-office teams and vendors", (
        Column("team", "班组", "Team"),
        Column("team_kind", "类型", "Kind"),
        Column("company", "外委公司", "Company"),
        Column("done", "完成件数", "Tickets done", "int"),
        Column("accept_median_minutes", "接单用时中位数（分钟）", "Median minutes to accept", "minutes"),
        Column("resolve_median_minutes", "完成用时中位数（分钟）", "Median minutes to resolve", "minutes"),
        Column("resident_rating", "住户评分（1–5）", "Resident rating (1–5)", "number"),
        Column("resident_ratings", "住户评价数", "Resident ratings", "int"),
        Column("backoffice_rating", "管家后台评价（1–5）", "Butlers' back-office rating (1–5)", "number"),
        Column("backoffice_ratings", "后台评价数", "Back-office ratings", "int"),
    ), tuple(rows), chart="none")
