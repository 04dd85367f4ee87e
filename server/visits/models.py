"""Home visits (脱鞋入户) and touchpoints (触点)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import JSONType, Synced, Tracked, UTCDateTime, enum, index_change_order

VISIT_KINDS = ("routine", "new_owner", "follow_up", "complaint", "emergency")
CHANNELS = ("lobby", "phone", "wechat", "visit", "other")


class Visit(Synced, Tracked, db.Model):
    __tablename__ = "visit"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False, index=True)
    butler_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(enum(*VISIT_KINDS, name="visit_kind"), nullable=False,
                                      default="routine")
    # item -> {"ok": bool, "note": str}
    checklist: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    needs: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    satisfaction: Mapped[int | None] = mapped_column(sa.Integer)
    products_interest: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    follow_up_at: Mapped[date | None] = mapped_column(sa.Date)


class Touchpoint(Synced, Tracked, db.Model):
    __tablename__ = "touchpoint"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False, index=True)
    butler_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str] = mapped_column(enum(*CHANNELS, name="channel"), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


index_change_order(Visit, Touchpoint)
