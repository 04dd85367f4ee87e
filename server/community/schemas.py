"""Wire formats of communities, grids, households and people (REST and sync alike)."""
from __future__ import annotations

import re
from datetime import date

from marshmallow import ValidationError, fields

from server.community.models import HOUSEHOLD_STATUSES, RELATIONS
from server.wire import RecordSchema, in_range, max_length, one_of, tag_list

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")


def _valid_phone(value: str) -> None:
    if not _PHONE.match(value):
        raise ValidationError("invalid_phone")


def _valid_timezone(value: str) -> None:
    from server.community.service import is_timezone

    if not is_timezone(value):
        raise ValidationError("invalid_timezone")


class CommunitySchema(RecordSchema):
    name = fields.String(required=True, validate=max_length(100))
    city = fields.String(validate=max_length(50))
    timezone = fields.String(validate=[max_length(64), _valid_timezone])  # IANA; Asia/Shanghai when left out


class GridSchema(RecordSchema):
    community_id = fields.String()  # the supervisor's own community when left out
    name = fields.String(required=True, validate=max_length(100))
    butler_id = fields.String(allow_none=True)


class HouseholdSchema(RecordSchema):
    community_id = fields.String()  # the supervisor's own community when left out
    grid_id = fields.String(allow_none=True)
    building = fields.String(required=True, validate=max_length(20))
    unit = fields.String(validate=max_length(20))
    room = fields.String(required=True, validate=max_length(20))
    status = fields.String(validate=one_of(HOUSEHOLD_STATUSES))
    area_m2 = fields.Float(allow_none=True, validate=in_range(0, 100000))
    tags = tag_list()
    notes = fields.String(validate=max_length(5000))
    visit_cycle_days = fields.Integer(validate=in_range(1, 730))


class PersonSchema(RecordSchema):
    household_id = fields.String(required=True)
    name = fields.String(required=True, validate=max_length(100))
    relation = fields.String(validate=one_of(RELATIONS))
    phone = fields.String(allow_none=True, validate=[max_length(24), _valid_phone])
    birth_year = fields.Integer(allow_none=True, validate=in_range(1900, date.today().year))
    tags = tag_list()
    notes = fields.String(validate=max_length(5000))
    consent = fields.Boolean()
    consent_at = fields.AwareDateTime(dump_only=True)
