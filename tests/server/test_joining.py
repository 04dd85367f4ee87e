"""Residents join a household: invites issued by a butler or supervisor, joining with one, asking
to join without one and the butler's decision, several residents per household, and throttling."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.auth.models import LoginFailure, User
from server.joining.models import Invite, JoinRequest
from server.records import utcnow
from server.syncing.models import SyncEviction
from tests.factories import auth, make_community, make_grid, make_household, make_ticket, make_user
from tests.support.phone import Phone, ids

NEW_PASSWORD = "new resident pw"


@pytest.fixture
def place(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", community_id=community.id)
    other_butler = make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    grid = make_grid(community, butler)
    other_grid = make_grid(community, other_butler)
    household = make_household(community, grid, building="3栋", unit="2单元", room="1201")
    elsewhere = make_household(community, other_grid, building="5栋", unit="1单元", room="101")
    return {"community": community, "butler": butler, "other_butler": other_butler, "supervisor": supervisor,
            "household": household, "elsewhere": elsewhere}


def issue(client, user, household, role="family"):
    return client.post("/api/v1/invites", json={"household_id": household.id, "household_role": role},
                       headers=auth(user))


def join(client, code, username="newcomer", password=NEW_PASSWORD, **extra):
    return client.post("/api/v1/join", json={"invite_code": code, "username": username, "password": password,
                                             "name": "新住户", **extra})


def ask(client, place, username="asker", **overrides):
    body = {"community_id": place["community"].id, "building": "3栋", "unit": "2单元", "room": "1201",
            "owner_name": "王芳", "household_role": "tenant", "username": username, "password": NEW_PASSWORD,
            "name": "申请人", **overrides}
    return client.post("/api/v1/join/requests", json=body)


# ---- invites ---------------------------------------------------------------------------------------

def test_a_butler_issues_an_invite_with_a_code_a_link_and_a_qr_code(client, session, place):
    r = issue(client, place["butler"], place["household"], "owner")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert len(body["code"]) == 8 and body["household_role"] == "owner"
    assert body["join_url"].endswith(f"/#/join?code={body['code']}")
    assert body["qr_svg"].startswith("<svg") and "</svg>" in body["qr_svg"]
    assert body["address"] == {"building": "3栋", "unit": "2单元", "room": "1201"}
    assert timedelta(days=6, hours=23) < session.get(Invite, body["id"]).expires_at - utcnow() <= timedelta(days=7)


def test_the_code_is_stored_only_as_a_keyed_hash(client, session, place):
    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    stored = session.scalars(sa.select(Invite.code_hash)).all()
    assert len(stored) == 1 and code not in stored[0] and code.lower() not in stored[0]


def test_a_butler_cannot_invite_to_a_household_outside_their_grids(client, place):
    r = issue(client, place["butler"], place["elsewhere"])
    assert r.status_code == 404


def test_a_supervisor_invites_to_any_household_of_their_community(client, place):
    assert issue(client, place["supervisor"], place["elsewhere"]).status_code == 201


def test_a_resident_cannot_issue_an_invite(client, place):
    resident = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                         household_role="owner")
    assert issue(client, resident, place["household"]).status_code == 403


def test_listed_invites_never_show_their_code(client, place):
    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    r = client.get(f"/api/v1/invites?household_id={place['household'].id}", headers=auth(place["butler"]))
    assert r.status_code == 200
    assert len(r.get_json()["invites"]) == 1
    assert code not in r.get_data(as_text=True)


# ---- joining with an invite --------------------------------------------------------------------------

def test_joining_binds_a_new_resident_to_the_household_with_the_role_and_logs_in(client, session, place):
    code = issue(client, place["butler"], place["household"], "tenant").get_json()["code"]
    r = join(client, code.lower()[:4] + "-" + code[4:])  # typed loosely: case and the dash do not matter
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["user"]["role"] == "resident"
    assert body["user"]["household_id"] == place["household"].id
    assert body["user"]["household_role"] == "tenant"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["username"] == "newcomer"
    # And the new resident reads their household.
    h = client.get(f"/api/v1/households/{place['household'].id}", headers={"Authorization": f"Bearer {body['token']}"})
    assert h.status_code == 200


def test_an_invite_is_used_only_once(client, place):
    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    assert join(client, code).status_code == 200
    again = join(client, code, username="second")
    assert again.status_code == 404 and again.get_json()["error"] == "invite_invalid"


def test_an_expired_revoked_used_or_unknown_code_gets_one_and_the_same_answer(client, session, place):
    codes = {}
    for kind in ("expired", "revoked", "used"):
        codes[kind] = issue(client, place["butler"], place["household"]).get_json()
    session.get(Invite, codes["expired"]["id"]).expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert client.delete(f"/api/v1/invites/{codes['revoked']['id']}", headers=auth(place["butler"])).status_code == 204
    assert join(client, codes["used"]["code"], username="first").status_code == 200
    answers = [join(client, codes[k]["code"], username=f"late{k}") for k in ("expired", "revoked", "used")]
    answers.append(join(client, "ZZZZZZZZ", username="guess"))
    answers.append(join(client, "short", username="malformed"))
    assert {a.status_code for a in answers} == {404}
    assert len({(a.get_json()["error"], a.get_json()["message"]) for a in answers}) == 1
    assert answers[0].get_json()["message"].startswith("邀请码无效")


def test_joining_checks_the_password_as_elsewhere_and_keeps_the_invite(client, session, place):
    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    r = join(client, code, password="short")
    assert r.status_code == 422
    assert r.get_json()["details"]["errors"][0]["code"] == "too_short"
    assert join(client, code).status_code == 200  # nothing was used up


def test_join_attempts_are_throttled_per_address(app, client, place):
    limit = app.config["LOGIN_MAX_FAILURES"] * 4
    for i in range(limit):
        assert join(client, f"WRONG{i:03d}", username=f"g{i}").status_code == 404
    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    r = join(client, code)  # even a good code waits: the address is throttled
    assert r.status_code == 429
    assert r.get_json()["error"] == "too_many_join_attempts" and int(r.headers["Retry-After"]) > 0


def test_join_attempts_are_throttled_per_code(app, client, session, place):
    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    for i in range(app.config["LOGIN_MAX_FAILURES"]):
        # From many addresses, each time a wrong password for the same (good) code.
        r = client.post("/api/v1/join", json={"invite_code": code, "username": f"u{i}", "password": "x",
                                              "name": "n"}, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        assert r.status_code == 422
    r = client.post("/api/v1/join", json={"invite_code": code, "username": "u", "password": NEW_PASSWORD,
                                          "name": "n"}, environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert r.status_code == 429
    assert all(code not in s for s in session.scalars(sa.select(LoginFailure.subject)))


# ---- asking to join -----------------------------------------------------------------------------------

def test_the_public_sees_community_names_and_the_room_structure_only(client, place):
    communities = client.get("/api/v1/join/communities").get_json()["communities"]
    assert communities == [{"id": place["community"].id, "name": "翠湖花园", "city": "杭州"}]
    r = client.get(f"/api/v1/join/communities/{place['community'].id}")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "1201" in text and "内部备注" not in text and "独居老人" not in text
    assert place["household"].id not in text


def test_a_request_waits_and_the_account_sees_only_its_status(client, session, place):
    r = ask(client, place)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["user"]["household_id"] is None and body["request"]["status"] == "pending"
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/me/join-request", headers=headers).get_json()["status"] == "pending"
    assert client.get(f"/api/v1/households/{place['household'].id}", headers=headers).status_code in (403, 404)
    assert client.get("/api/v1/households", headers=headers).get_json()["items"] == []


def test_the_butler_of_the_grid_approves_and_the_account_is_bound(client, session, place):
    body = ask(client, place).get_json()
    pending = client.get("/api/v1/join-requests", headers=auth(place["butler"])).get_json()["requests"]
    assert [(p["id"], p["owner_name"], p["requester_name"]) for p in pending] == [(body["request"]["id"], "王芳", "申请人")]
    assert client.get("/api/v1/join-requests", headers=auth(place["other_butler"])).get_json()["requests"] == []
    r = client.post(f"/api/v1/join-requests/{body['request']['id']}/decision", json={"approve": True},
                    headers=auth(place["butler"]))
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    user = session.get(User, body["user"]["id"])
    assert (user.household_id, user.household_role) == (place["household"].id, "tenant")
    again = client.post(f"/api/v1/join-requests/{body['request']['id']}/decision", json={"approve": True},
                        headers=auth(place["butler"]))
    assert again.status_code == 409


def test_another_grids_butler_cannot_decide(client, place):
    body = ask(client, place).get_json()
    r = client.post(f"/api/v1/join-requests/{body['request']['id']}/decision", json={"approve": True},
                    headers=auth(place["other_butler"]))
    assert r.status_code == 404


def test_a_refusal_needs_a_reason_the_requester_reads(client, session, place):
    body = ask(client, place).get_json()
    url = f"/api/v1/join-requests/{body['request']['id']}/decision"
    assert client.post(url, json={"approve": False}, headers=auth(place["butler"])).status_code == 422
    r = client.post(url, json={"approve": False, "reason": "业主不认识此人"}, headers=auth(place["butler"]))
    assert r.status_code == 200
    mine = client.get("/api/v1/me/join-request", headers={"Authorization": f"Bearer {body['token']}"}).get_json()
    assert (mine["status"], mine["reason"]) == ("refused", "业主不认识此人")
    assert session.get(User, body["user"]["id"]).household_id is None


def test_a_request_for_a_room_that_does_not_exist_is_refused(client, place):
    r = ask(client, place, room="9999")
    assert r.status_code == 422 and r.get_json()["details"]["errors"][0]["field"] == "room"


def test_requests_are_throttled_per_address(app, client, place):
    for i in range(app.config["LOGIN_MAX_FAILURES"]):
        ask(client, place, username=f"asker{i}")
    r = ask(client, place, username="onemore")
    assert r.status_code == 429
    assert JoinRequest.query.count() == app.config["LOGIN_MAX_FAILURES"]


# ---- several residents per household ------------------------------------------------------------------

def test_the_owner_sees_the_residents_and_removes_a_family_member(client, session, place):
    owner = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                      household_role="owner")
    family = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                       household_role="family")
    listed = client.get("/api/v1/me/household/residents", headers=auth(owner)).get_json()["residents"]
    assert {(r["id"], r["household_role"]) for r in listed} == {(owner.id, "owner"), (family.id, "family")}
    assert client.delete(f"/api/v1/me/household/residents/{family.id}", headers=auth(owner)).status_code == 204
    session.refresh(family)
    assert (family.household_id, family.household_role) == (None, None)
    # The evict path: the removed resident's phone drops the household at its next sync.
    evicted = session.scalars(sa.select(SyncEviction.record_id).where(SyncEviction.user_id == family.id)).all()
    assert place["household"].id in evicted


def test_a_family_member_cannot_remove_anyone(client, place):
    owner = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                      household_role="owner")
    family = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                       household_role="family")
    assert client.delete(f"/api/v1/me/household/residents/{owner.id}", headers=auth(family)).status_code == 403


def test_an_owner_cannot_remove_someone_of_another_household(client, place):
    owner = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                      household_role="owner")
    stranger = make_user("resident", community_id=place["community"].id, household_id=place["elsewhere"].id,
                         household_role="tenant")
    assert client.delete(f"/api/v1/me/household/residents/{stranger.id}", headers=auth(owner)).status_code == 404


# ---- what the phones pull -------------------------------------------------------------------------------

def test_a_waiting_account_pulls_nothing_and_pulls_the_household_once_approved(client, session, place):
    body = ask(client, place).get_json()
    ticket = make_ticket(place["household"])
    waiting = session.get(User, body["user"]["id"])
    phone = Phone(client, waiting)
    assert {c["type"] for c in phone.pull_all()} <= {"product"}  # the catalogue only, no household
    client.post(f"/api/v1/join-requests/{body['request']['id']}/decision", json={"approve": True},
                headers=auth(place["butler"]))
    assert ids(phone.pull_all()) >= {place["household"].id, ticket.id}


def test_a_removed_family_member_s_phone_drops_the_household_at_its_next_sync(client, session, place):
    owner = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                      household_role="owner")
    family = make_user("resident", community_id=place["community"].id, household_id=place["household"].id,
                       household_role="family")
    ticket = make_ticket(place["household"])
    phone = Phone(client, family)
    assert ids(phone.pull_all()) >= {place["household"].id, ticket.id}
    client.delete(f"/api/v1/me/household/residents/{family.id}", headers=auth(owner))
    assert ids(phone.pull_all(), op="evict") >= {place["household"].id, ticket.id}
    assert ids(Phone(client, owner).pull_all(), op="evict") == set()  # the owner keeps it


def test_joining_hashes_the_new_password_with_no_transaction_open(client, place, monkeypatch):
    """argon2 is slow on purpose: on SQLite a write request holds the write lock for its whole
    transaction, so the hash is made between the throttle's count and the account's write."""
    from server.auth import service as auth_service
    from server.extensions import db

    code = issue(client, place["butler"], place["household"]).get_json()["code"]
    real, seen = auth_service.hash_password, []

    def watched(password):
        seen.append(db.session().in_transaction())
        return real(password)

    monkeypatch.setattr(auth_service, "hash_password", watched)
    assert join(client, code).status_code == 200
    assert seen == [False]
