"""The audit trail: who read a household's personal data, and who changed what, when.

Rows are only ever added: no API, console page or CLI command changes or deletes them, and
`sync-purge` leaves them alone. So household, record and device ids are plain strings, not foreign
keys: the trail outlives the records it names (a purged tombstone, a forgotten device).
An event names fields, never their values: the trail must not become a second copy of the
personal data it watches over (docs/audit.md).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import JSONType, UTCDateTime, enum, utcnow

# 'read' and the record changes; then what a supervisor does to an account from the console.
ACTIONS = ("read", "create", "update", "delete", "create_user", "reset_password", "revoke_device")
CHANNELS = ("api", "sync", "console")


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    # An autoincrementing 64-bit key on PostgreSQL; SQLite autoincrements only an INTEGER key.
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    device_id: Mapped[str | None] = mapped_column(sa.String(36))
    # The community the event belongs to (the record's; the actor's for the catalogue): None only for
    # an admin's write to a record of no community.
    community_id: Mapped[str | None] = mapped_column(sa.String(36))
    household_id: Mapped[str | None] = mapped_column(sa.String(36))  # the household the record hangs on
    action: Mapped[str] = mapped_column(enum(*ACTIONS, name="audit_action"), nullable=False)
    record_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    record_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    fields: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)  # names only, never values
    channel: Mapped[str] = mapped_column(enum(*CHANNELS, name="audit_channel"), nullable=False)

    __table_args__ = (
        # Listed newest first (by id: ids grow with time) per household, per user, per community.
        sa.Index("ix_audit_event_household_id", "household_id", "id"),
        sa.Index("ix_audit_event_user_id", "user_id", "id"),
        sa.Index("ix_audit_event_community_id", "community_id", "id"),
    )
