"""The resumable, content-addressed upload of a photo's bytes (after tus 1.0's core protocol).

The phone syncs the attachment record first, then sends the bytes to /api/v1/uploads/<sha256> in
pieces: each PATCH names the offset it starts at (`Upload-Offset`) and the whole length
(`Upload-Length`). The server takes a piece only at the offset it has reached (else 409 with the
offset, from which the phone goes on), keeps the pieces in the database (so that any app server
takes the next one), and once the length is reached checks the hash and the image, stores the
bytes and a thumbnail, and marks every photo with that hash uploaded. Bytes already here are
never sent again: the first answer says `complete`.

Nothing is kept of a refused upload: a wrong hash or a file that is not an image forgets the
pieces, and the phone must take or pick the photo again.

`prepare` (check and thumbnail) and `keep` (store and tell) are every way in for a photo's bytes: the
last piece of an upload here, and the console's photos of an inspection (server/operations/photos.py)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments import images
from server.attachments.models import MAX_BYTES, MAX_CHUNK_BYTES, Attachment, AttachmentBlob, UploadChunk
from server.attachments.service import store, visible_with_hash
from server.auth.models import User
from server.errors import ApiError, FieldError, NotFound, TooLarge, ValidationFailed
from server.records import utcnow
from server.syncing import bookkeeping


class OffsetMismatch(ApiError):
    status, code = 409, "upload_offset_mismatch"


def state(blob: AttachmentBlob | None, sha256: str) -> dict:
    if blob is None:
        return {"sha256": sha256, "offset": 0, "length": None, "complete": False}
    complete = blob.stored_at is not None
    return {"sha256": sha256, "offset": blob.length if complete else blob.received, "length": blob.length,
            "complete": complete}


def _sizes(session: Session, user: User, sha256: str) -> list[int]:
    sizes = visible_with_hash(session, user, sha256)
    if not sizes:  # no photo of theirs has these bytes: nothing to take (and nothing told of others')
        raise NotFound()
    return sizes


def upload_state(session: Session, *, user: User, sha256: str) -> dict:
    _sizes(session, user, sha256)
    return state(session.get(AttachmentBlob, sha256), sha256)


def receive(session: Session, *, user: User, sha256: str, offset: int, length: int, data: bytes) -> dict:
    """Take one piece of the upload; the caller commits. Returns the state after it."""
    sizes = _sizes(session, user, sha256)  # first: nothing is told of bytes the user may not send
    if length > MAX_BYTES:
        raise TooLarge("photo_too_large", max_mb=MAX_BYTES // (1024 * 1024))
    if len(data) > MAX_CHUNK_BYTES:
        raise TooLarge()
    if length not in sizes:
        raise ValidationFailed([FieldError("Upload-Length", "length_mismatch")])
    blob = session.get(AttachmentBlob, sha256)
    if blob is None:
        blob = _start(session, user.id, sha256, length)
    if blob.stored_at is not None:
        return state(blob, sha256)  # here already: a resend is free
    if blob.length != length:
        raise ValidationFailed([FieldError("Upload-Length", "length_mismatch")])
    if offset + len(data) > length:
        raise ValidationFailed([FieldError("Upload-Offset", "out_of_range", min=0, max=length - len(data))])
    # Taken only at the offset reached, by one statement: two app servers given the same piece at
    # once cannot both take it (the second finds the offset moved on and answers 409).
    taken = session.execute(
        sa.update(AttachmentBlob)
        .where(AttachmentBlob.sha256 == sha256, AttachmentBlob.received == offset,
               AttachmentBlob.stored_at.is_(None))
        .values(received=AttachmentBlob.received + len(data), updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not taken:
        session.refresh(blob)
        if blob.stored_at is not None:
            return state(blob, sha256)
        raise OffsetMismatch(details={"offset": blob.received}, headers={"Upload-Offset": str(blob.received)},
                             offset=blob.received)
    if data:
        session.add(UploadChunk(sha256=sha256, offset=offset, data=data))
    session.flush()
    session.refresh(blob)
    if blob.received == length:
        _finish(session, blob)
    return state(blob, sha256)


def _start(session: Session, started_by: str | None, sha256: str, length: int) -> AttachmentBlob:
    """The blob's row, made by the first piece (or found, if another server made it meanwhile)."""
    try:
        with session.begin_nested():
            session.add(AttachmentBlob(sha256=sha256, length=length, received=0, started_by=started_by))
    except sa.exc.IntegrityError:
        pass
    return session.get(AttachmentBlob, sha256, populate_existing=True)


@dataclass(frozen=True)
class Prepared:
    """Bytes checked and thumbnailed, nothing written yet (see `keep`)."""

    data: bytes
    sha256: str
    checked: images.Checked
    thumb: bytes


def prepare(data: bytes) -> Prepared:
    """Check the image and make its thumbnail; 422 on `content` (see images.check), nothing written."""
    checked = images.check(data)
    return Prepared(data, hashlib.sha256(data).hexdigest(), checked, images.thumbnail(data))


def keep(session: Session, prepared: Prepared, *, by: str | None = None) -> AttachmentBlob:
    """Store checked bytes and their thumbnail, and tell the photos' readers; the caller commits.

    Every way bytes come in ends here: the last piece of a phone's upload (its row made by the first
    piece), or the console's photos of an inspection (a row made now, or found: the same bytes may be
    here already, or on their way from a phone, whose upload this completes)."""
    sha256, now = prepared.sha256, utcnow()
    blob = session.get(AttachmentBlob, sha256) or _start(session, by, sha256, len(prepared.data))
    # Touched in the same statement that finds them stored: a purge deleting them now either went
    # first (then they are stored again below) or waits for this row and, finding it touched, keeps them.
    if session.execute(sa.update(AttachmentBlob).where(AttachmentBlob.sha256 == sha256,
                                                       AttachmentBlob.stored_at.is_not(None))
                       .values(updated_at=now).execution_options(synchronize_session=False)).rowcount:
        session.refresh(blob)
        return blob
    store().put(f"full/{sha256}", prepared.data, prepared.checked.content_type)
    store().put(f"thumb/{sha256}", prepared.thumb, "image/jpeg")
    checked = prepared.checked
    blob.content_type, blob.width, blob.height = checked.content_type, checked.width, checked.height
    blob.length = blob.received = len(prepared.data)
    blob.thumb_size, blob.stored_at, blob.updated_at = len(prepared.thumb), now, now
    session.execute(sa.delete(UploadChunk).where(UploadChunk.sha256 == sha256))
    for attachment in session.scalars(sa.select(Attachment).where(Attachment.sha256 == sha256,
                                                                  Attachment.uploaded_at.is_(None))):
        attachment.uploaded_at = now  # 照片上传中 no more; the phones pull it
        bookkeeping.changed(session, "attachment", attachment, now=now)
    session.flush()
    return blob


def _finish(session: Session, blob: AttachmentBlob) -> None:
    """The whole file is here: check it, then keep it."""
    data = b"".join(session.scalars(sa.select(UploadChunk.data).where(UploadChunk.sha256 == blob.sha256)
                                    .order_by(UploadChunk.offset)))
    try:
        if len(data) != blob.length or hashlib.sha256(data).hexdigest() != blob.sha256:
            raise ValidationFailed([FieldError("sha256", "hash_mismatch")])
        prepared = prepare(data)
    except ValidationFailed:
        _forget(session, blob.sha256)
        raise
    keep(session, prepared)


def _forget(session: Session, sha256: str) -> None:
    """A refused upload leaves nothing: its pieces and row go, in a transaction of their own."""
    session.rollback()
    session.execute(sa.delete(UploadChunk).where(UploadChunk.sha256 == sha256))
    session.execute(sa.delete(AttachmentBlob).where(AttachmentBlob.sha256 == sha256,
                                                    AttachmentBlob.stored_at.is_(None)))
    session.commit()
