"""Logins, bearer tokens (one per device, stored only as hashes) and login throttling."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, joinedload

from server.audit import service as audit
from server.auth import throttle
from server.auth.models import Device, User
from server.auth.throttle import keyed_subject
from server.errors import FieldError, NotFound, Unauthorized, ValidationFailed
from server.notify import outbox
from server.notify.subscriptions import forget_device
from server.records import utcnow

# argon2id with the library's RFC 9106 "low memory" profile: fast enough for a 2-core server.
_hasher = PasswordHasher()
# Compared against when the username is unknown, so both paths cost the same (no user probing).
_DUMMY_HASH = _hasher.hash("guanjia-no-such-user")

TOKEN_BYTES = 32


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash` (None: no such user, at the same cost). Slow on
    purpose: never called inside a write transaction (see server/auth/throttle.py)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so one SHA-256 is enough; no salt or stretching needed."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginPolicy:
    """How logins are throttled and how many devices a user keeps (docs/logins.md)."""

    secret_key: str
    max_failures: int  # failures of one account (or one known device) before the waits start
    window: int  # seconds an attempt counts for
    backoff: float = 1.0  # the first wait past the free failures; it doubles with each further one
    max_logins: int = 10  # successful logins of one user per window
    max_address_logins: int = 100  # successful logins from one address per window (an office's NAT)
    max_devices: int = 10  # live devices per user: a new login past it revokes the longest idle

    @classmethod
    def of(cls, config) -> "LoginPolicy":
        return cls(secret_key=config["SECRET_KEY"], max_failures=config["LOGIN_MAX_FAILURES"],
                   window=config["LOGIN_FAILURE_WINDOW_SECONDS"], backoff=config["LOGIN_BACKOFF_SECONDS"],
                   max_logins=config["LOGIN_MAX_PER_USER"], max_address_logins=config["LOGIN_MAX_PER_ADDRESS"],
                   max_devices=config["MAX_DEVICES_PER_USER"])

    def subject(self, kind: str, value: str) -> str:
        return keyed_subject(self.secret_key, kind, value)

    def user_subject(self, username: str) -> str:
        return self.subject("user", username.strip().lower())

    def failure_limits(self, username: str, remote_addr: str | None, *, known_device: str | None = None,
                       code: str = "too_many_attempts") -> list[throttle.Limit]:
        """Failures count against the account — or, from a device the user already logged in on,
        against that device instead, so a guesser elsewhere never keeps the owner out — and against
        the address, which may fail more often (several people share an office's NAT)."""
        first = (throttle.Limit(self.subject("known", known_device), self.max_failures, self.backoff, code)
                 if known_device else throttle.Limit(self.user_subject(username), self.max_failures, self.backoff, code))
        if not remote_addr:
            return [first]
        return [first, throttle.Limit(self.subject("addr", remote_addr), self.max_failures * 4, self.backoff, code)]

    def login_limits(self, username: str, remote_addr: str | None) -> list[throttle.Limit]:
        """Successful logins: a loop of right passwords must not flood the database with devices."""
        limits = [throttle.Limit(self.subject("login-user", username.strip().lower()), self.max_logins,
                                 code="too_many_logins")]
        if remote_addr:
            limits.append(throttle.Limit(self.subject("login-addr", remote_addr), self.max_address_logins,
                                         code="too_many_logins"))
        return limits


@dataclass(frozen=True)
class KnownDevice:
    """What a login request shows of the devices it came from: the browser's device cookie (its own
    subject and the users it has logged in as, server/auth/known.py) and a token it still holds."""

    subject: str | None = None
    users: frozenset[str] = frozenset()
    token: str | None = None

    def vouches_for(self, session: Session, policy: LoginPolicy, user: User | None, username: str) -> str | None:
        """The device's subject when it has logged in as this user before, else None."""
        if user is None:
            return None
        if self.subject and policy.user_subject(username) in self.users:
            return self.subject
        if self.token:
            device = session.scalar(sa.select(Device).where(Device.token_hash == hash_token(self.token)))
            # A phone reported lost ("revoked") proves nothing: whoever holds it now is not the owner.
            if device is not None and device.user_id == user.id and device.revoke_reason != "revoked":
                return "token:" + device.id
        return None


def login(session: Session, *, username: str, password: str, device_name: str = "",
          client_id: str | None = None, remote_addr: str | None, policy: LoginPolicy,
          known: KnownDevice = KnownDevice()) -> tuple[str, User]:
    """Check a password and register a device; returns the device's new token (shown once).

    The attempt is counted first (throttle.reserve, one short transaction), the password checked
    with no transaction open, and the outcome written in a second one."""
    user = session.scalar(sa.select(User).where(User.username == username.strip()))
    known_device = known.vouches_for(session, policy, user, username)
    failures = policy.failure_limits(username, remote_addr, known_device=known_device)
    logins = policy.login_limits(username, remote_addr)
    attempt = throttle.reserve(session, failures + logins, window=policy.window)
    stored, active, user_id = (user.password_hash, user.active, user.id) if user else (None, False, None)
    session.commit()  # counted, and no lock held through the password check
    if not _verify_password(stored, password) or not active:
        attempt.forget(session, [limit.subject for limit in logins])
        if user_id is not None and known_device is None and attempt.places[failures[0].subject] == policy.max_failures:
            # This failure starts the account's waits (decided under the lock: once per window).
            outbox.record_account_notice(session, event="login.failed", user=session.get(User, user_id))
        session.commit()
        raise Unauthorized("invalid_credentials")
    rehashed = hash_password(password) if _hasher.check_needs_rehash(stored) else None
    attempt.forget(session, [limit.subject for limit in failures])
    user = session.get(User, user_id)
    if rehashed:
        user.password_hash = rehashed
    token = open_device(session, user, device_name=device_name, client_id=client_id, max_devices=policy.max_devices)
    session.commit()
    return token, user


def open_device(session: Session, user: User, *, device_name: str = "", client_id: str | None = None,
                max_devices: int | None = None) -> str:
    """Register a device for a user who has just proved who they are; its token, shown once (the
    caller commits). Past `max_devices` live devices the longest idle ones are revoked, and the user
    told."""
    if max_devices is not None:
        _make_room(session, user, max_devices - 1)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(Device(user_id=user.id, token_hash=hash_token(token), name=device_name,
                       client_id=client_id, last_seen_at=utcnow()))
    return token


def _make_room(session: Session, user: User, keep: int) -> None:
    """Revoke the user's longest-idle live devices beyond `keep` ("device_limit": log in again; what
    a phone has not sent stays on it)."""
    live = list(session.scalars(
        sa.select(Device).where(Device.user_id == user.id, Device.revoked_at.is_(None))
        .order_by(sa.func.coalesce(Device.last_seen_at, Device.created_at), Device.created_at, Device.id)))
    extra = live[:max(0, len(live) - keep)]
    now = utcnow()
    for device in extra:
        device.revoked_at, device.revoke_reason = now, "device_limit"
        forget_device(session, device.id)
    if extra:
        outbox.record_account_notice(session, event="device.revoked", user=user, staff_too=False)


def authenticate(session: Session, token: str | None) -> tuple[User, Device]:
    """The user and device behind a bearer token; 401 if it is missing, unknown or revoked."""
    if not token:
        raise Unauthorized()
    # The user with the device, in one query: every request needs both.
    device = session.scalar(sa.select(Device).options(joinedload(Device.user))
                            .where(Device.token_hash == hash_token(token)))
    if device is not None and must_wipe(device):
        # Its holder may be anyone now: the answer tells the app to delete every local record.
        raise Unauthorized("device_revoked", details={"wipe": True})
    if device is None or device.revoked_at is not None:
        raise Unauthorized("invalid_token")
    return device.user, device


def must_wipe(device: Device) -> bool:
    """A device revoked as lost (not logged out, not a password reset), or one of a deactivated
    account: the customer files on it must go."""
    return device.revoke_reason == "revoked" or not device.user.active


def touch(device: Device) -> bool:
    """Note when a device was last seen, at most once a minute (not a write per request)."""
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > timedelta(minutes=1):
        device.last_seen_at = now
        return True
    return False


def logout(session: Session, device: Device) -> None:
    """Revoke this device's token; it can never be used again."""
    device.revoked_at, device.revoke_reason = utcnow(), "logout"
    forget_device(session, device.id)  # whoever uses this browser next must not be woken for this user
    session.commit()


def revoke_device(session: Session, *, user: User, device_id: str) -> None:
    device = session.get(Device, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound()
    device.revoked_at = device.revoked_at or utcnow()
    device.revoke_reason = "revoked"  # also when it had logged out: a lost phone keeps no data either way
    forget_device(session, device.id)
    session.commit()


def end_sessions(session: Session, user: User, reason: str, *, keep: Device | None = None) -> None:
    """Revoke every live device of `user` but `keep` (their phones learn it at their next contact).
    With reason "revoked", devices that had only logged out are marked too: a revoked phone wipes
    what it holds."""
    now = utcnow()
    for device in user.devices:
        if keep is not None and device.id == keep.id:
            continue
        if device.revoked_at is None or (reason == "revoked" and device.revoke_reason != "revoked"):
            device.revoked_at, device.revoke_reason = device.revoked_at or now, reason
            forget_device(session, device.id)


# ---- a supervisor manages the butlers of their community (the console) -------------------------

MIN_PASSWORD_LENGTH = 8


def _managed_butler(session: Session, actor: User, user_id: str) -> User:
    """A butler the actor manages: an admin any, a supervisor those of their community (else 404)."""
    user = session.get(User, user_id)
    if user is None or user.role != "butler" or not _manages(actor, user.community_id):
        raise NotFound()
    return user


def _manages(actor: User, community_id: str | None) -> bool:
    return actor.role == "admin" or (actor.role == "supervisor" and community_id is not None
                                     and actor.community_id == community_id)


def _checked_password(password: str, field: str = "password") -> str:
    """A new password as strong as every new password must be (422 on `field` otherwise)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed([FieldError(field, "too_short", min=MIN_PASSWORD_LENGTH)])
    return password


def change_password(session: Session, *, user: User, device: Device, current_password: str,
                    new_password: str, remote_addr: str | None, policy: LoginPolicy, via: audit.Via) -> User:
    """The user sets their own password, proving the current one (a wrong one counts as a failed
    login, against the same throttle). Every other device of theirs is logged out and keeps what it
    has not sent; this one stays logged in. Clears `must_change_password`. Commits.

    As at login, the attempt is counted and committed before any password is hashed or checked."""
    limits = policy.failure_limits(user.username, remote_addr, code="too_many_password_attempts")
    stored, user_id = user.password_hash, user.id
    attempt = throttle.reserve(session, limits, window=policy.window)
    session.commit()  # counted even though the answer may be an error (which rolls back)
    if not _verify_password(stored, current_password):
        raise ValidationFailed([FieldError("current_password", "wrong_password")])
    attempt.forget(session, [limit.subject for limit in limits])  # the right password: no failure
    session.commit()
    _checked_password(new_password, "new_password")
    if _verify_password(stored, new_password):
        raise ValidationFailed([FieldError("new_password", "unchanged")])
    new_hash = hash_password(new_password)
    user, device = session.get(User, user_id), session.get(Device, device.id)
    user.password_hash = new_hash
    user.must_change_password = False
    end_sessions(session, user, "password_changed", keep=device)
    audit.record_account_action(session, actor=user, action="update", record_type="user", record_id=user.id,
                                community_id=user.community_id, fields=("password",), via=via)
    session.commit()
    return user


def revoke_managed_device(session: Session, *, actor: User, device_id: str) -> Device:
    """A supervisor revokes a device of a user of their community (an admin, any): revoke_device
    for its owner. 404 for a device outside the actor's community."""
    device = session.get(Device, device_id)
    if device is None or not _manages(actor, device.user.community_id) or device.user.role == "admin":
        raise NotFound()
    audit.record_account_action(session, actor=actor, action="revoke_device", record_type="device",
                                record_id=device.id, community_id=device.user.community_id)
    revoke_device(session, user=device.user, device_id=device.id)  # commits, the audit event with it
    return device


def create_butler(session: Session, *, actor: User, community_id: str | None, username: str, name: str,
                  password: str) -> User:
    """A new butler of the actor's community with an initial password; the caller commits."""
    if not _manages(actor, community_id):
        raise NotFound()
    username, name = (username or "").strip(), (name or "").strip()
    errors = [FieldError(field, "required") for field, value in (("username", username), ("name", name))
              if not value]
    errors += [FieldError(field, "too_long", max=limit) for field, value, limit
               in (("username", username, 64), ("name", name, 100)) if len(value) > limit]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", "too_short", min=MIN_PASSWORD_LENGTH))
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed([FieldError("username", "duplicate")])
    # The supervisor chose the password, so knows it: the butler sets their own at first use.
    user = User(username=username, name=name, role="butler", community_id=community_id,
                password_hash=hash_password(password), must_change_password=True)
    session.add(user)
    session.flush()
    audit.record_account_action(session, actor=actor, action="create_user", record_type="user", record_id=user.id,
                                community_id=community_id, fields=("username", "name", "role", "password"))
    return user


def reset_password(session: Session, *, actor: User, user_id: str, password: str) -> User:
    """A managed butler's new password, to be changed at their next login; every device they have is
    revoked. The caller commits."""
    user = _managed_butler(session, actor, user_id)
    user.password_hash = hash_password(_checked_password(password))
    user.must_change_password = True  # the supervisor knows this one
    end_sessions(session, user, "password_reset")
    session.flush()
    audit.record_account_action(session, actor=actor, action="reset_password", record_type="user", record_id=user.id,
                                community_id=user.community_id, fields=("password",))
    return user
