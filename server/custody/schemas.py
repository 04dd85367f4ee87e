"""Wire formats of custody (房屋托管) contracts and inspections."""
from __future__ import annotations

from marshmallow import fields

from server.custody.models import SERVICES
from server.wire import RecordSchema, WireSchema, in_range, max_length, one_of


class CustodyContractSchema(RecordSchema):
    household_id = fields.String(required=True)
    owner_name = fields.String(validate=max_length(100))
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)  # none: until further notice
    services = fields.List(fields.String(validate=one_of(SERVICES)), required=True, validate=max_length(len(SERVICES)))
    inspection_every_days = fields.Integer(validate=in_range(1, 365))
    note = fields.String(validate=max_length(2000))


class CustodyAnswerSchema(WireSchema):
    ok = fields.Boolean(required=True)
    note = fields.String(validate=max_length(500))


class CustodyInspectionSchema(RecordSchema):
    household_id = fields.String(required=True)
    contract_id = fields.String(required=True)
    butler_id = fields.String()
    inspected_at = fields.AwareDateTime(required=True)
    checklist = fields.Dict(keys=fields.String(validate=one_of(SERVICES)), values=fields.Nested(CustodyAnswerSchema),
                            required=True, validate=max_length(len(SERVICES)))
    done = fields.String(validate=max_length(4000))
