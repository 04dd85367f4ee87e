"""The notification outbox: who hears of what, written with the ticket change, never with personal data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.notify.models import Delivery, Notification, PushSubscription, Recipient
from server.tickets.models import FollowUp, Ticket
from server.tickets.sla import Sla, escalate_overdue
from server.syncing import bookkeeping
from tests.factories import auth, make_community, make_grid, make_household, make_ticket, make_user

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="3栋", unit="2单元")
    resident = make_user("resident", community_id=community.id, household_id=household.id, name="刘女士")
    supervisor = make_user("supervisor", community_id=community.id)
    return {"community": community, "butler": butler, "household": household, "resident": resident,
            "supervisor": supervisor}


def subscribe(session, user, name="a"):
    sub = PushSubscription(user_id=user.id, endpoint_hash=name * 64, endpoint=f"https://fcm.googleapis.com/{name}",
                           p256dh=P256DH, auth=AUTH)
    session.add(sub)
    session.commit()
    return sub


def events(session):
    """(event, sorted recipients, title) of every notification, oldest first."""
    rows = session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    return [(n.event, sorted(session.scalars(sa.select(Recipient.user_id).where(Recipient.notification_id == n.id))),
             n.title) for n in rows]


def raise_ticket(client, resident, **fields):
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "厨房漏水，电话13800138000", **fields},
                    headers=auth(resident))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_new_ticket_notifies_the_grid_butler_with_no_personal_data(client, session, place):
    sub = subscribe(session, place["butler"])
    raise_ticket(client, place["resident"])
    assert events(session) == [("ticket.created", [place["butler"].id], "报修 · 3栋2单元")]
    notification = session.scalar(sa.select(Notification))
    assert notification.urgent
    assert "刘女士" not in notification.title and "1380013" not in notification.title
    delivery = session.scalar(sa.select(Delivery))
    assert (delivery.channel, delivery.subscription_id, delivery.status) == ("webpush", sub.id, "pending")


def test_with_no_butler_on_the_grid_the_supervisors_hear_of_it(client, session, place):
    place["household"].grid_id = None
    bookkeeping.changed(session, "household", place["household"])
    session.commit()
    raise_ticket(client, place["resident"])
    assert events(session) == [("ticket.created", [place["supervisor"].id], "报修 · 3栋2单元")]


def test_a_refused_ticket_leaves_nothing_in_the_outbox(client, session, place):
    r = client.post("/api/v1/tickets", json={"category": "no-such", "description": "x"}, headers=auth(place["resident"]))
    assert r.status_code == 422
    assert events(session) == []


def test_the_outbox_row_rolls_back_with_its_ticket(app, session, place):
    from server.resources import service

    service.create(session, user=place["resident"], rtype="ticket", data={"category": "repair", "description": "x"})
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_a_new_status_tells_the_resident_but_not_whoever_made_it(client, session, place):
    ticket = raise_ticket(client, place["resident"])
    r = client.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "accepted"}, headers=auth(place["butler"]))
    assert r.status_code == 200
    assert events(session)[-1] == ("ticket.updated", [place["resident"].id], "报修 · 3栋2单元")


def test_a_ticket_handed_to_another_butler_tells_them_urgently(client, session, place):
    other = make_user("butler", community_id=place["community"].id)
    ticket = raise_ticket(client, place["resident"])
    r = client.patch(f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": other.id},
                     headers=auth(place["supervisor"]))
    assert r.status_code == 200
    last = session.scalars(sa.select(Notification).order_by(Notification.id.desc())).first()
    assert (last.event, last.urgent) == ("ticket.updated", True)
    assert events(session)[-1][1] == [other.id]


@pytest.mark.parametrize("rating, follow_up", [(1, True), (2, True), (3, False), (5, False)])
def test_a_rating_of_one_or_two_opens_a_follow_up_for_the_supervisors(client, session, place, rating, follow_up):
    ticket = make_ticket(place["household"], status="resolved", assignee_id=place["butler"].id)
    r = client.patch(f"/api/v1/tickets/{ticket.id}", json={"rating": rating, "rating_comment": "太慢了"},
                     headers=auth(place["resident"]))
    assert r.status_code == 200
    task = session.scalar(sa.select(FollowUp).where(FollowUp.ticket_id == ticket.id))
    if follow_up:
        assert (task.status, task.rating, task.community_id) == ("open", rating, place["community"].id)
        assert events(session) == [("ticket.updated", [place["supervisor"].id], "报修 · 3栋2单元")]
    else:
        assert task is None and events(session) == []


def test_escalation_tells_the_supervisors_and_the_assignee(session, place):
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    make_ticket(place["household"], status="dispatched", assignee_id=place["butler"].id,
                created_at=now - timedelta(minutes=20))
    escalate_overdue(session, sla=Sla(), now=now)
    session.commit()
    assert events(session) == [("ticket.escalated", sorted([place["supervisor"].id, place["butler"].id]),
                                "报修 · 3栋2单元")]
    escalate_overdue(session, sla=Sla(), now=now + timedelta(minutes=1))
    assert len(events(session)) == 1  # escalated once, told once


def test_a_ticket_raised_through_sync_is_in_the_outbox_too(client, session, place):
    import uuid

    from tests.support.phone import put, results

    mutation = put("ticket", str(uuid.uuid4()), {"category": "water", "description": "送两桶水"})
    r = client.post("/api/v1/sync", headers=auth(place["resident"]), json={
        "client_id": str(uuid.uuid4()), "schema": 1, "cursor": None, "mutations": [mutation]})
    assert results(r)[0]["status"] == "applied", results(r)
    assert events(session) == [("ticket.created", [place["butler"].id], "桶装水 · 3栋2单元")]


def test_supervisors_list_and_close_their_follow_ups_and_nobody_else_may(client, session, place):
    ticket = make_ticket(place["household"], status="resolved", assignee_id=place["butler"].id)
    client.patch(f"/api/v1/tickets/{ticket.id}", json={"rating": 1}, headers=auth(place["resident"]))
    headers = auth(place["supervisor"])
    [task] = client.get("/api/v1/follow-ups?status=open", headers=headers).get_json()["follow_ups"]
    assert (task["ticket_id"], task["rating"], task["status"]) == (ticket.id, 1, "open")
    for user in (place["butler"], place["resident"], make_user("supervisor", community_id=make_community().id)):
        r = client.get("/api/v1/follow-ups", headers=auth(user))
        assert r.status_code == 403 or r.get_json()["follow_ups"] == []
        assert client.patch(f"/api/v1/follow-ups/{task['id']}", json={"status": "done"},
                            headers=auth(user)).status_code in (403, 404)
    r = client.patch(f"/api/v1/follow-ups/{task['id']}", json={"status": "done", "note": "已电话回访，住户满意"},
                     headers=headers)
    assert r.status_code == 200
    assert (r.get_json()["status"], r.get_json()["done_by"]) == ("done", place["supervisor"].id)
    assert client.get("/api/v1/follow-ups?status=open", headers=headers).get_json()["follow_ups"] == []
    assert client.get("/api/v1/follow-ups?status=maybe", headers=headers).status_code == 422


def test_a_title_names_building_and_unit_however_they_were_typed(session):
    from server.community.models import Household
    from server.notify.outbox import ticket_title

    ticket = Ticket(category="complaint")
    assert ticket_title(Household(building="3", unit="1"), ticket) == "投诉 · 3栋1单元"
    assert ticket_title(Household(building="3栋", unit="1单元"), ticket) == "投诉 · 3栋1单元"
    assert ticket_title(Household(building="A座", unit="东"), ticket) == "投诉 · A座东"
    assert ticket_title(None, ticket) == "投诉"
