"""The audit trail (server/audit): changes and reads of the household file, who and when, field names only;
the console's list of it, per household and per user, scoped to the supervisor's community."""
from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import Device
from server.auth.service import hash_token
from server.console.auth import TOKEN_KEY
from server.records import utcnow
from server.syncing.changes import purge_tombstones
from tests.factories import (auth, make_community, make_grid, make_household, make_person, make_user, make_visit,
                             token_for)
from tests.support.console import csrf_of, log_in
from tests.support.phone import Phone, delete, put, results

PHONE_NUMBER = "13912345678"


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    b1 = make_user("butler", name="李管家", community_id=community.id)
    b2 = make_user("butler", name="张管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    g1, g2 = make_grid(community, b1, name="一号网格"), make_grid(community, b2, name="二号网格")
    h1 = make_household(community, g1, building="1栋", unit="1单元", room="301")
    h2 = make_household(community, g2, building="2栋", unit="1单元", room="1203")
    resident = make_user("resident", name="住户甲", community_id=community.id, household_id=h1.id)
    other = make_community(name="别的小区")
    other_supervisor = make_user("supervisor", name="外主管", community_id=other.id)
    oh = make_household(other, make_grid(other, name="外网格"), building="9栋", room="901")
    return {"community": community, "b1": b1, "b2": b2, "supervisor": supervisor, "g1": g1, "g2": g2, "h1": h1,
            "h2": h2, "resident": resident, "person": make_person(h1, phone=PHONE_NUMBER),
            "visit": make_visit(h1, b1), "other": other, "other_supervisor": other_supervisor, "oh": oh}


def events(session, **where) -> list[AuditEvent]:
    session.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(session.scalars(query))


def as_text(event: AuditEvent) -> str:
    return json.dumps({c.name: str(getattr(event, c.name)) for c in AuditEvent.__table__.columns}, ensure_ascii=False)


def device_of(session, headers) -> str:
    """The device behind a bearer token."""
    token = headers["Authorization"].removeprefix("Bearer ")
    return session.scalar(sa.select(Device.id).where(Device.token_hash == hash_token(token)))


# ---- changes --------------------------------------------------------------------------------------

def test_a_rest_change_records_who_what_and_when_with_field_names_and_no_values(client, session, world):
    headers = auth(world["b1"])
    device_id = device_of(session, headers)
    before = utcnow()
    r = client.patch(f"/api/v1/persons/{world['person'].id}",
                     json={"phone": "13700001111", "notes": "行动不便"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    (event,) = events(session, action="update")
    assert (event.user_id, event.device_id, event.channel) == (world["b1"].id, device_id, "api")
    assert (event.record_type, event.record_id) == ("person", world["person"].id)
    assert (event.household_id, event.community_id) == (world["h1"].id, world["community"].id)
    assert event.fields == ["notes", "phone"]
    assert before <= event.at <= utcnow()
    assert "13700001111" not in as_text(event) and "行动不便" not in as_text(event)


def test_a_rest_create_and_delete_are_recorded(client, session, world):
    headers = auth(world["supervisor"])
    r = client.post("/api/v1/households", json={"building": "3栋", "room": "502", "notes": "新住户"},
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    hid = r.get_json()["id"]
    assert client.delete(f"/api/v1/households/{hid}", headers=headers).status_code == 204
    created, deleted = events(session, household_id=hid)
    assert (created.action, created.record_type, created.record_id) == ("create", "household", hid)
    assert {"building", "room", "notes", "community_id"} <= set(created.fields)
    assert (deleted.action, deleted.fields, deleted.user_id) == ("delete", [], world["supervisor"].id)


def test_sync_changes_are_recorded_with_the_phone_s_device_fast_and_careful_alike(client, session, world):
    phone = Phone(client, world["b1"])
    device_id = device_of(session, phone.headers)
    pid = str(uuid.uuid4())
    results(phone.sync(put("person", pid, {"household_id": world["h1"].id, "name": "李伯", "consent": True,
                                           "phone": PHONE_NUMBER}),
                       put("household", world["h1"].id, {"notes": "养了一只猫"})))
    created = events(session, action="create")
    assert [(e.record_type, e.record_id, e.channel, e.device_id) for e in created] == [
        ("person", pid, "sync", device_id)]
    assert {"name", "phone", "consent", "consent_at", "household_id"} <= set(created[0].fields)
    (updated,) = events(session, action="update")
    assert (updated.record_type, updated.household_id, updated.fields) == ("household", world["h1"].id, ["notes"])
    assert all(PHONE_NUMBER not in as_text(e) and "养了一只猫" not in as_text(e) for e in events(session))


def test_withdrawn_consent_records_the_fields_it_erased(client, session, world):
    r = client.patch(f"/api/v1/persons/{world['person'].id}", json={"consent": False}, headers=auth(world["b1"]))
    assert r.status_code == 200, r.get_json()
    (event,) = events(session, action="update")
    assert event.fields == ["birth_year", "consent", "consent_at", "phone"]


def test_a_refused_write_leaves_no_event(client, session, world):
    phone = Phone(client, world["b1"])
    (result,) = results(phone.sync(put("household", world["h2"].id, {"notes": "别人的"})))  # b2's grid
    assert result["status"] == "rejected"
    r = client.patch(f"/api/v1/households/{world['h2'].id}", json={"notes": "别人的"}, headers=auth(world["b1"]))
    assert r.status_code == 403
    assert events(session, action="update") == []


def test_a_sync_batch_redone_the_careful_way_records_each_change_once(client, session, world):
    """A fast batch whose deferred scope check fails is redone in savepoints: its audit events go with it."""
    phone = Phone(client, world["b1"])
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    answers = results(phone.sync(put("person", mine, {"household_id": world["h1"].id, "name": "甲"}),
                                 put("person", theirs, {"household_id": world["h2"].id, "name": "乙"})))
    assert [a["status"] for a in answers] == ["applied", "rejected"]
    assert [e.record_id for e in events(session, action="create")] == [mine]


def test_console_actions_are_recorded_as_the_console_s(client, session, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    r = client.post(f"/console/households/{world['h1'].id}/grid",
                    data={"grid_id": world["g2"].id, "csrf_token": csrf_of(client, "/console/grids")})
    assert r.status_code == 302
    r = client.post(f"/console/butlers/{world['b2'].id}/password",
                    data={"password": "a new password", "csrf_token": csrf_of(client, "/console/butlers")})
    assert r.status_code == 302
    (moved,) = events(session, action="update")
    assert (moved.channel, moved.user_id, moved.record_id, moved.fields) == (
        "console", world["supervisor"].id, world["h1"].id, ["grid_id"])
    (reset,) = events(session, action="reset_password")
    assert (reset.record_type, reset.record_id, reset.fields, reset.community_id) == (
        "user", world["b2"].id, ["password"], world["community"].id)
    assert "a new password" not in as_text(reset)


# ---- reads ----------------------------------------------------------------------------------------

def test_a_first_sync_records_one_read_per_household_file_record_sent(client, session, world):
    phone = Phone(client, world["b1"])
    device_id = device_of(session, phone.headers)
    phone.pull_all()
    reads = events(session, action="read")
    assert sorted((e.record_type, e.record_id) for e in reads) == sorted(
        [("household", world["h1"].id), ("person", world["person"].id)])  # not the visit, not b2's household
    assert {(e.user_id, e.device_id, e.channel, e.household_id, e.community_id) for e in reads} == {
        (world["b1"].id, device_id, "sync", world["h1"].id, world["community"].id)}
    person = next(e for e in reads if e.record_type == "person")
    assert "phone" in person.fields and "name" in person.fields and PHONE_NUMBER not in as_text(person)
    phone.pull_all()
    assert len(events(session, action="read")) == 2  # nothing new sent, nothing new read


def test_a_changed_record_is_read_again_at_the_next_pull(client, session, world):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    r = client.patch(f"/api/v1/households/{world['h1'].id}", json={"notes": "新备注"},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200
    phone.pull_all()
    reads = events(session, action="read", record_id=world["h1"].id)
    assert len(reads) == 2


def test_a_resident_s_read_names_only_what_they_were_sent(client, session, world):
    Phone(client, world["resident"]).pull_all()
    (read,) = events(session, action="read")
    assert (read.user_id, read.record_type, read.record_id) == (world["resident"].id, "household", world["h1"].id)
    assert "notes" not in read.fields and "tags" not in read.fields and "room" in read.fields


def test_a_read_names_only_the_fields_that_held_a_value(client, session, world):
    quiet = make_person(world["h1"], name="赵先生", consent=False, phone=None, birth_year=None)
    client.get(f"/api/v1/persons/{quiet.id}", headers=auth(world["b1"]))
    (read,) = events(session, action="read")
    assert "name" in read.fields and "phone" not in read.fields and "birth_year" not in read.fields


def test_rest_gets_of_households_and_people_record_reads(client, session, world):
    headers = auth(world["supervisor"])
    assert len(client.get("/api/v1/households", headers=headers).get_json()["items"]) == 2
    assert client.get(f"/api/v1/persons/{world['person'].id}", headers=headers).status_code == 200
    reads = events(session, action="read")
    assert sorted((e.record_type, e.record_id) for e in reads) == sorted(
        [("household", world["h1"].id), ("household", world["h2"].id), ("person", world["person"].id)])
    assert {e.channel for e in reads} == {"api"}
    assert {e.community_id for e in reads} == {world["community"].id}


def test_reads_of_other_records_and_refused_reads_are_not_recorded(client, session, world):
    assert client.get("/api/v1/visits", headers=auth(world["b1"])).status_code == 200
    assert client.get(f"/api/v1/households/{world['h2'].id}", headers=auth(world["b1"])).status_code == 403
    assert events(session, action="read") == []


# ---- append-only ----------------------------------------------------------------------------------

def test_nothing_a_phone_sends_can_write_or_delete_audit_rows(client, session, world):
    phone = Phone(client, world["b1"])
    phone.pull_all()  # the trail holds its reads; its later syncs send nothing new to read
    kept = [(e.id, e.action, e.record_id) for e in events(session)]
    assert kept
    headers = auth(world["b1"])
    for mutation in (put("audit_event", str(uuid.uuid4()), {"action": "delete"}),
                     delete("audit_event", str(kept[0][0]), 1)):
        (result,) = results(phone.sync(mutation))
        assert result["status"] == "rejected"
    for method, path in (("post", "/api/v1/audit_events"), ("get", "/api/v1/audit_events"),
                         ("delete", f"/api/v1/audit_events/{kept[0][0]}"),
                         ("patch", f"/api/v1/audit_events/{kept[0][0]}")):
        assert getattr(client, method)(path, json={}, headers=headers).status_code in (404, 405)
    assert [(e.id, e.action, e.record_id) for e in events(session)] == kept


def test_purging_tombstones_keeps_the_audit_trail(client, session, world):
    headers = auth(world["b1"])
    assert client.delete(f"/api/v1/persons/{world['person'].id}", headers=headers).status_code == 204
    before = [(e.id, e.record_id) for e in events(session)]
    purged = purge_tombstones(session, older_than=utcnow() + timedelta(days=1))
    session.commit()
    assert purged["person"] == 1
    assert [(e.id, e.record_id) for e in events(session)] == before


# ---- the console ----------------------------------------------------------------------------------

@pytest.fixture
def trail(client, session, world):
    """A pull by each butler, and a change by b1 to h1's person, so that h1 and b1 each have events."""
    Phone(client, world["b1"]).pull_all()
    Phone(client, world["b2"], "cccccccc-0000-4000-8000-000000000003").pull_all()
    r = client.patch(f"/api/v1/persons/{world['person'].id}", json={"notes": "需要回访"}, headers=auth(world["b1"]))
    assert r.status_code == 200
    return world


def rows(response) -> list[tuple[str, str]]:
    """(action, record id) of each row shown, top to bottom."""
    html = response.get_data(as_text=True)
    return re.findall(r'data-testid="audit-row" data-id="\d+" data-action="(\w+)" data-type="\w+" '
                      r'data-record="([\w-]+)"', html)


def test_the_console_lists_one_household_s_events_newest_first(client, session, trail):
    assert log_in(client, trail["supervisor"].username).status_code == 302
    r = client.get(f"/console/audit?household={trail['h1'].id}")
    assert r.status_code == 200
    shown = rows(r)
    assert shown[0] == ("update", trail["person"].id)  # the newest
    assert sorted(shown[1:]) == sorted([("read", trail["person"].id), ("read", trail["h1"].id)])
    html = r.get_data(as_text=True)
    assert "李管家" in html and '<span class="muted">管家</span>' in html  # who, and in which role
    assert "修改" in html and "备注" in html and "1栋-1单元-301" in html
    assert trail["h2"].id not in html and "需要回访" not in html


def test_the_console_lists_one_user_s_events(client, session, trail):
    assert log_in(client, trail["supervisor"].username).status_code == 302
    r = client.get(f"/console/audit?user={trail['b2'].id}")
    assert rows(r) == [("read", trail["h2"].id)]
    whole = rows(client.get("/console/audit"))
    assert len(whole) == len(events(session, community_id=trail["community"].id)) == 4


def test_the_console_pages_older_events(client, session, trail, monkeypatch):
    from server.audit import service

    monkeypatch.setattr(service, "PAGE", 2)
    assert log_in(client, trail["supervisor"].username).status_code == 302
    first = client.get("/console/audit")
    html = first.get_data(as_text=True)
    assert len(rows(first)) == 2 and 'data-testid="audit-older"' in html
    older = re.search(r'href="([^"]+)" data-testid="audit-older"', html).group(1).replace("&amp;", "&")
    second = client.get(older)
    assert len(rows(second)) == 2 and 'data-testid="audit-older"' not in second.get_data(as_text=True)
    assert not set(rows(first)) & set(rows(second))


def test_the_console_words_fields_in_english_too(client, session, trail):
    assert log_in(client, trail["supervisor"].username).status_code == 302
    html = client.get(f"/console/audit?user={trail['b1'].id}&lang=en").get_data(as_text=True)
    assert "Audit trail" in html and "changed" in html and "household member" in html and "Notes" in html


def test_the_grids_page_and_the_nav_link_to_the_audit_trail(client, session, trail):
    assert log_in(client, trail["supervisor"].username).status_code == 302
    html = client.get("/console/grids").get_data(as_text=True)
    assert 'data-testid="nav-audit"' in html
    assert f'href="/console/audit?household={trail["h1"].id}"' in html


def test_another_community_s_supervisor_sees_none_of_it(client, session, trail):
    assert log_in(client, trail["other_supervisor"].username).status_code == 302
    assert client.get("/console/audit").status_code == 200
    assert rows(client.get("/console/audit")) == []
    assert client.get(f"/console/audit?household={trail['h1'].id}").status_code == 404
    assert client.get(f"/console/audit?user={trail['b1'].id}").status_code == 404


def test_an_admin_chooses_the_community(client, session, trail):
    admin = make_user("admin")
    assert log_in(client, admin.username).status_code == 302
    assert rows(client.get(f"/console/audit?community={trail['other'].id}")) == []
    assert len(rows(client.get(f"/console/audit?community={trail['community'].id}"))) == 4


@pytest.mark.parametrize("role", ["butler", "resident"])
def test_butlers_and_residents_are_refused_the_audit_page(client, session, trail, role):
    user = trail["b1"] if role == "butler" else trail["resident"]
    with client.session_transaction() as stored:
        stored[TOKEN_KEY] = token_for(user)
    r = client.get(f"/console/audit?household={trail['h1'].id}")
    assert r.status_code == 403
    assert "1栋-1单元-301" not in r.get_data(as_text=True)


def test_moving_a_resident_is_audited_by_whom_and_what_without_values(client, session):
    community = make_community()
    supervisor = make_user("supervisor", community_id=community.id)
    old, new = make_household(community), make_household(community)
    resident = make_user("resident", community_id=community.id, household_id=old.id)
    r = client.put(f"/api/v1/users/{resident.id}/household", json={"household_id": new.id}, headers=auth(supervisor))
    assert r.status_code == 200
    (event,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.record_id == resident.id)).all()
    assert (event.user_id, event.action, event.record_type, event.fields, event.channel) == (
        supervisor.id, "update", "user", ["household_id"], "api")
