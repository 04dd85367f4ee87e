"""The back office (后台): teams of technicians a butler hands repairs and chores to.

One role, "technician", for everyone who does the work behind a butler (工程/维修, 保洁, 秩序/安保,
and the staff of an outside company, 外委): what they may do is the same (see the jobs handed to
them or their team, take one, do it, pass it on or give it back); what differs is the team they
work in, and a team says what kind of work it does.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import JSONType, KeepsWire, Synced, Tracked, enum, index_change_order

# engineering 工程/维修, cleaning 保洁, security 秩序/安保, vendor 外委 (an outside company)
TEAM_KINDS = ("engineering", "cleaning", "security", "vendor")


class Team(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "team"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    kind: Mapped[str] = mapped_column(enum(*TEAM_KINDS, name="team_kind"), nullable=False)
    company: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")  # a vendor's company
    # Who is in it, [{"id", "name"}]: written by server/teams/service.py whenever a technician joins
    # or leaves (the truth is each technician's user_account.team_id); phones read it to hand a job
    # to a person.
    members: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)


index_change_order(Team)
