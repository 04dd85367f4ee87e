"""Tables of the sync engine: the change counter, applied mutations, evictions and conflicts."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedJSON
from server.extensions import db
from server.records import Synced, Tracked, UTCDateTime, enum, index_change_order, utcnow


class SyncCounter(db.Model):
    """One row: how changes are numbered (server/syncing/changes.py), and the tombstone horizon.

    SQLite: `value` is the last number handed out; taking the next one locks this row until
    commit, so numbers become visible in the order they were handed out. PostgreSQL: a change is
    numbered with its transaction id plus `xid_offset`, set once (above every number the counter
    had handed out), and this row is never locked by a writer.
    """

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    # Tombstones below this sequence number have been purged: older cursors must reset.
    horizon: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    xid_offset: Mapped[int | None] = mapped_column(sa.BigInteger)


class SyncMutation(db.Model):
    """The first answer to each mutation a user sent, so a resend is answered, not re-applied."""

    __tablename__ = "sync_mutation"

    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    mid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    # Encrypted: a conflict's answer carries the values that met (a phone number, say).
    result: Mapped[dict] = mapped_column(EncryptedJSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SyncEviction(db.Model):
    """A record that left a user's scope: their next pull tells the phone to drop it."""

    __tablename__ = "sync_eviction"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    record_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    record_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    household_id: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        sa.Index("ix_sync_eviction_user_seq", "user_id", "seq"),
        sa.Index("ix_sync_eviction_user_household", "user_id", "household_id"),
    )


CONFLICT_STATUSES = ("open", "settled")


class SyncConflict(Synced, Tracked, db.Model):
    """Two values typed for one field: the later one is in the record, the other is kept here."""

    __tablename__ = "sync_conflict"

    community_id: Mapped[str | None] = mapped_column(sa.ForeignKey("community.id"), index=True)  # None: catalogue
    household_id: Mapped[str | None] = mapped_column(sa.String(36))
    record_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    record_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    field: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    # The record's version that holds kept_value; if the field changes after it, settling must
    # not overwrite that newer value unseen.
    record_version: Mapped[int | None] = mapped_column(sa.Integer)
    kept_value = mapped_column(EncryptedJSON)
    kept_by: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    other_value = mapped_column(EncryptedJSON)
    other_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(enum(*CONFLICT_STATUSES, name="conflict_status"), nullable=False,
                                        default="open")
    chosen = mapped_column(EncryptedJSON)
    settled_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


index_change_order(SyncConflict)
