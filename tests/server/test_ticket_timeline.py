"""A ticket's one timeline and its readers, on SQLite and PostgreSQL: hand-offs (with team and reason)
and escalations are steps of it, the console's ticket page and GET /api/v1/tickets/<id>/timeline
read that one list; reads of a ticket by REST and by a phone's pull are in its audit trail, with
the way they came."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import bulk
from server.audit.models import AuditEvent
from server.records import utcnow
from server.tickets.models import TicketEvent
from server.tickets.sla import Sla, escalate_overdue
from tests.factories import (auth, make_community, make_grid, make_household, make_team, make_technician,
                             make_user)
from tests.support.console import csrf_of, log_in
from tests.support.phone import Phone


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", name="李管家", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="3栋", unit="2单元", room="1201")
    engineering = make_team(community, "engineering", name="工程部")
    tech = make_technician(engineering, name="王师傅")
    supervisor = make_user("supervisor", name="赵主管", community_id=community.id)
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    return {"community": community, "butler": butler, "household": household, "engineering": engineering,
            "tech": tech, "supervisor": supervisor, "resident": resident}


def raise_ticket(client, place) -> str:
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "厨房漏水"},
                    headers=auth(place["resident"]))
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def patch(client, user, ticket_id, **fields):
    r = client.patch(f"/api/v1/tickets/{ticket_id}", json=fields, headers=auth(user))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def kinds_on_page(html: str) -> list[str]:
    return [s.split('data-kind="')[1].split('"')[0] for s in html.split('data-testid="timeline-step"')[1:]]


def hand_around(client, place, ticket_id):
    """To the team, grabbed, given back with a reason."""
    patch(client, place["butler"], ticket_id, team_id=place["engineering"].id, assignee_id=None)
    patch(client, place["tech"], ticket_id, status="accepted")
    patch(client, place["tech"], ticket_id, team_id=None, handoff_note="业主不在家，需另约时间")


# ---- one timeline -----------------------------------------------------------------------------------

def test_the_api_reads_one_ordered_timeline_with_hand_offs_and_an_escalation(client, session, place):
    ticket_id = raise_ticket(client, place)
    hand_around(client, place, ticket_id)
    escalate_overdue(session, sla=Sla(), now=utcnow() + timedelta(hours=1))
    session.commit()
    r = client.get(f"/api/v1/tickets/{ticket_id}/timeline", headers=auth(place["supervisor"]))
    assert r.status_code == 200, r.get_json()
    steps = r.get_json()["steps"]
    assert [s["kind"] for s in steps] == ["created", "assignee", "assigned", "status", "grabbed", "status",
                                          "returned", "escalated"]
    assigned, grabbed, returned, escalated = (steps[2], steps[4], steps[6], steps[7])
    assert (assigned["from_value"], assigned["to_value"], assigned["team_id"]) == (
        place["butler"].id, None, place["engineering"].id)
    assert (grabbed["to_value"], grabbed["actor_id"]) == (place["tech"].id, place["tech"].id)
    assert (returned["from_value"], returned["to_value"], returned["note"]) == (
        place["tech"].id, place["butler"].id, "业主不在家，需另约时间")
    assert (escalated["kind"], escalated["to_value"], escalated["from_value"], escalated["actor_id"]) == (
        "escalated", "accept", place["butler"].id, None)
    assert [s["id"] for s in steps] == sorted(s["id"] for s in steps)


def test_a_resident_reads_the_timeline_without_the_back_office_s_steps(client, session, place):
    ticket_id = raise_ticket(client, place)
    hand_around(client, place, ticket_id)
    r = client.get(f"/api/v1/tickets/{ticket_id}/timeline", headers=auth(place["resident"]))
    assert r.status_code == 200
    assert [s["kind"] for s in r.get_json()["steps"]] == ["created", "assignee", "status", "status"]
    assert "业主不在家" not in r.get_data(as_text=True)


def test_the_timeline_of_a_ticket_out_of_scope_is_refused(client, session, place):
    ticket_id = raise_ticket(client, place)
    other = make_community()
    stranger = make_user("supervisor", community_id=other.id)
    assert client.get(f"/api/v1/tickets/{ticket_id}/timeline", headers=auth(stranger)).status_code == 403
    assert client.get("/api/v1/tickets/nope/timeline", headers=auth(stranger)).status_code == 404


def test_escalating_by_hand_in_the_console_is_a_step_by_the_supervisor(client, session, place):
    ticket_id = raise_ticket(client, place)
    assert log_in(client, place["supervisor"].username).status_code == 302
    r = client.post(f"/console/tickets/{ticket_id}/escalate",
                    data={"stage": "accept", "csrf_token": csrf_of(client, "/console/tickets")})
    assert r.status_code == 302
    step = session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                           .order_by(TicketEvent.id.desc())).first()
    assert (step.kind, step.to_value, step.actor_id) == ("escalated", "accept", place["supervisor"].id)


def test_the_console_page_shows_hand_offs_with_reasons_and_the_escalation_in_one_timeline(client, session, place):
    ticket_id = raise_ticket(client, place)
    hand_around(client, place, ticket_id)
    escalate_overdue(session, sla=Sla(), now=utcnow() + timedelta(hours=1))
    session.commit()
    assert log_in(client, place["supervisor"].username).status_code == 302
    html = client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True)
    assert kinds_on_page(html) == ["created", "assignee", "assigned", "status", "grabbed", "status", "returned",
                                   "escalated"]
    steps = html.split('data-testid="timeline-step"')[1:]
    assert "指派给 工程部" in steps[2] and "原由 李管家 负责" in steps[2]
    assert "抢单" in steps[4] and "王师傅" in steps[4]
    assert "退回管家" in steps[6] and "原因：业主不在家，需另约时间" in steps[6]
    assert "升级（接单超时），已通知主管" in steps[7] and "当时由 李管家 负责" in steps[7]
    assert 'data-testid="handoff-step"' not in html  # no second list


# ---- who read it ------------------------------------------------------------------------------------

def reads_of(session, ticket_id) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "read", AuditEvent.record_type == "ticket", AuditEvent.record_id == ticket_id)
        .order_by(AuditEvent.id)))


def test_a_rest_get_of_a_ticket_is_a_read_in_its_trail(client, session, place):
    ticket_id = raise_ticket(client, place)
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=auth(place["butler"])).status_code == 200
    (read,) = reads_of(session, ticket_id)
    assert (read.user_id, read.channel, read.household_id, read.community_id) == (
        place["butler"].id, "api", place["household"].id, place["community"].id)
    assert read.fields == ["description"] and read.device_id is not None
    assert "厨房漏水" not in str(read.fields)


def test_a_refused_get_of_a_ticket_is_no_read(client, session, place):
    ticket_id = raise_ticket(client, place)
    stranger = make_user("supervisor", community_id=make_community().id)
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=auth(stranger)).status_code == 403
    assert reads_of(session, ticket_id) == []


def test_a_pull_records_its_tickets_as_reads_in_one_statement(client, session, place, monkeypatch):
    ticket_ids = [raise_ticket(client, place) for _ in range(3)]
    phone = Phone(client, place["butler"])
    inserts, real = [], bulk.insert_rows

    def insert_rows(session_, target, rows):  # one executemany (SQLite) or one COPY (PostgreSQL) per call
        if rows and getattr(target, "name", None) == "audit_event":
            inserts.append([(row["record_type"], len(rows)) for row in rows])
        return real(session_, target, rows)

    monkeypatch.setattr(bulk, "insert_rows", insert_rows)
    phone.pull_all()
    for ticket_id in ticket_ids:
        (read,) = reads_of(session, ticket_id)
        assert (read.user_id, read.channel, read.household_id) == (place["butler"].id, "sync", place["household"].id)
    assert len(inserts) == 1  # the household and the three tickets of the page, together
    assert sorted(rtype for rtype, _ in inserts[0]) == ["household", "ticket", "ticket", "ticket"]
    phone.pull_all()
    assert all(len(reads_of(session, t)) == 1 for t in ticket_ids)  # nothing new sent, nothing new read


def test_a_technician_s_pull_of_a_handed_ticket_is_read_too(client, session, place):
    ticket_id = raise_ticket(client, place)
    patch(client, place["butler"], ticket_id, team_id=place["engineering"].id, assignee_id=None)
    Phone(client, place["tech"]).pull_all()
    assert [(r.user_id, r.channel) for r in reads_of(session, ticket_id)] == [(place["tech"].id, "sync")]


def test_the_console_page_lists_reads_by_phone_api_and_console(client, session, place):
    ticket_id = raise_ticket(client, place)
    Phone(client, place["butler"]).pull_all()
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=auth(place["supervisor"])).status_code == 200
    assert log_in(client, place["supervisor"].username).status_code == 302
    html = client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True)
    rows = [row for row in html.split('data-testid="reader-row"')[1:] if 'data-action="read"' in row]
    vias = [row.split('data-testid="reader-via">')[1].split("<")[0] for row in rows]
    assert vias == ["后台", "接口", "手机"]  # newest first: this page, the API, the butler's phone
    assert "李管家" in rows[2] and "赵主管" in rows[1]
