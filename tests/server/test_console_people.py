"""The console's 班组 page (teams and technician accounts) and its 入住申请与邀请 page (requests to
join and invites), on SQLite and PostgreSQL: every write through the domain and the scope rules, the
CSRF field on every form, a refusal shown in the page's language with nothing changed, the initial
password shown once and never again, invite codes never shown, and paging for large communities."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.audit.service import Via
from server.auth.models import User
from server.joining import service as joining
from server.joining.models import Invite, JoinRequest
from server.records import utcnow
from server.teams.models import Team
from server.tickets.models import Ticket
from tests.factories import (make_community, make_grid, make_household, make_team, make_technician, make_ticket,
                             make_user)
from tests.support.console import csrf_of, log_in


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    grid = make_grid(community, butler)
    household = make_household(community, grid, building="3栋", unit="2单元", room="1201")
    engineering = make_team(community, "engineering", name="工程部")
    tech = make_technician(engineering, name="赵师傅")
    other = make_community(name="别的小区")
    other_team = make_team(other, name="外面的工程部")
    return {"community": community, "butler": butler, "supervisor": supervisor, "household": household,
            "engineering": engineering, "tech": tech, "other": other, "other_team": other_team,
            "other_supervisor": make_user("supervisor", community_id=other.id)}


@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def post(client, path, data, page="/console/teams"):
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})


# ---- 班组 --------------------------------------------------------------------------------------------

def test_the_teams_page_lists_teams_members_and_the_nav_links_it(console, world):
    page = text(console.get("/console/teams"))
    assert "工程部" in page and "赵师傅" in page and "工程维修" in page
    assert 'data-testid="nav-teams"' in page and 'data-testid="nav-joining"' in page
    assert "外面的工程部" not in page


def test_a_supervisor_creates_renames_and_deactivates_a_team(console, session):
    r = post(console, "/console/teams", {"name": "保洁组", "kind": "cleaning", "company": ""})
    assert r.status_code == 302
    team = session.scalar(sa.select(Team).where(Team.name == "保洁组"))
    assert team.kind == "cleaning"
    r = post(console, f"/console/teams/{team.id}", {"name": "保洁一组", "kind": "cleaning", "company": ""})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Team, team.id).name == "保洁一组"
    assert post(console, f"/console/teams/{team.id}/deactivate", {}).status_code == 302
    session.expire_all()
    assert session.get(Team, team.id).deleted is True


def test_a_vendor_team_without_its_company_is_refused_in_the_pages_language(console, session):
    console.get("/console/teams?lang=en")
    r = post(console, "/console/teams", {"name": "电梯维保", "kind": "vendor", "company": ""})
    assert r.status_code == 422 and "is required" in text(r)
    assert session.scalar(sa.select(Team).where(Team.name == "电梯维保")) is None


def test_a_team_with_members_is_not_deactivated(console, world, session):
    r = post(console, f"/console/teams/{world['engineering'].id}/deactivate", {})
    assert r.status_code == 422 and "班组还有成员" in text(r)
    session.expire_all()
    assert session.get(Team, world["engineering"].id).deleted is False


def test_a_technician_account_is_made_with_a_password_shown_once(console, world, session, client):
    r = post(console, "/console/technicians", {"team_id": world["engineering"].id, "username": "qian.gong",
                                               "name": "钱工"})
    assert r.status_code == 201
    password = re.search(r'data-testid="initial-password">([^<]+)<', text(r)).group(1)
    user = session.scalar(sa.select(User).where(User.username == "qian.gong"))
    assert user.role == "technician" and user.team_id == world["engineering"].id
    assert password not in user.password_hash
    assert password not in text(console.get("/console/teams"))  # never again
    assert client.post("/api/v1/auth/login", json={"username": "qian.gong", "password": password}).status_code == 200


def test_a_duplicate_username_is_refused_and_nothing_is_made(console, world, session):
    before = session.scalar(sa.select(sa.func.count()).select_from(User))
    r = post(console, "/console/technicians", {"team_id": world["engineering"].id, "username": world["tech"].username,
                                               "name": "重名"})
    assert r.status_code == 422 and "用户名已存在" in text(r)
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_a_form_without_the_csrf_field_is_refused(console, world, session):
    r = console.post("/console/technicians", data={"team_id": world["engineering"].id, "username": "x", "name": "y"})
    assert r.status_code == 400
    assert session.scalar(sa.select(User).where(User.username == "x")) is None


def test_members_move_and_deactivation_returns_jobs_to_the_pool(console, world, session):
    cleaning = make_team(world["community"], "cleaning", name="保洁组")
    r = post(console, f"/console/teams/{cleaning.id}/members", {"user_id": world["tech"].id})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(User, world["tech"].id).team_id == cleaning.id
    job = make_ticket(world["household"], status="accepted", assignee_id=world["tech"].id, team_id=cleaning.id)
    r = post(console, f"/console/technicians/{world['tech'].id}/deactivate", {"reason": ""})
    assert r.status_code == 422 and "原因为必填项" in text(r)
    r = post(console, f"/console/technicians/{world['tech'].id}/deactivate", {"reason": "合同到期"})
    assert r.status_code == 302
    session.expire_all()
    ticket = session.get(Ticket, job.id)
    assert (ticket.team_id, ticket.assignee_id, ticket.handoffs[-1]["note"]) == (cleaning.id, None, "合同到期")
    assert session.get(User, world["tech"].id).active is False
    page = text(console.get("/console/teams"))
    assert 'data-testid="inactive-technician"' in page


def test_another_communitys_team_or_technician_is_out_of_reach(console, world, session):
    stranger = make_technician(world["other_team"])
    assert post(console, f"/console/teams/{world['other_team'].id}",
                {"name": "改名", "kind": "engineering", "company": ""}).status_code == 404
    assert post(console, f"/console/technicians/{stranger.id}/deactivate", {"reason": "x"}).status_code == 404
    assert post(console, f"/console/teams/{world['engineering'].id}/members",
                {"user_id": stranger.id}).status_code == 422
    session.expire_all()
    assert session.get(Team, world["other_team"].id).name == "外面的工程部"
    assert session.get(User, stranger.id).active is True


def test_a_butler_cannot_open_the_console_pages(client, world):
    log_in(client, world["butler"].username)
    assert client.get("/console/teams").status_code in (302, 403)
    assert client.get("/console/joining").status_code in (302, 403)


# ---- 入住申请与邀请 ----------------------------------------------------------------------------------

def _request(session, household, name="申请人", role="tenant", owner="王芳"):
    user = make_user("resident", community_id=household.community_id, name=name, household_id=None)
    found = JoinRequest(user_id=user.id, household_id=household.id, household_role=role, owner_name=owner)
    session.add(found)
    session.commit()
    return found


def test_pending_requests_are_listed_and_approved_from_the_console(console, world, session):
    found = _request(session, world["household"])
    page = text(console.get("/console/joining"))
    assert "3栋-2单元-1201" in page and "申请人" in page and "王芳" in page
    r = post(console, f"/console/joining/requests/{found.id}/decision",
             {"approve": "yes", "household_role": "family"}, page="/console/joining")
    assert r.status_code == 302
    session.expire_all()
    user = session.get(User, found.user_id)
    assert (user.household_id, user.household_role) == (world["household"].id, "family")
    assert session.get(JoinRequest, found.id).decided_by == world["supervisor"].id


def test_a_refusal_needs_a_reason_and_a_decided_request_is_not_decided_again(console, world, session):
    found = _request(session, world["household"])
    r = post(console, f"/console/joining/requests/{found.id}/decision", {"approve": "no", "reason": " "},
             page="/console/joining")
    assert r.status_code == 422 and "原因为必填项" in text(r)
    session.expire_all()
    assert session.get(JoinRequest, found.id).status == "pending"
    r = post(console, f"/console/joining/requests/{found.id}/decision", {"approve": "no", "reason": "查无此人"},
             page="/console/joining")
    assert r.status_code == 302
    session.expire_all()
    assert (session.get(JoinRequest, found.id).status, session.get(JoinRequest, found.id).reason) == ("refused",
                                                                                                      "查无此人")
    again = post(console, f"/console/joining/requests/{found.id}/decision", {"approve": "yes"}, page="/console/joining")
    assert again.status_code == 409


def test_another_communitys_request_is_not_decided_here(console, world, session):
    elsewhere = make_household(world["other"], None, building="9栋", unit="1单元", room="101")
    found = _request(session, elsewhere)
    r = post(console, f"/console/joining/requests/{found.id}/decision", {"approve": "yes"}, page="/console/joining")
    assert r.status_code == 404
    session.expire_all()
    assert session.get(JoinRequest, found.id).status == "pending"
    assert "9栋-1单元-101" not in text(console.get("/console/joining"))


def test_invites_are_listed_without_codes_and_revoked(console, world, session, app):
    invite, code = joining.issue_invite(session, actor=world["butler"], household_id=world["household"].id,
                                        household_role="family", secret_key=app.config["SECRET_KEY"],
                                        via=Via("api"))
    session.commit()
    page = text(console.get("/console/joining"))
    assert "3栋-2单元-1201" in page and "李管家" in page and 'data-state="active"' in page
    assert code not in page and f"{code[:4]}-{code[4:]}" not in page and invite.code_hash not in page
    r = post(console, f"/console/joining/invites/{invite.id}/revoke", {}, page="/console/joining")
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Invite, invite.id).revoked_at is not None
    assert 'data-state="revoked"' in text(console.get("/console/joining?state=revoked"))
    assert 'data-testid="invite"' not in text(console.get("/console/joining?state=active"))


def test_thousands_of_households_are_paged(console, world, session):
    community = world["community"]
    households = [make_household(community, None, building="8栋", unit="1单元", room=str(1000 + i)) for i in range(60)]
    now = utcnow()
    for i, household in enumerate(households):
        user = make_user("resident", community_id=community.id)
        session.add(JoinRequest(user_id=user.id, household_id=household.id, household_role="tenant",
                                owner_name="业主", created_at=now + timedelta(seconds=i)))
        session.add(Invite(code_hash=f"{i:064d}", household_id=household.id, household_role="family",
                           issued_by=world["supervisor"].id, created_at=now + timedelta(seconds=i),
                           expires_at=now + timedelta(days=7)))
    session.commit()
    first = text(console.get("/console/joining"))
    assert first.count('data-testid="join-request"') == 50 and first.count('data-testid="invite"') == 50
    assert "共 60 条" in first and 'data-testid="requests-next"' in first
    second = text(console.get("/console/joining?page=2&invites_page=2"))
    assert second.count('data-testid="join-request"') == 10 and second.count('data-testid="invite"') == 10
    assert 'data-testid="requests-next"' not in second


def test_a_technician_gets_a_new_one_time_password_from_the_console(console, world, client):
    r = post(console, f"/console/technicians/{world['tech'].id}/password", {})
    assert r.status_code == 200 and "新的一次性密码" in text(r)
    password = re.search(r'data-testid="initial-password">([^<]+)<', text(r)).group(1)
    assert client.post("/api/v1/auth/login", json={"username": world["tech"].username,
                                                    "password": password}).status_code == 200
