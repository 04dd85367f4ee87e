"""Photos over HTTP besides their records (which sync, and read at /api/v1/attachments like any type):

- GET /uploads/<sha256>: how much of an upload the server has (also `Upload-Offset`, and HEAD).
- PATCH /uploads/<sha256>: the next piece, `Content-Type: application/offset+octet-stream`, with
  `Upload-Offset` (where it starts) and `Upload-Length` (the whole file's bytes).
- GET /attachments/<id>/content?size=thumb|full: the bytes, through the record's scope, never cached.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, g, jsonify, request

from server.attachments import service, uploads
from server.attachments.models import MAX_CHUNK_BYTES
from server.attachments.schemas import UploadStateSchema
from server.audit import service as audit
from server.errors import ApiError, FieldError, TooLarge, ValidationFailed
from server.extensions import db
from server.http import query_args

bp = Blueprint("attachments", __name__)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
OCTETS = "application/offset+octet-stream"


class UnsupportedType(ApiError):
    status, code = 415, "unsupported_upload_type"


def _sha(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValidationFailed([FieldError("sha256", "invalid")])
    return sha256


def _header_int(name: str) -> int:
    raw = request.headers.get(name)
    if raw is None:
        raise ValidationFailed([FieldError(name, "required")])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed([FieldError(name, "invalid_type")])
    return int(raw)


def _body(limit: int) -> bytes:
    """The request's body, read to its end but never more than one byte past `limit`: a body sent
    without Content-Length (chunked) is not taken into memory whole before it is found too large.
    (One read may return less than asked from a socket: read until the end.)"""
    parts, size = [], 0
    while size <= limit:
        part = request.stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise TooLarge()
    return b"".join(parts)


def _answer(state: dict):
    response = jsonify(UploadStateSchema().dump(state))
    response.headers["Upload-Offset"] = str(state["offset"])
    if state["length"] is not None:
        response.headers["Upload-Length"] = str(state["length"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/uploads/<sha256>")
def upload_state(sha256: str):
    query_args()
    return _answer(uploads.upload_state(db.session, user=g.user, sha256=_sha(sha256)))


@bp.patch("/uploads/<sha256>")
def upload_piece(sha256: str):
    query_args()
    sha256 = _sha(sha256)
    if request.mimetype != OCTETS:
        raise UnsupportedType()
    if request.content_length is not None and request.content_length > MAX_CHUNK_BYTES:
        raise TooLarge()
    offset, length = _header_int("Upload-Offset"), _header_int("Upload-Length")
    data = _body(MAX_CHUNK_BYTES)
    state = uploads.receive(db.session, user=g.user, sha256=sha256, offset=offset, length=length, data=data)
    db.session.commit()
    return _answer(state)


@bp.get("/attachments/<attachment_id>/content")
def attachment_content(attachment_id: str):
    size = query_args("size").get("size", "full")
    content = service.read_content(db.session, user=g.user, attachment_id=attachment_id, size=size,
                                   via=audit.Via("api", g.device.id))
    db.session.commit()
    return Response(content.data, mimetype=content.content_type, headers={
        "Cache-Control": "no-store", "ETag": f'"{content.sha256}-{size}"',
        "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"})
