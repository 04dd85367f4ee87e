"""Community notices (公告): supervisors write their community's; its butlers and residents read them,
through REST and through the sync pull. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from server.notices.models import Notice
from tests.factories import _save, auth, make_community, make_grid, make_household, make_user

PHONE = "cccccccc-0000-4000-8000-000000000003"


def make_notice(community, **overrides) -> Notice:
    return _save(Notice(**{"community_id": community.id, "title": "停水通知", "body": "明天上午停水。",
                           "published_at": datetime(2026, 11, 26, 1, tzinfo=timezone.utc), **overrides}))


@pytest.fixture
def world(session):
    """Two communities, each with a butler's grid, a household with its resident, and a supervisor."""
    out = {}
    for name in ("A", "B"):
        community = make_community()
        butler = make_user("butler", community_id=community.id)
        household = make_household(community, make_grid(community, butler))
        out[name] = {
            "community": community, "butler": butler, "household": household,
            "resident": make_user("resident", community_id=community.id, household_id=household.id),
            "supervisor": make_user("supervisor", community_id=community.id),
        }
    out["A"]["notice"] = make_notice(out["A"]["community"])
    out["B"]["notice"] = make_notice(out["B"]["community"], title="消杀通知")
    out["admin"] = make_user("admin")
    return out


def listed(client, user) -> set[str]:
    r = client.get("/api/v1/notices", headers=auth(user))
    assert r.status_code == 200, r.get_json()
    return {n["id"] for n in r.get_json()["items"]}


def codes(response) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def sync(client, user, *mutations, cursor=None):
    body = {"client_id": PHONE, "schema": 1, "cursor": cursor, "mutations": list(mutations)}
    r = client.post("/api/v1/sync", data=json.dumps(body),
                    headers={**auth(user), "Content-Type": "application/json"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def put(rid, fields):
    return {"mid": str(uuid.uuid4()), "type": "notice", "id": rid, "op": "put", "base": None,
            "fields": fields, "at": "2026-11-27T09:15:02+08:00"}


# ---- reading ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["resident", "butler", "supervisor"])
def test_each_role_reads_the_notices_of_its_own_community_only(client, world, role):
    assert listed(client, world["A"][role]) == {world["A"]["notice"].id}
    assert listed(client, world["B"][role]) == {world["B"]["notice"].id}


def test_a_resident_of_another_community_cannot_read_a_notice(client, world):
    r = client.get(f"/api/v1/notices/{world['A']['notice'].id}", headers=auth(world["B"]["resident"]))
    assert r.status_code == 403
    r = client.get(f"/api/v1/notices/{world['A']['notice'].id}", headers=auth(world["A"]["resident"]))
    assert r.status_code == 200
    assert r.get_json()["title"] == "停水通知"


def test_a_resident_who_moved_out_reads_no_notices(client, world, session):
    world["A"]["resident"].household_id = None
    session.commit()
    assert listed(client, world["A"]["resident"]) == set()


def test_a_butler_reads_the_notices_of_the_community_of_their_grid(client, world, session):
    butler = make_user("butler")  # works for no community on record, holds a grid in B
    make_grid(world["B"]["community"], butler)
    assert listed(client, butler) == {world["B"]["notice"].id}


def test_an_admin_reads_every_notice(client, world):
    assert listed(client, world["admin"]) == {world["A"]["notice"].id, world["B"]["notice"].id}


# ---- writing ----------------------------------------------------------------------------------

def test_a_supervisor_publishes_a_notice_in_their_community(client, world, session):
    r = client.post("/api/v1/notices", json={"title": " 电梯维保 ", "body": "3栋电梯周三上午维保。"},
                    headers=auth(world["A"]["supervisor"]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["community_id"] == world["A"]["community"].id  # their own, when left out
    assert body["title"] == "电梯维保"
    assert body["published_at"]  # now, when left out
    assert body["id"] in listed(client, world["A"]["resident"])
    assert body["id"] not in listed(client, world["B"]["resident"])


def test_a_supervisor_edits_and_deletes_their_communitys_notice(client, world, session):
    nid = world["A"]["notice"].id
    r = client.patch(f"/api/v1/notices/{nid}", json={"title": "停水通知（更新）", "body": "改为下午停水。"},
                     headers=auth(world["A"]["supervisor"]))
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["title"], r.get_json()["version"]) == ("停水通知（更新）", 2)
    assert client.delete(f"/api/v1/notices/{nid}", headers=auth(world["A"]["supervisor"])).status_code in (200, 204)
    assert listed(client, world["A"]["resident"]) == set()


def test_a_supervisor_cannot_write_another_communitys_notices(client, world):
    sup_b, notice_a = world["B"]["supervisor"], world["A"]["notice"].id
    r = client.post("/api/v1/notices", json={"community_id": world["A"]["community"].id, "title": "冒名公告"},
                    headers=auth(sup_b))
    assert r.status_code == 403
    assert ("community_id", "out_of_scope") in codes(r)
    assert client.patch(f"/api/v1/notices/{notice_a}", json={"title": "改"}, headers=auth(sup_b)).status_code == 403
    assert client.delete(f"/api/v1/notices/{notice_a}", headers=auth(sup_b)).status_code == 403


@pytest.mark.parametrize("role", ["resident", "butler"])
def test_residents_and_butlers_cannot_write_notices(client, world, session, role):
    user, nid = world["A"][role], world["A"]["notice"].id
    r = client.post("/api/v1/notices", json={"community_id": world["A"]["community"].id, "title": "我的公告"},
                    headers=auth(user))
    assert r.status_code == 403
    assert client.patch(f"/api/v1/notices/{nid}", json={"title": "改"}, headers=auth(user)).status_code == 403
    assert client.delete(f"/api/v1/notices/{nid}", headers=auth(user)).status_code == 403
    session.expire_all()
    notice = session.get(Notice, nid)
    assert (notice.title, notice.deleted, notice.version) == ("停水通知", False, 1)


def test_a_notice_needs_a_title_and_keeps_to_its_limits(client, world):
    headers = auth(world["A"]["supervisor"])
    assert ("title", "required") in codes(client.post("/api/v1/notices", json={"body": "无标题"}, headers=headers))
    assert ("title", "required") in codes(client.post("/api/v1/notices", json={"title": "   "}, headers=headers))
    assert ("title", "too_long") in codes(client.post("/api/v1/notices", json={"title": "通" * 101}, headers=headers))
    assert ("body", "too_long") in codes(client.post("/api/v1/notices", json={"title": "长", "body": "字" * 4001},
                                                     headers=headers))
    naive = client.post("/api/v1/notices", json={"title": "时间", "published_at": "2026-11-27T09:00:00"},
                        headers=headers)
    assert naive.status_code == 422  # an aware time only


def test_a_notice_stays_in_its_community(client, world):
    r = client.patch(f"/api/v1/notices/{world['A']['notice'].id}",
                     json={"community_id": world["B"]["community"].id}, headers=auth(world["admin"]))
    assert r.status_code == 403
    assert ("community_id", "not_writable") in codes(r)


# ---- sync -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["resident", "butler"])
def test_the_sync_pull_carries_the_communitys_notices_and_only_those(client, world, role):
    changes = sync(client, world["A"][role])["changes"]
    notices = [c for c in changes if c["type"] == "notice"]
    assert [(c["id"], c["op"]) for c in notices] == [(world["A"]["notice"].id, "put")]
    assert notices[0]["data"]["title"] == "停水通知"
    assert notices[0]["data"]["body"] == "明天上午停水。"
    assert notices[0]["data"]["published_at"].startswith("2026-11-26T01:00:00")


def test_a_new_edited_or_deleted_notice_reaches_the_residents_next_pull(client, world):
    resident, supervisor = world["A"]["resident"], world["A"]["supervisor"]
    cursor = sync(client, resident)["cursor"]
    created = client.post("/api/v1/notices", json={"title": "社区活动", "body": "周六包饺子。"},
                          headers=auth(supervisor)).get_json()
    client.patch(f"/api/v1/notices/{world['A']['notice'].id}", json={"body": "改为后天停水。"},
                 headers=auth(supervisor))
    answer = sync(client, resident, cursor=cursor)
    puts = {c["id"]: c["data"] for c in answer["changes"] if c["type"] == "notice" and c["op"] == "put"}
    assert set(puts) == {created["id"], world["A"]["notice"].id}
    assert puts[world["A"]["notice"].id]["body"] == "改为后天停水。"
    client.delete(f"/api/v1/notices/{created['id']}", headers=auth(supervisor))
    gone = sync(client, resident, cursor=answer["cursor"])["changes"]
    assert [(c["type"], c["id"], c["op"]) for c in gone] == [("notice", created["id"], "delete")]
    other = sync(client, world["B"]["resident"])["changes"]
    assert created["id"] not in {c["id"] for c in other}


def test_a_resident_cannot_write_a_notice_through_sync(client, world, session):
    rid = str(uuid.uuid4())
    answer = sync(client, world["A"]["resident"], put(rid, {"title": "伪造公告"}))
    assert answer["results"][0]["status"] == "rejected"
    assert session.get(Notice, rid) is None


def test_a_supervisor_publishes_through_sync(client, world, session):
    rid = str(uuid.uuid4())
    answer = sync(client, world["A"]["supervisor"], put(rid, {"title": "停车场清洗", "body": "周日清洗地库。"}))
    assert answer["results"][0]["status"] == "applied", answer["results"]
    session.expire_all()
    assert session.get(Notice, rid).community_id == world["A"]["community"].id
    assert rid in {c["id"] for c in sync(client, world["A"]["resident"])["changes"]}
