"""The notification worker: claims pending deliveries, sends them, records what happened.

Several workers may run at once (`flask --app server notify-worker` in as many processes as
wanted): a claim is one UPDATE of rows picked with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite
serialises writers, so its single UPDATE is the claim). A claim is a lease: the sending happens
outside any transaction, and a worker that dies after claiming leaves the rows to be claimed again
when `claimed_until` passes — at least once, never lost. A worker holds at most two sends per sending
thread (one sending, one waiting for it), and the lease is longer than two sends can take (timeout),
so a live worker's claim is never taken from it: a message is sent twice only when a
worker dies between the push service's answer and recording it, and then the Topic header (one per
ticket) lets the push service replace the first copy.

Retries back off exponentially (10 s, 20 s, … at most an hour) or wait as long as the service's
Retry-After says; a delivery older than the push TTL, or tried MAX_ATTEMPTS times, is given up.
The worker also runs the tickets' escalation (server/tickets/sla.py) every ESCALATE_EVERY_SECONDS,
and tells the audiences of scheduled notices that have fallen due (server/notices/service.py).
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.notify.channels import Outcome, WebPush, Webhooks
from server.notify.models import Delivery, Notification, PushSubscription, Webhook
from server.notify.subscriptions import drop
from server.records import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    batch: int = 100  # deliveries claimed at once
    threads: int = 8  # sends in flight at once (network-bound)
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 10
    ttl: timedelta = timedelta(hours=24)
    base_delay: float = 10.0
    max_delay: float = 3600.0

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(batch=int(config["NOTIFY_BATCH"]), threads=int(config["NOTIFY_THREADS"]),
                   lease=timedelta(seconds=float(config["NOTIFY_LEASE_SECONDS"])),
                   max_attempts=int(config["NOTIFY_MAX_ATTEMPTS"]),
                   ttl=timedelta(seconds=int(config["PUSH_TTL_SECONDS"])))


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to send it (decrypted), read in one query."""

    id: int
    channel: str
    payload: dict
    urgent: bool
    topic: str
    created_at: datetime
    attempts: int
    subscription_id: str | None = None
    subscription: dict | None = None
    webhook_kind: str | None = None
    webhook_url: str | None = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


def claim(session: Session, *, worker: str, now: datetime, settings: Settings) -> list[int]:
    """Take up to `batch` due deliveries for `worker` until now + lease; commits the claim (and whatever
    the session wrote before it: the outcomes recorded in the same round)."""
    due = (sa.select(Delivery.id)
           .where(Delivery.status == "pending", Delivery.next_attempt_at <= now,
                  sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
           .order_by(Delivery.next_attempt_at, Delivery.id).limit(settings.batch)
           .with_for_update(skip_locked=True))
    ids = list(session.scalars(
        sa.update(Delivery).where(Delivery.id.in_(due.scalar_subquery()))
        .values(claimed_by=worker, claimed_until=now + settings.lease, attempts=Delivery.attempts + 1)
        .returning(Delivery.id).execution_options(synchronize_session=False)))
    session.commit()
    return sorted(ids)


def load_jobs(session: Session, ids: list[int]) -> list[Job]:
    if not ids:
        return []
    rows = session.execute(
        sa.select(Delivery, Notification, PushSubscription, Webhook)
        .join(Notification, Notification.id == Delivery.notification_id)
        .outerjoin(PushSubscription, PushSubscription.id == Delivery.subscription_id)
        .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    jobs = []
    for delivery, notification, subscription, webhook in rows:
        jobs.append(Job(
            id=delivery.id, channel=delivery.channel, urgent=notification.urgent,
            payload={"event": notification.event, "id": notification.ticket_id, "title": notification.title},
            topic=notification.ticket_id.replace("-", "")[:32],  # RFC 8030: ≤ 32 base64url characters
            created_at=notification.created_at, attempts=delivery.attempts,
            subscription_id=subscription.id if subscription else None,
            subscription={"endpoint": subscription.endpoint,
                          "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}} if subscription else None,
            webhook_kind=webhook.kind if webhook else None, webhook_url=webhook.url if webhook else None))
    session.rollback()  # nothing is held while sending
    return jobs


def backoff(attempts: int, settings: Settings, given: float | None) -> float:
    """Seconds to wait before the next try: what the service asked for, else exponential with jitter."""
    if given is not None:
        return min(max(given, 1.0), settings.max_delay)
    delay = min(settings.base_delay * 2 ** max(attempts - 1, 0), settings.max_delay)
    return delay * random.uniform(0.8, 1.2)


def record(session: Session, *, worker: str, results: list[tuple[Job, Outcome]], now: datetime,
           settings: Settings) -> list[str]:
    """Write the outcomes of finished sends (only where this worker still holds the claim), without
    committing; returns each one's new state. All the sent ones are one statement: a round of a busy
    worker is mostly those."""
    states, sent, gone = [], [], []
    for job, outcome in results:
        state, values = outcome.state, {"claimed_by": None, "claimed_until": None, "last_error": outcome.error}
        if state == "retry":
            next_at = now + timedelta(seconds=backoff(job.attempts, settings, outcome.retry_after))
            if job.attempts >= settings.max_attempts or next_at > job.created_at + settings.ttl:
                state = "failed"
            else:
                values["next_attempt_at"] = next_at
        states.append(state)
        if state == "sent":
            sent.append(job.id)
            continue
        values["status"] = "pending" if state == "retry" else state
        held = (Delivery.id == job.id) & (Delivery.claimed_by == worker)
        if session.execute(sa.update(Delivery).where(held).values(**values)).rowcount and state == "gone" \
                and job.subscription_id:
            gone.append(job.subscription_id)  # 404/410: the browser unsubscribed
    if sent:
        session.execute(sa.update(Delivery).where(Delivery.id.in_(sent), Delivery.claimed_by == worker)
                        .values(status="sent", sent_at=now, claimed_by=None, claimed_until=None, last_error=None))
    drop(session, gone)
    return states


class Worker:
    """One worker: `run_once()` handles what is due now; `run(stop)` loops until `stop` is set."""

    def __init__(self, app, *, webpush: WebPush | None, webhooks: Webhooks, settings: Settings,
                 poll: float = 0.25, escalate_every: float = 30.0, clock: Callable[[], datetime] = utcnow,
                 name: str | None = None):
        self.app, self.webpush, self.webhooks, self.settings = app, webpush, webhooks, settings
        self.poll, self.escalate_every, self.clock = poll, escalate_every, clock
        self.name = name or worker_name()
        self._pool = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="notify-send")

    @classmethod
    def from_app(cls, app, **kwargs) -> "Worker":
        from server.notify import vapid
        from server.notify import subscriptions, webhooks

        config = app.config
        key = vapid.of(app)
        timeout = float(config["PUSH_TIMEOUT_SECONDS"])
        webpush = WebPush(key, config["VAPID_SUBJECT"], int(config["PUSH_TTL_SECONDS"]), timeout,
                          subscriptions.allowed_hosts(config), connections=int(config["NOTIFY_THREADS"])) if key else None
        kwargs.setdefault("poll", float(config["NOTIFY_POLL_SECONDS"]))
        kwargs.setdefault("escalate_every", float(config["ESCALATE_EVERY_SECONDS"]))
        return cls(app, webpush=webpush, webhooks=Webhooks(timeout, webhooks.allowed_hosts(config)),
                   settings=Settings.from_config(config), **kwargs)

    def _send(self, job: Job) -> Outcome:
        try:
            if job.channel == "webpush":
                if job.subscription is None:
                    return Outcome("gone", "unsubscribed")
                if self.webpush is None:
                    return Outcome("retry", "no VAPID key")
                return self.webpush.send(job.subscription, job.payload, urgent=job.urgent, topic=job.topic)
            if job.webhook_url is None:
                return Outcome("gone", "webhook removed")
            return self.webhooks.send(job.webhook_kind, job.webhook_url, job.payload)
        except Exception:  # a bug in one send must not stop the others
            log.exception("notification delivery %s failed", job.id)
            return Outcome("retry", "internal error")

    def _exchange(self, results: list[tuple[Job, Outcome]], limit: int) -> tuple[list[str], list[Job]]:
        """One round with the database, one commit: record the finished sends' outcomes and claim up
        to `limit` more deliveries. Returns the recorded states and the claimed jobs."""
        from server.extensions import db

        if not results and limit <= 0:
            return [], []
        with self.app.app_context():
            try:
                now = self.clock()
                states = record(db.session, worker=self.name, results=results, now=now, settings=self.settings)
                if limit <= 0:
                    db.session.commit()
                    return states, []
                ids = claim(db.session, worker=self.name, now=now, settings=replace(self.settings, batch=limit))
                return states, load_jobs(db.session, ids)
            finally:
                db.session.remove()

    def _sent(self, job: Job) -> tuple[Job, Outcome]:
        """Send one claimed delivery (in a sending thread); the outcome is recorded in the next round."""
        return job, self._send(job)

    def run_once(self) -> dict[str, int]:
        """Claim what is due (one batch), send it all, record each outcome; returns counts by state."""
        _, jobs = self._exchange([], self.settings.batch)
        states, _ = self._exchange(list(self._pool.map(self._sent, jobs)), 0)
        counts: dict[str, int] = {}
        for state in states:
            counts[state] = counts.get(state, 0) + 1
        return counts

    def escalate(self) -> int:
        from server.extensions import db
        from server.tickets.sla import Sla, escalate_overdue

        with self.app.app_context():
            try:
                tickets = escalate_overdue(db.session, sla=Sla.from_config(self.app.config), now=self.clock())
                db.session.commit()
                # Scheduled notices fall due on the same beat: their audiences are told once.
                from server.notices.service import publish_due

                publish_due(db.session, now=self.clock())
                db.session.commit()
                return len(tickets)
            finally:
                db.session.remove()

    def run(self, stop: threading.Event) -> None:
        """Keep every sending thread busy with at most one more send waiting behind each, so one push
        service that hangs holds up one thread and the send behind it for its timeout, never everyone
        else's notifications. Claims come in rounds of at least a thread's worth (or at once when
        nothing is in flight), and the finished sends' outcomes are written in the same transaction as
        the round's claim: one commit per round, not one per message."""
        most = 2 * self.settings.threads
        next_escalation = 0.0
        in_flight: set = set()
        finished: list[tuple[Job, Outcome]] = []
        while not stop.is_set():
            try:
                if self.escalate_every and time.monotonic() >= next_escalation:
                    next_escalation = time.monotonic() + self.escalate_every
                    if escalated := self.escalate():
                        log.info("escalated %d tickets", escalated)
                room = most - len(in_flight)
                jobs = []
                if room >= self.settings.threads or not in_flight:
                    _, jobs = self._exchange(finished, min(room, self.settings.batch))
                    finished = []
            except sa.exc.OperationalError:  # the database is away: wait, and try again (outcomes kept)
                log.warning("notification worker: database unavailable")
                stop.wait(min(5.0, self.poll * 20))
                continue
            in_flight.update(self._pool.submit(self._sent, job) for job in jobs)
            if jobs and len(in_flight) < most:
                continue  # there may be more due
            if in_flight:
                done, _ = wait(in_flight, timeout=self.poll, return_when=FIRST_COMPLETED)
                in_flight -= done
                finished += self._results(done)
            else:
                stop.wait(self.poll)  # nothing due: look again shortly
        finished += self._results(wait(in_flight).done)
        try:
            self._exchange(finished, 0)  # stopping: what was sent is recorded, not sent again
        except sa.exc.OperationalError:  # the leases run out and those are sent again
            log.warning("notification worker: database unavailable; %d outcomes not recorded", len(finished))

    @staticmethod
    def _results(done) -> list[tuple[Job, Outcome]]:
        results = []
        for future in done:
            if future.exception() is not None:  # not recorded: the lease runs out and it is retried
                log.error("sending a delivery failed: %r", future.exception())
            else:
                results.append(future.result())
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=True)
