"""Photos of quality inspections: taken in with the inspection by the console, read back by it.

A supervisor adds photos to a checklist item (a failed one, as a rule) or to the inspection as a
whole when recording it. Each file goes through the phone's checks (server/attachments/uploads.py:
`prepare`, then `keep`, which stores the bytes and the thumbnail by SHA-256), after being
`normalised` as the phone would have made it: a desktop browser sends the file with its EXIF
(location, camera) and at full size. All of an inspection's photos are checked before anything is
written: one refused file refuses the inspection, and nothing of it is kept.

Plain functions, the session first; the caller commits.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments import images, uploads
from server.attachments.models import MAX_BYTES, AttachmentBlob
from server.attachments.service import SIZES, store
from server.auth.models import User
from server.errors import FieldError, NotFound, ValidationFailed
from server.operations import service
from server.operations.checklists import checklist
from server.operations.models import Inspection, InspectionPhoto
from server.records import utcnow

MAX_PHOTOS = 6  # per inspection, all its items' and its own together
WHOLE = ""  # the `item` of a photo of the whole inspection


@dataclass(frozen=True)
class Upload:
    """One file sent: its name as the browser gave it (for the messages only) and its bytes (at most
    MAX_BYTES + 1 of them need be read: more is refused anyway)."""

    name: str
    data: bytes


def _field(item: str) -> str:
    return f"photos.{item}" if item else "photos"


def _prepared(category: str, files: Mapping[str, Sequence[Upload]]) -> tuple[list, list[FieldError]]:
    """Each file checked, as [(item, Prepared)], and what was refused; nothing written."""
    keys = {entry["key"] for entry in checklist(category)}
    kept, errors = [], []
    if sum(len(sent) for sent in files.values()) > MAX_PHOTOS:
        errors.append(FieldError("photos", "too_many_photos", max=MAX_PHOTOS))
    for item, sent in files.items():
        if item != WHOLE and item not in keys:
            errors.append(FieldError(_field(item), "unknown_item"))
            continue
        for upload in sent:
            if len(upload.data) > MAX_BYTES:
                errors.append(FieldError(_field(item), "photo_too_large", name=upload.name,
                                         max_mb=MAX_BYTES // (1024 * 1024)))
                continue
            try:
                kept.append((item, uploads.prepare(images.normalised(upload.data))))
            except ValidationFailed as refused:
                errors.extend(FieldError(_field(item), f"photo_{e.code}", name=upload.name, **e.params)
                              for e in refused.errors)
    return kept, errors


def record_with_photos(session: Session, *, actor: User, community_id: str, category: str,
                       files: Mapping[str, Sequence[Upload]], **inspection) -> Inspection:
    """service.record_inspection, with photos: `files` maps a checklist key (or WHOLE) to its files.
    The inspection's refusals and the photos' come together in one ValidationFailed; then nothing
    is written, neither bytes nor rows."""
    files = {item: sent for item, sent in files.items() if sent}
    prepared, errors = _prepared(category, files)
    try:
        recorded = service.record_inspection(session, actor=actor, community_id=community_id, category=category,
                                             **inspection)
    except ValidationFailed as refused:
        raise ValidationFailed(refused.errors + errors) from None
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    for item, ready in prepared:
        uploads.keep(session, ready, by=actor.id)
        session.add(InspectionPhoto(inspection_id=recorded.id, item=item, sha256=ready.sha256,
                                    content_type=ready.checked.content_type, size=len(ready.data),
                                    width=ready.checked.width, height=ready.checked.height, author_id=actor.id,
                                    created_at=now))
    session.flush()
    return recorded


def of_inspections(session: Session, inspection_ids: Sequence[str]) -> dict[str, list[InspectionPhoto]]:
    """The photos of some inspections (already read through their community), oldest first, by inspection."""
    found: dict[str, list[InspectionPhoto]] = {}
    if inspection_ids:
        for photo in session.scalars(sa.select(InspectionPhoto).where(InspectionPhoto.inspection_id.in_(inspection_ids))
                                     .order_by(InspectionPhoto.created_at, InspectionPhoto.id)):
            found.setdefault(photo.inspection_id, []).append(photo)
    return found


def get(session: Session, *, user: User, inspection_id: str, photo_id: str) -> tuple[Inspection, InspectionPhoto]:
    """The photo and its inspection, for a user whose scope has the inspection's community (a
    supervisor their own, an admin any); NotFound otherwise, as for an id that does not exist."""
    photo = session.get(InspectionPhoto, photo_id)
    inspection = session.get(Inspection, inspection_id)
    if photo is None or inspection is None or photo.inspection_id != inspection.id:
        raise NotFound()
    if user.role != "admin" and user.community_id != inspection.community_id:
        raise NotFound()
    return inspection, photo


def content(session: Session, *, user: User, inspection_id: str, photo_id: str, size: str) -> tuple[bytes, str]:
    """The photo's bytes (`full`) or its 320 px JPEG thumbnail (`thumb`) and their type, through `get`."""
    if size not in SIZES:
        raise NotFound()
    _, photo = get(session, user=user, inspection_id=inspection_id, photo_id=photo_id)
    blob = session.get(AttachmentBlob, photo.sha256)
    data = store().get(f"{size}/{photo.sha256}") if blob is not None and blob.stored_at is not None else None
    if data is None:  # the store lost it
        raise NotFound()
    return data, "image/jpeg" if size == "thumb" else photo.content_type
