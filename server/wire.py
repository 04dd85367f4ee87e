"""Wire-format helpers of the server's schemas; the code-emitting base lives in sync/wire.py."""
from __future__ import annotations

from marshmallow import fields

from sync.wire import WireSchema, flatten_errors, in_range, max_length, one_of

__all__ = ["WireSchema", "RecordSchema", "flatten_errors", "in_range", "max_length", "one_of", "tag_list"]


def tag_list():
    return fields.List(fields.String(validate=max_length(30)), validate=max_length(50))


class RecordSchema(WireSchema):
    """Bookkeeping fields every synced record shows and no client writes."""

    id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
