"""Push subscriptions: which push-service addresses the server may send to, and who owns which.

The server POSTs to whatever endpoint a browser hands it, so an endpoint is accepted only on a host
of a known push service (PUSH_ALLOWED_HOSTS: a name matches itself and its subdomains) over https
on its default port; plain http only to loopback hosts that are listed (tests' stand-ins). The rules,
shared with webhooks, are in addresses.py.
"""
from __future__ import annotations

import base64
import binascii
import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Device, User
from server.errors import FieldError, NotFound, ValidationFailed
from server.notify import addresses
from server.notify.models import Delivery, PushSubscription
from server.records import utcnow

# The public push services of Google (Chrome, Edge on Android), Mozilla, Microsoft and Apple.
DEFAULT_ALLOWED_HOSTS = "fcm.googleapis.com,push.services.mozilla.com,notify.windows.com,push.apple.com"


def allowed_hosts(config) -> tuple[str, ...]:
    return addresses.host_list(config.get("PUSH_ALLOWED_HOSTS"), DEFAULT_ALLOWED_HOSTS)


def endpoint_problem(endpoint: str, hosts: tuple[str, ...]) -> str | None:
    """Why an endpoint may not be sent to (a field error code), or None when it may."""
    return addresses.field_error(endpoint, hosts, "push")


def _b64(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def check_keys(p256dh: str, auth: str) -> list[FieldError]:
    """p256dh: an uncompressed P-256 point (65 bytes, 0x04 first); auth: a 16-byte secret."""
    errors = []
    point = _b64(p256dh)
    if point is None or len(point) != 65 or point[0] != 4:
        errors.append(FieldError("keys.p256dh", "invalid_push_key"))
    secret = _b64(auth)
    if secret is None or len(secret) != 16:
        errors.append(FieldError("keys.auth", "invalid_push_key"))
    return errors


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscribe(session: Session, *, user: User, device: Device | None, endpoint: str, p256dh: str, auth: str,
              hosts: tuple[str, ...]) -> tuple[PushSubscription, bool]:
    """Register an endpoint for the caller (idempotent by endpoint); returns it and whether it is new.

    An endpoint already known is given to the caller: a browser has one subscription, and whoever
    logged in on it last is whom it should wake."""
    problem = endpoint_problem(endpoint, hosts)
    errors = ([FieldError("endpoint", problem)] if problem else []) + check_keys(p256dh, auth)
    if errors:
        raise ValidationFailed(errors)
    digest = endpoint_hash(endpoint)
    found = session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint_hash == digest)
                           .with_for_update())
    if found is not None:
        found.user_id, found.device_id = user.id, device.id if device else None
        found.p256dh, found.auth = p256dh, auth
        session.flush()
        return found, False
    subscription = PushSubscription(user_id=user.id, device_id=device.id if device else None,
                                    endpoint_hash=digest, endpoint=endpoint, p256dh=p256dh, auth=auth,
                                    created_at=utcnow())
    with session.begin_nested():
        session.add(subscription)
        try:
            session.flush()
        except sa.exc.IntegrityError:  # the same browser subscribed twice at once: the other won
            raise _Raced() from None
    return subscription, True


class _Raced(Exception):
    pass


def subscribe_once(session: Session, **kwargs) -> tuple[PushSubscription, bool]:
    """subscribe(), retried once when a concurrent request inserted the same endpoint first."""
    try:
        return subscribe(session, **kwargs)
    except _Raced:
        return subscribe(session, **kwargs)


def of_user(session: Session, user: User) -> list[PushSubscription]:
    return list(session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user.id)
                                .order_by(PushSubscription.created_at, PushSubscription.id)))


def remove(session: Session, *, user: User, subscription_id: str) -> None:
    subscription = session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.user_id != user.id:
        raise NotFound()
    drop(session, [subscription.id])


def drop(session: Session, ids: list[str]) -> None:
    """Forget subscriptions; their undelivered pushes are abandoned (nobody is there to get them)."""
    if not ids:
        return
    session.execute(sa.update(Delivery).where(Delivery.subscription_id.in_(ids), Delivery.status == "pending")
                    .values(status="gone", subscription_id=None, claimed_by=None, claimed_until=None))
    session.execute(sa.update(Delivery).where(Delivery.subscription_id.in_(ids)).values(subscription_id=None))
    session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(ids)))


def forget_device(session: Session, device_id: str) -> None:
    """A device logged out or was revoked: its browser must not be woken for that user any more."""
    drop(session, list(session.scalars(sa.select(PushSubscription.id).where(PushSubscription.device_id == device_id))))
