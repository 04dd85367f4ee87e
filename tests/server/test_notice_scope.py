"""Per-building notices are scoped on the server, on SQLite and PostgreSQL: a resident reads their
community's notices for every building and those for their household's building, by REST and by
the sync pull; butlers, supervisors and technicians read the whole community's. A resident who may
no longer read a notice (retargeted, their household moved to another building, they moved house)
is sent `evict` for it at their next pull, and whoever gains one pulls it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from server.notices.models import Notice
from tests.factories import (_save, auth, make_community, make_grid, make_household, make_team, make_technician,
                             make_user)
from tests.support.phone import Phone


def make_notice(community, **overrides) -> Notice:
    values = {"community_id": community.id, "title": "停水通知", "body": "明天上午停水。",
              "published_at": datetime(2026, 11, 26, 1, tzinfo=timezone.utc), **overrides}
    return _save(Notice(**values))


@pytest.fixture
def estate(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    grid = make_grid(community, butler)
    home1 = make_household(community, grid, building="1栋")
    home2 = make_household(community, grid, building="2栋")
    return {
        "community": community, "butler": butler, "home1": home1, "home2": home2,
        "r1": make_user("resident", community_id=community.id, household_id=home1.id),
        "r2": make_user("resident", community_id=community.id, household_id=home2.id),
        "supervisor": make_user("supervisor", community_id=community.id),
        "tech": make_technician(make_team(community)),
        "all": make_notice(community, title="全小区停电", building=""),
        "b1": make_notice(community, title="1栋电梯检修", building="1栋"),
        "b2": make_notice(community, title="2栋消杀", building="2栋"),
    }


def listed(client, user) -> set[str]:
    r = client.get("/api/v1/notices", headers=auth(user))
    assert r.status_code == 200, r.get_json()
    return {n["id"] for n in r.get_json()["items"]}


def pulled(changes, op="put") -> set[str]:
    return {c["id"] for c in changes if c["type"] == "notice" and c["op"] == op}


def retarget(client, estate, notice, building):
    r = client.patch(f"/api/v1/notices/{notice.id}", json={"building": building}, headers=auth(estate["supervisor"]))
    assert r.status_code == 200, r.get_json()


def test_a_resident_reads_by_rest_the_community_s_and_their_building_s_notices_only(client, estate):
    assert listed(client, estate["r1"]) == {estate["all"].id, estate["b1"].id}
    assert listed(client, estate["r2"]) == {estate["all"].id, estate["b2"].id}
    assert client.get(f"/api/v1/notices/{estate['b2'].id}", headers=auth(estate["r1"])).status_code == 403
    assert client.get(f"/api/v1/notices/{estate['b1'].id}", headers=auth(estate["r1"])).status_code == 200


@pytest.mark.parametrize("who", ["butler", "supervisor", "tech"])
def test_staff_read_every_notice_of_the_community(client, estate, who):
    every = {estate[name].id for name in ("all", "b1", "b2")}
    assert listed(client, estate[who]) == every
    assert pulled(Phone(client, estate[who]).pull_all()) == every


def test_a_resident_s_pull_carries_only_their_building_s_and_the_community_s(client, estate):
    assert pulled(Phone(client, estate["r1"]).pull_all()) == {estate["all"].id, estate["b1"].id}


def test_a_resident_who_moved_out_reads_no_notice(client, estate, session):
    lone = make_user("resident", community_id=estate["community"].id, household_id=None)
    assert listed(client, lone) == set()


def test_a_notice_retargeted_to_another_building_is_evicted_from_the_old_building_s_phones(client, estate):
    p1, p2 = Phone(client, estate["r1"]), Phone(client, estate["r2"])
    assert estate["b1"].id in pulled(p1.pull_all())
    p2.pull_all()
    retarget(client, estate, estate["b1"], "2栋")
    first = p1.pull_all()
    assert pulled(first, "evict") == {estate["b1"].id} and estate["b1"].id not in pulled(first)
    assert estate["b1"].id in pulled(p2.pull_all())  # gained by the new building
    assert listed(client, estate["r1"]) == {estate["all"].id}
    assert pulled(p1.pull_all(), "evict") == set()  # told once


def test_a_notice_widened_to_the_whole_community_reaches_everyone_and_evicts_nobody(client, estate):
    p1, p2 = Phone(client, estate["r1"]), Phone(client, estate["r2"])
    p1.pull_all(), p2.pull_all()
    retarget(client, estate, estate["b1"], "")
    assert pulled(p1.pull_all(), "evict") == set()
    assert estate["b1"].id in pulled(p2.pull_all())


def test_a_notice_narrowed_to_one_building_leaves_the_other_buildings_phones_not_the_butler_s(client, estate):
    p2, butler = Phone(client, estate["r2"]), Phone(client, estate["butler"])
    p2.pull_all(), butler.pull_all()
    retarget(client, estate, estate["all"], "1栋")
    assert pulled(p2.pull_all(), "evict") == {estate["all"].id}
    changes = butler.pull_all()
    assert pulled(changes, "evict") == set() and estate["all"].id in pulled(changes)


def test_a_household_moved_to_another_building_takes_its_residents_notices_along(client, estate):
    p1 = Phone(client, estate["r1"])
    p1.pull_all()
    r = client.patch(f"/api/v1/households/{estate['home1'].id}", json={"building": "2栋"},
                     headers=auth(estate["supervisor"]))
    assert r.status_code == 200, r.get_json()
    changes = p1.pull_all()
    assert pulled(changes, "evict") == {estate["b1"].id}
    assert estate["b2"].id in pulled(changes)


def test_a_resident_who_moves_house_loses_the_old_building_s_notices(client, estate):
    p1 = Phone(client, estate["r1"])
    p1.pull_all()
    r = client.put(f"/api/v1/users/{estate['r1'].id}/household", json={"household_id": estate["home2"].id},
                   headers=auth(estate["supervisor"]))
    assert r.status_code == 200, r.get_json()
    changes = p1.pull_all()
    assert estate["b1"].id in pulled(changes, "evict") and estate["b2"].id in pulled(changes)
    assert estate["all"].id not in pulled(changes, "evict")
