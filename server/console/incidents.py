"""The console's emergencies (突发事件): the community's incidents (open ones first), a form to raise
one, and each incident's page, which shows live (it reloads itself; the console has no script) how
many homes of each building answered safe, need help, were knocked without answer, or have not been
reached, the homes that need help first, and closes the incident with an all-clear. Raising and
closing go through the same domain rules as REST and sync (server/incidents/service.py): the alarm and
the all-clear reach the homes and staff through the notification outbox.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, g, request

from server.audit import service as audit
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, current_community, done, failed, render_page, t, zone_name
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.incidents import service as incidents
from server.incidents.models import KINDS, KNOCK_AFTER_MINUTES, SEVERITIES, Incident
from server.records import utcnow
from server.resources import service

REFRESH_SECONDS = 20  # how often an open incident's page reloads itself


def _local(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(zone_name())).strftime("%Y-%m-%d %H:%M") if moment else ""


def _list_page(refused: dict | None = None):
    community = current_community()
    found = list(db.session.scalars(sa.select(Incident).where(Incident.community_id == community,
                                                              Incident.deleted.is_(False))
                                    .order_by(Incident.ended_at.is_not(None), Incident.started_at.desc(), Incident.id)
                                    .limit(200)))
    return render_page("console/incidents.html", refused, incidents=found, local=_local, kinds=KINDS,
                       severities=SEVERITIES, knock_default=KNOCK_AFTER_MINUTES,
                       kind_names=incidents.KIND_NAMES, severity_names=incidents.SEVERITY_NAMES,
                       buildings=queries.buildings(db.session, community))


@bp.get("/incidents")
@console_login_required
def incidents_list():
    """The community's emergencies: open ones first, newest first."""
    return _list_page()


def _minutes(text: str) -> int | str:
    """The door-knock minutes as typed: a number, else the text (the schema refuses it by name)."""
    return int(text) if text.strip().lstrip("-").isdigit() else text


@bp.post("/incidents")
@console_login_required
def incident_raise():
    """Raise an emergency: everyone it touches hears of it at once."""
    values = {name: request.form.get(name, "").strip() for name in ("kind", "severity", "title", "body",
                                                                     "knock_after_minutes")}
    values["buildings"] = request.form.getlist("buildings")
    try:
        data = {"community_id": current_community(), "kind": values["kind"], "severity": values["severity"],
                "title": values["title"], "body": values["body"], "buildings": values["buildings"],
                "knock_after_minutes": _minutes(values["knock_after_minutes"] or str(KNOCK_AFTER_MINUTES))}
        incident = service.create(db.session, user=g.user, rtype="incident", data=data,
                                  via=audit.Via("console", g.device.id))
        db.session.commit()
    except ApiError as error:
        return _list_page(failed(error, "raise", None, values))
    return done(t("inc_done_raised", title=incident.title), "console.incident", incident_id=incident.id)


def _incident(incident_id: str) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.deleted or incident.community_id != current_community():
        abort(404)
    return incident


def _incident_page(incident: Incident, refused: dict | None = None):
    return render_page("console/incident.html", refused, incident=incident, local=_local, address=address,
                       standing=incidents.standing(db.session, incident), refresh=REFRESH_SECONDS,
                       kind_name=incidents.KIND_NAMES, severity_name=incidents.SEVERITY_NAMES,
                       minutes_open=int((utcnow() - incident.started_at).total_seconds() // 60))


@bp.get("/incidents/<incident_id>")
@console_login_required
def incident(incident_id: str):
    """One emergency, live: per building who is safe, needs help, was not home, is not reached yet."""
    return _incident_page(_incident(incident_id))


@bp.post("/incidents/<incident_id>/close")
@console_login_required
def incident_close(incident_id: str):
    """Close an emergency: the all-clear (解除) goes to everyone who heard of it."""
    found = _incident(incident_id)
    note = request.form.get("all_clear_note", "").strip()
    try:
        if found.ended_at is not None:
            raise ValidationFailed([FieldError("ended_at", "incident_closed")])
        service.update(db.session, user=g.user, rtype="incident", record_id=incident_id,
                       data={"ended_at": utcnow().isoformat(), "all_clear_note": note},
                       via=audit.Via("console", g.device.id))
        db.session.commit()
    except ApiError as error:
        return _incident_page(_incident(incident_id), failed(error, "close", incident_id, {"all_clear_note": note}))
    return done(t("inc_done_closed"), "console.incident", incident_id=incident_id)
