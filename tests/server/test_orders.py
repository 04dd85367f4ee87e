"""Orders fulfilled (服务订单): a resident places one, the grid's butler is told, confirms and delivers
it, the resident hears each step; cancellations and refunds carry reasons. Through REST and sync, on
SQLite and PostgreSQL."""
from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from server.notify.models import Delivery, Notification, Recipient
from server.products.models import Order
from tests.factories import auth, complete_visit, make_community, make_grid, make_household, make_order, make_user
from tests.server.test_notify_outbox import subscribe
from tests.support.phone import Phone, put, results


@pytest.fixture
def world(session):
    """One community, two grids each with its butler and one household with its resident."""
    community = make_community()
    out = {"community": community, "supervisor": make_user("supervisor", community_id=community.id)}
    for name in ("1", "2"):
        butler = make_user("butler", community_id=community.id)
        household = make_household(community, make_grid(community, butler), building=name, unit="2", room="301")
        out["butler" + name], out["household" + name] = butler, household
        out["resident" + name] = make_user("resident", community_id=community.id, household_id=household.id)
    return out


def events(session) -> list[tuple[str, list[str], str]]:
    rows = session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    return [(n.event, sorted(session.scalars(sa.select(Recipient.user_id).where(Recipient.notification_id == n.id))),
             n.title) for n in rows]


def patch(client, user, order_id, **fields):
    return client.patch(f"/api/v1/orders/{order_id}", data=json.dumps(fields),
                        headers={**auth(user), "Content-Type": "application/json"})


def place(client, resident, **fields):
    r = client.post("/api/v1/orders", data=json.dumps({"product_code": "water", "quantity": 2, **fields}),
                    headers={**auth(resident), "Content-Type": "application/json"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_new_order_tells_the_grids_butler_without_personal_data(client, session, world):
    order = place(client, world["resident1"], note="放门口，电话 13800000000")
    assert events(session) == [("order.created", [world["butler1"].id], "订单 · 1栋2单元")]
    (notification,) = session.scalars(sa.select(Notification)).all()
    assert notification.ticket_id == order["id"]
    assert "13800000000" not in notification.title and "301" not in notification.title


def test_the_butler_confirms_and_delivers_and_the_resident_sees_each_step(client, session, world):
    order = place(client, world["resident1"])
    r = patch(client, world["butler1"], order["id"], status="confirmed")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["confirmed_at"] is not None
    r = patch(client, world["butler1"], order["id"], status="delivered")
    assert r.status_code == 200 and r.get_json()["delivered_at"] is not None
    seen = client.get(f"/api/v1/orders/{order['id']}", headers=auth(world["resident1"])).get_json()
    assert seen["status"] == "delivered" and seen["confirmed_at"] and seen["delivered_at"]
    assert [e[:2] for e in events(session)] == [("order.created", [world["butler1"].id]),
                                                ("order.updated", [world["resident1"].id]),
                                                ("order.updated", [world["resident1"].id])]


def test_a_resident_cancels_before_confirmation_and_not_after(client, session, world):
    first = place(client, world["resident1"])
    r = patch(client, world["resident1"], first["id"], status="cancelled", reason="买多了")
    assert r.status_code == 200 and r.get_json()["cancelled_at"] and r.get_json()["reason"] == "买多了"
    assert events(session)[-1][:2] == ("order.updated", [world["butler1"].id])
    second = place(client, world["resident1"])
    assert patch(client, world["butler1"], second["id"], status="confirmed").status_code == 200
    r = patch(client, world["resident1"], second["id"], status="cancelled")
    assert r.status_code in (403, 422)
    assert session.get(Order, second["id"]).status == "confirmed"


def test_staff_cancel_and_refund_only_with_a_reason(client, session, world):
    order = place(client, world["resident1"])
    r = patch(client, world["butler1"], order["id"], status="cancelled")
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.get_json()["details"]["errors"]] == [("reason", "required")]
    assert session.get(Order, order["id"]).status == "placed"
    patch(client, world["butler1"], order["id"], status="confirmed")
    patch(client, world["butler1"], order["id"], status="delivered")
    assert patch(client, world["butler1"], order["id"], status="refunded", reason="水有异味").status_code == 403
    r = patch(client, world["supervisor"], order["id"], status="refunded", reason="水有异味")
    assert r.status_code == 200 and r.get_json()["status"] == "refunded" and r.get_json()["refunded_at"]
    assert r.get_json()["reason"] == "水有异味"


def test_an_order_is_placed_placed(client, world):
    r = client.post("/api/v1/orders", data=json.dumps({"product_code": "water", "status": "delivered"}),
                    headers={**auth(world["resident1"]), "Content-Type": "application/json"})
    assert r.status_code in (403, 422)


def test_a_resident_sees_only_their_orders_and_a_butler_only_their_grids(client, session, world):
    mine = make_order(world["household1"])
    other = make_order(world["household2"])
    listed = lambda user: {o["id"] for o in client.get("/api/v1/orders", headers=auth(user)).get_json()["items"]}
    assert listed(world["resident1"]) == {mine.id}
    assert listed(world["butler1"]) == {mine.id}
    assert listed(world["butler2"]) == {other.id}
    assert patch(client, world["butler2"], mine.id, status="confirmed").status_code in (403, 404)
    assert session.get(Order, mine.id).status == "placed"


def test_the_butler_confirms_and_delivers_through_sync(client, session, world):
    order = make_order(world["household1"])
    phone = Phone(client, world["butler1"])
    (confirmed,) = results(phone.sync(put("order", order.id, {"status": "confirmed"}, base=1)))
    assert confirmed["status"] == "applied", confirmed
    (delivered,) = results(phone.sync(put("order", order.id, {"status": "delivered"}, base=2)))
    assert delivered["status"] == "applied", delivered
    session.expire_all()
    assert session.get(Order, order.id).delivered_at is not None
    resident_phone = Phone(client, world["resident1"], "bbbbbbbb-0000-4000-8000-000000000002")
    pulled = [c for c in resident_phone.pull_all() if c["type"] == "order"]
    assert pulled and pulled[0]["data"]["status"] == "delivered" and pulled[0]["data"]["confirmed_at"]
    assert [e[:2] for e in events(session)] == [("order.updated", [world["resident1"].id])] * 2


def test_a_butler_cannot_move_another_grids_order_through_sync(client, session, world):
    order = make_order(world["household2"])
    (answer,) = results(Phone(client, world["butler1"]).sync(put("order", order.id, {"status": "confirmed"}, base=1)))
    assert answer["status"] == "rejected"
    session.expire_all()
    assert session.get(Order, order.id).status == "placed"


def test_a_new_order_through_sync_tells_the_butler(client, session, world):
    oid = str(uuid.uuid4())
    (answer,) = results(Phone(client, world["resident1"]).sync(
        put("order", oid, {"product_code": "water", "quantity": 1})))
    assert answer["status"] == "applied", answer
    assert events(session) == [("order.created", [world["butler1"].id], "订单 · 1栋2单元")]


# ---- orders in a sync batch, the fast way -------------------------------------------------------

class Statements:
    """The SQL statements sent while active (to tell the fast way from the careful one: savepoints)."""

    def __init__(self, session):
        self.engine, self.sent = session.get_bind(), []

    def _seen(self, conn, cursor, statement, *args):
        self.sent.append(statement.split(None, 1)[0].upper())

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def test_orders_placed_in_one_batch_with_other_writes_tell_the_butler_once_each(client, session, world):
    placed = make_order(world["household1"])
    first, second, unknown = (str(uuid.uuid4()) for _ in range(3))
    batch = [put("order", first, {"product_code": "water", "quantity": 1}),
             put("order", unknown, {"product_code": "no-such-product", "quantity": 1}),  # refused
             put("order", placed.id, {"status": "cancelled"}, base=1),
             put("order", second, {"product_code": "water", "quantity": 3, "note": "下午送"})]
    phone = Phone(client, world["resident1"])
    with Statements(session) as statements:
        answers = results(phone.sync(*batch))
    assert [a["status"] for a in answers] == ["applied", "rejected", "applied", "applied"], answers
    assert "SAVEPOINT" not in statements.sent  # the fast way, no write in a savepoint of its own
    butler = [world["butler1"].id]
    got = events(session)
    assert sorted(e[:2] for e in got) == [("order.created", butler), ("order.created", butler),
                                          ("order.updated", butler)]
    subjects = session.scalars(sa.select(Notification.ticket_id)).all()
    assert sorted(subjects) == sorted([first, second, placed.id]) and unknown not in subjects
    # The same batch again (the phone never heard the answer): answered, not re-applied, nobody told twice.
    again = results(phone.sync(*batch))
    assert [a["status"] for a in again] == ["applied", "rejected", "applied", "applied"]
    assert len(events(session)) == 3


def test_a_butlers_batch_of_visits_and_order_steps_tells_each_resident_once(client, session, world):
    confirm, deliver = make_order(world["household1"]), make_order(world["household1"], status="confirmed")
    elsewhere = make_order(world["household2"])  # another grid's: refused
    phones = [subscribe(session, world["resident1"], "a"), subscribe(session, world["resident1"], "b")]
    visit = complete_visit({"household_id": world["household1"].id, "visited_at": "2026-11-27T09:15:00+08:00",
                            "kind": "routine"})
    answers = results(Phone(client, world["butler1"]).sync(
        put("visit", str(uuid.uuid4()), visit),
        put("order", confirm.id, {"status": "confirmed"}, base=1),
        put("order", elsewhere.id, {"status": "confirmed"}, base=1),
        put("order", deliver.id, {"status": "delivered"}, base=1)))
    assert [a["status"] for a in answers] == ["applied", "applied", "rejected", "applied"], answers
    resident = [world["resident1"].id]
    assert sorted((e[0], e[1]) for e in events(session)) == [("order.updated", resident)] * 2
    assert sorted(session.scalars(sa.select(Notification.ticket_id))) == sorted([confirm.id, deliver.id])
    deliveries = session.execute(sa.select(Notification.ticket_id, Delivery.subscription_id, Delivery.status)
                                 .join(Delivery, Delivery.notification_id == Notification.id)).all()
    assert sorted(deliveries) == sorted((order.id, phone.id, "pending") for order in (confirm, deliver)
                                        for phone in phones)  # each step to each of the resident's browsers
    seqs = session.scalars(sa.select(Notification.seq)).all()
    assert len(set(seqs)) == 2 or session.get_bind().dialect.name == "postgresql"  # each its place in the order
    session.expire_all()
    assert session.get(Order, elsewhere.id).status == "placed"
    assert session.get(Order, deliver.id).delivered_at is not None


def test_a_batch_redone_the_careful_way_tells_the_butler_once_and_not_for_the_write_refused(client, session, world):
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    # An order for another household: it passes the checks made in Python and fails the batch's scope
    # check at the end, so the batch is rolled back and redone one savepoint per write.
    answers = results(Phone(client, world["resident1"]).sync(
        put("order", mine, {"product_code": "water"}),
        put("order", theirs, {"product_code": "water", "household_id": world["household2"].id})))
    assert [a["status"] for a in answers] == ["applied", "rejected"], answers
    assert [(e[0], e[1]) for e in events(session)] == [("order.created", [world["butler1"].id])]
    assert session.scalars(sa.select(Notification.ticket_id)).all() == [mine]
    assert session.get(Order, theirs) is None
