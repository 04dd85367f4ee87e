"""Wire format of community notices (公告)."""
from __future__ import annotations

from marshmallow import fields

from server.wire import RecordSchema, max_length


class NoticeSchema(RecordSchema):
    community_id = fields.String()  # a supervisor's own community when left out
    title = fields.String(required=True, validate=max_length(100))
    body = fields.String(validate=max_length(4000))
    published_at = fields.AwareDateTime()  # now when left out; later: scheduled
    building = fields.String(validate=max_length(20))  # one building's; "" (left out) the whole community
    pinned = fields.Boolean()
