"""Who works in the back office: a supervisor (their community; an admin, any) makes technician
accounts, puts them in a team or takes them out, and deactivates one who leaves.

Nothing a technician held is lost on the way: the open jobs in their hands go back to their team's
pool (抢单) with the reason as the hand-off's note, through the ticket's own hand-off rules (scope,
bookkeeping, audit, notifications), so the team's phones pull them at their next sync. A deactivated
technician's devices are revoked (their phones wipe what they hold at their next contact), and the
account stays, inactive, for the records that name it.

Every read and write checks `scopes.manages_people`; anything outside the actor's communities is 404.
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.auth import scopes
from server.auth import service as auth
from server.auth.models import User
from server.errors import FieldError, Forbidden, NotFound, ValidationFailed
from server.teams import service as teams
from server.teams.models import Team

# The one-time initial password: no 0/O, 1/I/l, readable aloud across a counter.
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
PASSWORD_LENGTH = 10
OPEN = ("new", "dispatched", "accepted", "in_progress")
# The hand-off note when a technician leaves a team and the actor gave no reason.
DEFAULT_LEAVE_NOTE = "已离开班组 / left the team"
MAX_REASON = 500


def _may_manage(actor: User) -> None:
    if actor.role not in ("supervisor", "admin"):
        raise Forbidden()


def managed_team(session: Session, actor: User, team_id: str) -> Team:
    """A live team the actor manages (404 otherwise; 403 for a role that manages none)."""
    _may_manage(actor)
    team = session.get(Team, team_id) if isinstance(team_id, str) else None
    if team is None or team.deleted or not scopes.manages_people(actor, team.community_id):
        raise NotFound()
    return team


def managed_technician(session: Session, actor: User, user_id: str) -> User:
    """A technician account of a community the actor manages (404 otherwise)."""
    _may_manage(actor)
    user = session.get(User, user_id) if isinstance(user_id, str) else None
    if user is None or user.role != "technician" or not scopes.manages_people(actor, user.community_id):
        raise NotFound()
    return user


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def technicians(session: Session, *, actor: User, community_id: str | None) -> list[User]:
    """The community's technician accounts (active first, then by name)."""
    _may_manage(actor)
    if not scopes.manages_people(actor, community_id):
        raise NotFound()
    return list(session.scalars(sa.select(User).where(User.community_id == community_id,
                                                      User.role == "technician")
                                .order_by(User.active.desc(), User.name, User.username)))


def members(session: Session, *, actor: User, team_id: str) -> list[User]:
    """The active technicians of a team the actor manages."""
    return teams.members_of(session, managed_team(session, actor, team_id).id)


def create_technician(session: Session, *, actor: User, team_id: str, username: str, name: str,
                      via: audit.Via = audit.CONSOLE) -> tuple[User, str]:
    """A new technician account in the team, with a one-time initial password (returned to be shown
    once; only its hash is stored). The caller commits."""
    team = managed_team(session, actor, team_id)
    username, name = (username or "").strip(), (name or "").strip()
    errors = [FieldError(field, "required") for field, value in (("username", username), ("name", name))
              if not value]
    errors += [FieldError(field, "too_long", max=limit) for field, value, limit
               in (("username", username, 64), ("name", name, 100)) if len(value) > limit]
    if not errors and session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", "duplicate"))
    if errors:
        raise ValidationFailed(errors)
    password = new_password()
    user = User(username=username, name=name, role="technician", community_id=team.community_id,
                password_hash=auth.hash_password(password), must_change_password=True)
    session.add(user)
    session.flush()
    teams.join(session, user, team)
    audit.record_account_action(session, actor=actor, action="create_user", record_type="user", record_id=user.id,
                                community_id=team.community_id,
                                fields=("username", "name", "role", "password", "team_id"), via=via)
    return user, password


def reset_password(session: Session, *, actor: User, user_id: str,
                   via: audit.Via = audit.CONSOLE) -> tuple[User, str]:
    """A new one-time password for an active technician who lost theirs (returned to be shown once);
    their phones are logged out and keep what they have not sent. The caller commits."""
    user = managed_technician(session, actor, user_id)
    if not user.active:
        raise ValidationFailed([FieldError("user_id", "inactive")])
    password = new_password()
    user.password_hash = auth.hash_password(password)
    user.must_change_password = True  # they set their own at their next login
    auth.end_sessions(session, user, "password_reset")
    session.flush()
    audit.record_account_action(session, actor=actor, action="reset_password", record_type="user",
                                record_id=user.id, community_id=user.community_id, fields=("password",), via=via)
    return user, password


def _held(session: Session, user: User) -> list:
    from server.tickets.models import Ticket

    return list(session.scalars(sa.select(Ticket).where(Ticket.assignee_id == user.id, Ticket.deleted.is_(False),
                                                        Ticket.status.in_(OPEN)).order_by(Ticket.created_at)))


def return_jobs(session: Session, *, actor: User, user: User, note: str, via: audit.Via) -> int:
    """Hand every open job in the technician's hands back to its team's pool (their own team when
    the job names none; the grid's butler when there is no team at all), with `note` as the reason.
    Returns how many. Each is an ordinary staff hand-off (server/tickets/handoff.py)."""
    from server.resources import service

    count = 0
    for ticket in _held(session, user):
        team_id = ticket.team_id or user.team_id
        team = session.get(Team, team_id) if team_id else None
        if team is None or team.deleted:
            team_id = None
        service.update(session, user=actor, rtype="ticket", record_id=ticket.id, via=via,
                       data={"team_id": team_id, "assignee_id": None, "handoff_note": note})
        count += 1
    return count


def _reason(reason: str | None, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationFailed([FieldError("reason", "required")])
    if len(reason) > MAX_REASON:
        raise ValidationFailed([FieldError("reason", "too_long", max=MAX_REASON)])
    return reason


def add_member(session: Session, *, actor: User, team_id: str, user_id: str,
               via: audit.Via = audit.CONSOLE) -> User:
    """Put an active technician of the team's community in the team; the jobs they held for another
    team go back to that team's pool. The caller commits."""
    team = managed_team(session, actor, team_id)
    user = session.get(User, user_id) if isinstance(user_id, str) else None
    if (user is None or user.role != "technician" or not user.active or user.community_id != team.community_id):
        raise ValidationFailed([FieldError("user_id", "invalid")])
    if user.team_id == team.id:
        return user
    if user.team_id is not None:
        return_jobs(session, actor=actor, user=user, note=DEFAULT_LEAVE_NOTE, via=via)
    teams.join(session, user, team)
    audit.record_account_action(session, actor=actor, action="update", record_type="user", record_id=user.id,
                                community_id=team.community_id, fields=("team_id",), via=via)
    return user


def remove_member(session: Session, *, actor: User, team_id: str, user_id: str, reason: str = "",
                  via: audit.Via = audit.CONSOLE) -> int:
    """Take a technician out of the team: the open jobs in their hands go back to the team's pool
    with the reason (a default note when none is given). Returns how many. The caller commits."""
    team = managed_team(session, actor, team_id)
    note = _reason(reason, required=False) or DEFAULT_LEAVE_NOTE
    user = session.get(User, user_id) if isinstance(user_id, str) else None
    if user is None or user.role != "technician" or user.team_id != team.id:
        raise NotFound()
    returned = return_jobs(session, actor=actor, user=user, note=note, via=via)
    teams.join(session, user, None)
    audit.record_account_action(session, actor=actor, action="update", record_type="user", record_id=user.id,
                                community_id=team.community_id, fields=("team_id",), via=via)
    return returned


def deactivate_technician(session: Session, *, actor: User, user_id: str, reason: str,
                          via: audit.Via = audit.CONSOLE) -> int:
    """A technician who leaves: their open jobs go back to their team's pool with the reason, their
    devices are revoked (wiped at their next contact), the account is kept, inactive, and leaves the
    team's member list. Returns how many jobs went back. The caller commits."""
    user = managed_technician(session, actor, user_id)
    note = _reason(reason, required=True)
    if not user.active:
        raise ValidationFailed([FieldError("user_id", "inactive")])
    returned = return_jobs(session, actor=actor, user=user, note=note, via=via)
    auth.end_sessions(session, user, "revoked")
    user.active = False
    session.flush()
    teams.refresh(session, user.team_id)
    audit.record_account_action(session, actor=actor, action="update", record_type="user", record_id=user.id,
                                community_id=user.community_id, fields=("active",), via=via)
    return returned


def deactivate_team(session: Session, *, actor: User, team_id: str, via: audit.Via = audit.CONSOLE,
                    expected_version: int | None = None) -> Team:
    """Take a team out of use (a tombstone phones receive): only once nobody works in it and no open
    job waits in it, so nothing is left in a team nobody can see. The caller commits."""
    from server.resources import service
    from server.tickets.models import Ticket

    team = managed_team(session, actor, team_id)
    busy = session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.team_id == team.id, Ticket.deleted.is_(False), Ticket.status.in_(OPEN)))
    if teams.members_of(session, team.id) or busy:
        raise ValidationFailed([FieldError("team_id", "team_not_empty")])
    return service.delete(session, user=actor, rtype="team", record_id=team.id, via=via,
                          expected_version=expected_version)
