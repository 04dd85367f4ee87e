"""Tickets over HTTP besides their records: a ticket's timeline (GET /tickets/<id>/timeline) and the
回访 tasks (GET /follow-ups[?status=open], PATCH /follow-ups/<id> {"status", "note"})."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from server.errors import FieldError, ValidationFailed
from server.extensions import db
from server.http import json_body, query_args
from server.resources import service
from server.tickets import followups, timeline
from server.tickets.models import FOLLOW_UP_STATES
from server.tickets.schemas import FollowUpSchema, TicketStepSchema

bp = Blueprint("tickets", __name__)


@bp.get("/tickets/<ticket_id>/timeline")
def ticket_timeline(ticket_id: str):
    """A ticket's steps, oldest first: the one list the console's ticket page shows too."""
    ticket = service.get(db.session, user=g.user, rtype="ticket", record_id=ticket_id)  # scope: 403/404
    return jsonify(steps=TicketStepSchema(many=True).dump(timeline.steps_for(db.session, g.user, ticket.id)))


@bp.get("/follow-ups")
def list_follow_ups():
    status = query_args("status").get("status")
    if status is not None and status not in FOLLOW_UP_STATES:
        raise ValidationFailed([FieldError("status", "invalid_choice", choices=", ".join(FOLLOW_UP_STATES))])
    tasks = followups.list_follow_ups(db.session, user=g.user, status=status)
    return jsonify(follow_ups=FollowUpSchema(many=True).dump(tasks))


@bp.patch("/follow-ups/<follow_up_id>")
def settle_follow_up(follow_up_id: str):
    data = FollowUpSchema(partial=True).load(json_body())
    task = followups.settle(db.session, user=g.user, follow_up_id=follow_up_id,
                            status=data.get("status", "done"), note=data.get("note"), called=data.get("called"))
    db.session.commit()
    return jsonify(FollowUpSchema().dump(task))
