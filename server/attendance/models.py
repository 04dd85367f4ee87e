"""Check-ins (签到/签退): a butler's tap on the phone, a fact that nobody changes afterwards."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import KeepsWire, Synced, Tracked, UTCDateTime, enum, index_change_order

CHECKIN_KINDS = ("in", "out")  # 签到 / 签退


class Checkin(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "checkin"

    # Both set by the server: the writer, and the writer's community (attendance is counted there).
    butler_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False)
    kind: Mapped[str] = mapped_column(enum(*CHECKIN_KINDS, name="checkin_kind"), nullable=False)
    # The phone's clock at the tap (UTC here); the console counts it on the community's calendar.
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    note: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")

    # The console reads a community's month: one index range.
    __table_args__ = (sa.Index("ix_checkin_community_id_at", "community_id", "at"),)


index_change_order(Checkin)
