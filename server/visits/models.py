"""Home visits (脱鞋入户) and touchpoints (触点)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import KeepsWire, JSONType, Synced, Tracked, UTCDateTime, enum, index_change_order, index_household_changes

VISIT_KINDS = ("routine", "new_owner", "follow_up", "complaint", "emergency")
CHANNELS = ("lobby", "phone", "wechat", "visit", "other")


class Visit(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "visit"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
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


class Touchpoint(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "touchpoint"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    butler_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str] = mapped_column(enum(*CHANNELS, name="channel"), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


index_change_order(Visit, Touchpoint)
index_household_changes(Visit, Touchpoint)


# The checklist of a home visit when a community has set none of its own.
DEFAULT_CHECKLIST = (
    {"key": "utilities", "zh": "水电气", "en": "Water, power, gas"},
    {"key": "doors_windows", "zh": "门窗", "en": "Doors and windows"},
    {"key": "leaks", "zh": "渗漏", "en": "Leaks"},
    {"key": "fire_safety", "zh": "消防安全", "en": "Fire safety"},
    {"key": "drains", "zh": "下水管道", "en": "Drains"},
    {"key": "appliances", "zh": "家电设施", "en": "Appliances and fittings"},
    {"key": "elderly_safety", "zh": "老人安全（防滑、扶手）", "en": "Safety of the elderly (grip, rails)"},
)


class ChecklistTemplate(db.Model):
    """A community's visit checklist: the items a butler goes through in each home (脱鞋入户).

    A visit keeps the answers by item key (visit.checklist), so changing the template never
    changes a visit already made.
    """

    __tablename__ = "checklist_template"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), primary_key=True)
    items: Mapped[list] = mapped_column(JSONType, nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
