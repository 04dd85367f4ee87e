"""The notification outbox and the channels it is delivered through.

An event (`Notification`) and its recipients are written in the same transaction as the ticket
change that caused it, and so are its deliveries: one per push subscription of each recipient and
one per webhook of the community. A worker claims pending deliveries and sends them
(server/notify/worker.py); open apps read their recipients' rows (server/notify/api.py).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedString
from server.extensions import db
from server.records import UTCDateTime, enum, new_id, utcnow

# What an event is about: a ticket's, an order's, a notice's, an incident's or a request to join's id, or for an
# account's own events (login.failed, device.revoked) the account's (`ticket_id` holds it for all).
EVENTS = ("ticket.created", "ticket.updated", "ticket.escalated", "order.created", "order.updated",
          "notice.published", "join_request.created", "login.failed", "device.revoked", "incident.raised",
          "incident.closed")
CHANNELS = ("webpush", "webhook")
DELIVERY_STATES = ("pending", "sent", "gone", "failed")
WEBHOOK_KINDS = ("wecom", "json")


class PushSubscription(db.Model):
    """A browser's push subscription, tied to the device (login) that made it.

    The endpoint and keys are capabilities: stored encrypted; the endpoint is found by its hash.
    """

    __tablename__ = "push_subscription"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    device_id: Mapped[str | None] = mapped_column(sa.ForeignKey("device.id"), index=True)
    endpoint_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    endpoint: Mapped[str] = mapped_column(EncryptedString, nullable=False)
    p256dh: Mapped[str] = mapped_column(EncryptedString, nullable=False)
    auth: Mapped[str] = mapped_column(EncryptedString, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Webhook(db.Model):
    """A community's webhook (a WeCom 企业微信 group robot, or any URL taking the poke as JSON).
    The URL carries its key: stored encrypted."""

    __tablename__ = "notification_webhook"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(enum(*WEBHOOK_KINDS, name="webhook_kind"), nullable=False)
    url: Mapped[str] = mapped_column(EncryptedString, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Notification(db.Model):
    """One event of the outbox. Its title names a category and a building/unit, never a person.

    `seq` is its place in the one change order (server/syncing/changes.py), taken when it is
    written: an open app reads events in (seq, id) order up to the high-water mark, so an event
    whose transaction commits late is never skipped (ids can commit out of order; the change order
    cannot be read past a number still uncommitted).
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    event: Mapped[str] = mapped_column(enum(*EVENTS, name="notification_event"), nullable=False)
    ticket_id: Mapped[str] = mapped_column(sa.String(36), nullable=False, index=True)
    community_id: Mapped[str | None] = mapped_column(sa.ForeignKey("community.id"))
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    urgent: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    # What the live channel's watcher scans (events past what it has seen) and each poll pages by.
    __table_args__ = (sa.Index("ix_notification_seq_id", "seq", "id"),)


class Recipient(db.Model):
    """Who an event is for: what an open app's long poll reads."""

    __tablename__ = "notification_recipient"

    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notification.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)

    __table_args__ = (sa.Index("ix_notification_recipient_user", "user_id", "notification_id"),)


class Delivery(db.Model):
    """One send of one event through one channel, claimed by one worker at a time.

    A claim is a lease (`claimed_until`): a worker that dies mid-send leaves the delivery to be
    claimed again when the lease runs out, so nothing is lost.
    """

    __tablename__ = "notification_delivery"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notification.id"), nullable=False,
                                                 index=True)
    channel: Mapped[str] = mapped_column(enum(*CHANNELS, name="notification_channel"), nullable=False)
    subscription_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("push_subscription.id", ondelete="SET NULL"), index=True)
    webhook_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("notification_webhook.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(enum(*DELIVERY_STATES, name="delivery_status"), nullable=False,
                                        default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What a worker scans: the pending ones, soonest first.
    __table_args__ = (sa.Index("ix_notification_delivery_due", "status", "next_attempt_at"),)
