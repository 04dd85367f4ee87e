"""The console's page of one ticket: what was asked, its photos (the fault's and the repair's: thumbnails
linked to each photo's page, server/console/photos.py), its one timeline (every status change,
hand-off with its team and reason, rating and escalation: server/tickets/events.py writes it), the
resident's and the butler's ratings, and who read or changed it (the audit trail, server/audit), with
the way each came: the phone (sync), the API or the console. Opening the page is itself a read of
the ticket, recorded in the trail. A supervisor sees only their community's tickets.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import g

from server import i18n
from server.audit import service as audit
from server.audit.models import AuditEvent
from server.community.models import Household
from server.console import photos, queries
from server.console.auth import console_login_required
from server.console.pages import CATEGORIES, address, bp, language, render_page, zone_name
from server.errors import NotFound
from server.extensions import db
from server.resources import service
from server.teams.models import Team
from server.tickets import sla, timeline
from server.tickets.models import HANDOFF_KINDS, FollowUp

READERS = 100  # the latest audit events shown
HOLDERS = ("butler", "supervisor", "technician")  # who may be given a ticket


@bp.get("/tickets/<ticket_id>")
@console_login_required
def ticket_detail(ticket_id: str):
    """One ticket, whole."""
    return ticket_page(ticket_id)


def ticket_page(ticket_id: str, refused: dict | None = None):
    """The ticket's page, with a refused reassignment or escalation shown beside its form."""
    ticket = service.get(db.session, user=g.user, rtype="ticket", record_id=ticket_id)  # scope: 403/404
    household = db.session.get(Household, ticket.household_id)
    if household is None:
        raise NotFound()
    audit.insert(db.session, [{**audit.change_event(db.session, user=g.user, action="read", rtype="ticket",
                                                    record=ticket, fields=("description", "rating_comment"),
                                                    via=audit.Via("console", g.device.id))}])
    db.session.commit()
    steps = timeline.steps(db.session, ticket.id)
    trail = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "ticket",
                                                                AuditEvent.record_id == ticket.id)
                                    .order_by(AuditEvent.id.desc()).limit(READERS)))
    photo_groups = photos.ticket_groups(photos.of_records("ticket", [ticket.id]).get(ticket.id, []))
    follow_up = db.session.scalar(sa.select(FollowUp).where(FollowUp.ticket_id == ticket.id))
    people = {s.actor_id for s in steps} | {value for s in steps if s.kind in timeline.NAMES_PEOPLE
                                            for value in (s.from_value, s.to_value)} | {
        e.user_id for e in trail} | {ticket.assignee_id, ticket.raised_by}
    people.discard(None)
    lang, zone = language(), ZoneInfo(zone_name())
    return render_page("console/ticket.html", refused, ticket=ticket,
                       # the back office's technicians too: the ticket goes to their team (tickets/handoff.py)
                       staff=queries.active_users(db.session, household.community_id, HOLDERS),
                       open=ticket.status in sla.WAITING + sla.IN_HAND, household=household, address=address, steps=steps,
                       trail=trail, follow_up=follow_up, photo_groups=photo_groups, teams=_team_names(steps),
                       handoff_kinds=HANDOFF_KINDS,
                       users=queries.users_by_id(db.session, people),
                       state=lambda code: i18n.pick(i18n.TICKET_STATES.get(code, (code or "", code or "")), lang),
                       category=lambda code: i18n.pick(CATEGORIES.get(code, (code, code)), lang),
                       local=lambda m: m.astimezone(zone).strftime("%Y-%m-%d %H:%M") if m else "")


def _team_names(steps) -> dict[str, str]:
    """The names of the teams its steps name."""
    ids = {step.team_id for step in steps} - {None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Team.id, Team.name).where(Team.id.in_(ids))).all())
