"""Domain rules of teams, and who is in one.

A team belongs to one community for good. A vendor team (外委) names its company. Membership is
each technician's `team_id`; `join` is the one way to change it, and writes the team's `members`
list (what phones read) in the same transaction.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import scopes
from server.auth.models import User
from server.errors import FieldError, Forbidden, ValidationFailed
from server.resources.hooks import Rules
from server.syncing import bookkeeping
from server.teams.models import Team


def _check(values: dict, kind: str | None, company: str | None) -> None:
    errors = []
    if "name" in values:
        values["name"] = str(values["name"] or "").strip()
        if not values["name"]:
            errors.append(FieldError("name", "required"))
    if "company" in values:
        values["company"] = str(values["company"] or "").strip()
    if kind == "vendor" and not (company or "").strip():
        errors.append(FieldError("company", "required"))
    if errors:
        raise ValidationFailed(errors)


def _team_create(session: Session, user: User, values: dict) -> None:
    scopes.community_of_new_record(user, values)
    _check(values, values.get("kind"), values.get("company"))
    values["members"] = []


def _team_update(session: Session, user: User, team: Team, changes: dict) -> None:
    if "community_id" in changes and changes["community_id"] != team.community_id:
        raise Forbidden(errors=[FieldError("community_id", "not_writable")])
    _check(changes, changes.get("kind", team.kind), changes.get("company", team.company))


TEAM_RULES = Rules(prepare_create=_team_create, prepare_update=_team_update)


def members_of(session: Session, team_id: str) -> list[User]:
    return list(session.scalars(sa.select(User).where(User.team_id == team_id, User.active.is_(True))
                                .order_by(User.name, User.id)))


def member_ids(session: Session, team_id: str | None) -> set[str]:
    return {user.id for user in members_of(session, team_id)} if team_id else set()


def refresh(session: Session, team_id: str | None) -> None:
    team = session.get(Team, team_id) if team_id else None
    if team is None:
        return
    team.members = [{"id": user.id, "name": user.name} for user in members_of(session, team.id)]
    bookkeeping.changed(session, "team", team)


def join(session: Session, user: User, team: Team | None) -> None:
    """Put a technician in a team (None: in none). The team must be of their community."""
    if team is not None and (user.role != "technician" or team.deleted or team.community_id != user.community_id):
        raise ValidationFailed([FieldError("team_id", "invalid")])
    old = user.team_id
    user.team_id = team.id if team is not None else None
    session.flush()
    for team_id in {old, user.team_id} - {None}:
        refresh(session, team_id)
    session.flush()
