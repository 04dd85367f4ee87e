"""Domain rules of emergencies (突发事件) and of households' answers to them.

Raising an incident (REST, a phone's sync, the console: all through server/resources/service.py)
tells its audience at once through the notification outbox, with the highest push urgency: the
residents of every household of its buildings (the whole community when it names none), the
butlers of those households' grids, and the community's supervisors. Closing it (setting
`ended_at`) sends the all-clear (解除) to the same audience. Buildings added to an open incident tell their homes
and butlers then (the ones told already are not told again). Both happen in the write's own
transaction and only on the write that raises or closes it: a resent sync batch is answered from
the mutations already applied and tells nobody twice; a closed incident cannot be closed again.

Each household answers once per incident (`incident_check`), as 我家安全 (safe) or 需要帮助
(need_help); a butler who knocks and finds nobody writes not_home. The record's id is derived
from the incident and the household (models.check_id), so a resident and a butler answering
offline at the same time write one record: the second to arrive is an update of the first, and
its fields never conflict (serial fields). The later answer (by `answered_at`) wins, except that
need_help is never replaced by not_home: a knock on a door nobody opens says nothing of the call
for help.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Grid, Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.incidents.models import KNOCK_AFTER_MINUTES, Incident, IncidentCheck, check_id
from server.notify import outbox
from server.records import utcnow
from server.resources.hooks import Rules

# The kinds as the phones and push titles name them (zh-CN, en).
KIND_NAMES = {
    "water_cut": ("停水", "Water cut"),
    "power_cut": ("停电", "Power cut"),
    "leak": ("漏水", "Leak"),
    "lift_entrapment": ("电梯困人", "Lift entrapment"),
    "fire_alarm": ("火警", "Fire alarm"),
    "typhoon": ("台风", "Typhoon"),
    "health_notice": ("公共卫生", "Public health"),
    "other": ("突发事件", "Emergency"),
}
SEVERITY_NAMES = {"notice": ("提示", "Notice"), "serious": ("严重", "Serious"), "critical": ("危急", "Critical")}
ANSWER_NAMES = {"safe": ("我家安全", "Safe"), "need_help": ("需要帮助", "Needs help"),
                "not_home": ("敲门无人", "Nobody home")}


# ---- incidents ---------------------------------------------------------------------------------

def _communities_of(session: Session, user: User) -> set[str]:
    """The communities a staff member may raise an incident in: their own (a butler's also those
    of the grids they hold)."""
    own = {user.community_id} if user.community_id else set()
    if user.role == "butler":
        own |= set(session.scalars(sa.select(Grid.community_id).where(Grid.butler_id == user.id,
                                                                      Grid.deleted.is_(False))))
    return own


def _clean_title(values: dict) -> None:
    if "title" in values:
        values["title"] = str(values["title"] or "").strip()
        if not values["title"]:
            raise ValidationFailed([FieldError("title", "required")])


def _clean_buildings(values: dict) -> None:
    if "buildings" in values:
        seen: list[str] = []
        for code in values["buildings"] or []:
            code = code.strip()
            if code and code not in seen:
                seen.append(code)
        values["buildings"] = seen


def _incident_create(session: Session, user: User, values: dict) -> None:
    if user.role != "admin":
        communities = _communities_of(session, user)
        if "community_id" not in values and len(communities) == 1:
            values["community_id"] = next(iter(communities))
        if values.get("community_id") not in communities:
            raise Forbidden(errors=[FieldError("community_id", "out_of_scope")])
    elif not values.get("community_id"):
        raise ValidationFailed([FieldError("community_id", "required")])
    _clean_title(values)
    _clean_buildings(values)
    values.setdefault("buildings", [])
    values.setdefault("started_at", utcnow())
    values.setdefault("knock_after_minutes", KNOCK_AFTER_MINUTES)
    values["raised_by"] = user.id


def _incident_update(session: Session, user: User, incident: Incident, changes: dict) -> None:
    _clean_title(changes)
    _clean_buildings(changes)
    if "ended_at" in changes:
        ended = changes["ended_at"]
        if incident.ended_at is not None:
            if ended != incident.ended_at:  # the all-clear was sent: it is not taken back or moved
                raise ValidationFailed([FieldError("ended_at", "incident_closed")])
        elif ended is not None and ended < changes.get("started_at", incident.started_at):
            raise ValidationFailed([FieldError("ended_at", "invalid")])


def incident_written(session: Session, user: User, incident: Incident, previous: dict, created: bool) -> None:
    """Rules.after_write of incidents: the alarm when it is raised, the all-clear when it is closed."""
    if created:
        broadcast(session, incident, event="incident.raised", exclude=user.id)
        return
    if incident.ended_at is None and "buildings" in previous:
        # Buildings added while it is open: their homes and butlers hear of it now, the others not again.
        told = set(audience(session, incident, buildings=previous["buildings"]))
        broadcast(session, incident, event="incident.raised", exclude=user.id, leave_out=told)
    if "ended_at" in previous and previous["ended_at"] is None and incident.ended_at is not None:
        broadcast(session, incident, event="incident.closed", exclude=user.id)


INCIDENT_RULES = Rules(prepare_create=_incident_create, prepare_update=_incident_update,
                       after_write=incident_written)


def affected_households(incident: Incident, buildings: list[str] | None = None):
    """The households an incident touches (had it these `buildings`), as a query of their ids."""
    buildings = list(incident.buildings if buildings is None else buildings)
    homes = sa.select(Household.id).where(Household.community_id == incident.community_id,
                                          Household.deleted.is_(False))
    if buildings:
        homes = homes.where(Household.building.in_(buildings))
    return homes


def audience(session: Session, incident: Incident, buildings: list[str] | None = None) -> list[str]:
    """Who hears of an incident (had it these `buildings`): its households' residents, the butlers of
    their grids (every butler of the community for a community-wide one), the community's supervisors."""
    buildings = list(incident.buildings if buildings is None else buildings)
    homes = affected_households(incident, buildings)
    residents = sa.select(User.id).where(User.role == "resident", User.active.is_(True),
                                         User.household_id.in_(homes))
    grid_butlers = sa.select(Grid.butler_id).where(Grid.deleted.is_(False), Grid.id.in_(
        sa.select(Household.grid_id).where(Household.id.in_(homes))))
    butlers = sa.select(User.id).where(User.role == "butler", User.active.is_(True), sa.or_(
        User.id.in_(grid_butlers),
        sa.false() if buildings else User.community_id == incident.community_id))
    return sorted(set(session.scalars(residents)) | set(session.scalars(butlers))
                  | set(outbox.supervisors(session, incident.community_id)))


def where(buildings: list[str]) -> str:
    """"3栋、5栋" (the first three, then how many more), or 全小区: buildings, never a home or a name."""
    if not buildings:
        return "全小区"
    named = [code + "栋" if code.isdigit() else code for code in buildings]
    return "、".join(named[:3]) + (f"等{len(named)}栋" if len(named) > 3 else "")


def push_title(incident: Incident, event: str) -> str:
    """"紧急 · 停水 · 3栋" for a serious or critical one, "突发 · 停水 · 3栋" for a notice, "解除 · …"
    for the all-clear: a kind and where, never what was typed (push services read it)."""
    if event == "incident.closed":
        lead = "解除"
    else:
        lead = "紧急" if incident.severity in ("serious", "critical") else "突发"
    return f"{lead} · {KIND_NAMES[incident.kind][0]} · {where(list(incident.buildings))}"[:200]


def broadcast(session: Session, incident: Incident, *, event: str, exclude: str | None = None,
              leave_out: set[str] = frozenset()) -> None:
    """Put the alarm (or the all-clear) into the outbox for the incident's audience (but those in
    `leave_out`), urgent: pushed with `Urgency: high`, on the live channel, and to the community's
    webhooks."""
    recipients = [user_id for user_id in audience(session, incident) if user_id not in leave_out]
    if leave_out and not recipients:
        return
    outbox.record_about(session, event=event, subject_id=incident.id, community_id=incident.community_id,
                        title=push_title(incident, event), recipients=recipients, urgent=True, exclude=exclude)


# ---- households' answers ---------------------------------------------------------------------------

def _source(user: User) -> str:
    return "resident" if user.role == "resident" else "butler"


def _check_create(session: Session, user: User, values: dict) -> None:
    incident = session.get(Incident, values["incident_id"])
    household = session.get(Household, values["household_id"])
    errors = []
    if incident is None or incident.deleted:
        errors.append(FieldError("incident_id", "not_found"))
    if household is None or household.deleted:
        errors.append(FieldError("household_id", "not_found"))
    if errors:
        raise ValidationFailed(errors)
    if incident.ended_at is not None:
        raise ValidationFailed([FieldError("incident_id", "incident_closed")])
    if incident.community_id != household.community_id:
        raise ValidationFailed([FieldError("incident_id", "not_affected")])
    if incident.buildings and household.building not in incident.buildings:
        raise ValidationFailed([FieldError("household_id", "not_affected")])
    values["source"] = _source(user)
    values.setdefault("answered_at", utcnow())
    values.setdefault("note", "")


def _check_update(session: Session, user: User, check: IncidentCheck, changes: dict) -> None:
    # The second writer of a household's answer sends the whole record again: the same incident and
    # household are no change; another would be another record (its id says which).
    for name in ("incident_id", "household_id"):
        if name in changes and changes.pop(name) != getattr(check, name):
            raise ValidationFailed([FieldError(name, "not_writable")])
    incident = session.get(Incident, check.incident_id)
    if incident is not None and incident.ended_at is not None:
        raise ValidationFailed([FieldError("incident_id", "incident_closed")])
    if "answer" not in changes:
        changes.pop("answered_at", None)
        return
    answered_at = changes.get("answered_at") or utcnow()
    if not wins(check.answer, check.answered_at, changes["answer"], answered_at):
        note = changes.pop("note", None)
        for name in ("answer", "answered_at"):
            changes.pop(name, None)
        if note and not check.note:  # what was typed is kept where it takes nothing away
            changes["note"] = note
        return
    changes["answered_at"] = answered_at
    changes["source"] = _source(user)
    if not str(changes.get("note", "x")).strip():  # a later answer without a note keeps the earlier one's
        changes.pop("note")


def wins(current: str, current_at: datetime, answer: str, answered_at: datetime) -> bool:
    """Whether a new answer replaces the current one: the later does, but a call for help is never
    replaced by a knock on a door nobody opened."""
    if current == "need_help" and answer == "not_home":
        return False
    return answered_at >= current_at


CHECK_RULES = Rules(prepare_create=_check_create, prepare_update=_check_update,
                    derived_id=lambda values: check_id(values["incident_id"], values["household_id"]))


# ---- where an incident stands (the console's incident page) -------------------------------------------

def standing(session: Session, incident: Incident) -> dict:
    """Per building, how many homes answered safe, need help, were knocked without answer, and have
    not been reached (no answer at all); and the homes that need help, by building, unit and room."""
    answers = dict(session.execute(sa.select(IncidentCheck.household_id, IncidentCheck.answer).where(
        IncidentCheck.incident_id == incident.id, IncidentCheck.deleted.is_(False))).tuples().all())
    homes = list(session.scalars(sa.select(Household).where(Household.id.in_(affected_households(incident)))
                                 .order_by(Household.building, Household.unit, Household.room)))
    buildings: dict[str, dict[str, int]] = {}
    for home in homes:
        row = buildings.setdefault(home.building, {"homes": 0, "safe": 0, "need_help": 0, "not_home": 0,
                                                   "unreached": 0})
        row["homes"] += 1
        row[answers.get(home.id, "unreached")] += 1
    total = {key: sum(row[key] for row in buildings.values())
             for key in ("homes", "safe", "need_help", "not_home", "unreached")}
    return {"buildings": buildings, "total": total,
            "need_help": [home for home in homes if answers.get(home.id) == "need_help"],
            "not_home": [home for home in homes if answers.get(home.id) == "not_home"]}
