"""Wire format of back-office teams."""
from __future__ import annotations

from marshmallow import fields

from server.teams.models import TEAM_KINDS
from server.wire import RecordSchema, WireSchema, max_length, one_of


class TeamSchema(RecordSchema):
    community_id = fields.String()  # a supervisor's own community when left out
    name = fields.String(required=True, validate=max_length(100))
    kind = fields.String(required=True, validate=one_of(TEAM_KINDS))
    company = fields.String(validate=max_length(100))  # required for a vendor (外委)
    members = fields.List(fields.Dict(), dump_only=True)  # [{"id", "name"}], the server's


# ---- who works in a team (server/teams/people.py) --------------------------------------------------

class TechnicianSchema(WireSchema):
    """A technician account as the supervisor sees it (never its password)."""

    id = fields.String(dump_only=True)
    username = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True, allow_none=True)
    team_id = fields.String(dump_only=True, allow_none=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class TechnicianNewSchema(WireSchema):
    username = fields.String(required=True, validate=max_length(64))
    name = fields.String(required=True, validate=max_length(100))


class NewTechnicianSchema(WireSchema):
    """A new account and its one-time initial password (shown this once; only its hash is kept)."""

    user = fields.Nested(TechnicianSchema, required=True)
    initial_password = fields.String(required=True)


class TeamMembersSchema(WireSchema):
    members = fields.List(fields.Nested(TechnicianSchema), required=True)


class MemberNewSchema(WireSchema):
    user_id = fields.String(required=True, validate=max_length(36))


class DeactivationSchema(WireSchema):
    reason = fields.String(required=True, validate=max_length(500))


class JobsReturnedSchema(WireSchema):
    """What became of a technician's open jobs: how many went back to the team's pool."""

    user = fields.Nested(TechnicianSchema, required=True)
    returned_jobs = fields.Integer(required=True)
