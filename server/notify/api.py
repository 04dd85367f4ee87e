"""Push subscriptions, the VAPID public key, and the open app's channel (a cheap long poll).

GET /notifications?after=<cursor>&wait=<s> answers as soon as the caller has events newer than the
cursor, or after `wait` seconds with none. Waiting costs no query per request: one thread per
process (`Beacon`) reads the newest event id twice a second while anyone waits, and wakes the
waiters when it grows; only then does each look for its own events. A waiting request holds a
server thread but no database connection.
"""
from __future__ import annotations

import contextlib
import threading
import time

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, g, jsonify, request

from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.http import json_body, public
from server.notify import subscriptions, vapid
from server.notify.models import Notification, Recipient
from server.notify.schemas import EventSchema, PushSubscriptionSchema

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


def _cursor_arg() -> int | None:
    raw = request.args.get("after")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed([FieldError("after", "invalid_type")])
    return int(raw)


def _wait_arg() -> float:
    limit = float(current_app.config["LONG_POLL_SECONDS"])
    raw = request.args.get("wait", str(limit))
    try:
        wait = float(raw)
    except ValueError:
        raise ValidationFailed([FieldError("wait", "invalid_type")]) from None
    return min(max(wait, 0.0), limit)


def events_after(session, user_id: str, after: int) -> list[Notification]:
    return list(session.scalars(
        sa.select(Notification).join(Recipient, Recipient.notification_id == Notification.id)
        .where(Recipient.user_id == user_id, Recipient.notification_id > after)
        .order_by(Notification.id).limit(MAX_EVENTS)))


@bp.get("/notifications")
def notifications():
    """The caller's events after a cursor (long poll); without `after`, the cursor to start from."""
    after, wait = _cursor_arg(), _wait_arg()
    user_id = g.user.id
    if after is None:
        latest = db.session.scalar(sa.select(sa.func.max(Recipient.notification_id))
                                   .where(Recipient.user_id == user_id))
        return jsonify(cursor=str(latest or 0), events=[])
    beacon = Beacon.of(current_app._get_current_object())
    deadline = time.monotonic() + wait
    seen, found = beacon.latest, []
    with beacon.serving():
        # Once the app is shutting down, answer "nothing yet" without the database; the phone asks again.
        while not beacon.closed:
            found = events_after(db.session, user_id, after)
            db.session.rollback()  # give the connection back while waiting
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                break
            seen = beacon.wait_past(seen, remaining)
    cursor = found[-1].id if found else after
    return jsonify(cursor=str(cursor), events=EventSchema(many=True).dump(found))


def release_waiters(app: Flask, timeout: float = 5.0) -> None:
    """Before an app's engine is disposed (shutdown, tests): end its long polls now, and wait until
    none is between two queries."""
    beacon = app.extensions.get("guanjia.beacon")
    if beacon is not None:
        beacon.close()
        beacon.drain(timeout)


class Beacon:
    """The newest event id of this process's database, read by one thread while anyone waits."""

    INTERVAL = 0.5
    IDLE_EXIT = 5.0
    _lock = threading.Lock()

    def __init__(self, app: Flask):
        self.app = app
        self.latest = 0
        self.waiting = 0
        self.changed = threading.Condition()
        self.thread: threading.Thread | None = None
        self.idle_since: float | None = None
        self.closed = False
        self.polls = 0  # long polls between their first query and their answer

    @classmethod
    def of(cls, app: Flask) -> "Beacon":
        with cls._lock:
            beacon = app.extensions.get("guanjia.beacon")
            if beacon is None:
                beacon = app.extensions["guanjia.beacon"] = cls(app)
            return beacon

    @contextlib.contextmanager
    def serving(self):
        """Around a long poll's work: counted, so that drain() knows when none is left."""
        with self.changed:
            self.polls += 1
        try:
            yield
        finally:
            with self.changed:
                self.polls -= 1
                self.changed.notify_all()

    def drain(self, timeout: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.polls == 0, timeout)

    def close(self) -> None:
        """Release every waiter at once (they answer without touching the database again)."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait_past(self, seen: int, timeout: float) -> int:
        """Block until the newest id is past `seen` (or timeout); returns the newest id."""
        with self.changed:
            self.waiting += 1
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="notify-beacon", daemon=True)
                self.thread.start()
            try:
                self.changed.wait_for(lambda: self.latest > seen or self.closed, timeout)
                return self.latest
            finally:
                self.waiting -= 1

    def _watch(self) -> None:
        """Read the newest id every INTERVAL on one connection of its own (opened here, closed when
        nobody has waited for IDLE_EXIT seconds), so that it never holds one of the app's."""
        engine = sa.create_engine(self.app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
        query = sa.select(sa.func.max(Notification.id))
        try:
            while True:
                try:
                    with engine.connect() as connection:
                        while self._note(connection.execute(query).scalar() or 0):
                            connection.rollback()  # hold no snapshot or lock between reads
                            time.sleep(self.INTERVAL)
                        return
                except sa.exc.SQLAlchemyError:  # the database went away: waiters time out; try again
                    time.sleep(self.INTERVAL * 4)
        finally:
            engine.dispose()

    def _note(self, latest: int) -> bool:
        """Wake the waiters if there is news; False when nobody has waited for IDLE_EXIT seconds."""
        with self.changed:
            if latest > self.latest:
                self.latest = latest
                self.changed.notify_all()
            if self.closed:
                self.thread = None
                return False
            if self.waiting:
                self.idle_since = None
            elif self.idle_since is None:
                self.idle_since = time.monotonic()
            elif time.monotonic() - self.idle_since > self.IDLE_EXIT:
                self.thread = None  # stop; the next waiter starts a new one
                return False
            return True
