"""The console's orders, notices, 回访 tasks and ticket page (server/console/orders.py, notices.py,
followups.py, ticket.py), and what they set off: notifications in the outbox without personal data,
scheduled notices told when due, a not-fixed low rating reopening its ticket. SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.notices.models import Notice
from server.notices.service import publish_due
from server.notify.models import Notification, Recipient
from server.products.models import Order
from server.records import utcnow
from server.tickets.models import FollowUp, Ticket, TicketEvent
from server.tickets.sla import Sla
from tests.factories import auth, make_community, make_grid, make_household, make_order, make_ticket, make_user
from tests.support.console import log_in, post, text


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    b1 = make_user("butler", name="李管家", community_id=community.id)
    b2 = make_user("butler", name="张管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    h1 = make_household(community, make_grid(community, b1), building="1", unit="1", room="301")
    h2 = make_household(community, make_grid(community, b2), building="2", unit="1", room="1203")
    r1 = make_user("resident", name="陈阿姨", community_id=community.id, household_id=h1.id)
    r2 = make_user("resident", name="赵伯", community_id=community.id, household_id=h2.id)
    other = make_community(name="别的小区")
    oh = make_household(other, make_grid(other, make_user("butler", community_id=other.id)), building="9", room="901")
    return {"community": community, "b1": b1, "b2": b2, "supervisor": supervisor, "h1": h1, "h2": h2, "r1": r1,
            "r2": r2, "other": other, "oh": oh, "ors": make_user("resident", community_id=other.id,
                                                                     household_id=oh.id)}


@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def notifications(session, event: str) -> list[tuple[list[str], str]]:
    rows = session.scalars(sa.select(Notification).where(Notification.event == event).order_by(Notification.id))
    return [(sorted(session.scalars(sa.select(Recipient.user_id).where(Recipient.notification_id == n.id))), n.title)
            for n in rows]


# ---- orders ---------------------------------------------------------------------------------------

def test_the_orders_page_filters_by_status_product_building_and_shows_only_the_community(console, world):
    placed = make_order(world["h1"], note="放门口")
    delivered = make_order(world["h2"], product_code="cleaning", status="delivered")
    foreign = make_order(world["oh"])
    html = text(console.get("/console/orders"))
    assert placed.id in html and delivered.id in html and foreign.id not in html
    html = text(console.get("/console/orders?status=delivered"))
    assert delivered.id in html and placed.id not in html
    html = text(console.get("/console/orders?product=water"))
    assert placed.id in html and delivered.id not in html
    html = text(console.get("/console/orders?building=2"))
    assert delivered.id in html and placed.id not in html
    future = (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat()
    assert placed.id not in text(console.get(f"/console/orders?start={future}&end={future}"))
    assert console.get("/console/orders?start=2026-13-01").status_code == 200  # a bad date: said, not a 500


def test_the_orders_page_pages(console, world, session):
    for _ in range(51):
        make_order(world["h1"])
    first = text(console.get("/console/orders"))
    assert first.count('data-testid="order-row"') == 50 and 'data-testid="orders-next"' in first
    second = text(console.get("/console/orders?page=2"))
    assert second.count('data-testid="order-row"') == 1


def test_the_orders_csv_keeps_formulas_as_text(console, world):
    make_order(world["h1"], note="=HYPERLINK(\"http://evil\")")
    r = console.get("/console/orders.csv")
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "下单时间"
    assert rows[1][5] == "'=HYPERLINK(\"http://evil\")"


def test_a_supervisor_moves_an_order_in_the_console_and_the_resident_is_told(console, world, session):
    order = make_order(world["h1"])
    r = post(console, f"/console/orders/{order.id}/status", {"status": "cancelled"}, "/console/orders")
    assert r.status_code == 422 and r.get_data(as_text=True).count("class=\"error\"") >= 1
    session.expire_all()
    assert session.get(Order, order.id).status == "placed"
    r = post(console, f"/console/orders/{order.id}/status", {"status": "cancelled", "reason": "缺货"}, "/console/orders")
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Order, order.id).status == "cancelled" and session.get(Order, order.id).reason == "缺货"
    assert notifications(session, "order.updated") == [(sorted([world["r1"].id, world["b1"].id]), "订单 · 1栋1单元")]


# ---- notices --------------------------------------------------------------------------------------

def test_publishing_a_notice_tells_its_community_without_personal_data(console, world, session):
    r = post(console, "/console/notices", {"title": "停水通知", "body": "明早 8 点至 12 点停水。"}, "/console/notices")
    assert r.status_code == 302, text(r)
    notice = session.scalar(sa.select(Notice))
    assert notice.notified_at is not None and notice.community_id == world["community"].id
    (told,) = notifications(session, "notice.published")
    assert told == (sorted([world["b1"].id, world["b2"].id, world["r1"].id, world["r2"].id]), "公告")
    assert "停水通知" in text(console.get("/console/notices"))


def test_a_notice_for_one_building_tells_its_residents_and_their_butler_only(console, world, session):
    assert post(console, "/console/notices", {"title": "电梯维修", "building": "2"}, "/console/notices").status_code == 302
    assert notifications(session, "notice.published") == [(sorted([world["b2"].id, world["r2"].id]), "公告 · 2栋")]


def test_a_scheduled_notice_is_told_once_when_it_falls_due(console, world, session):
    r = post(console, "/console/notices", {"title": "消杀安排", "publish_at": "2099-01-01T09:00"}, "/console/notices")
    assert r.status_code == 302
    assert notifications(session, "notice.published") == []
    notice = session.scalar(sa.select(Notice))
    assert notice.notified_at is None and notice.published_at.year == 2099
    assert publish_due(session, now=utcnow()) == []
    due = publish_due(session, now=datetime(2099, 1, 1, 2, tzinfo=timezone.utc))
    session.commit()
    assert [n.id for n in due] == [notice.id]
    assert len(notifications(session, "notice.published")) == 1
    assert publish_due(session, now=datetime(2099, 1, 2, tzinfo=timezone.utc)) == []  # never twice


def test_the_worker_beat_publishes_due_notices(app, world, session):
    from server.notify.worker import Worker
    from tests.factories import _save

    _save(Notice(community_id=world["community"].id, title="活动", published_at=utcnow() - timedelta(minutes=1)))
    worker = Worker.from_app(app)
    worker.escalate()
    session.expire_all()
    assert session.scalar(sa.select(Notice)).notified_at is not None
    assert len(notifications(session, "notice.published")) == 1


def test_pinning_and_withdrawing_a_notice(console, world, session, client):
    post(console, "/console/notices", {"title": "停水通知"}, "/console/notices")
    notice = session.scalar(sa.select(Notice))
    assert post(console, f"/console/notices/{notice.id}/pin", {"pinned": "on"}, "/console/notices").status_code == 302
    session.expire_all()
    assert session.get(Notice, notice.id).pinned is True
    r = client.get("/api/v1/notices", headers=auth(world["r1"]))
    assert r.get_json()["items"][0]["pinned"] is True
    assert post(console, f"/console/notices/{notice.id}/withdraw", {}, "/console/notices").status_code == 302
    session.expire_all()
    assert session.get(Notice, notice.id).deleted is True
    assert client.get("/api/v1/notices", headers=auth(world["r1"])).get_json()["items"] == []
    assert "已撤回" in text(console.get("/console/notices"))


def test_a_supervisor_cannot_pin_another_communitys_notice(console, world, session):
    from tests.factories import _save

    foreign = _save(Notice(community_id=world["other"].id, title="外", published_at=utcnow()))
    r = post(console, f"/console/notices/{foreign.id}/pin", {"pinned": "on"}, "/console/notices")
    assert r.status_code in (403, 404)
    session.expire_all()
    assert session.get(Notice, foreign.id).pinned is False


# ---- 回访 and the reopen rule ----------------------------------------------------------------------

def rate(client, resident, ticket_id, **fields):
    return client.patch(f"/api/v1/tickets/{ticket_id}", data=json.dumps(fields),
                        headers={**auth(resident), "Content-Type": "application/json"})


def test_a_low_rating_saying_not_fixed_reopens_the_ticket_to_its_assignee(client, world, session):
    ticket = make_ticket(world["h1"], status="resolved", assignee_id=world["b1"].id,
                         created_at=utcnow() - timedelta(days=5), resolved_at=utcnow(), escalated="resolve")
    r = rate(client, world["r1"], ticket.id, rating=1, not_fixed=True, rating_comment="还在漏")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "accepted" and body["assignee_id"] == world["b1"].id
    assert body["reopened_at"] and body["resolved_at"] is None and body["escalated"] is None
    session.expire_all()
    reopened = session.get(Ticket, ticket.id)
    deadline = Sla().deadline(reopened)
    assert deadline[0] == "resolve" and deadline[1] > utcnow()  # the clock runs from the reopening
    kinds = [e.kind for e in session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
    assert "reopened" in kinds and "rated" in kinds
    assert session.scalar(sa.select(FollowUp).where(FollowUp.ticket_id == ticket.id)).status == "open"
    told = session.scalars(sa.select(Recipient.user_id).join(Notification).where(
        Notification.ticket_id == ticket.id, Notification.urgent.is_(True))).all()
    assert world["b1"].id in told


@pytest.mark.parametrize("fields", [{"rating": 3, "not_fixed": True}, {"rating": 1}])
def test_a_good_rating_or_no_not_fixed_leaves_the_ticket_done(client, world, session, fields):
    ticket = make_ticket(world["h1"], status="closed", assignee_id=world["b1"].id)
    assert rate(client, world["r1"], ticket.id, **fields).status_code == 200
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "closed"


def test_not_fixed_on_an_open_ticket_is_refused(client, world, session):
    ticket = make_ticket(world["h1"], status="accepted", assignee_id=world["b1"].id)
    r = rate(client, world["r1"], ticket.id, rating=1, not_fixed=True)
    assert r.status_code == 422


def test_the_follow_up_page_lists_filters_and_records_the_call(console, world, session, client):
    ticket = make_ticket(world["h1"], status="resolved", assignee_id=world["b1"].id, description="门锁坏了")
    rate(client, world["r1"], ticket.id, rating=2)
    task = session.scalar(sa.select(FollowUp))
    html = text(console.get("/console/follow-ups"))
    assert task.id in html and "门锁坏了" in html
    assert task.id not in text(console.get("/console/follow-ups?status=done"))
    r = post(console, f"/console/follow-ups/{task.id}", {"called": "on", "note": "已道歉，明天上门", "done": "on"},
             "/console/follow-ups")
    assert r.status_code == 302
    session.expire_all()
    task = session.get(FollowUp, task.id)
    assert task.status == "done" and task.called_at is not None and task.note == "已道歉，明天上门"
    assert task.id in text(console.get("/console/follow-ups?status=done&called=yes"))
    assert task.id not in text(console.get("/console/follow-ups?status=&called=no"))


# ---- one ticket's page ----------------------------------------------------------------------------

def test_the_ticket_page_shows_the_timeline_ratings_and_readers(console, world, session, client):
    ticket = make_ticket(world["h1"], status="dispatched", assignee_id=world["b1"].id, description="水龙头漏水")
    for status in ("accepted", "resolved"):
        r = client.patch(f"/api/v1/tickets/{ticket.id}", data=json.dumps({"status": status}),
                         headers={**auth(world["b1"]), "Content-Type": "application/json"})
        assert r.status_code == 200
    rate(client, world["r1"], ticket.id, rating=5)
    r = console.get(f"/console/tickets/{ticket.id}")
    html = text(r)
    assert r.status_code == 200 and "水龙头漏水" in html
    assert html.count('data-testid="timeline-step"') == 3  # accepted, resolved, rated
    assert "5★" in html and 'data-testid="ticket-photos"' in html
    assert "李管家" in html and "王主管" in html  # who changed it, and the supervisor's own read
    read = session.scalar(sa.select(AuditEvent).where(AuditEvent.record_id == ticket.id, AuditEvent.action == "read"))
    assert read.user_id == world["supervisor"].id and read.channel == "console"
    still_open = make_ticket(world["h2"], status="dispatched", assignee_id=world["b2"].id)
    assert f"/console/tickets/{still_open.id}" in text(console.get("/console/tickets"))


def test_the_ticket_page_is_the_supervisors_community_only(console, world):
    foreign = make_ticket(world["oh"], description="别人的")
    r = console.get(f"/console/tickets/{foreign.id}")
    assert r.status_code in (403, 404) and "别人的" not in text(r)
