"""The generic record API: client-chosen ids, versions, tombstones, paging and domain rules."""
from __future__ import annotations

import uuid

import pytest

from server.community.models import Household, Person
from tests.factories import (auth, complete_visit, make_community, make_grid, make_household, make_person, make_user)


@pytest.fixture
def grid(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    grid = make_grid(community, butler)
    return {"community": community, "butler": butler, "supervisor": supervisor, "grid": grid,
            "household": make_household(community, grid)}


def codes(response):
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def test_a_client_may_choose_the_id_of_a_new_record(client, grid):
    chosen = str(uuid.uuid4())
    r = client.post("/api/v1/persons", json={"id": chosen, "household_id": grid["household"].id, "name": "王芳"},
                    headers=auth(grid["butler"]))
    assert r.status_code == 201
    assert r.get_json()["id"] == chosen
    assert r.get_json()["version"] == 1


def test_an_id_that_is_not_a_uuid_is_refused(client, grid):
    r = client.post("/api/v1/persons", json={"id": "1; drop table", "household_id": grid["household"].id,
                                             "name": "王芳"}, headers=auth(grid["butler"]))
    assert r.status_code == 422
    assert codes(r) == [("id", "invalid_type")]


def test_creating_the_same_id_twice_is_a_conflict(client, grid, session):
    chosen = str(uuid.uuid4())
    body = {"id": chosen, "household_id": grid["household"].id, "name": "王芳"}
    headers = auth(grid["butler"])
    assert client.post("/api/v1/persons", json=body, headers=headers).status_code == 201
    r = client.post("/api/v1/persons", json={**body, "name": "李四"}, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"] == "already_exists"
    session.expire_all()
    assert session.get(Person, chosen).name == "王芳"


def test_every_change_bumps_the_version(client, grid):
    headers = auth(grid["butler"])
    hid = grid["household"].id
    first = client.patch(f"/api/v1/households/{hid}", json={"notes": "一"}, headers=headers).get_json()
    second = client.patch(f"/api/v1/households/{hid}", json={"notes": "二"}, headers=headers).get_json()
    assert second["version"] == first["version"] + 1


def test_a_change_based_on_an_old_version_is_refused(client, grid, session):
    headers = auth(grid["butler"])
    hid = grid["household"].id
    client.patch(f"/api/v1/households/{hid}", json={"notes": "管家甲"}, headers=headers)
    r = client.patch(f"/api/v1/households/{hid}", json={"notes": "管家乙", "version": 1}, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"] == "stale_version"
    assert r.get_json()["details"]["current_version"] == 2
    session.expire_all()
    assert session.get(Household, hid).notes == "管家甲"


def test_deleting_leaves_a_tombstone(client, grid, session):
    person = make_person(grid["household"])
    headers = auth(grid["butler"])
    assert client.delete(f"/api/v1/persons/{person.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/persons/{person.id}", headers=headers).status_code == 404
    session.expire_all()
    stone = session.get(Person, person.id)
    assert (stone.deleted, stone.version) == (True, 2)


def test_lists_are_paged_by_id(client, grid):
    for _ in range(5):
        make_person(grid["household"])
    headers = auth(grid["butler"])
    first = client.get("/api/v1/persons?limit=3", headers=headers).get_json()
    rest = client.get(f"/api/v1/persons?limit=3&after={first['next']}", headers=headers).get_json()
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert len(ids) == 5 == len(set(ids))
    assert ids == sorted(ids)
    assert rest["next"] is None


def test_lists_filter_by_field(client, grid):
    other = make_household(grid["community"], grid["grid"])
    make_person(grid["household"], name="甲")
    make_person(other, name="乙")
    r = client.get(f"/api/v1/persons?household_id={other.id}", headers=auth(grid["butler"]))
    assert [p["name"] for p in r.get_json()["items"]] == ["乙"]


def test_an_unknown_filter_is_a_validation_error(client, grid):
    r = client.get("/api/v1/persons?phone=138", headers=auth(grid["butler"]))
    assert r.status_code == 422
    assert codes(r) == [("phone", "unknown_field")]


def test_a_phone_number_needs_the_person_s_consent(client, grid, session):
    r = client.post("/api/v1/persons", json={"household_id": grid["household"].id, "name": "王芳",
                                             "phone": "13800138000"}, headers=auth(grid["butler"]))
    assert r.status_code == 422
    assert codes(r) == [("phone", "consent_required")]
    assert session.query(Person).count() == 0


def test_withdrawing_consent_erases_phone_and_birth_year(client, grid, session):
    person = make_person(grid["household"], birth_year=1950)
    r = client.patch(f"/api/v1/persons/{person.id}", json={"consent": False}, headers=auth(grid["butler"]))
    assert r.status_code == 200
    body = r.get_json()
    assert (body["phone"], body["birth_year"], body["consent"]) == (None, None, False)


def test_giving_consent_records_when(client, grid):
    r = client.post("/api/v1/persons", json={"household_id": grid["household"].id, "name": "王芳",
                                             "consent": True, "phone": "13800138000"},
                    headers=auth(grid["butler"]))
    assert r.status_code == 201
    assert r.get_json()["consent_at"] is not None


def test_a_record_pointing_at_nothing_is_refused(client, grid):
    r = client.post("/api/v1/persons", json={"household_id": str(uuid.uuid4()), "name": "王芳"},
                    headers=auth(grid["butler"]))
    assert r.status_code == 422
    assert codes(r) == [("household_id", "not_found")]


def test_a_visit_may_name_only_catalogue_products(client, grid):
    body = {"household_id": grid["household"].id, "visited_at": "2026-11-27T09:15:02+08:00",
            "products_interest": ["water", "caviar"]}
    r = client.post("/api/v1/visits", json=body, headers=auth(grid["butler"]))
    assert r.status_code == 422
    assert codes(r) == [("products_interest", "not_found")]


def test_a_visit_keeps_its_checklist_and_local_time(client, grid):
    body = complete_visit({"household_id": grid["household"].id, "visited_at": "2026-11-27T09:15:02+08:00",
                           "kind": "routine", "checklist": {"水电燃气": {"ok": False, "note": "燃气表漏气"}},
                           "needs": ["桶装水"], "satisfaction": 4, "products_interest": ["water"],
                           "follow_up_at": "2026-12-04"})
    r = client.post("/api/v1/visits", json=body, headers=auth(grid["butler"]))
    assert r.status_code == 201
    visit = r.get_json()
    assert visit["butler_id"] == grid["butler"].id
    assert visit["visited_at"] == "2026-11-27T01:15:02+00:00"
    assert visit["checklist"] == body["checklist"] and visit["checklist"]["水电燃气"] == {"ok": False, "note": "燃气表漏气"}
    assert visit["follow_up_at"] == "2026-12-04"


def test_a_time_without_an_offset_is_refused(client, grid):
    body = {"household_id": grid["household"].id, "visited_at": "2026-11-27T09:15:02"}
    r = client.post("/api/v1/visits", json=body, headers=auth(grid["butler"]))
    assert r.status_code == 422
    assert codes(r) == [("visited_at", "invalid_type")]


def test_a_grid_s_butler_must_work_in_its_community(client, grid):
    stranger = make_user("butler", community_id=make_community().id)
    r = client.patch(f"/api/v1/grids/{grid['grid'].id}", json={"butler_id": stranger.id},
                     headers=auth(grid["supervisor"]))
    assert r.status_code == 422
    assert codes(r) == [("butler_id", "invalid")]


def test_a_supervisor_creates_a_household_in_their_community(client, grid):
    r = client.post("/api/v1/households", json={"grid_id": grid["grid"].id, "building": "7栋", "room": "301"},
                    headers=auth(grid["supervisor"]))
    assert r.status_code == 201
    assert r.get_json()["community_id"] == grid["community"].id


def test_two_households_at_one_address_are_refused(client, grid):
    body = {"building": "7栋", "unit": "1单元", "room": "301"}
    headers = auth(grid["supervisor"])
    assert client.post("/api/v1/households", json=body, headers=headers).status_code == 201
    r = client.post("/api/v1/households", json=body, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"] == "already_exists"
