"""Wire format of emergencies (突发事件) and households' answers to them."""
from __future__ import annotations

from marshmallow import fields

from server.incidents.models import ANSWERS, KINDS, KNOCK_RANGE, SEVERITIES, SOURCES
from server.wire import RecordSchema, in_range, max_length, one_of


class IncidentSchema(RecordSchema):
    community_id = fields.String()  # the writer's own community when left out
    kind = fields.String(required=True, validate=one_of(KINDS))
    severity = fields.String(required=True, validate=one_of(SEVERITIES))
    title = fields.String(required=True, validate=max_length(100))
    body = fields.String(validate=max_length(4000))
    # Building codes as households' `building` holds them; [] (or left out): the whole community.
    buildings = fields.List(fields.String(validate=max_length(20)), validate=max_length(200))
    started_at = fields.AwareDateTime()  # now when left out
    ended_at = fields.AwareDateTime(allow_none=True)  # null while open; set: closed, the all-clear (解除)
    all_clear_note = fields.String(validate=max_length(2000))
    knock_after_minutes = fields.Integer(validate=in_range(*KNOCK_RANGE))  # 15 when left out
    raised_by = fields.String(dump_only=True)


class IncidentCheckSchema(RecordSchema):
    incident_id = fields.String(required=True)
    household_id = fields.String(required=True)
    answer = fields.String(required=True, validate=one_of(ANSWERS))
    source = fields.String(dump_only=True, validate=one_of(SOURCES))  # from the writer's role
    note = fields.String(validate=max_length(200))
    answered_at = fields.AwareDateTime()  # now when left out
