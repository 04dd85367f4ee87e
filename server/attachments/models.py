"""Attachments: the record (what is attached to what, replicated like any record) and its bytes
(content-addressed by SHA-256, uploaded in resumable chunks, kept in the configured store)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import Synced, Tracked, UTCDateTime, enum, index_change_order, index_household_changes, utcnow

CONTENT_TYPES = ("image/jpeg", "image/webp", "image/png")
ROLES = ("photo", "before", "after")  # a ticket's photos: the fault (before) and the repair (after)
MAX_BYTES = 10 * 1024 * 1024  # the largest photo taken in (the phone sends ~0.3–1 MB)
MAX_CHUNK_BYTES = 1024 * 1024  # the largest piece of one upload request


class Attachment(Synced, Tracked, db.Model):
    """One photo attached to one record (a visit, a touchpoint, a ticket), by its bytes' hash.

    The phone makes it with the record, offline; it syncs at once and the bytes follow by upload
    (server/attachments/uploads.py). `uploaded_at` is set by the server when the bytes are here:
    until then the console shows 照片上传中. It hangs on the record's household: evicted and purged
    with it; it is seen by whoever sees its record (scope "of_record", server/auth/scopes.py).
    """

    __tablename__ = "attachment"

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    record_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    record_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    content_type: Mapped[str] = mapped_column(enum(*CONTENT_TYPES, name="attachment_content_type"), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    width: Mapped[int | None] = mapped_column(sa.Integer)
    height: Mapped[int | None] = mapped_column(sa.Integer)
    role: Mapped[str] = mapped_column(enum(*ROLES, name="attachment_role"), nullable=False, default="photo")
    item: Mapped[str] = mapped_column(sa.String(50), nullable=False, default="")  # a visit's checklist item
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # written by the server only


sa.Index("ix_attachment_record", Attachment.record_type, Attachment.record_id)
index_change_order(Attachment)
index_household_changes(Attachment)


class AttachmentBlob(db.Model):
    """The bytes of one photo, by SHA-256 (shared by every attachment with that hash: a resend is free).

    While an upload is under way `received` counts the bytes taken so far, kept as chunks in the
    database (UploadChunk), so that any app server takes the next piece; once `length` bytes are
    here, their hash and image are checked, they move to the store and `stored_at` is set.
    """

    __tablename__ = "attachment_blob"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    length: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    received: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    content_type: Mapped[str | None] = mapped_column(sa.String(20))
    width: Mapped[int | None] = mapped_column(sa.Integer)
    height: Mapped[int | None] = mapped_column(sa.Integer)
    thumb_size: Mapped[int | None] = mapped_column(sa.Integer)
    started_by: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UploadChunk(db.Model):
    """One piece of an upload under way, at its byte offset; gone once the upload is whole."""

    __tablename__ = "attachment_chunk"

    sha256: Mapped[str] = mapped_column(sa.ForeignKey("attachment_blob.sha256", ondelete="CASCADE"),
                                        primary_key=True)
    offset: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
