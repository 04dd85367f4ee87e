"""Community notices (公告): 停水通知, 消杀安排, 社区活动… one community's announcements."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import KeepsWire, Synced, Tracked, UTCDateTime, index_change_order, utcnow


class Notice(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "notice"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # When it is (or was) published: the phones list notices newest first and hold back later ones.
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # One building's (its households' residents and the butlers of their grids), or "" for the whole community.
    building: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")
    pinned: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)  # listed first
    # When its audience was told (server/notices/service.py): at publishing, or when a scheduled one falls due.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # written by the server only


index_change_order(Notice)
