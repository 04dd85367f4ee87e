"""Push subscriptions, the VAPID public key, and the open app's channel (a cheap long poll).

GET /notifications?after=<cursor>&wait=<s> answers as soon as the caller has events past the
cursor, or after `wait` seconds with none. A waiting request holds no database connection and
costs no query: it sleeps until the process's hub (server/notify/live.py) wakes it because one
of its events was written, then reads its own events once.

The cursor is "<seq>.<id>", the place of the last event the app has heard of in the change order
(opaque to the app). Events are read in (seq, id) order and never past the high-water mark.
"""
from __future__ import annotations

import math
import re
import time

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify

from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.http import json_body, public, query_args
from server.notify import subscriptions, vapid
from server.notify.live import Hub, release_waiters  # noqa: F401 - release_waiters: shutdown and tests
from server.notify.models import Notification, Recipient
from server.notify.schemas import EventSchema, PushSubscriptionSchema
from server.syncing.changes import high_water

bp = Blueprint("notify", __name__)
MAX_EVENTS = 50


class PushUnavailable(ApiError):
    status, code = 503, "push_unavailable"


@bp.get("/push/key")
@public
def push_key():
    """The applicationServerKey browsers subscribe with."""
    key = vapid.current()
    if key is None:
        raise PushUnavailable()
    return jsonify(key=vapid.public_key(key))


@bp.post("/push/subscriptions")
def subscribe():
    """Register this browser's push subscription (idempotent by endpoint): 201 when new, else 200."""
    data = PushSubscriptionSchema().load(json_body())
    subscription, created = subscriptions.subscribe_once(
        db.session, user=g.user, device=g.device, endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"],
        auth=data["keys"]["auth"], hosts=subscriptions.allowed_hosts(current_app.config))
    db.session.commit()
    return jsonify(PushSubscriptionSchema().dump(subscription)), 201 if created else 200


@bp.get("/push/subscriptions")
def list_subscriptions():
    return jsonify(subscriptions=PushSubscriptionSchema(many=True).dump(subscriptions.of_user(db.session, g.user)))


@bp.delete("/push/subscriptions/<subscription_id>")
def unsubscribe(subscription_id: str):
    subscriptions.remove(db.session, user=g.user, subscription_id=subscription_id)
    db.session.commit()
    return "", 204


CURSOR = re.compile(r"([0-9]{1,18})\.([0-9]{1,18})")
OLD_CURSOR = re.compile(r"[0-9]{1,18}")  # before events had a place in the change order: an event id
Cursor = tuple[int, int]


def _cursor_arg(args: dict[str, str]) -> Cursor | None:
    """The cursor, or None for none — and for an old one (a plain event id from an app that was open
    across the upgrade): it is answered like no cursor, with where to start and no events."""
    raw = args.get("after")
    if raw is None or OLD_CURSOR.fullmatch(raw):
        return None
    found = CURSOR.fullmatch(raw)
    if found is None:
        raise ValidationFailed([FieldError("after", "invalid_type")])
    return int(found[1]), int(found[2])


def _wait_arg(args: dict[str, str]) -> float:
    limit = float(current_app.config["LONG_POLL_SECONDS"])
    raw = args.get("wait", str(limit))
    try:
        wait = float(raw)
    except ValueError:
        raise ValidationFailed([FieldError("wait", "invalid_type")]) from None
    if not math.isfinite(wait):
        raise ValidationFailed([FieldError("wait", "invalid_type")])
    return min(max(wait, 0.0), limit)


def _text(cursor: Cursor) -> str:
    return f"{cursor[0]}.{cursor[1]}"


def events_after(session, user_id: str, after: Cursor, mark: int) -> list[Notification]:
    """The user's events past the cursor and at or below the high-water mark, in change order."""
    seq, last_id = after
    return list(session.scalars(
        sa.select(Notification).join(Recipient, Recipient.notification_id == Notification.id)
        .where(Recipient.user_id == user_id, Notification.seq >= seq, Notification.seq <= mark,
               sa.or_(Notification.seq > seq, Notification.id > last_id))
        .order_by(Notification.seq, Notification.id).limit(MAX_EVENTS)))


def start_cursor(session, user_id: str) -> Cursor:
    """Where an app starts hearing from: its user's last readable event, else the high-water mark
    (nothing of theirs is at or below it)."""
    mark = high_water(session)
    last = session.execute(
        sa.select(Notification.seq, Notification.id).join(Recipient, Recipient.notification_id == Notification.id)
        .where(Recipient.user_id == user_id, Notification.seq <= mark)
        .order_by(Notification.seq.desc(), Notification.id.desc()).limit(1)).first()
    return (last.seq, last.id) if last is not None else (mark, 0)


def _read(user_id: str, after: Cursor) -> tuple[list[Notification], Cursor]:
    """One reading: the events, and the cursor to answer with. With none, the cursor moves up to
    the high-water mark (none of the user's events lie between), so later readings stay short."""
    mark = high_water(db.session)
    found = events_after(db.session, user_id, after, mark)
    db.session.rollback()  # give the connection back before any wait
    if found:
        return found, (found[-1].seq, found[-1].id)
    return [], max(after, (mark, 0))


@bp.get("/notifications")
def notifications():
    """The caller's events after a cursor (long poll); without `after`, the cursor to start from."""
    args = query_args("after", "wait")
    after, wait = _cursor_arg(args), _wait_arg(args)
    user_id = g.user.id
    if after is None:
        cursor = start_cursor(db.session, user_id)
        db.session.rollback()
        return jsonify(cursor=_text(cursor), events=[])
    if wait <= 0:
        found, cursor = _read(user_id, after)
        return jsonify(cursor=_text(cursor), events=EventSchema(many=True).dump(found))
    hub = Hub.of(current_app._get_current_object())
    deadline = time.monotonic() + wait
    found, cursor = [], after
    with hub.serving(), hub.listening(user_id) as waiter:
        # Once the app is shutting down, or a newer poll of the same user took this one's place,
        # answer "nothing yet" without the database; the phone asks again.
        while not hub.closed and not waiter.ended:
            waiter.news.clear()  # before reading: a wake during the reading is kept for the wait
            found, cursor = _read(user_id, cursor)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                break
            if not waiter.news.wait(remaining) or waiter.ended:
                break  # not woken: the hub found nothing for this user, so there is nothing to read
    return jsonify(cursor=_text(cursor), events=EventSchema(many=True).dump(found))
