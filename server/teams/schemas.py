"""Wire format of back-office teams."""
from __future__ import annotations

from marshmallow import fields

from server.teams.models import TEAM_KINDS
from server.wire import RecordSchema, max_length, one_of


class TeamSchema(RecordSchema):
    community_id = fields.String()  # a supervisor's own community when left out
    name = fields.String(required=True, validate=max_length(100))
    kind = fields.String(required=True, validate=one_of(TEAM_KINDS))
    company = fields.String(validate=max_length(100))  # required for a vendor (外委)
    members = fields.List(fields.Dict(), dump_only=True)  # [{"id", "name"}], the server's
