"""Emergencies (突发事件) and each household's answer to one."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import (JSONType, KeepsWire, Synced, Tracked, UTCDateTime, enum, index_change_order,
                            index_household_changes, utcnow)

KINDS = ("water_cut", "power_cut", "leak", "lift_entrapment", "fire_alarm", "typhoon", "health_notice", "other")
SEVERITIES = ("notice", "serious", "critical")
ANSWERS = ("safe", "need_help", "not_home")  # not_home: a butler knocked and nobody answered
SOURCES = ("resident", "butler")
KNOCK_AFTER_MINUTES = 15  # households silent this long go on the butlers' door-knock lists
KNOCK_RANGE = (1, 240)


class Incident(Synced, Tracked, KeepsWire, db.Model):
    """One emergency of a community: open while `ended_at` is null; closing it sends the all-clear."""

    __tablename__ = "incident"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(enum(*KINDS, name="incident_kind"), nullable=False)
    severity: Mapped[str] = mapped_column(enum(*SEVERITIES, name="incident_severity"), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # Building codes as households' `building` holds them; empty: the whole community.
    buildings: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    all_clear_note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    knock_after_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=KNOCK_AFTER_MINUTES)
    raised_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))


index_change_order(Incident)


class IncidentCheck(Synced, Tracked, db.Model):
    """A household's answer to an incident. One per household and incident, its id derived from both
    (`check_id`), so that a resident and a butler answering offline write the same record."""

    __tablename__ = "incident_check"

    incident_id: Mapped[str] = mapped_column(sa.ForeignKey("incident.id"), nullable=False, index=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    answer: Mapped[str] = mapped_column(enum(*ANSWERS, name="incident_answer"), nullable=False)
    source: Mapped[str] = mapped_column(enum(*SOURCES, name="incident_answer_source"), nullable=False)
    note: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("incident_id", "household_id", name="uq_incident_check_household"),)


index_change_order(IncidentCheck)
index_household_changes(IncidentCheck)


def check_id(incident_id: str, household_id: str) -> str:
    """The id of a household's answer to an incident: the same on every phone that writes it."""
    return str(uuid.uuid5(uuid.UUID(incident_id), household_id))
