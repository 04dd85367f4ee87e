"""Wire format of check-ins (签到/签退)."""
from __future__ import annotations

from marshmallow import fields

from server.attendance.models import CHECKIN_KINDS
from server.wire import RecordSchema, max_length, one_of


class CheckinSchema(RecordSchema):
    butler_id = fields.String(dump_only=True)  # the writer
    community_id = fields.String(dump_only=True)  # the writer's community
    kind = fields.String(required=True, validate=one_of(CHECKIN_KINDS))
    at = fields.AwareDateTime(required=True)  # the phone's clock at the tap
    note = fields.String(validate=max_length(200))
