"""Writing events into the outbox, inside the caller's transaction (never sending anything).

The event, its recipients and one delivery per channel are rows written with the change that
caused them: if the change rolls back, so does the notification; if it commits, the worker
(server/notify/worker.py) will deliver it even if this process dies the next instant.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import Household
from server.notify import live
from server.notify.models import Delivery, Notification, PushSubscription, Recipient, Webhook
from server.records import utcnow
from server.syncing.changes import next_seq, next_seqs
from server.tickets import categories
from server.tickets.models import Ticket

# Names of categories in a notification's title (the title is Chinese, as the phones show it).
CATEGORY_TITLES = {code: zh for code, (zh, _en) in categories.NAMES.items()}
# What a community's webhook (a group chat) hears: new and late tickets, not every update; every
# emergency raised and its all-clear.
WEBHOOK_EVENTS = frozenset({"ticket.created", "ticket.escalated", "incident.raised", "incident.closed"})
TOGETHER = "guanjia.outbox_together"  # session.info key: events kept to be written together


def ticket_title(household: Household | None, ticket: Ticket) -> str:
    """"报修 · 3栋2单元" ("紧急 · 报修 · 3栋2单元" when urgent): a category and where, never who (push
    services and group chats read it)."""
    title = f"{CATEGORY_TITLES.get(ticket.category, ticket.category)} · {where(household)}".strip(" ·")
    return f"紧急 · {title}" if ticket.priority == "urgent" else title


def supervisors(session: Session, community_id: str | None) -> list[str]:
    """The active supervisors of a community."""
    if community_id is None:
        return []
    return list(session.scalars(sa.select(User.id).where(
        User.community_id == community_id, User.role == "supervisor", User.active.is_(True))))


def residents(session: Session, household_id: str) -> list[str]:
    """The active resident accounts of a household."""
    return list(session.scalars(sa.select(User.id).where(
        User.household_id == household_id, User.role == "resident", User.active.is_(True))))


def where(household: Household | None) -> str:
    """"3栋2单元": a building and unit, never a room or a name."""
    if household is None:
        return ""
    building, unit = household.building.strip(), household.unit.strip()  # "3" and "3栋" both read 3栋
    return (building + "栋" if building.isdigit() else building) + (unit + "单元" if unit.isdigit() else unit)


def record(session: Session, *, event: str, ticket: Ticket, recipients: Iterable[str | None],
           urgent: bool = False, exclude: str | None = None) -> Notification | None:
    """Put one event about a ticket into the outbox for `recipients` (user ids; None and `exclude`,
    the user who made the change, are left out). Returns the event, or None when nobody hears it."""
    household = session.get(Household, ticket.household_id)
    community_id = household.community_id if household is not None else None
    return record_about(session, event=event, subject_id=ticket.id, community_id=community_id,
                        title=ticket_title(household, ticket), recipients=recipients, urgent=urgent,
                        exclude=exclude)


def record_order(session: Session, *, event: str, order, recipients: Iterable[str | None],
                 exclude: str | None = None) -> Notification | None:
    """An order's event: "订单 · 3栋2单元" (what was ordered and by whom stay on the phones)."""
    household = session.get(Household, order.household_id)
    return record_about(session, event=event, subject_id=order.id,
                        community_id=household.community_id if household is not None else None,
                        title=f"订单 · {where(household)}".strip(" ·"), recipients=recipients, exclude=exclude)


def record_notice(session: Session, *, notice, recipients: Iterable[str | None],
                  exclude: str | None = None) -> Notification | None:
    """A notice published: "公告 · 3栋" (what it says, which anyone may have typed, stays on the phones)."""
    building = notice.building.strip()
    title = "公告" + (f" · {building}栋" if building.isdigit() else f" · {building}" if building else "")
    return record_about(session, event="notice.published", subject_id=notice.id, community_id=notice.community_id,
                        title=title, recipients=recipients, exclude=exclude)


def record_join_request(session: Session, *, join_request, recipients: Iterable[str | None]) -> Notification | None:
    """A resident asks to join a household: "入住申请 · 3栋2单元" (who asks, and for which room, stay on
    the server until the butler opens the requests)."""
    household = session.get(Household, join_request.household_id)
    return record_about(session, event="join_request.created", subject_id=join_request.id,
                        community_id=household.community_id if household is not None else None,
                        title=f"入住申请 · {where(household)}".strip(" ·"), recipients=recipients)


# An account's own events: what they say names no one (the id is the account's, for the app and console).
ACCOUNT_TITLES = {"login.failed": "账号多次登录失败", "device.revoked": "设备数量已满，最久未用的设备已退出登录"}
STAFF_ROLES = frozenset({"butler", "technician", "supervisor"})


def record_account_notice(session: Session, *, event: str, user: User, staff_too: bool = True) -> Notification | None:
    """Tell a user about their account (repeated failed logins, a device logged out to make room);
    for a staff account, with `staff_too`, its community's supervisors hear it as well."""
    recipients = [user.id]
    if staff_too and user.role in STAFF_ROLES:
        recipients += supervisors(session, user.community_id)
    return record_about(session, event=event, subject_id=user.id, community_id=user.community_id,
                        title=ACCOUNT_TITLES[event], recipients=recipients)


def record_about(session: Session, *, event: str, subject_id: str, community_id: str | None, title: str,
                 recipients: Iterable[str | None], urgent: bool = False,
                 exclude: str | None = None) -> Notification | None:
    """Put one event about a record (a ticket, an order, a notice) into the outbox."""
    users = sorted({r for r in recipients if r is not None and r != exclude})
    webhooks = list(session.scalars(sa.select(Webhook.id).where(Webhook.community_id == community_id))) \
        if event in WEBHOOK_EVENTS and community_id is not None else []
    if not users and not webhooks:
        return None
    now = utcnow()
    if TOGETHER in session.info:  # written with the others when `together` ends
        session.info[TOGETHER].append({"event": event, "ticket_id": subject_id, "community_id": community_id,
                                       "title": title, "urgent": urgent, "created_at": now, "users": users,
                                       "webhooks": webhooks})
        return None
    # Its place in the change order: open apps read events up to the high-water mark, so one whose
    # transaction commits after a later one's is still read (server/notify/live.py).
    notification = Notification(event=event, ticket_id=subject_id, community_id=community_id,
                                title=title, urgent=urgent, created_at=now, seq=next_seq(session))
    session.add(notification)
    session.flush()
    live.announce(session)
    if users:
        session.execute(sa.insert(Recipient), [{"notification_id": notification.id, "user_id": u} for u in users])
    subscriptions = list(session.scalars(sa.select(PushSubscription.id).where(
        PushSubscription.user_id.in_(users)).order_by(PushSubscription.id))) if users else []
    deliveries = ([{"channel": "webpush", "subscription_id": s} for s in subscriptions]
                  + [{"channel": "webhook", "webhook_id": w} for w in webhooks])
    if deliveries:
        session.execute(sa.insert(Delivery), [
            {"notification_id": notification.id, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "subscription_id": None, "webhook_id": None, **d} for d in deliveries])
    return notification


@contextmanager
def together(session: Session) -> Iterator[None]:
    """The events recorded inside are written together when it ends, in the same transaction: one
    statement per table for all of them instead of ~6 per event (a sync batch's 500 orders confirmed
    are 500 events). Nothing is written if the block raises. `record_about` returns None inside."""
    session.info[TOGETHER] = []
    try:
        yield
        pending = session.info[TOGETHER]
    finally:
        session.info.pop(TOGETHER, None)
    _write_together(session, pending)


def _write_together(session: Session, pending: list[dict]) -> None:
    if not pending:
        return
    seqs = next_seqs(session, len(pending))  # each its own place in the change order, as one by one
    rows = [{key: value for key, value in event.items() if key not in ("users", "webhooks")} | {"seq": seq}
            for event, seq in zip(pending, seqs)]
    ids = session.scalars(sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
                          rows).all()
    live.announce(session)
    recipients = [{"notification_id": nid, "user_id": u} for nid, event in zip(ids, pending) for u in event["users"]]
    if recipients:
        session.execute(sa.insert(Recipient), recipients)
    users = sorted({r["user_id"] for r in recipients})
    subscriptions: dict[str, list[str]] = {}
    for start in range(0, len(users), 500):
        for sid, user_id in session.execute(sa.select(PushSubscription.id, PushSubscription.user_id).where(
                PushSubscription.user_id.in_(users[start:start + 500])).order_by(PushSubscription.id)):
            subscriptions.setdefault(user_id, []).append(sid)
    deliveries = []
    for nid, event in zip(ids, pending):
        channels = ([{"channel": "webpush", "subscription_id": s} for s in
                     sorted(s for u in event["users"] for s in subscriptions.get(u, []))]
                    + [{"channel": "webhook", "webhook_id": w} for w in event["webhooks"]])
        deliveries += [{"notification_id": nid, "status": "pending", "attempts": 0,
                        "next_attempt_at": event["created_at"],
                        "subscription_id": None, "webhook_id": None, **d} for d in channels]
    if deliveries:
        session.execute(sa.insert(Delivery), deliveries)
