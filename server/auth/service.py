"""Logins, bearer tokens (one per device, stored only as hashes) and login throttling."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, joinedload

from server.audit import service as audit
from server.auth.models import Device, LoginFailure, User
from server.errors import FieldError, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from server.notify.subscriptions import forget_device
from server.records import utcnow

# argon2id with the library's RFC 9106 "low memory" profile: fast enough for a 2-core server.
_hasher = PasswordHasher()
# Compared against when the username is unknown, so both paths cost the same (no user probing).
_DUMMY_HASH = _hasher.hash("guanjia-no-such-user")

TOKEN_BYTES = 32


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so one SHA-256 is enough; no salt or stretching needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_subject(secret_key: str, kind: str, value: str) -> str:
    """A throttling subject: a keyed hash of what is counted (a username, an address, a code),
    so the failure table never holds it readably."""
    return hmac.new(secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _throttle_subjects(secret_key: str, username: str, remote_addr: str | None) -> list[str]:
    """Keyed hashes of the username and of the address: throttled separately, stored unreadably."""
    subjects = [keyed_subject(secret_key, "user", username.strip().lower())]
    if remote_addr:
        subjects.append(keyed_subject(secret_key, "addr", remote_addr))
    return subjects


def _check_throttle(session: Session, subjects: list[str], *, max_failures: int, window: int,
                    code: str = "too_many_attempts") -> None:
    # The address may fail more often than one username: several people share an office NAT.
    limits = [max_failures] + [max_failures * 4] * (len(subjects) - 1)
    check_attempts(session, list(zip(subjects, limits)), window=window, code=code)


def check_attempts(session: Session, limits: list[tuple[str, int]], *, window: int,
                   code: str = "too_many_attempts") -> None:
    """429 with Retry-After when any subject has `limit` attempts noted within the window."""
    since = utcnow() - timedelta(seconds=window)
    for subject, limit in limits:
        rows = session.execute(
            sa.select(sa.func.count(), sa.func.min(LoginFailure.at))
            .where(LoginFailure.subject == subject, LoginFailure.at > since)
        ).one()
        count, oldest = rows
        if count >= limit:
            retry_after = max(1, int((oldest + timedelta(seconds=window) - utcnow()).total_seconds()) + 1)
            raise TooManyRequests(code, headers={"Retry-After": retry_after}, retry_after=retry_after,
                                  details={"retry_after": retry_after})


def note_attempts(session: Session, subjects: list[str]) -> None:
    """Count one attempt against each subject (the caller commits)."""
    now = utcnow()
    session.add_all([LoginFailure(subject=s, at=now) for s in subjects])


def login(session: Session, *, username: str, password: str, device_name: str = "",
          client_id: str | None = None, remote_addr: str | None, secret_key: str,
          max_failures: int, window: int) -> tuple[str, User]:
    """Check a password and register a device; returns the device's new token (shown once)."""
    subjects = _throttle_subjects(secret_key, username, remote_addr)
    _check_throttle(session, subjects, max_failures=max_failures, window=window)
    user = session.scalar(sa.select(User).where(User.username == username.strip()))
    if not _verify_password(user, password) or not user.active:
        now = utcnow()
        session.add_all([LoginFailure(subject=s, at=now) for s in subjects])
        session.commit()
        raise Unauthorized("invalid_credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.subject == subjects[0]))
    token = open_device(session, user, device_name=device_name, client_id=client_id)
    session.commit()
    return token, user


def open_device(session: Session, user: User, *, device_name: str = "", client_id: str | None = None) -> str:
    """Register a device for a user who has just proved who they are; its token, shown once (the
    caller commits)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(Device(user_id=user.id, token_hash=hash_token(token), name=device_name,
                       client_id=client_id, last_seen_at=utcnow()))
    return token


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
                    new_password: str, remote_addr: str | None, secret_key: str, max_failures: int,
                    window: int, via: audit.Via) -> User:
    """The user sets their own password, proving the current one (a wrong one counts as a failed
    login, against the same throttle). Every other device of theirs is logged out and keeps what it
    has not sent; this one stays logged in. Clears `must_change_password`. Commits."""
    subjects = _throttle_subjects(secret_key, user.username, remote_addr)
    _check_throttle(session, subjects, max_failures=max_failures, window=window,
                    code="too_many_password_attempts")
    if not _verify_password(user, current_password):
        note_attempts(session, subjects)
        session.commit()  # counted even though the answer is an error (which rolls back)
        raise ValidationFailed([FieldError("current_password", "wrong_password")])
    _checked_password(new_password, "new_password")
    if _verify_password(user, new_password):
        raise ValidationFailed([FieldError("new_password", "unchanged")])
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    end_sessions(session, user, "password_changed", keep=device)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.subject == subjects[0]))
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
