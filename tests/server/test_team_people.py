"""Who works in the back office, over REST and through the service, on SQLite and PostgreSQL: a
supervisor makes a technician account (a one-time initial password, stored hashed), moves technicians
in and out of their community's teams, and deactivates one who leaves: the open jobs in their hands
go back to the team's pool with the reason, their devices end, nothing is lost. Only within the
supervisor's own community; bad input is refused in the user's language with nothing changed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import Device, User
from server.errors import NotFound, ValidationFailed
from server.teams import people
from server.teams.models import Team
from server.tickets.models import Ticket
from tests.factories import (auth, make_community, make_grid, make_household, make_team, make_technician,
                             make_ticket, make_user, token_for)


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    engineering = make_team(community, "engineering", name="工程部")
    cleaning = make_team(community, "cleaning", name="保洁组")
    tech = make_technician(engineering, name="李师傅")
    supervisor = make_user("supervisor", community_id=community.id)
    other = make_community()
    return {"community": community, "butler": butler, "household": household, "engineering": engineering,
            "cleaning": cleaning, "tech": tech, "supervisor": supervisor,
            "outsider": make_user("supervisor", community_id=other.id), "other_team": make_team(other)}


def errors(response):
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def test_a_supervisor_creates_a_technician_who_logs_in_with_the_password_shown_once(client, place, session):
    r = client.post(f"/api/v1/teams/{place['engineering'].id}/technicians",
                    json={"username": "wang.gong", "name": "王工"}, headers=auth(place["supervisor"]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    password = body["initial_password"]
    assert len(password) >= 8 and set(password) <= set(people.PASSWORD_ALPHABET)
    assert body["user"]["team_id"] == place["engineering"].id and body["user"]["active"] is True
    user = session.get(User, body["user"]["id"])
    assert user.role == "technician" and password not in user.password_hash
    assert {"id": user.id, "name": "王工"} in session.get(Team, place["engineering"].id).members
    login = client.post("/api/v1/auth/login", json={"username": "wang.gong", "password": password})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "technician"
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.record_id == user.id)).all()
    assert [e.action for e in trail] == ["create_user"] and "password" in trail[0].fields


def test_bad_input_is_refused_in_the_users_language_and_nothing_is_made(client, place, session):
    place["supervisor"].language = "en"
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(User))
    r = client.post(f"/api/v1/teams/{place['engineering'].id}/technicians",
                    json={"username": place["tech"].username, "name": " "}, headers=auth(place["supervisor"]))
    assert r.status_code == 422
    assert sorted(errors(r)) == [("name", "required")]
    assert "required" in r.get_json()["details"]["errors"][0]["message"]
    r = client.post(f"/api/v1/teams/{place['engineering'].id}/technicians",
                    json={"username": place["tech"].username, "name": "张工"}, headers=auth(place["supervisor"]))
    assert r.status_code == 422 and errors(r) == [("username", "duplicate")]
    r = client.post(f"/api/v1/teams/{place['engineering'].id}/technicians", json={"username": "x", "name": "y",
                                                                                 "role": "admin"},
                    headers=auth(place["supervisor"]))
    assert r.status_code == 422 and errors(r) == [("role", "unknown_field")]
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_only_the_teams_own_supervisor_or_an_admin_manages_it(client, place):
    team = place["engineering"].id
    new = {"username": "li.gong", "name": "李工"}
    assert client.post(f"/api/v1/teams/{team}/technicians", json=new,
                       headers=auth(place["outsider"])).status_code == 404
    assert client.post(f"/api/v1/teams/{team}/technicians", json=new,
                       headers=auth(place["butler"])).status_code == 403
    assert client.post(f"/api/v1/teams/{team}/technicians", json=new,
                       headers=auth(place["tech"])).status_code == 403
    assert client.get(f"/api/v1/teams/{team}/members", headers=auth(place["outsider"])).status_code == 404
    assert client.post(f"/api/v1/teams/technicians/{place['tech'].id}/deactivation", json={"reason": "x"},
                       headers=auth(place["outsider"])).status_code == 404
    admin = make_user("admin")
    assert client.post(f"/api/v1/teams/{team}/technicians", json=new, headers=auth(admin)).status_code == 201


def test_members_move_between_teams_and_a_technician_of_another_community_cannot_join(client, place, session):
    sup = auth(place["supervisor"])
    r = client.post(f"/api/v1/teams/{place['cleaning'].id}/members", json={"user_id": place["tech"].id}, headers=sup)
    assert r.status_code == 200
    assert [m["id"] for m in r.get_json()["members"]] == [place["tech"].id]
    session.expire_all()
    assert session.get(Team, place["engineering"].id).members == []
    stranger = make_technician(place["other_team"])
    r = client.post(f"/api/v1/teams/{place['cleaning'].id}/members", json={"user_id": stranger.id}, headers=sup)
    assert r.status_code == 422 and errors(r) == [("user_id", "invalid")]
    r = client.delete(f"/api/v1/teams/{place['cleaning'].id}/members/{place['tech'].id}", headers=sup)
    assert r.status_code == 204
    assert client.get(f"/api/v1/teams/{place['cleaning'].id}/members", headers=sup).get_json() == {"members": []}
    session.expire_all()
    assert session.get(User, place["tech"].id).team_id is None


def test_deactivating_a_technician_returns_their_jobs_to_the_team_pool_and_ends_their_devices(client, place,
                                                                                               session):
    tech = place["tech"]
    held = make_ticket(place["household"], status="accepted", assignee_id=tech.id, team_id=place["engineering"].id)
    done = make_ticket(place["household"], status="resolved", assignee_id=tech.id, team_id=place["engineering"].id)
    phone = token_for(tech)
    bare = client.post(f"/api/v1/teams/technicians/{tech.id}/deactivation", json={"reason": "  "},
                       headers=auth(place["supervisor"]))
    assert bare.status_code == 422 and errors(bare) == [("reason", "required")]
    session.expire_all()
    assert session.get(User, tech.id).active is True
    r = client.post(f"/api/v1/teams/technicians/{tech.id}/deactivation", json={"reason": "已离职"},
                    headers=auth(place["supervisor"]))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["returned_jobs"] == 1 and r.get_json()["user"]["active"] is False
    session.expire_all()
    ticket = session.get(Ticket, held.id)
    assert (ticket.team_id, ticket.assignee_id, ticket.status) == (place["engineering"].id, None, "dispatched")
    assert ticket.handoffs[-1]["note"] == "已离职"
    assert session.get(Ticket, done.id).assignee_id == tech.id  # finished work keeps its name
    assert session.get(Team, place["engineering"].id).members == []
    devices = session.scalars(sa.select(Device).where(Device.user_id == tech.id)).all()
    assert devices and all(d.revoke_reason == "revoked" for d in devices)
    answer = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {phone}"})
    assert answer.status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": tech.username,
                                                    "password": "correct horse battery"}).status_code == 401
    again = client.post(f"/api/v1/teams/technicians/{tech.id}/deactivation", json={"reason": "x"},
                        headers=auth(place["supervisor"]))
    assert again.status_code == 422 and errors(again) == [("user_id", "inactive")]
    # the team's other technicians now see the job in the pool
    mate = make_technician(place["engineering"])
    seen = client.get("/api/v1/tickets", headers=auth(mate)).get_json()
    assert held.id in [t["id"] for t in seen["items"]]


def test_a_team_is_created_renamed_and_deactivated_through_the_record_api(client, place):
    sup = auth(place["supervisor"])
    r = client.post("/api/v1/teams", json={"name": "秩序部", "kind": "security"}, headers=sup)
    assert r.status_code == 201, r.get_json()
    team = r.get_json()
    r = client.patch(f"/api/v1/teams/{team['id']}", json={"name": "安保部"}, headers=sup)
    assert r.status_code == 200 and r.get_json()["name"] == "安保部"
    assert client.delete(f"/api/v1/teams/{team['id']}", headers=sup).status_code == 204
    assert client.get(f"/api/v1/teams/{team['id']}/members", headers=sup).status_code == 404


def test_a_team_with_someone_in_it_or_a_job_in_its_pool_is_not_deactivated(client, place, session):
    sup = auth(place["supervisor"])
    r = client.delete(f"/api/v1/teams/{place['engineering'].id}", headers=sup)
    assert r.status_code == 422 and errors(r) == [("team_id", "team_not_empty")]
    make_ticket(place["household"], status="dispatched", team_id=place["cleaning"].id)
    r = client.delete(f"/api/v1/teams/{place['cleaning'].id}", headers=sup)
    assert r.status_code == 422
    assert client.delete(f"/api/v1/teams/{place['cleaning'].id}", headers=auth(place["butler"])).status_code == 403
    session.expire_all()
    assert not session.get(Team, place["engineering"].id).deleted and not session.get(Team, place["cleaning"].id).deleted


# ---- the service, without HTTP ------------------------------------------------------------------

def test_service_removal_uses_a_default_note_and_refuses_a_stranger(place, session):
    tech = place["tech"]
    held = make_ticket(place["household"], status="in_progress", assignee_id=tech.id, team_id=place["engineering"].id)
    with pytest.raises(NotFound):
        people.remove_member(session, actor=place["outsider"], team_id=place["engineering"].id, user_id=tech.id)
    session.rollback()
    returned = people.remove_member(session, actor=place["supervisor"], team_id=place["engineering"].id,
                                    user_id=tech.id)
    session.commit()
    assert returned == 1
    ticket = session.get(Ticket, held.id)
    assert ticket.handoffs[-1]["note"] == people.DEFAULT_LEAVE_NOTE and ticket.assignee_id is None


def test_service_moving_a_technician_returns_their_jobs_to_the_old_team(place, session):
    tech = place["tech"]
    held = make_ticket(place["household"], status="accepted", assignee_id=tech.id, team_id=place["engineering"].id)
    people.add_member(session, actor=place["supervisor"], team_id=place["cleaning"].id, user_id=tech.id)
    session.commit()
    ticket = session.get(Ticket, held.id)
    assert (ticket.team_id, ticket.assignee_id) == (place["engineering"].id, None)
    assert session.get(User, tech.id).team_id == place["cleaning"].id


def test_service_refuses_a_too_long_reason_and_keeps_everything(place, session):
    with pytest.raises(ValidationFailed):
        people.deactivate_technician(session, actor=place["supervisor"], user_id=place["tech"].id, reason="x" * 501)
    session.rollback()
    assert session.get(User, place["tech"].id).active is True


def test_new_passwords_differ_and_avoid_confusable_characters():
    passwords = {people.new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert not any(ch in "01ilIoO" for p in passwords for ch in p)


def test_a_lost_password_is_replaced_by_a_new_one_time_one_and_the_phones_log_out(client, place, session):
    phone = token_for(place["tech"])
    r = client.post(f"/api/v1/teams/technicians/{place['tech'].id}/password", headers=auth(place["supervisor"]))
    assert r.status_code == 200, r.get_json()
    password = r.get_json()["initial_password"]
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {phone}"}).status_code == 401
    login = client.post("/api/v1/auth/login", json={"username": place["tech"].username, "password": password})
    assert login.status_code == 200
    assert client.post(f"/api/v1/teams/technicians/{place['tech'].id}/password",
                       headers=auth(place["outsider"])).status_code == 404
    session.expire_all()
    devices = session.scalars(sa.select(Device).where(Device.user_id == place["tech"].id,
                                                      Device.revoke_reason == "password_reset")).all()
    assert len(devices) == 1
