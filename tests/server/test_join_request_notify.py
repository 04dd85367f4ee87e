"""A resident's own request to join tells the butler of the household's grid (the community's
supervisors when the grid has none), by push and on the open app's live channel, in the request's
transaction, with no personal data in what push services read; on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from server.notify.models import Delivery, Notification, PushSubscription, Recipient
from server.notify.worker import load_jobs
from tests.factories import auth, make_community, make_grid, make_household, make_user

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


@pytest.fixture
def place(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="3", unit="2", room="1201")
    orphan = make_household(community, None, building="9", unit="1", room="101")
    return {"community": community, "butler": butler, "supervisor": supervisor, "household": household,
            "orphan": orphan}


def ask(client, place, household, username="asker", **overrides):
    body = {"community_id": place["community"].id, "building": household.building, "unit": household.unit,
            "room": household.room, "owner_name": "王芳", "household_role": "tenant", "username": username,
            "password": "new resident pw", "name": "申请人张三", **overrides}
    return client.post("/api/v1/join/requests", json=body)


def events(session):
    rows = session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    return [(n.event, sorted(session.scalars(sa.select(Recipient.user_id).where(Recipient.notification_id == n.id))),
             n.title) for n in rows]


def test_a_request_tells_the_grids_butler_with_no_name_or_room(client, session, place):
    session.add(PushSubscription(user_id=place["butler"].id, endpoint_hash="b" * 64,
                                 endpoint="https://fcm.googleapis.com/b", p256dh=P256DH, auth=AUTH))
    session.commit()
    r = ask(client, place, place["household"])
    assert r.status_code == 201, r.get_json()
    assert events(session) == [("join_request.created", [place["butler"].id], "入住申请 · 3栋2单元")]
    (notification,) = session.scalars(sa.select(Notification)).all()
    assert notification.ticket_id == r.get_json()["request"]["id"]
    for secret in ("1201", "张三", "王芳", "asker"):
        assert secret not in notification.title
    (delivery,) = session.scalars(sa.select(Delivery)).all()
    assert delivery.channel == "webpush" and delivery.status == "pending"


def test_the_push_payload_carries_only_the_event_the_id_and_the_title(client, session, place):
    session.add(PushSubscription(user_id=place["butler"].id, endpoint_hash="c" * 64,
                                 endpoint="https://fcm.googleapis.com/c", p256dh=P256DH, auth=AUTH))
    session.commit()
    request_id = ask(client, place, place["household"]).get_json()["request"]["id"]
    (delivery,) = session.scalars(sa.select(Delivery)).all()
    (job,) = load_jobs(session, [delivery.id])
    assert job.payload == {"event": "join_request.created", "id": request_id, "title": "入住申请 · 3栋2单元"}
    assert not any(secret in json.dumps(job.payload, ensure_ascii=False) for secret in ("1201", "张三", "王芳"))


def test_the_open_app_of_the_butler_hears_it_on_the_live_channel(client, session, place):
    headers = auth(place["butler"])
    cursor = client.get("/api/v1/notifications", headers=headers).get_json()["cursor"]
    request_id = ask(client, place, place["household"]).get_json()["request"]["id"]
    answer = client.get(f"/api/v1/notifications?after={cursor}&wait=0", headers=headers).get_json()
    assert [(e["event"], e["id"], e["title"]) for e in answer["events"]] == [
        ("join_request.created", request_id, "入住申请 · 3栋2单元")]
    supervisor = client.get(f"/api/v1/notifications?after={cursor}&wait=0", headers=auth(place["supervisor"]))
    assert supervisor.get_json()["events"] == []


def test_with_no_butler_the_supervisors_are_told(client, session, place):
    assert ask(client, place, place["orphan"]).status_code == 201
    assert events(session) == [("join_request.created", [place["supervisor"].id], "入住申请 · 9栋1单元")]


def test_a_refused_request_tells_nobody(client, session, place):
    r = ask(client, place, place["household"], room="9999")
    assert r.status_code == 422
    assert events(session) == []
