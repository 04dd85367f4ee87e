"""Communities (小区), grids (网格), households (户) and the people in them: the customer file."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedString
from server.extensions import db
from server.records import JSONType, Synced, Tracked, UTCDateTime, enum, index_change_order, index_household_changes

HOUSEHOLD_STATUSES = ("self_occupied", "rented", "vacant", "custody")
RELATIONS = ("owner", "family", "tenant", "other")
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Community(Synced, db.Model):
    __tablename__ = "community"

    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    city: Mapped[str] = mapped_column(sa.String(50), nullable=False, default="")
    # An IANA name: the community's days (attendance, "today") are counted in it; times stay UTC.
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=DEFAULT_TIMEZONE,
                                          server_default=DEFAULT_TIMEZONE)


class Grid(Synced, db.Model):
    __tablename__ = "grid"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    butler_id: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)


class Household(Synced, Tracked, db.Model):
    __tablename__ = "household"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    grid_id: Mapped[str | None] = mapped_column(sa.ForeignKey("grid.id"), index=True)
    building: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")
    room: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    status: Mapped[str] = mapped_column(enum(*HOUSEHOLD_STATUSES, name="household_status"),
                                        nullable=False, default="self_occupied")
    area_m2: Mapped[float | None] = mapped_column(sa.Float)
    tags: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    visit_cycle_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=90)

    __table_args__ = (
        sa.UniqueConstraint("community_id", "building", "unit", "room",
                            name="uq_household_address"),
    )


class Person(Synced, Tracked, db.Model):
    __tablename__ = "person"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    relation: Mapped[str] = mapped_column(enum(*RELATIONS, name="relation"), nullable=False,
                                          default="owner")
    # Encrypted at rest (AES-GCM); ciphertext is much longer than the number.
    phone: Mapped[str | None] = mapped_column(EncryptedString(255))
    birth_year: Mapped[int | None] = mapped_column(sa.Integer)
    tags: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    consent: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


index_change_order(Household, Person)
index_household_changes(Person)
