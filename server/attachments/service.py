"""Rules of attachments: which record a photo may hang on, who reads its bytes, and purging.

Plain functions, the session first; the upload of the bytes is server/attachments/uploads.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from server.attachments.models import Attachment, AttachmentBlob, UploadChunk
from server.attachments.storage import Store
from server.audit import service as audit
from server.auth import scopes
from server.auth.models import User
from server.errors import ApiError, FieldError, Forbidden, ValidationFailed
from server.records import utcnow
from server.resources.hooks import Rules
from server.resources.registry import Resource, registry

SIZES = ("thumb", "full")


class Pending(ApiError):
    """The photo's record is here, its bytes not yet (照片上传中)."""

    status, code = 404, "attachment_pending"


@cache
def attachable() -> dict[str, Resource]:
    """The record types photos may be attached to (`attachments=True` where each is declared)."""
    return {rtype: res for rtype, res in registry().items() if res.attachments}


def store() -> Store:
    return current_app.extensions["attachment_store"]


def _prepare_create(session: Session, user: User, values: dict) -> None:
    """The record must be of a type that takes photos, exist, lie in the household named, and be
    one the user sees (or a visit of their own, taken before they lost the household: grace)."""
    res = attachable().get(values["record_type"])
    if res is None:
        raise ValidationFailed([FieldError("record_type", "not_attachable")])
    record = session.get(res.model, values["record_id"])
    if record is None or record.deleted:
        raise ValidationFailed([FieldError("record_id", "not_found")])
    if record.household_id != values["household_id"]:
        raise ValidationFailed([FieldError("household_id", "invalid")])
    own = getattr(record, "butler_id", None) == user.id
    if not own and not scopes.is_visible(session, user, res.type, res.model, record.id):
        raise Forbidden(errors=[FieldError("record_id", "out_of_scope")])
    values["author_id"] = user.id
    blob = session.get(AttachmentBlob, values["sha256"])
    if blob is not None and blob.stored_at is not None:  # the same bytes are here already: nothing to send
        if blob.length != values["size"]:
            raise ValidationFailed([FieldError("size", "length_mismatch")])
        # Touched in the same statement that finds them still here: a purge deleting them now either
        # went first (nothing touched: the phone sends them again) or waits for this row and, finding
        # it touched, keeps the bytes.
        now = utcnow()
        if session.execute(sa.update(AttachmentBlob).where(
                AttachmentBlob.sha256 == blob.sha256, AttachmentBlob.stored_at.is_not(None))
                .values(updated_at=now).execution_options(synchronize_session=False)).rowcount:
            values["uploaded_at"] = now


ATTACHMENT_RULES = Rules(prepare_create=_prepare_create)


def visible_with_hash(session: Session, user: User, sha256: str) -> list[int]:
    """The declared sizes of the photos with these bytes that the user sees (none: they may not send them)."""
    return list(session.scalars(sa.select(Attachment.size).where(
        Attachment.sha256 == sha256, Attachment.deleted.is_(False),
        scopes.visible_filter(user, "attachment", Attachment))))


@dataclass(frozen=True)
class Content:
    data: bytes
    content_type: str
    sha256: str


def read_content(session: Session, *, user: User, attachment_id: str, size: str, via: audit.Via) -> Content:
    """A photo's bytes (or its thumbnail), through its record's scope; the read is written to the audit
    trail as a read of the household's file. The caller commits."""
    from server.resources import service as records

    if size not in SIZES:
        raise ValidationFailed([FieldError("size", "invalid_choice", choices=", ".join(SIZES))])
    attachment = records.get(session, user=user, rtype="attachment", record_id=attachment_id)  # 403/404
    blob = session.get(AttachmentBlob, attachment.sha256)
    if blob is None or blob.stored_at is None:
        raise Pending()
    data = store().get(f"{size}/{blob.sha256}")
    if data is None:  # the store lost it: as good as not sent
        raise Pending()
    audit.insert(session, [{"at": utcnow(), "user_id": user.id, "device_id": via.device_id,
                            "community_id": audit.household_communities(session, {attachment.household_id})
                            .get(attachment.household_id), "household_id": attachment.household_id,
                            "action": "read", "record_type": "attachment", "record_id": attachment.id,
                            "fields": [size], "channel": via.channel}])
    return Content(data, "image/jpeg" if size == "thumb" else blob.content_type or "application/octet-stream",
                   blob.sha256)


def of_records(session: Session, *, user: User, rtype: str, record_ids: list[str]) -> dict[str, list[Attachment]]:
    """The photos the user sees of some records (the console's pages), oldest first, by record id."""
    if not record_ids:
        return {}
    found: dict[str, list[Attachment]] = {}
    for attachment in session.scalars(
            sa.select(Attachment).where(Attachment.record_type == rtype, Attachment.record_id.in_(record_ids),
                                        Attachment.deleted.is_(False),
                                        scopes.visible_filter(user, "attachment", Attachment))
            .order_by(Attachment.created_at, Attachment.id)):
        found.setdefault(attachment.record_id, []).append(attachment)
    return found


def purge(session: Session, *, older_than: datetime) -> dict[str, int]:
    """Forget photos whose record is gone, and the bytes no photo names any more (uploads left
    unfinished included), once untouched since `older_than`. The caller commits.

    A photo of a record deleted or purged becomes a tombstone (phones pull it and drop the photo;
    the next purges forget it as any tombstone): removed outright, it would stay on every phone
    that holds it. Its bytes go in the same run if nobody touched them for the period."""
    from server.operations.models import InspectionPhoto
    from server.syncing import bookkeeping

    gone = 0
    for rtype, res in attachable().items():
        live = sa.select(res.model.id).where(res.model.deleted.is_(False))
        for attachment in session.scalars(sa.select(Attachment).where(
                Attachment.record_type == rtype, Attachment.deleted.is_(False),
                Attachment.record_id.not_in(live)).order_by(Attachment.id)):
            attachment.deleted = True
            bookkeeping.changed(session, "attachment", attachment)
            gone += 1  # (purge_tombstones counts the tombstones it forgets as `attachment`)
    session.flush()
    # Bytes a live photo names stay: a record's, or an inspection's (the console's, server/operations/photos.py).
    named = sa.union(sa.select(Attachment.sha256).where(Attachment.deleted.is_(False)),
                     sa.select(InspectionPhoto.sha256))
    unnamed = sa.and_(AttachmentBlob.updated_at < older_than, AttachmentBlob.sha256.not_in(named))
    session.execute(sa.delete(UploadChunk).where(UploadChunk.sha256.in_(sa.select(AttachmentBlob.sha256)
                                                                        .where(unnamed))))
    # The rows deleted say which objects go: bytes a new photo touched meanwhile are not among them
    # (see _prepare_create).
    doomed = session.execute(sa.delete(AttachmentBlob).where(unnamed)
                             .returning(AttachmentBlob.sha256, AttachmentBlob.stored_at)
                             .execution_options(synchronize_session=False)).all()
    for sha256, stored_at in sorted(doomed):
        if stored_at is not None:
            for size in SIZES:
                store().delete(f"{size}/{sha256}")
    return {"attachment_orphans": gone, "attachment_bytes": len(doomed)}
