"""Wire formats of home visits and touchpoints."""
from __future__ import annotations

from marshmallow import fields, validate

from server.visits.models import CHANNELS, VISIT_KINDS
from server.wire import RecordSchema, WireSchema, in_range, max_length, one_of, tag_list


class ChecklistItemSchema(WireSchema):
    ok = fields.Boolean(required=True)
    note = fields.String(validate=max_length(500))


class VisitSchema(RecordSchema):
    household_id = fields.String(required=True)
    butler_id = fields.String()
    visited_at = fields.AwareDateTime(required=True)
    kind = fields.String(validate=one_of(VISIT_KINDS))
    checklist = fields.Dict(keys=fields.String(validate=max_length(50)),
                            values=fields.Nested(ChecklistItemSchema), validate=max_length(100))
    needs = tag_list()
    satisfaction = fields.Integer(allow_none=True, validate=in_range(1, 5))
    products_interest = fields.List(fields.String(validate=max_length(36)), validate=max_length(20))
    notes = fields.String(validate=max_length(10000))
    follow_up_at = fields.Date(allow_none=True)


class TouchpointSchema(RecordSchema):
    household_id = fields.String(required=True)
    butler_id = fields.String()
    at = fields.AwareDateTime(required=True)
    channel = fields.String(required=True, validate=one_of(CHANNELS))
    summary = fields.String(validate=max_length(2000))


class ChecklistItemTemplateSchema(WireSchema):
    key = fields.String(required=True, validate=[max_length(50), validate.Regexp(r"^[a-z0-9_]+$", error="invalid")])
    zh = fields.String(required=True, validate=max_length(100))
    en = fields.String(validate=max_length(100))


class ChecklistTemplateSchema(WireSchema):
    items = fields.List(fields.Nested(ChecklistItemTemplateSchema), required=True, validate=validate.Length(
        min=1, max=100, error="out_of_range|min={min}|max={max}"))
    version = fields.Integer(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True, allow_none=True)  # null: the default checklist
