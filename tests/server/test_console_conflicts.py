"""Settling sync conflicts in the console (server/console/conflicts.py), a revoked device told to wipe
itself, and an admin's chosen community carried through the console's forms and redirects."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.syncing.models import SyncConflict
from tests.factories import make_community, make_grid, make_household, make_user, token_for
from tests.server.test_console_actions import post, text
from tests.support.console import log_in
from tests.support.phone import PHONE_A, PHONE_B, Phone, put, results


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    grid = make_grid(community, butler, name="一号网格")
    home = make_household(community, grid, building="1栋", unit="1单元", room="301")
    other = make_community(name="别的小区")
    other_supervisor = make_user("supervisor", name="外主管", community_id=other.id)
    other_butler = make_user("butler", community_id=other.id)
    other_home = make_household(other, make_grid(other, other_butler), building="9栋", room="901")
    return {"community": community, "butler": butler, "supervisor": supervisor, "home": home,
            "other_supervisor": other_supervisor, "other_butler": other_butler, "other_home": other_home}


def notes_conflict(client, supervisor, butler, household) -> tuple[str, Phone]:
    """The supervisor writes 甲 into the notes, the butler (who had not seen it) 乙: 乙 stands, 甲 is kept."""
    results(Phone(client, supervisor, PHONE_A).sync(put("household", household.id, {"notes": "甲：独居老人"}, base=1)))
    phone = Phone(client, butler, PHONE_B)
    (result,) = results(phone.sync(put("household", household.id, {"notes": "乙：子女每周来"}, base=1)))
    assert result["status"] == "conflict"
    return result["conflicts"][0]["conflict_id"], phone


@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def test_the_page_shows_both_values_and_who_typed_them_and_that_is_audited(client, world, console, session):
    conflict_id, _ = notes_conflict(client, world["supervisor"], world["butler"], world["home"])
    html = text(console.get("/console/conflicts"))
    assert f'data-id="{conflict_id}"' in html
    assert "乙：子女每周来" in html and "甲：独居老人" in html and "李管家" in html and "王主管" in html
    assert "1栋-1单元-301" in html
    (read,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.channel == "console", AuditEvent.action == "read"))
    assert (read.user_id, read.household_id, read.fields) == (world["supervisor"].id, world["home"].id, ["notes"])


def test_keeping_the_other_value_writes_it_back_and_the_phone_pulls_the_outcome(client, world, console, session):
    conflict_id, phone = notes_conflict(client, world["supervisor"], world["butler"], world["home"])
    answer = post(console, f"/console/conflicts/{conflict_id}/settle", {"keep": "other"}, "/console/conflicts")
    assert answer.status_code == 302
    assert "已处理" in text(console.get(answer.headers["Location"]))
    session.expire_all()
    assert world["home"].notes == "甲：独居老人"
    stored = session.get(SyncConflict, conflict_id)
    assert (stored.status, stored.chosen, stored.settled_by) == ("settled", "甲：独居老人", world["supervisor"].id)
    (change,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.channel == "console",
                                                            AuditEvent.action == "update"))
    assert (change.user_id, change.record_id, change.fields) == (world["supervisor"].id, world["home"].id, ["notes"])
    pulled = phone.pull_all()
    assert [c["data"]["status"] for c in pulled if c["type"] == "conflict"] == ["settled"]
    assert [c["data"]["notes"] for c in pulled if c["type"] == "household"] == ["甲：独居老人"]


def test_keeping_the_value_in_the_record_keeps_it(client, world, console, session):
    conflict_id, _ = notes_conflict(client, world["supervisor"], world["butler"], world["home"])
    assert post(console, f"/console/conflicts/{conflict_id}/settle", {"keep": "kept"},
                "/console/conflicts").status_code == 302
    session.expire_all()
    assert world["home"].notes == "乙：子女每周来"
    assert session.get(SyncConflict, conflict_id).status == "settled"
    assert "no-conflicts" in text(console.get("/console/conflicts"))


def test_a_settled_conflict_cannot_be_settled_again(client, world, console, session):
    conflict_id, _ = notes_conflict(client, world["supervisor"], world["butler"], world["home"])
    post(console, f"/console/conflicts/{conflict_id}/settle", {"keep": "kept"}, "/console/conflicts")
    again = post(console, f"/console/conflicts/{conflict_id}/settle", {"keep": "other"}, "/console/conflicts")
    assert again.status_code == 422 and "该冲突已被处理" in text(again)
    session.expire_all()
    assert world["home"].notes == "乙：子女每周来"


def test_a_value_typed_after_the_conflict_is_never_overwritten_unseen(client, world, console, session):
    conflict_id, phone = notes_conflict(client, world["supervisor"], world["butler"], world["home"])
    version = world["home"].version
    results(phone.sync(put("household", world["home"].id, {"notes": "丙：已装扶手"}, base=version)))
    refused = post(console, f"/console/conflicts/{conflict_id}/settle", {"keep": "other"}, "/console/conflicts")
    assert refused.status_code == 422 and "又被修改过" in text(refused)
    session.expire_all()
    assert world["home"].notes == "丙：已装扶手" and session.get(SyncConflict, conflict_id).status == "open"


def test_bad_input_and_another_community_s_conflict_change_nothing(client, world, console, session):
    conflict_id, _ = notes_conflict(client, world["supervisor"], world["butler"], world["home"])
    bad = post(console, f"/console/conflicts/{conflict_id}/settle", {"keep": "both"}, "/console/conflicts")
    assert bad.status_code == 422
    foreign, _ = notes_conflict(client, world["other_supervisor"], world["other_butler"], world["other_home"])
    assert foreign not in text(console.get("/console/conflicts"))
    refused = post(console, f"/console/conflicts/{foreign}/settle", {"keep": "other"}, "/console/conflicts")
    assert refused.status_code == 404
    session.expire_all()
    assert {c.status for c in session.query(SyncConflict)} == {"open"}


def test_butlers_are_refused(client, world):
    log_in(client, world["butler"].username)
    assert client.get("/console/conflicts").status_code in (302, 403)


# ---- a revoked device is told to wipe itself --------------------------------------------------

def sync_status(client, token):
    return client.post("/api/v1/sync", json={"client_id": PHONE_A, "schema": 1, "cursor": None, "mutations": []},
                       headers={"Authorization": f"Bearer {token}"})


def test_a_device_revoked_by_a_supervisor_is_told_to_wipe(client, world, console):
    token = token_for(world["butler"], name="lost phone")
    assert sync_status(client, token).status_code == 200
    html = text(console.get("/console/butlers"))
    device_id = html.split('data-testid="device" data-id="')[1].split('"')[0]
    assert post(console, f"/console/devices/{device_id}/revoke", {}, "/console/butlers").status_code == 302
    answer = sync_status(client, token)
    assert answer.status_code == 401
    body = answer.get_json()
    assert body["error"] == "device_revoked" and body["details"] == {"wipe": True}
    assert "已清除" in body["message"]


def test_a_logout_or_a_password_reset_is_not_a_wipe(client, world, console):
    logged_out = token_for(world["butler"])
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {logged_out}"}).status_code == 204
    assert sync_status(client, logged_out).get_json()["error"] == "invalid_token"
    reset = token_for(world["butler"])
    assert post(console, f"/console/butlers/{world['butler'].id}/password", {"password": "another-pass-1"},
                "/console/butlers").status_code == 302
    body = sync_status(client, reset).get_json()
    assert body["error"] == "invalid_token" and "wipe" not in body.get("details", {})


def test_a_deactivated_account_s_devices_are_told_to_wipe(client, world, session):
    token = token_for(world["butler"])
    world["butler"].active = False
    session.commit()
    assert sync_status(client, token).get_json()["error"] == "device_revoked"


# ---- an admin's chosen community ---------------------------------------------------------------

def test_an_admin_s_chosen_community_survives_a_form_and_its_redirect(client, world, session):
    admin = make_user("admin", name="管理员", community_id=world["community"].id)
    log_in(client, admin.username)
    chosen = world["other_home"].community_id
    page = f"/console/conflicts?community={chosen}"
    foreign, _ = notes_conflict(client, world["other_supervisor"], world["other_butler"], world["other_home"])
    html = text(client.get(page))
    assert foreign in html and f'name="community" value="{chosen}"' in html
    answer = post(client, f"/console/conflicts/{foreign}/settle", {"keep": "kept", "community": chosen}, page)
    assert answer.status_code == 302 and f"community={chosen}" in answer.headers["Location"]
