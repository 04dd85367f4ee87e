"""Users, their devices (one bearer token each) and failed logins."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.records import UTCDateTime, enum, new_id, utcnow

# technician: anyone of the back office (工程, 保洁, 秩序, 外委), by their team (server/teams/models.py).
ROLES = ("butler", "resident", "supervisor", "admin", "technician")
# A resident's place in their household: several residents may share one (server/joining).
HOUSEHOLD_ROLES = ("owner", "family", "tenant")
LANGUAGES = ("zh-CN", "en")


class User(db.Model):
    __tablename__ = "user_account"  # "user" is reserved on PostgreSQL

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    role: Mapped[str] = mapped_column(enum(*ROLES, name="role"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    language: Mapped[str] = mapped_column(enum(*LANGUAGES, name="language"), nullable=False,
                                          default="zh-CN")
    # Supervisors and butlers work for one community; residents live in one household.
    community_id: Mapped[str | None] = mapped_column(sa.ForeignKey("community.id"), index=True)
    # use_alter: users, grids and households refer to each other; this key is added last.
    household_id: Mapped[str | None] = mapped_column(sa.ForeignKey("household.id", use_alter=True),
                                                     index=True)
    household_role: Mapped[str | None] = mapped_column(enum(*HOUSEHOLD_ROLES, name="household_role"))
    # A technician works in one team of their community (server/teams): it is what they see.
    team_id: Mapped[str | None] = mapped_column(sa.ForeignKey("team.id"), index=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    demo: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Set when a supervisor made or reset the password (so they saw it): until the user sets their
    # own, the API answers only logout, /me and /me/password (403 password_change_required).
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    devices = relationship("Device", back_populates="user", cascade="all, delete-orphan")


class Device(db.Model):
    """One installed app (or browser) that logged in; holds exactly one token, stored hashed."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    client_id: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the token died: "logout" (the device itself), "password_reset" or "password_changed" (a
    # supervisor's reset, or the user's own change on another device: log in again; what is unsent
    # stays), "revoked" (a lost or stolen phone, or a supervisor's order: it wipes its local data at its
    # next contact).
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(20))

    user = relationship("User", back_populates="devices")


class LoginFailure(db.Model):
    """A failed login, kept for throttling; usernames and addresses only as keyed hashes."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.Index("ix_login_failure_subject_at", "subject", "at"),)
