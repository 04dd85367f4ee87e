"""Invites (邀请码) a butler or supervisor gives a household, and residents' own requests to join one.

Neither is synced to phones: both need the server at the moment they matter (an invite is made
and used online; an approval binds an account there), and an invite's code must never rest on a
phone. The butler's app keeps the last list of pending requests it fetched, to show offline.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.auth.models import HOUSEHOLD_ROLES
from server.crypto import EncryptedString
from server.extensions import db
from server.records import UTCDateTime, enum, new_id, utcnow

REQUEST_STATUSES = ("pending", "approved", "refused")


class Invite(db.Model):
    """A one-time code that binds whoever uses it first to a household, with a role in it."""

    __tablename__ = "invite"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    # A keyed hash of the code (the code itself is shown once, to the one who issued it).
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False, index=True)
    household_role: Mapped[str] = mapped_column(enum(*HOUSEHOLD_ROLES, name="household_role"), nullable=False)
    issued_by: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JoinRequest(db.Model):
    """A resident who has no invite asks to be bound to a household; its butler decides."""

    __tablename__ = "join_request"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False, index=True)
    household_role: Mapped[str] = mapped_column(enum(*HOUSEHOLD_ROLES, name="household_role"), nullable=False)
    # The owner as the requester names them, for the butler to check against the household's file.
    owner_name: Mapped[str] = mapped_column(EncryptedString(512), nullable=False)
    status: Mapped[str] = mapped_column(enum(*REQUEST_STATUSES, name="join_request_status"), nullable=False,
                                        default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    __table_args__ = (sa.Index("ix_join_request_status_household", "status", "household_id"),)
