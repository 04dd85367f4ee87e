"""Wire format of tickets (报事报修)."""
from __future__ import annotations

from marshmallow import fields

from server.tickets.models import CATEGORIES, FOLLOW_UP_STATES, PRIORITIES, STATUSES
from server.wire import RecordSchema, WireSchema, in_range, max_length, one_of


class TicketSchema(RecordSchema):
    household_id = fields.String()  # a resident's own household when left out
    raised_by = fields.String(dump_only=True)
    category = fields.String(required=True, validate=one_of(CATEGORIES))
    description = fields.String(validate=max_length(2000))
    priority = fields.String(validate=one_of(PRIORITIES))  # normal (default) or urgent (紧急)
    status = fields.String(validate=one_of(STATUSES))
    assignee_id = fields.String(allow_none=True)
    team_id = fields.String(allow_none=True)  # a back-office team (server/teams); null: none
    handed_at = fields.AwareDateTime(dump_only=True)
    handoff_note = fields.String(validate=max_length(500))  # why it is passed on or given back (退回)
    handoffs = fields.List(fields.Dict(), dump_only=True)  # every hand-off, oldest first (the timeline)
    address = fields.String(dump_only=True)
    accepted_at = fields.AwareDateTime(dump_only=True)
    resolved_at = fields.AwareDateTime(dump_only=True)
    closed_at = fields.AwareDateTime(dump_only=True)
    resolution_note = fields.String(validate=max_length(2000))
    rating = fields.Integer(allow_none=True, validate=in_range(1, 5))
    rating_comment = fields.String(validate=max_length(1000))
    backoffice_rating = fields.Integer(allow_none=True, validate=in_range(1, 5))
    escalated = fields.String(dump_only=True)
    escalated_at = fields.AwareDateTime(dump_only=True)
    # With a 1–2★ rating: "not fixed" (还没修好) sends the ticket back to its assignee (reopened_at).
    not_fixed = fields.Boolean()
    reopened_at = fields.AwareDateTime(dump_only=True)


class TicketStepSchema(WireSchema):
    """One step of a ticket's timeline (GET /api/v1/tickets/<id>/timeline), oldest first."""

    id = fields.Integer(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)
    actor_id = fields.String(dump_only=True, allow_none=True)  # null: the system (a deadline passed)
    kind = fields.String(dump_only=True)  # created, status, assignee, rated, reopened, a hand-off, escalated
    from_value = fields.String(dump_only=True, allow_none=True)  # a status, a person's id, a rating
    to_value = fields.String(dump_only=True, allow_none=True)  # …; escalated: the stage
    team_id = fields.String(dump_only=True, allow_none=True)  # a hand-off's team; who held an escalated one
    note = fields.String(dump_only=True)  # a hand-off's reason


class FollowUpSchema(WireSchema):
    """A 回访 task (a resident rated a ticket 1–2)."""

    id = fields.String(dump_only=True)
    ticket_id = fields.String(dump_only=True)
    rating = fields.Integer(dump_only=True)
    status = fields.String(validate=one_of(FOLLOW_UP_STATES))
    note = fields.String(validate=max_length(2000))
    created_at = fields.AwareDateTime(dump_only=True)
    done_at = fields.AwareDateTime(dump_only=True, allow_none=True)  # null while open
    done_by = fields.String(dump_only=True, allow_none=True)
    called_at = fields.AwareDateTime(dump_only=True, allow_none=True)  # when the resident was called
    called = fields.Boolean(load_only=True)  # true: the resident was reached (stamps called_at)
