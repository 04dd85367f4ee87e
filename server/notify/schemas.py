"""Wire formats of push subscriptions, notification events and 回访 tasks."""
from __future__ import annotations

from marshmallow import fields

from server.notify.models import EVENTS
from server.wire import WireSchema, max_length, one_of


class PushKeysSchema(WireSchema):
    p256dh = fields.String(required=True, validate=max_length(200))
    auth = fields.String(required=True, validate=max_length(100))


class PushSubscriptionSchema(WireSchema):
    id = fields.String(dump_only=True)
    endpoint = fields.String(required=True, validate=max_length(2000))
    keys = fields.Nested(PushKeysSchema, required=True, load_only=True)
    # What browsers put beside them in PushSubscription.toJSON(): accepted, not kept.
    expirationTime = fields.Raw(load_only=True, allow_none=True)  # noqa: N815 - the browser's name
    created_at = fields.AwareDateTime(dump_only=True)


class EventSchema(WireSchema):
    """One event as an open app hears it; the same poke a push message carries, with its time."""

    event = fields.String(validate=one_of(EVENTS))
    id = fields.String(attribute="ticket_id")
    title = fields.String()
    at = fields.AwareDateTime(attribute="created_at")
