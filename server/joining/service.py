"""Residents join a household: by an invite a butler or supervisor issues, or by asking for one
address and waiting for the butler's approval. Several residents share a household, each with a
role in it (owner, family, tenant); an owner may remove family and tenants.

Nothing here lists households or people to anyone outside them: the public answers are the
communities' names and their building / unit / room structure, and one and the same refusal for
any invite code that cannot be used.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.auth import scopes
from server.auth import service as auth
from server.auth.models import User
from server.auth.throttle import Limit, reserve
from server.community.models import Community, Household
from server.community.service import set_residence
from server.errors import FieldError, Forbidden, NotFound, StaleVersion, ValidationFailed
from server.joining import rules
from server.joining.models import Invite, JoinRequest
from server.notify import outbox
from server.records import utcnow

STAFF = ("butler", "supervisor", "admin")


@dataclass(frozen=True)
class Throttle:
    """The login throttle's settings, reused: failures counted per keyed subject within a window."""

    secret_key: str
    remote_addr: str | None
    max_failures: int
    window: int


@dataclass(frozen=True)
class NewAccount:
    username: str
    password: str
    name: str
    device_name: str = ""
    client_id: str | None = None


# ---- invites ------------------------------------------------------------------------------------

def _staff_household(session: Session, actor: User, household_id: str) -> Household:
    """A household the actor may invite to or approve for: a butler's grids, a supervisor's
    community (an admin's any). A resident is refused; any other household is 404."""
    if actor.role not in STAFF:
        raise Forbidden()
    household = session.get(Household, household_id)
    if household is None or household.deleted or not scopes.household_in_scope(session, actor, household_id):
        raise NotFound()
    return household


def issue_invite(session: Session, *, actor: User, household_id: str, household_role: str, secret_key: str,
                 via: audit.Via) -> tuple[Invite, str]:
    """A new one-time invite to the household; returns it with its code, shown this once."""
    _staff_household(session, actor, household_id)
    now = utcnow()
    code = rules.new_code()
    invite = Invite(code_hash=rules.hash_code(secret_key, code), household_id=household_id,
                    household_role=household_role, issued_by=actor.id, created_at=now,
                    expires_at=now + rules.VALID_FOR)
    session.add(invite)
    session.flush()
    _audit(session, actor, "create", "invite", invite.id, household_id, via, ("household_role",))
    return invite, code


def invites_of(session: Session, *, actor: User, household_id: str) -> list[Invite]:
    """The household's invites still usable (never their codes)."""
    _staff_household(session, actor, household_id)
    now = utcnow()
    return list(session.scalars(
        sa.select(Invite).where(Invite.household_id == household_id, Invite.used_at.is_(None),
                                Invite.revoked_at.is_(None), Invite.expires_at > now)
        .order_by(Invite.created_at.desc())))


def revoke_invite(session: Session, *, actor: User, invite_id: str, via: audit.Via) -> Invite:
    invite = session.get(Invite, invite_id)
    if invite is None:
        raise NotFound()
    _staff_household(session, actor, invite.household_id)
    invite.revoked_at = invite.revoked_at or utcnow()
    _audit(session, actor, "update", "invite", invite.id, invite.household_id, via, ("revoked_at",))
    return invite


def join_url(base_url: str, code: str) -> str:
    """The link a resident opens: the code in the fragment, which browsers never send to a server
    (so it stays out of every access log)."""
    return f"{base_url.rstrip('/')}/#/join?code={code}"


def qr_svg(url: str) -> str:
    """The link as a QR code, an SVG document (segno: pure Python, nothing to install beside it)."""
    out = io.BytesIO()
    # A whole SVG document (with its namespace), so the phone can show it as an image.
    segno.make(url, error="m", micro=False).save(out, kind="svg", xmldecl=False, svgns=True, scale=6, border=2,
                                                 dark="#000", light="#fff", title=None)
    return out.getvalue().decode()


# ---- joining with an invite ------------------------------------------------------------------------

def join(session: Session, *, code: str, account: NewAccount, throttle: Throttle) -> tuple[str, User]:
    """Use an invite: a new resident account bound to the invite's household, and its first token.

    Every code that cannot be used (unknown, expired, used, revoked, malformed) gets the same 404
    `invite_invalid`; failures are counted per address and per code, as failed logins are."""
    normalized = rules.normalize_code(code)
    limits = [Limit(auth.keyed_subject(throttle.secret_key, "join-code", normalized), throttle.max_failures,
                    code="too_many_join_attempts")]
    if throttle.remote_addr:
        limits.append(Limit(auth.keyed_subject(throttle.secret_key, "join-addr", throttle.remote_addr),
                            throttle.max_failures * 4, code="too_many_join_attempts"))
    # Counted before it is judged (atomically, as a login is), and forgotten if it succeeds.
    attempt = reserve(session, limits, window=throttle.window)
    session.commit()
    password_hash = _hashed(account)  # with no transaction open: argon2 holds no write lock
    invite = None
    if rules.is_well_formed(normalized):
        invite = session.scalar(sa.select(Invite).where(Invite.code_hash == rules.hash_code(throttle.secret_key,
                                                                                             normalized))
                                .with_for_update())
    now = utcnow()
    household = session.get(Household, invite.household_id) if invite is not None else None
    if (invite is None or household is None or household.deleted
            or rules.invite_state(expires_at=invite.expires_at, used_at=invite.used_at,
                                  revoked_at=invite.revoked_at, now=now) != "active"):
        raise NotFound("invite_invalid")
    user = _new_resident(session, account, community_id=household.community_id, password_hash=password_hash)
    attempt.forget(session, [limit.subject for limit in limits])
    invite.used_at, invite.used_by = now, user.id
    set_residence(session, user, household.id, invite.household_role)
    token = auth.open_device(session, user, device_name=account.device_name, client_id=account.client_id)
    _audit(session, user, "create_user", "user", user.id, household.id, audit.Via("api"),
           ("username", "name", "password", "household_id", "household_role"))
    session.commit()
    return token, user


def _hashed(account: NewAccount) -> str | None:
    """The new account's password hash, made before any write transaction (None when too short: the
    account is refused anyway)."""
    return auth.hash_password(account.password) if len(account.password) >= auth.MIN_PASSWORD_LENGTH else None


def _new_resident(session: Session, account: NewAccount, *, community_id: str, password_hash: str | None) -> User:
    """A resident account from what the person chose, checked as the console checks a butler's."""
    username, name = account.username.strip(), account.name.strip()
    errors = [FieldError(field, "required") for field, value in (("username", username), ("name", name))
              if not value]
    if len(account.password) < auth.MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", "too_short", min=auth.MIN_PASSWORD_LENGTH))
    if not errors and session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", "duplicate"))
    if errors:
        raise ValidationFailed(errors)
    user = User(username=username, name=name, role="resident", community_id=community_id,
                password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


# ---- asking to join, without an invite ------------------------------------------------------------

def communities(session: Session) -> list[Community]:
    """The communities one may ask to join (names only)."""
    return list(session.scalars(sa.select(Community).where(Community.deleted.is_(False))
                                .order_by(Community.name, Community.id)))


def addresses(session: Session, community_id: str) -> dict:
    """A community's buildings, their units and rooms: the structure only, never who lives there."""
    community = session.get(Community, community_id)
    if community is None or community.deleted:
        raise NotFound()
    rows = session.execute(sa.select(Household.building, Household.unit, Household.room)
                           .where(Household.community_id == community_id, Household.deleted.is_(False))).all()
    tree: dict[str, dict[str, list[str]]] = {}
    for building, unit, room in rows:
        tree.setdefault(building, {}).setdefault(unit, []).append(room)
    return {"community_id": community.id, "name": community.name, "buildings": [
        {"building": b, "units": [{"unit": u, "rooms": sorted(rooms, key=_natural)}
                                  for u, rooms in sorted(units.items(), key=lambda kv: _natural(kv[0]))]}
        for b, units in sorted(tree.items(), key=lambda kv: _natural(kv[0]))]}


def _natural(text: str) -> tuple:
    """"2栋" before "10栋"; "101" before "1001"."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else 0, text)


def request_to_join(session: Session, *, community_id: str, building: str, unit: str, room: str,
                    owner_name: str, household_role: str, account: NewAccount,
                    throttle: Throttle) -> tuple[str, User, JoinRequest]:
    """A new resident account waiting for the household's butler; logged in, it sees only its
    request until the butler approves it. Counted per address, every request (not only failures)."""
    subject = auth.keyed_subject(throttle.secret_key, "join-request-addr", throttle.remote_addr or "")
    reserve(session, [Limit(subject, throttle.max_failures, code="too_many_join_attempts")], window=throttle.window)
    session.commit()
    password_hash = _hashed(account)  # with no transaction open: argon2 holds no write lock
    owner_name = owner_name.strip()
    household = session.scalar(sa.select(Household).where(
        Household.community_id == community_id, Household.building == building, Household.unit == unit,
        Household.room == room, Household.deleted.is_(False)))
    errors = [] if household is not None else [FieldError("room", "not_found")]
    if not owner_name:
        errors.append(FieldError("owner_name", "required"))
    try:
        user = (_new_resident(session, account, community_id=community_id, password_hash=password_hash)
                if not errors else None)
    except ValidationFailed as refused:
        errors += refused.errors
    if errors:
        raise ValidationFailed(errors)
    request = JoinRequest(user_id=user.id, household_id=household.id, household_role=household_role,
                          owner_name=owner_name)
    session.add(request)
    token = auth.open_device(session, user, device_name=account.device_name, client_id=account.client_id)
    session.flush()
    _audit(session, user, "create", "join_request", request.id, household.id, audit.Via("api"),
           ("household_id", "household_role", "owner_name"))
    notify_new_request(session, request, household)
    session.commit()
    return token, user, request


def request_recipients(session: Session, household: Household) -> list[str]:
    """Who hears of a new request to join: the butler of the household's grid, else (no grid, or a
    grid with no active butler) the community's supervisors."""
    from server.tickets.service import grid_butler  # the butler tickets and orders go to

    butler = grid_butler(session, household.id)
    return [butler.id] if butler is not None else outbox.supervisors(session, household.community_id)


def notify_new_request(session: Session, request: JoinRequest, household: Household) -> None:
    """Push and the live channel, in the request's transaction: "入住申请 · 3栋2单元", never who asks
    or for which room (push services read the title)."""
    outbox.record_join_request(session, join_request=request, recipients=request_recipients(session, household))


def my_request(session: Session, user: User) -> JoinRequest:
    """The user's latest request to join (404 if they never asked)."""
    found = session.scalar(sa.select(JoinRequest).where(JoinRequest.user_id == user.id)
                           .order_by(JoinRequest.created_at.desc(), JoinRequest.id).limit(1))
    if found is None:
        raise NotFound()
    return found


def pending_requests(session: Session, *, actor: User) -> list[tuple[JoinRequest, Household, User]]:
    """The requests waiting for this butler (their grids' households) or supervisor (their community)."""
    if actor.role not in STAFF:
        raise Forbidden()
    return [tuple(row) for row in session.execute(
        sa.select(JoinRequest, Household, User)
        .join(Household, Household.id == JoinRequest.household_id)
        .join(User, User.id == JoinRequest.user_id)
        .where(JoinRequest.status == "pending", scopes.household_filter(actor))
        .order_by(JoinRequest.created_at, JoinRequest.id)).all()]


def decide(session: Session, *, actor: User, request_id: str, approve: bool, household_role: str | None,
           reason: str, via: audit.Via) -> JoinRequest:
    """Approve (the account is bound to the household) or refuse (with a reason the requester reads)."""
    request = session.get(JoinRequest, request_id)
    if request is None:
        raise NotFound()
    _staff_household(session, actor, request.household_id)
    if request.status != "pending":
        raise StaleVersion()  # someone decided first
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationFailed([FieldError("reason", "required")])
    request.status = "approved" if approve else "refused"
    request.decided_by, request.decided_at, request.reason = actor.id, utcnow(), reason
    if approve:
        request.household_role = household_role or request.household_role
        user = session.get(User, request.user_id)
        set_residence(session, user, request.household_id, request.household_role)
    _audit(session, actor, "update", "join_request", request.id, request.household_id, via,
           ("status", "household_role") if approve else ("status", "reason"))
    session.commit()
    return request


# ---- several residents in one household -----------------------------------------------------------

def housemates(session: Session, *, user: User) -> list[User]:
    """The residents of the user's own household (names and roles only)."""
    if user.role != "resident" or user.household_id is None:
        raise Forbidden()
    return list(session.scalars(sa.select(User).where(User.household_id == user.household_id,
                                                      User.role == "resident", User.active.is_(True))
                                .order_by(User.created_at, User.id)))


def remove_housemate(session: Session, *, actor: User, user_id: str, via: audit.Via) -> User:
    """An owner removes a family member or tenant: they lose the household (evicted at their next
    sync), as a resident who moves out does; their account stays, bound to nothing."""
    target = session.get(User, user_id)
    same = (target is not None and target.role == "resident" and actor.role == "resident"
            and actor.household_id is not None and target.household_id == actor.household_id)
    if not same:
        raise NotFound()
    if not rules.may_remove(actor_role=actor.household_role, actor_id=actor.id, target_role=target.household_role,
                            target_id=target.id, same_household=same):
        raise Forbidden()
    household_id = target.household_id
    set_residence(session, target, None)
    _audit(session, actor, "update", "user", target.id, household_id, via, ("household_id", "household_role"))
    session.commit()
    return target


def _audit(session: Session, actor: User, action: str, record_type: str, record_id: str, household_id: str,
           via: audit.Via, fields: tuple[str, ...]) -> None:
    """The trail names what changed (never the values): the audit table's own actions suffice."""
    household = session.get(Household, household_id)
    audit.record_account_action(session, actor=actor, action=action, record_type=record_type, record_id=record_id,
                                community_id=household.community_id if household else None, fields=fields, via=via)


def new_account(data: dict) -> NewAccount:
    return NewAccount(username=data["username"], password=data["password"], name=data["name"],
                      device_name=data.get("device_name", ""), client_id=data.get("client_id"))



# ---- the console: a community's requests and invites, a page at a time ---------------------------

INVITE_STATES = ("active", "used", "revoked", "expired")


def _community_scope(actor: User, community_id: str | None):
    if actor.role not in ("supervisor", "admin") or not scopes.manages_people(actor, community_id):
        raise Forbidden()
    return sa.and_(Household.community_id == community_id, scopes.household_filter(actor))


def community_requests(session: Session, *, actor: User, community_id: str | None, offset: int = 0,
                       limit: int = 50) -> tuple[list[tuple[JoinRequest, Household, User]], int]:
    """The community's pending requests to join (oldest first, one page) and how many there are."""
    where = sa.and_(JoinRequest.status == "pending", _community_scope(actor, community_id))
    total = session.scalar(sa.select(sa.func.count()).select_from(JoinRequest)
                           .join(Household, Household.id == JoinRequest.household_id).where(where))
    rows = session.execute(
        sa.select(JoinRequest, Household, User).join(Household, Household.id == JoinRequest.household_id)
        .join(User, User.id == JoinRequest.user_id).where(where)
        .order_by(JoinRequest.created_at, JoinRequest.id).offset(offset).limit(limit)).all()
    return [tuple(row) for row in rows], total or 0


def invite_state_filter(state: str | None, now):
    """An invite's state as SQL (rules.invite_state's order: revoked, used, expired, active)."""
    if state == "revoked":
        return Invite.revoked_at.is_not(None)
    if state == "used":
        return sa.and_(Invite.revoked_at.is_(None), Invite.used_at.is_not(None))
    if state == "expired":
        return sa.and_(Invite.revoked_at.is_(None), Invite.used_at.is_(None), Invite.expires_at <= now)
    if state == "active":
        return sa.and_(Invite.revoked_at.is_(None), Invite.used_at.is_(None), Invite.expires_at > now)
    return sa.true()


def community_invites(session: Session, *, actor: User, community_id: str | None, state: str | None = None,
                      offset: int = 0, limit: int = 50) -> tuple[list[tuple[Invite, Household]], int]:
    """The community's invites (newest first, one page; never their codes) and how many there are."""
    where = sa.and_(_community_scope(actor, community_id), invite_state_filter(state, utcnow()))
    total = session.scalar(sa.select(sa.func.count()).select_from(Invite)
                           .join(Household, Household.id == Invite.household_id).where(where))
    rows = session.execute(
        sa.select(Invite, Household).join(Household, Household.id == Invite.household_id).where(where)
        .order_by(Invite.created_at.desc(), Invite.id).offset(offset).limit(limit)).all()
    return [tuple(row) for row in rows], total or 0
