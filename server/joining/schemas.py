"""Wire formats of invites, joining and requests to join."""
from __future__ import annotations

from marshmallow import fields

from server.auth.models import HOUSEHOLD_ROLES
from server.auth.schemas import UserSchema
from server.joining.models import REQUEST_STATUSES
from server.wire import WireSchema, max_length, one_of


class InviteNewSchema(WireSchema):
    household_id = fields.String(required=True, validate=max_length(36))
    household_role = fields.String(required=True, validate=one_of(HOUSEHOLD_ROLES))


class AddressSchema(WireSchema):
    """Where a household is: building, unit, room (no one's name)."""

    building = fields.String(dump_only=True)
    unit = fields.String(dump_only=True)
    room = fields.String(dump_only=True)


class InviteSchema(WireSchema):
    """An invite as listed: never its code."""

    id = fields.String(dump_only=True)
    household_id = fields.String(dump_only=True)
    household_role = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)


class IssuedInviteSchema(InviteSchema):
    """A new invite, as its issuer sees it this once: the code, the link and the link's QR code."""

    code = fields.String(dump_only=True, metadata={"description": "8 characters, shown grouped ABCD-EFGH"})
    join_url = fields.String(dump_only=True)
    qr_svg = fields.String(dump_only=True, metadata={"description": "the join link as a QR code (SVG)"})
    address = fields.Nested(AddressSchema, dump_only=True)


class InvitesSchema(WireSchema):
    invites = fields.List(fields.Nested(InviteSchema), dump_only=True)


class _AccountFields(WireSchema):
    username = fields.String(required=True, validate=max_length(64))
    password = fields.String(required=True, validate=max_length(256))
    name = fields.String(required=True, validate=max_length(100))
    device_name = fields.String(validate=max_length(100))
    client_id = fields.String(validate=max_length(36))


class JoinSchema(_AccountFields):
    invite_code = fields.String(required=True, validate=max_length(32))


class JoinAnswerSchema(WireSchema):
    token = fields.String(dump_only=True)
    user = fields.Nested(UserSchema, dump_only=True)


class CommunityNameSchema(WireSchema):
    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    city = fields.String(dump_only=True)


class CommunitiesSchema(WireSchema):
    communities = fields.List(fields.Nested(CommunityNameSchema), dump_only=True)


class _UnitSchema(WireSchema):
    unit = fields.String(dump_only=True)
    rooms = fields.List(fields.String(), dump_only=True)


class _BuildingSchema(WireSchema):
    building = fields.String(dump_only=True)
    units = fields.List(fields.Nested(_UnitSchema), dump_only=True)


class AddressesSchema(WireSchema):
    community_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    buildings = fields.List(fields.Nested(_BuildingSchema), dump_only=True)


class JoinRequestNewSchema(_AccountFields):
    community_id = fields.String(required=True, validate=max_length(36))
    building = fields.String(required=True, validate=max_length(20))
    unit = fields.String(required=True, validate=max_length(20))
    room = fields.String(required=True, validate=max_length(20))
    owner_name = fields.String(required=True, validate=max_length(100))
    household_role = fields.String(required=True, validate=one_of(HOUSEHOLD_ROLES))


class JoinRequestSchema(WireSchema):
    """A request to join, as its requester and the deciding butler see it."""

    id = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": " / ".join(REQUEST_STATUSES)})
    household_role = fields.String(dump_only=True)
    address = fields.Nested(AddressSchema, dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True)


class PendingRequestSchema(JoinRequestSchema):
    """A request in the butler's list: who asks (the name they gave) and whom they name as owner."""

    household_id = fields.String(dump_only=True)
    requester_name = fields.String(dump_only=True)
    owner_name = fields.String(dump_only=True)


class JoinRequestAnswerSchema(JoinAnswerSchema):
    request = fields.Nested(JoinRequestSchema, dump_only=True)


class PendingRequestsSchema(WireSchema):
    requests = fields.List(fields.Nested(PendingRequestSchema), dump_only=True)


class DecisionSchema(WireSchema):
    approve = fields.Boolean(required=True)
    household_role = fields.String(validate=one_of(HOUSEHOLD_ROLES))
    reason = fields.String(validate=max_length(200))


class HousemateSchema(WireSchema):
    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    household_role = fields.String(dump_only=True, allow_none=True)


class HousematesSchema(WireSchema):
    residents = fields.List(fields.Nested(HousemateSchema), dump_only=True)
