"""The supervisors' operations: the monthly work plan (月度工作计划) and quality inspections (品质检查).

Plain tables, read and written only by the console; phones never sync them.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.operations.checklists import CATEGORIES
from server.records import JSONType, UTCDateTime, enum, new_id, utcnow


class WorkPlanItem(db.Model):
    """One piece of a community's monthly plan: what, by when, by whom (staff or an outside contractor).

    Deleting only sets `deleted`: an inspection may point at the item, and copying last month's
    plan again must not bring back an item the supervisor removed from this one.
    """

    __tablename__ = "work_plan_item"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False)  # the first day of the month
    category: Mapped[str] = mapped_column(enum(*CATEGORIES, name="operations_category"), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    due_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    contractor: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")  # 外委, if any
    assignee_id: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    done_note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # The item of the month before that this one was copied from: copying twice adds nothing.
    copied_from_id: Mapped[str | None] = mapped_column(sa.ForeignKey("work_plan_item.id"))
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_by: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        sa.Index("ix_work_plan_item_community_month", "community_id", "month"),
        # Each item is copied into the month after it at most once, even by two clicks at the same time.
        sa.UniqueConstraint("copied_from_id"),
    )


class Inspection(db.Model):
    """One quality inspection of a place against its category's checklist, with each answer kept."""

    __tablename__ = "quality_inspection"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False)
    inspected_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    category: Mapped[str] = mapped_column(enum(*CATEGORIES, name="operations_category"), nullable=False)
    place: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    inspector_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    plan_item_id: Mapped[str | None] = mapped_column(sa.ForeignKey("work_plan_item.id"), index=True)
    # [{key, zh, en, passed, note}] in checklist order: the item's words as they were that day.
    items: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    passed: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    total: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.Index("ix_quality_inspection_community_date", "community_id", "inspected_on"),)


class InspectionPhoto(db.Model):
    """A photo of an inspection: of one checklist item (`item`, its key; a failed one, as a rule) or of
    the whole inspection (`item` ""). Its bytes are the attachments' (attachment_blob and the store, by
    SHA-256): taken in by the console (server/operations/photos.py), read only through the console,
    through the inspection's community, and kept by `sync-purge` while a photo names them."""

    __tablename__ = "quality_inspection_photo"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    inspection_id: Mapped[str] = mapped_column(sa.ForeignKey("quality_inspection.id"), nullable=False, index=True)
    item: Mapped[str] = mapped_column(sa.String(50), nullable=False, default="")
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    content_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    width: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    height: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    author_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
