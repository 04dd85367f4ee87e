"""Tickets move only through their state machine; accepting is a claim."""
from __future__ import annotations

import pytest

from server.tickets.models import Ticket
from server.syncing import bookkeeping
from tests.factories import auth, make_community, make_grid, make_household, make_ticket, make_user


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    grid = make_grid(community, butler)
    household = make_household(community, grid)
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    supervisor = make_user("supervisor", community_id=community.id)
    return {"community": community, "butler": butler, "grid": grid, "household": household,
            "resident": resident, "supervisor": supervisor}


def move(client, user, ticket_id, **fields):
    return client.patch(f"/api/v1/tickets/{ticket_id}", json=fields, headers=auth(user))


def errors(response):
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def test_resident_raises_a_ticket_for_their_own_household(client, place, session):
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "厨房漏水"},
                    headers=auth(place["resident"]))
    assert r.status_code == 201
    body = r.get_json()
    assert body["household_id"] == place["household"].id
    assert body["raised_by"] == place["resident"].id


def test_a_new_ticket_is_dispatched_to_the_butler_of_its_grid(client, place, session):
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "厨房漏水"},
                    headers=auth(place["resident"]))
    assert (r.get_json()["status"], r.get_json()["assignee_id"]) == ("dispatched", place["butler"].id)


def test_with_no_butler_on_the_grid_a_ticket_waits_for_the_supervisors(client, place, session):
    place["grid"].butler_id = None
    bookkeeping.changed(session, "grid", place["grid"])
    session.commit()
    r = client.post("/api/v1/tickets", json={"category": "complaint"}, headers=auth(place["resident"]))
    assert (r.get_json()["status"], r.get_json()["assignee_id"]) == ("new", None)
    listed = client.get("/api/v1/tickets", headers=auth(place["supervisor"])).get_json()
    assert r.get_json()["id"] in [t["id"] for t in listed["items"]]


def test_an_inactive_butler_is_not_dispatched_to(client, place, session):
    place["butler"].active = False
    session.commit()
    r = client.post("/api/v1/tickets", json={"category": "repair"}, headers=auth(place["resident"]))
    assert (r.get_json()["status"], r.get_json()["assignee_id"]) == ("new", None)


def test_a_ticket_raised_through_sync_is_dispatched_too(client, place, session):
    import uuid

    tid = str(uuid.uuid4())
    body = {"client_id": str(uuid.uuid4()), "schema": 1, "cursor": None, "limit": 1,
            "mutations": [{"mid": str(uuid.uuid4()), "type": "ticket", "id": tid, "op": "put", "base": None,
                           "fields": {"category": "water", "description": "送两桶水"},
                           "at": "2026-11-27T09:15:02+08:00"}]}
    r = client.post("/api/v1/sync", json=body, headers=auth(place["resident"]))
    assert r.get_json()["results"][0]["status"] == "applied"
    session.expire_all()
    assert (session.get(Ticket, tid).status, session.get(Ticket, tid).assignee_id) == ("dispatched", place["butler"].id)


def test_butler_accepting_becomes_the_assignee(client, place, session):
    ticket = make_ticket(place["household"], status="dispatched")
    r = move(client, place["butler"], ticket.id, status="accepted")
    assert r.status_code == 200
    body = r.get_json()
    assert body["assignee_id"] == place["butler"].id
    assert body["accepted_at"] is not None


def test_a_ticket_held_by_one_butler_is_already_claimed_for_another(client, place, session):
    other = make_user("butler", community_id=place["community"].id)
    ticket = make_ticket(place["household"], status="accepted", assignee_id=other.id)
    r = move(client, place["butler"], ticket.id, status="accepted")
    assert r.status_code == 422
    assert errors(r) == [("status", "already_claimed")]
    session.expire_all()
    assert session.get(Ticket, ticket.id).assignee_id == other.id


def test_accepting_twice_is_harmless(client, place):
    ticket = make_ticket(place["household"], status="dispatched")
    assert move(client, place["butler"], ticket.id, status="accepted").status_code == 200
    assert move(client, place["butler"], ticket.id, status="accepted").status_code == 200


@pytest.mark.parametrize("start, to", [("new", "resolved"), ("closed", "in_progress"),
                                       ("cancelled", "accepted"), ("in_progress", "new")])
def test_moves_outside_the_state_machine_are_refused(client, place, session, start, to):
    ticket = make_ticket(place["household"], status=start, assignee_id=place["butler"].id)
    r = move(client, place["supervisor"], ticket.id, status=to)
    assert r.status_code == 422
    assert errors(r) == [("status", "invalid_transition")]
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == start


def test_the_whole_life_of_a_ticket(client, place, session):
    ticket = make_ticket(place["household"], status="dispatched")
    butler = place["butler"]
    for status in ("accepted", "in_progress", "resolved"):
        assert move(client, butler, ticket.id, status=status).status_code == 200
    r = move(client, butler, ticket.id, backoffice_rating=4, resolution_note="已更换阀门")
    assert r.status_code == 200
    r = move(client, place["resident"], ticket.id, status="closed", rating=5, rating_comment="很及时")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["status"], body["rating"], body["rating_comment"]) == ("closed", 5, "很及时")
    assert body["resolved_at"] and body["closed_at"]


def test_rating_waits_until_the_work_is_done(client, place):
    ticket = make_ticket(place["household"], status="accepted", assignee_id=place["butler"].id)
    r = move(client, place["resident"], ticket.id, rating=5)
    assert r.status_code == 422
    assert errors(r) == [("rating", "not_rateable")]


def test_resident_may_cancel_before_anyone_takes_the_ticket(client, place):
    ticket = make_ticket(place["household"], status="dispatched")
    assert move(client, place["resident"], ticket.id, status="cancelled").status_code == 200


def test_resident_may_not_cancel_work_in_progress(client, place):
    ticket = make_ticket(place["household"], status="in_progress", assignee_id=place["butler"].id)
    r = move(client, place["resident"], ticket.id, status="cancelled")
    assert r.status_code == 422
    assert errors(r) == [("status", "invalid_transition")]


def test_resident_may_not_resolve_their_own_ticket(client, place):
    ticket = make_ticket(place["household"], status="in_progress", assignee_id=place["butler"].id)
    r = move(client, place["resident"], ticket.id, status="resolved")
    assert r.status_code == 403
    assert errors(r) == [("status", "not_writable")]


def test_reopening_clears_the_resolution_time(client, place):
    ticket = make_ticket(place["household"], status="dispatched")
    for status in ("accepted", "resolved"):
        move(client, place["butler"], ticket.id, status=status)
    body = move(client, place["supervisor"], ticket.id, status="in_progress").get_json()
    assert body["status"] == "in_progress"
    assert body["resolved_at"] is None


def test_invalid_transition_message_names_both_states(client, place):
    ticket = make_ticket(place["household"], status="closed")
    r = client.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "accepted"},
                     headers={**auth(place["supervisor"]), "Accept-Language": "en"})
    assert r.get_json()["details"]["errors"][0]["message"] == "A ticket cannot go from closed to accepted."
    r = client.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "accepted"}, headers=auth(place["supervisor"]))
    assert r.get_json()["details"]["errors"][0]["message"] == "工单不能从“已关闭”变为“已接单”。"


def test_two_butlers_accepting_at_once_one_wins_the_other_is_told_already_claimed(app, place, session):
    """The claim race: the grid's butler and the butler it was handed to press 接单 at the same moment."""
    import threading

    other = make_user("butler", community_id=place["community"].id)
    ticket_id = make_ticket(place["household"], status="dispatched", assignee_id=other.id).id
    contenders = {place["butler"].id: auth(place["butler"]), other.id: auth(other)}
    barrier = threading.Barrier(len(contenders))
    answers = {}

    def accept(user_id, headers):
        with app.test_client() as client:
            barrier.wait()
            answers[user_id] = client.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "accepted"},
                                            headers=headers)

    threads = [threading.Thread(target=accept, args=item) for item in contenders.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [200, 422], {k: r.get_json() for k, r in answers.items()}
    [winner] = [user_id for user_id, r in answers.items() if r.status_code == 200]
    [loser] = [r for r in answers.values() if r.status_code == 422]
    assert errors(loser) == [("status", "already_claimed")]
    session.expire_all()
    stored = session.get(Ticket, ticket_id)
    assert (stored.status, stored.assignee_id) == ("accepted", winner)


# ---- priority: urgent (紧急) or normal ------------------------------------------------------------

def told(session, ticket_id: str) -> dict[str, set[str]]:
    """Who each event about the ticket was for, by event."""
    import sqlalchemy as sa

    from server.notify.models import Notification, Recipient

    rows = session.execute(sa.select(Notification.event, Notification.title, Recipient.user_id)
                           .join(Recipient, Recipient.notification_id == Notification.id)
                           .where(Notification.ticket_id == ticket_id)).all()
    found: dict[str, set[str]] = {}
    for event, title, user_id in rows:
        found.setdefault(f"{event} {title.split(' · ')[0]}", set()).add(user_id)
    return found


def test_a_ticket_is_normal_unless_marked_urgent_and_an_urgent_one_reaches_the_supervisors_at_once(client, place,
                                                                                                    session):
    normal = client.post("/api/v1/tickets", json={"category": "repair"}, headers=auth(place["resident"])).get_json()
    urgent = client.post("/api/v1/tickets", json={"category": "repair", "description": "楼上漏水到我家",
                                                  "priority": "urgent"}, headers=auth(place["resident"])).get_json()
    assert (normal["priority"], urgent["priority"]) == ("normal", "urgent")
    assert urgent["assignee_id"] == place["butler"].id  # dispatched to the grid's butler as ever...
    assert told(session, urgent["id"]) == {"ticket.created 紧急": {place["butler"].id, place["supervisor"].id}}
    assert told(session, normal["id"]) == {"ticket.created 报修": {place["butler"].id}}  # ...and the supervisors too
    listed = client.get("/api/v1/tickets?priority=urgent", headers=auth(place["supervisor"])).get_json()
    assert [t["id"] for t in listed["items"]] == [urgent["id"]]


def test_a_butler_may_mark_a_ticket_urgent_later_and_the_supervisors_are_told(client, place, session):
    ticket = make_ticket(place["household"], status="dispatched", assignee_id=place["butler"].id)
    r = move(client, place["butler"], ticket.id, priority="urgent")
    assert r.status_code == 200 and r.get_json()["priority"] == "urgent"
    assert told(session, ticket.id) == {"ticket.updated 紧急": {place["supervisor"].id}}


def test_a_resident_may_not_change_the_priority_afterwards_and_a_bogus_one_is_refused(client, place):
    mine = client.post("/api/v1/tickets", json={"category": "repair"}, headers=auth(place["resident"])).get_json()
    r = move(client, place["resident"], mine["id"], priority="urgent")
    assert r.status_code in (403, 422) and ("priority" in str(r.get_json()))
    bogus = client.post("/api/v1/tickets", json={"category": "repair", "priority": "panic"},
                        headers=auth(place["resident"]))
    assert bogus.status_code == 422 and errors(bogus) == [("priority", "invalid_choice")]
