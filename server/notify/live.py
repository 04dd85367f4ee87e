"""The open app's live channel: a hub per process that wakes only the users who have news.

A long poll (GET /api/v1/notifications) registers a waiter under its user's id, reads its own
events once, and if there are none sleeps on its waiter (a greenlet under gunicorn's gevent
worker: a socket, not a thread). One watcher per process, running only while someone waits,
learns that there is news — PostgreSQL's LISTEN on a connection of its own (the outbox sends
NOTIFY in the transaction that writes the event), or on SQLite a look every half second — then
runs ONE query for the recipients of the events past what it has already seen, and wakes only
their waiters. With a thousand open apps an event costs one query and one poll's reading, not a
thousand of each.

Order: events are read by their place in the change order (`Notification.seq`) up to
`high_water`, never past a number still uncommitted, so an event that commits late is woken
for and read when it becomes readable. Nothing is lost while the watcher runs or starts:

- a waiter registers before its first reading, and the watcher looks at the registry only
  after reading the high-water mark, so an event is either in the waiter's own reading or in a
  watcher's query made after the waiter was registered;
- when the watcher (re)starts it knows nothing it has seen, so it takes the high-water mark as
  its starting point and wakes every waiter once to look again;
- an event committed behind an older, still open transaction (its NOTIFY came before it was
  readable) is looked at again every half second until the high-water mark passes it.

A waiter's wake is sticky (a threading.Event, patched by gevent): a wake between its reading and
its wait is not lost. The watcher holds one connection of its own, never one of the app's pool;
if the database goes away it reconnects with a back-off, and waiters simply time out.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from server.notify.models import Notification, Recipient
from server.syncing.changes import high_water

log = logging.getLogger(__name__)

# The PostgreSQL channel the outbox announces new events on. The payload is empty: the watcher
# reads what it needs from the database, and nothing about anyone goes over the channel.
CHANNEL = "guanjia_notification"
APPLICATION_NAME = "guanjia-live"


def announce(session: Session) -> None:
    """Within the transaction that writes an event: tell every app server's watcher at commit
    (PostgreSQL delivers a NOTIFY only if, and when, its transaction commits; the same empty
    payload sent twice in one transaction is delivered once). SQLite's watchers look by themselves."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))


class Waiter:
    """One waiting long poll."""

    __slots__ = ("user_id", "news", "ended")

    def __init__(self, user_id: str):
        self.user_id = user_id
        self.news = threading.Event()  # set when the user may have news (or the hub closes)
        self.ended = False  # a newer poll of the same user took its place: answer now


class Hub:
    """The waiting long polls of one app in one process, by user, and the watcher that wakes them."""

    INTERVAL = 0.5  # SQLite: how often to look; PostgreSQL: how often to look again for a late commit
    IDLE_EXIT = 5.0  # the watcher stops (and closes its connection) after this long with nobody waiting
    MAX_BACKOFF = 15.0  # longest pause between two attempts to reach a database that went away
    _lock = threading.Lock()

    def __init__(self, app: Flask):
        self.url = app.config["LIVE_DATABASE_URI"]
        self.per_user = app.config["LONG_POLLS_PER_USER"]
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        # Each user's waiters, oldest first (a dict keeps the order they came in).
        self.waiters: dict[str, dict[Waiter, None]] = {}
        self.waiting = 0
        self.polls = 0  # long polls between their first reading and their answer
        self.closed = False
        self.thread: threading.Thread | None = None
        self.idle_since: float | None = None
        self.checks = 0  # the watcher's looks at the database (tests: none while nobody waits)
        self.failures = 0

    @classmethod
    def of(cls, app: Flask) -> "Hub":
        with cls._lock:
            hub = app.extensions.get("guanjia.live")
            if hub is None:
                hub = app.extensions["guanjia.live"] = cls(app)
            return hub

    # ---- the long polls' side -----------------------------------------------------------------

    @contextlib.contextmanager
    def serving(self):
        """Around a long poll's work: counted, so that drain() knows when none is left."""
        with self.lock:
            self.polls += 1
        try:
            yield
        finally:
            with self.lock:
                self.polls -= 1
                self.idle.notify_all()

    @contextlib.contextmanager
    def listening(self, user_id: str):
        """Register a waiter for `user_id` (before its first reading: see the module's notes). A
        user holds at most `per_user` waiters here: a new one ends the oldest, which answers at once
        in the usual shape (its app asks again), so that one account cannot hold the server's
        connections for everyone else."""
        waiter = Waiter(user_id)
        with self.lock:
            mine = self.waiters.setdefault(user_id, {})
            for oldest in list(mine)[:max(0, len(mine) - self.per_user + 1)]:
                oldest.ended = True
                oldest.news.set()
                del mine[oldest]
            mine[waiter] = None
            self.waiting += 1
            if self.closed:
                waiter.news.set()
            elif self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="notify-live", daemon=True)
                self.thread.start()
        try:
            yield waiter
        finally:
            with self.lock:
                mine = self.waiters.get(user_id)
                if mine is not None:
                    mine.pop(waiter, None)
                    if not mine:
                        del self.waiters[user_id]
                self.waiting -= 1

    def wake(self, user_ids) -> int:
        """Wake the waiters of these users; returns how many were woken."""
        woken = 0
        with self.lock:
            for user_id in user_ids:
                for waiter in self.waiters.get(user_id, ()):
                    waiter.news.set()
                    woken += 1
        return woken

    def wake_all(self) -> None:
        with self.lock:
            for waiters in self.waiters.values():
                for waiter in waiters:
                    waiter.news.set()

    def close(self) -> None:
        """Release every waiter at once (they answer without touching the database again)."""
        with self.lock:
            self.closed = True
        self.wake_all()

    def drain(self, timeout: float) -> None:
        with self.lock:
            self.idle.wait_for(lambda: self.polls == 0, timeout)

    # ---- the watcher --------------------------------------------------------------------------

    def _stopping(self) -> bool:
        """True (and the watcher is gone: the next waiter starts another) when the hub is closed or
        nobody has waited for IDLE_EXIT seconds. Decided under the lock that registration takes."""
        with self.lock:
            if self.waiting:
                self.idle_since = None
            elif self.idle_since is None:
                self.idle_since = time.monotonic()
            if self.closed or (not self.waiting and time.monotonic() - self.idle_since > self.IDLE_EXIT):
                self.thread = None
                self.idle_since = None
                return True
            return False

    def _watch(self) -> None:
        self.failures = 0  # in a row: set back to 0 once connected again
        while True:
            try:
                self._watch_connected()
                return
            except Exception as error:  # noqa: BLE001 - the database went away (or the network): try again
                self.failures += 1
                log.warning("live channel: the watcher lost the database (%s); retrying", type(error).__name__)
            deadline = time.monotonic() + min(self.MAX_BACKOFF, self.INTERVAL * 2 ** min(self.failures - 1, 8))
            while time.monotonic() < deadline:
                if self._stopping():
                    return
                time.sleep(self.INTERVAL)

    def _watch_connected(self) -> None:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT",
                                  **self._connect_args())
        try:
            with engine.connect() as connection:
                try:
                    self._watch_on(connection)
                except Exception:
                    connection.invalidate()  # dead: do not try to roll it back on the way out
                    raise
        finally:
            engine.dispose()

    def _connect_args(self) -> dict:
        # Named, so that an operator (and a test) can tell the watcher's connection in pg_stat_activity.
        if self.url.startswith("postgresql"):
            return {"connect_args": {"application_name": APPLICATION_NAME}}
        return {}

    def _watch_on(self, connection) -> None:
        listening = connection.dialect.name == "postgresql"
        if listening:
            connection.exec_driver_sql(f"LISTEN {CHANNEL}")
            raw = connection.connection.driver_connection
        self.failures = 0
        session = Session(bind=connection)
        seen: int | None = None  # every event at or below this was looked at
        due = True
        while not self._stopping():
            if due and self.waiting:
                seen, due = self._check(session, seen)
            if listening:
                # A NOTIFY that came while we were querying waits in psycopg's backlog (3.2.4+).
                for _ in raw.notifies(timeout=self.INTERVAL, stop_after=1):
                    due = True
            else:
                time.sleep(self.INTERVAL)
                due = True

    def _check(self, session: Session, seen: int | None) -> tuple[int, bool]:
        """Wake the recipients of the events past `seen`; returns the new `seen`, and whether some
        event is written but not yet readable (look again soon)."""
        try:
            return self._look(session, seen)
        finally:
            self.checks += 1

    def _look(self, session: Session, seen: int | None) -> tuple[int, bool]:
        top = session.scalar(sa.select(sa.func.max(Notification.seq))) or 0
        if seen is None:  # (re)started: whatever came before is for each waiter's own reading
            seen = high_water(session)
            session.rollback()
            self.wake_all()
            return seen, top > seen
        if top <= seen:
            session.rollback()
            return seen, False
        mark = high_water(session)
        if mark > seen:
            users = session.scalars(
                sa.select(Recipient.user_id).distinct()
                .join(Notification, Notification.id == Recipient.notification_id)
                .where(Notification.seq > seen, Notification.seq <= mark)).all()
            seen = mark
            self.wake(users)
        session.rollback()
        return seen, top > seen


def release_waiters(app: Flask, timeout: float = 5.0) -> None:
    """Before an app's engine is disposed (shutdown, tests): end its long polls now, and wait until
    none is between two readings."""
    hub = app.extensions.get("guanjia.live")
    if hub is not None:
        hub.close()
        hub.drain(timeout)
