"""The back office over REST and sync, on SQLite and PostgreSQL: a butler hands a repair to a team
(指派), a technician takes it from the pool (抢单), passes it on (转派) or gives it back (退回) with a
reason, and finishes it; every hand-off is in the ticket's log; a technician sees only the jobs
handed to them or their team, with the address and nothing of the household file."""
from __future__ import annotations

from datetime import timedelta

import pytest

from server.records import utcnow
from server.tickets.models import Ticket
from server.tickets.sla import Sla, escalate_overdue
from tests.factories import (auth, make_community, make_grid, make_household, make_person, make_team,
                             make_technician, make_ticket, make_user, make_visit)
from tests.support.phone import PHONE_B, Phone, ids, put, results


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    grid = make_grid(community, butler)
    household = make_household(community, grid, building="3栋", unit="2单元", room="1201")
    other_household = make_household(community, grid)
    engineering = make_team(community, "engineering", name="工程部")
    vendor = make_team(community, "vendor", name="电梯维保", company="迅达电梯")
    tech1, tech2 = make_technician(engineering), make_technician(engineering)
    lift = make_technician(vendor)
    supervisor = make_user("supervisor", community_id=community.id)
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    make_person(household)
    make_visit(household, butler)
    ticket = make_ticket(household, status="dispatched", assignee_id=butler.id)
    other = make_ticket(other_household, status="dispatched", assignee_id=butler.id)
    return {"community": community, "butler": butler, "household": household, "engineering": engineering,
            "vendor": vendor, "tech1": tech1, "tech2": tech2, "lift": lift, "supervisor": supervisor,
            "resident": resident, "ticket": ticket, "other": other}


def patch(client, user, ticket_id, **fields):
    return client.patch(f"/api/v1/tickets/{ticket_id}", json=fields, headers=auth(user))


def get(client, user, ticket_id):
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=auth(user))


def errors(response):
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def assign_to_team(client, place, team="engineering"):
    r = patch(client, place["butler"], place["ticket"].id, team_id=place[team].id, assignee_id=None)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# ---- hand-offs over REST --------------------------------------------------------------------------

def test_a_butler_assigns_a_repair_to_a_team_which_waits_in_its_pool(client, place):
    body = assign_to_team(client, place)
    assert (body["team_id"], body["assignee_id"], body["status"]) == (place["engineering"].id, None, "dispatched")
    assert body["handed_at"] is not None and body["address"] == "3栋-2单元-1201"
    assert [(h["kind"], h["by"], h["team_id"]) for h in body["handoffs"]] == [
        ("assigned", place["butler"].id, place["engineering"].id)]
    seen = client.get("/api/v1/tickets", headers=auth(place["tech2"])).get_json()
    assert [t["id"] for t in seen["items"]] == [place["ticket"].id]
    assert get(client, place["lift"], place["ticket"].id).status_code == 403  # another team's


def test_a_butler_assigns_to_one_person_of_a_team(client, place):
    r = patch(client, place["butler"], place["ticket"].id, assignee_id=place["lift"].id)
    body = r.get_json()
    assert (body["team_id"], body["assignee_id"], body["status"]) == (place["vendor"].id, place["lift"].id,
                                                                       "dispatched")


def test_a_person_outside_the_named_team_or_the_community_is_refused(client, place, session):
    r = patch(client, place["butler"], place["ticket"].id, team_id=place["engineering"].id,
              assignee_id=place["lift"].id)
    assert r.status_code == 422 and errors(r) == [("assignee_id", "invalid")]
    elsewhere = make_team(make_community())
    r = patch(client, place["butler"], place["ticket"].id, team_id=elsewhere.id)
    assert r.status_code == 422 and errors(r) == [("team_id", "invalid")]
    assert session.get(Ticket, place["ticket"].id).team_id is None


def test_a_technician_grabs_from_the_pool_and_a_teammate_is_told_it_is_taken(client, place):
    assign_to_team(client, place)
    r = patch(client, place["tech1"], place["ticket"].id, status="accepted")
    body = r.get_json()
    assert (body["status"], body["assignee_id"]) == ("accepted", place["tech1"].id)
    assert body["handoffs"][-1]["kind"] == "grabbed"
    late = patch(client, place["tech2"], place["ticket"].id, status="accepted")
    assert late.status_code == 422 and errors(late) == [("status", "already_claimed")]


def test_a_technician_starts_and_finishes_with_a_note(client, place):
    assign_to_team(client, place)
    patch(client, place["tech1"], place["ticket"].id, status="accepted")
    assert patch(client, place["tech1"], place["ticket"].id, status="in_progress").status_code == 200
    body = patch(client, place["tech1"], place["ticket"].id, status="resolved", resolution_note="换了阀芯").get_json()
    assert (body["status"], body["resolution_note"]) == ("resolved", "换了阀芯")
    closing = patch(client, place["tech1"], place["ticket"].id, status="closed")
    assert closing.status_code == 403  # the butler or the resident closes it


def test_a_technician_transfers_to_another_team_and_loses_sight_of_it(client, place):
    assign_to_team(client, place)
    patch(client, place["tech1"], place["ticket"].id, status="accepted")
    r = patch(client, place["tech1"], place["ticket"].id, team_id=place["vendor"].id, assignee_id=None,
              handoff_note="电梯问题，转维保")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["team_id"], body["assignee_id"], body["status"], body["accepted_at"]) == (
        place["vendor"].id, None, "dispatched", None)
    assert (body["handoffs"][-1]["kind"], body["handoffs"][-1]["note"]) == ("transferred", "电梯问题，转维保")
    assert get(client, place["tech1"], place["ticket"].id).status_code == 403
    assert get(client, place["lift"], place["ticket"].id).status_code == 200


def test_a_technician_returns_a_ticket_to_the_butler_only_with_a_reason(client, place, session):
    assign_to_team(client, place)
    patch(client, place["tech1"], place["ticket"].id, status="accepted")
    bare = patch(client, place["tech1"], place["ticket"].id, team_id=None, assignee_id=None)
    assert bare.status_code == 422 and errors(bare) == [("handoff_note", "reason_required")]
    assert session.get(Ticket, place["ticket"].id).team_id == place["engineering"].id  # nothing changed
    r = patch(client, place["tech1"], place["ticket"].id, team_id=None, handoff_note="业主不在家，需另约时间")
    body = r.get_json()
    assert (body["team_id"], body["assignee_id"], body["status"]) == (None, place["butler"].id, "dispatched")
    assert (body["handoffs"][-1]["kind"], body["handoffs"][-1]["note"]) == ("returned", "业主不在家，需另约时间")
    assert [h["kind"] for h in body["handoffs"]] == ["assigned", "grabbed", "returned"]


def test_a_technician_cannot_hand_on_what_they_do_not_hold(client, place):
    r = patch(client, place["tech1"], place["other"].id, team_id=place["engineering"].id)
    assert r.status_code == 403  # not even visible
    assign_to_team(client, place)
    patch(client, place["tech1"], place["ticket"].id, status="accepted")
    r = patch(client, place["tech2"], place["ticket"].id, team_id=place["vendor"].id)
    assert r.status_code == 403 and errors(r) == [("assignee_id", "not_holder")]


def test_a_finished_ticket_is_not_handed_on(client, place):
    assign_to_team(client, place)
    patch(client, place["tech1"], place["ticket"].id, status="accepted")
    patch(client, place["tech1"], place["ticket"].id, status="resolved", resolution_note="好了")
    r = patch(client, place["butler"], place["ticket"].id, team_id=place["vendor"].id)
    assert r.status_code == 422 and errors(r) == [("team_id", "not_open")]


def test_a_supervisor_raises_a_ticket_straight_for_a_team(client, place):
    r = client.post("/api/v1/tickets", json={"household_id": place["household"].id, "category": "repair",
                                             "description": "楼道灯坏", "team_id": place["engineering"].id},
                    headers=auth(place["supervisor"]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["team_id"], body["status"], body["handoffs"][0]["kind"]) == (
        place["engineering"].id, "dispatched", "assigned")


# ---- what a technician sees -----------------------------------------------------------------------

def test_a_technician_sees_the_address_not_the_household_file(client, place):
    assign_to_team(client, place)
    ticket = get(client, place["tech1"], place["ticket"].id).get_json()
    assert ticket["address"] == "3栋-2单元-1201"
    assert "backoffice_rating" not in ticket
    headers = auth(place["tech1"])
    assert client.get(f"/api/v1/households/{place['household'].id}", headers=headers).status_code == 403
    for plural in ("households", "persons", "visits", "touchpoints", "orders"):
        assert client.get(f"/api/v1/{plural}", headers=headers).get_json()["items"] == [], plural
    assert client.get("/api/v1/tickets", headers=auth(place["lift"])).get_json()["items"] == []


def test_a_technician_may_not_raise_tickets_or_rate_them(client, place):
    r = client.post("/api/v1/tickets", json={"household_id": place["household"].id, "category": "repair"},
                    headers=auth(place["tech1"]))
    assert r.status_code == 403


def test_a_resident_does_not_read_the_back_office_notes(client, place):
    assign_to_team(client, place)
    ticket = get(client, place["resident"], place["ticket"].id).get_json()
    assert "handoffs" not in ticket and "handoff_note" not in ticket


def test_teams_are_read_by_their_community_and_members_hidden_from_residents(client, place):
    teams = client.get("/api/v1/teams", headers=auth(place["butler"])).get_json()["items"]
    engineering = next(t for t in teams if t["id"] == place["engineering"].id)
    assert {m["id"] for m in engineering["members"]} == {place["tech1"].id, place["tech2"].id}
    mine = client.get("/api/v1/teams", headers=auth(place["resident"])).get_json()["items"]
    assert mine and all("members" not in t for t in mine)
    outsider = make_user("supervisor", community_id=make_community().id)
    assert client.get("/api/v1/teams", headers=auth(outsider)).get_json()["items"] == []


def test_a_vendor_team_names_its_company(client, place):
    r = client.post("/api/v1/teams", json={"name": "外委保洁", "kind": "vendor"}, headers=auth(place["supervisor"]))
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.get_json()["details"]["errors"]] == [
        ("company", "required")]
    r = client.post("/api/v1/teams", json={"name": "外委保洁", "kind": "vendor", "company": "洁净公司"},
                    headers=auth(place["supervisor"]))
    assert r.status_code == 201 and r.get_json()["community_id"] == place["community"].id


# ---- through sync -------------------------------------------------------------------------------

def test_a_technician_phone_pulls_its_team_s_jobs_and_nothing_of_the_household_file(client, place):
    assign_to_team(client, place)
    changes = Phone(client, place["tech1"]).pull_all()
    assert ids(changes, rtype="ticket") == {place["ticket"].id}
    assert ids(changes, rtype="team") == {place["engineering"].id, place["vendor"].id}
    assert not ids(changes, rtype="household") | ids(changes, rtype="person") | ids(changes, rtype="visit")


def test_grab_finish_and_a_lost_race_through_sync(client, place, session):
    assign_to_team(client, place)
    phone1, phone2 = Phone(client, place["tech1"]), Phone(client, place["tech2"], client_id=PHONE_B)
    phone1.pull_all(), phone2.pull_all()
    tid = place["ticket"].id
    [first] = results(phone1.sync(put("ticket", tid, {"status": "accepted"}, base=2)))
    [second] = results(phone2.sync(put("ticket", tid, {"status": "accepted"}, base=2)))
    assert first["status"] == "applied", first
    assert second["status"] == "rejected" and second["errors"][0]["code"] == "already_claimed"
    [done] = results(phone1.sync(put("ticket", tid, {"status": "resolved", "resolution_note": "更换水管"},
                                     base=first["version"])))
    assert done["status"] == "applied", done
    session.expire_all()
    ticket = session.get(Ticket, tid)
    assert (ticket.status, ticket.resolution_note, ticket.assignee_id) == ("resolved", "更换水管", place["tech1"].id)


def test_a_transfer_through_sync_evicts_the_ticket_from_the_old_team_s_phones(client, place):
    assign_to_team(client, place)
    phone1, phone2 = Phone(client, place["tech1"]), Phone(client, place["tech2"], client_id=PHONE_B)
    phone1.pull_all(), phone2.pull_all()
    tid = place["ticket"].id
    answer = phone1.sync(put("ticket", tid, {"team_id": place["vendor"].id, "handoff_note": "转维保"}, base=2))
    [moved] = results(answer)
    assert moved["status"] == "applied", moved
    assert tid in ids(phone2.pull_all(), op="evict")
    assert tid in ids(answer.get_json()["changes"] + phone1.pull_all(), op="evict")
    assert tid in ids(Phone(client, place["lift"]).pull_all(), rtype="ticket")


def test_a_return_without_reason_through_sync_is_rejected_with_its_reason(client, place):
    assign_to_team(client, place)
    phone = Phone(client, place["tech1"])
    phone.pull_all()
    [r] = results(phone.sync(put("ticket", place["ticket"].id, {"team_id": None}, base=2)))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "reason_required"
    assert r["errors"][0]["message"] == "退回工单时请写明原因。"


# ---- service levels ---------------------------------------------------------------------------

def test_a_hand_off_restarts_the_accept_clock_and_clears_its_escalation(client, place, session):
    ticket = session.get(Ticket, place["ticket"].id)
    now = utcnow()
    escalate_overdue(session, sla=Sla(), now=now + timedelta(minutes=20))
    session.commit()
    assert session.get(Ticket, ticket.id).escalated == "accept"
    body = assign_to_team(client, place)
    assert body["escalated"] is None
    session.expire_all()
    # Ten minutes after the hand-off the new holder is on time; twenty after, late.
    assert escalate_overdue(session, sla=Sla(), now=utcnow() + timedelta(minutes=10)) == []
    late = escalate_overdue(session, sla=Sla(), now=utcnow() + timedelta(minutes=20))
    assert [t.id for t in late] == [ticket.id]
    session.commit()


def test_an_escalation_of_a_pooled_ticket_tells_the_supervisors_and_the_team(client, place, session):
    from server.notify.models import Notification, Recipient as NotificationRecipient

    assign_to_team(client, place)
    escalate_overdue(session, sla=Sla(), now=utcnow() + timedelta(minutes=20))
    session.commit()
    import sqlalchemy as sa
    event = session.scalars(sa.select(Notification).where(Notification.event == "ticket.escalated",
                                                            Notification.ticket_id == place["ticket"].id)).one()
    told = set(session.scalars(sa.select(NotificationRecipient.user_id)
                               .where(NotificationRecipient.notification_id == event.id)))
    assert told == {place["supervisor"].id, place["tech1"].id, place["tech2"].id}


# ---- ratings land on the team: the console's scorecard -----------------------------------------

def finish(client, place, ticket_id, tech, *, rating=None, backoffice=None):
    assert patch(client, place["butler"], ticket_id, team_id=tech.team_id).status_code == 200
    assert patch(client, tech, ticket_id, status="accepted").status_code == 200
    assert patch(client, tech, ticket_id, status="resolved", resolution_note="修好了").status_code == 200
    if rating is not None:
        assert patch(client, place["resident"], ticket_id, rating=rating).status_code == 200
    if backoffice is not None:
        assert patch(client, place["butler"], ticket_id, backoffice_rating=backoffice).status_code == 200


def test_the_scorecard_credits_the_team_that_did_the_work(client, place, session):
    from server.console import figures

    finish(client, place, place["ticket"].id, place["tech1"], rating=5, backoffice=4)
    second = make_ticket(place["household"], status="dispatched", assignee_id=place["butler"].id)
    finish(client, place, second.id, place["tech2"], rating=3, backoffice=2)
    third = make_ticket(place["household"], status="dispatched", assignee_id=place["butler"].id)
    finish(client, place, third.id, place["lift"])
    today = utcnow().date()
    tables = figures.dashboard(session, community_id=place["community"].id, start=today - timedelta(days=1),
                               end=today + timedelta(days=1), today=today, sla=Sla())
    rows = {row[0]: row for row in tables["team_scorecard"].rows}
    engineering, vendor = rows["工程部"], rows["电梯维保"]
    assert engineering[1:4] == ("engineering", "", 2)
    assert engineering[4] is not None and engineering[4] >= 0 and engineering[5] >= engineering[4]
    assert (engineering[6], engineering[7], engineering[8], engineering[9]) == (4.0, 2, 3.0, 2)
    assert vendor[1:4] == ("vendor", "迅达电梯", 1) and (vendor[6], vendor[8]) == (None, None)


def test_the_scorecard_median_of_an_even_count_is_the_mean_of_the_middle_two(client, place, session):
    from server.console.figures import _Sql
    from server.teams.scorecard import team_scorecard

    base = utcnow() - timedelta(days=1)
    for minutes in (10, 20, 40, 80):
        make_ticket(place["household"], status="resolved", team_id=place["engineering"].id,
                    assignee_id=place["tech1"].id, handed_at=base, accepted_at=base + timedelta(minutes=minutes),
                    resolved_at=base + timedelta(minutes=2 * minutes))
    table = team_scorecard(session, _Sql(session), place["community"].id, base - timedelta(days=1),
                           base + timedelta(days=2))
    row = next(r for r in table.rows if r[0] == "工程部")
    assert (row[3], row[4], row[5]) == (4, 30.0, 60.0)


def test_the_console_dashboard_shows_the_scorecard_in_chinese_and_english(client, place):
    from tests.support.console import log_in

    finish(client, place, place["ticket"].id, place["tech1"], rating=5, backoffice=4)
    assert log_in(client, place["supervisor"].username).status_code == 302
    html = client.get("/console/").get_data(as_text=True)
    assert 'data-name="team_scorecard"' in html and "工程部" in html and "外委" in html and "迅达电梯" in html
    csv_text = client.get("/console/export/team_scorecard.csv?lang=en").get_data(as_text=True)
    assert "Tickets done" in csv_text or "完成件数" in csv_text


def test_the_console_ticket_page_lists_every_hand_off_with_its_team_and_reason(client, place):
    from tests.support.console import log_in

    assign_to_team(client, place)
    patch(client, place["tech1"], place["ticket"].id, status="accepted")
    patch(client, place["tech1"], place["ticket"].id, team_id=None, handoff_note="业主不在家，需另约时间")
    assert log_in(client, place["supervisor"].username).status_code == 302
    html = client.get(f"/console/tickets/{place['ticket'].id}").get_data(as_text=True)
    # One timeline: the hand-offs are its steps, in order among the status changes.
    every = html.split('data-testid="timeline-step"')[1:]
    assert [s.split('data-kind="')[1].split('"')[0] for s in every] == [
        "assigned", "status", "grabbed", "status", "returned"]  # accepted, then given back: dispatched
    steps = [s for s in every if s.split('data-kind="')[1].split('"')[0] in ("assigned", "grabbed", "returned")]
    assert [s.split('data-kind="')[1].split('"')[0] for s in steps] == ["assigned", "grabbed", "returned"]
    assert "指派给 工程部" in steps[0] and "抢单" in steps[1]
    assert "退回管家" in steps[2] and "业主不在家，需另约时间" in steps[2]
    assert 'data-testid="handoff-step"' not in html  # no second list


def test_a_supervisor_hands_a_ticket_to_a_technician_from_the_console(client, place, session):
    from tests.support.console import csrf_of, log_in

    assert log_in(client, place["supervisor"].username).status_code == 302
    page = client.get("/console/tickets").get_data(as_text=True)
    assert place["lift"].name in page  # technicians are offered beside the butlers
    r = client.post(f"/console/tickets/{place['ticket'].id}/assignee",
                    data={"assignee_id": place["lift"].id, "csrf_token": csrf_of(client, "/console/tickets")})
    assert r.status_code == 302
    session.expire_all()
    ticket = session.get(Ticket, place["ticket"].id)
    assert (ticket.assignee_id, ticket.team_id, ticket.handoffs[-1]["kind"]) == (
        place["lift"].id, place["vendor"].id, "assigned")
