"""Wire formats of attachments and of their uploads."""
from __future__ import annotations

from marshmallow import fields, validate

from server.attachments.models import CONTENT_TYPES, MAX_BYTES, ROLES
from server.wire import RecordSchema, WireSchema, in_range, max_length, one_of

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="invalid")
MAX_SIDE = 20000  # pixels; the image check refuses what is larger in area (server/attachments/images.py)


class AttachmentSchema(RecordSchema):
    household_id = fields.String(required=True)
    record_type = fields.String(required=True, validate=max_length(20))  # checked against the attachable types
    record_id = fields.String(required=True, validate=max_length(36))
    sha256 = fields.String(required=True, validate=SHA256)  # of the bytes, lowercase hex
    content_type = fields.String(required=True, validate=one_of(CONTENT_TYPES))
    size = fields.Integer(required=True, validate=in_range(1, MAX_BYTES))
    width = fields.Integer(allow_none=True, validate=in_range(1, MAX_SIDE))
    height = fields.Integer(allow_none=True, validate=in_range(1, MAX_SIDE))
    role = fields.String(validate=one_of(ROLES))
    item = fields.String(validate=[max_length(50), validate.Regexp(r"^[a-z0-9_]*$", error="invalid")])
    taken_at = fields.AwareDateTime(allow_none=True)
    author_id = fields.String(dump_only=True)
    uploaded_at = fields.AwareDateTime(dump_only=True)  # null: the bytes are not here yet (照片上传中)


class UploadStateSchema(WireSchema):
    """Where an upload stands (GET and PATCH /api/v1/uploads/<sha256>): `offset` bytes of `length`
    are here; `complete` once they are checked and stored (a resend of the same bytes is then free)."""

    sha256 = fields.String(dump_only=True)
    offset = fields.Integer(dump_only=True)
    length = fields.Integer(dump_only=True, allow_none=True)
    complete = fields.Boolean(dump_only=True)
