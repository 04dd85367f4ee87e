"""房屋托管 custody of empty homes: the contract per household, the butler's inspections, the keys
kept for the owner and the owner's report links."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import (JSONType, KeepsWire, Synced, Tracked, UTCDateTime, enum, index_change_order,
                            index_household_changes, new_id)

# What a contract may cover; an inspection answers each covered one.
SERVICES = ("airing", "cleaning", "leak_check", "power_check", "water_check", "key_kept", "bills")
KEY_MOVES = ("out", "in")


class CustodyContract(Synced, Tracked, db.Model):
    """What the company does for an empty home and how often the butler inspects it. Its status
    (upcoming, active, ended) follows from the dates and each reader's today: never stored.

    Not `KeepsWire`: the owner's name is the household file, never kept twice."""

    __tablename__ = "custody_contract"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    owner_name: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    start_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    services: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    inspection_every_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=14)
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


class CustodyInspection(Synced, Tracked, KeepsWire, db.Model):
    """One inspection of a home in custody, made by its butler on the phone (offline as often as not):
    an answer per contracted service, what was done, and photos (attachments)."""

    __tablename__ = "custody_inspection"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    # No foreign key: a deleted contract's tombstone is purged in time (server/syncing/changes.py)
    # while the inspections made under it stay in the household's history.
    contract_id: Mapped[str] = mapped_column(sa.String(36), nullable=False, index=True)
    butler_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # service -> {"ok": bool, "note": str}
    checklist: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    done: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


index_change_order(CustodyContract, CustodyInspection)
index_household_changes(CustodyContract, CustodyInspection)


class CustodyKey(db.Model):
    """A key of a home in custody (console only): who holds it now. Keys, their log and report links
    go with their household when its tombstone is purged (ON DELETE CASCADE)."""

    __tablename__ = "custody_key"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    label: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    holder: Mapped[str] = mapped_column(sa.String(100), nullable=False)  # who keeps it when it is in
    out_to: Mapped[str | None] = mapped_column(sa.String(100))  # set while signed out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CustodyKeyMove(db.Model):
    """One signing out or back in of a key: the key's log."""

    __tablename__ = "custody_key_move"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    key_id: Mapped[str] = mapped_column(sa.ForeignKey("custody_key.id", ondelete="CASCADE"), nullable=False,
                                        index=True)
    move: Mapped[str] = mapped_column(enum(*KEY_MOVES, name="custody_key_move"), nullable=False)
    person: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")  # signed out to
    reason: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    by_user: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)


class CustodyReportLink(db.Model):
    """A link that lets the owner read one month's report without an account. The token is only in
    the link: the database keeps its SHA-256. It expires, and a supervisor may revoke it."""

    __tablename__ = "custody_report_link"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False)  # its first day
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
