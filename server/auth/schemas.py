"""Wire formats of logins and users."""
from __future__ import annotations

from marshmallow import fields

from server.auth.models import LANGUAGES
from server.wire import WireSchema, max_length, one_of


class LoginSchema(WireSchema):
    username = fields.String(required=True, validate=max_length(64))
    password = fields.String(required=True, validate=max_length(256))
    device_name = fields.String(validate=max_length(100))
    client_id = fields.String(validate=max_length(36))


class UserSchema(WireSchema):
    id = fields.String(dump_only=True)
    username = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    language = fields.String(validate=one_of(LANGUAGES))
    # null: an administrator has no community, and only a resident has a household
    community_id = fields.String(dump_only=True, allow_none=True)
    household_id = fields.String(dump_only=True, allow_none=True)
    # owner / family / tenant; null for everyone but a resident bound to a household
    household_role = fields.String(dump_only=True, allow_none=True)
    # true: a supervisor chose the password; the app asks for the user's own before anything else
    must_change_password = fields.Boolean(dump_only=True)


class PasswordChangeSchema(WireSchema):
    """The user's own new password, with the current one as proof (never echoed, never logged)."""

    current_password = fields.String(required=True, validate=max_length(256))
    new_password = fields.String(required=True, validate=max_length(256))


class ResidenceSchema(WireSchema):
    household_id = fields.String(required=True, allow_none=True, validate=max_length(36))


class DeviceSchema(WireSchema):
    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    last_seen_at = fields.AwareDateTime(dump_only=True, allow_none=True)
