"""The home-visit checklist template: phones read it, supervisors change it."""
from __future__ import annotations

from server.visits.models import DEFAULT_CHECKLIST
from tests.factories import auth, make_community, make_user

ITEMS = [{"key": "utilities", "zh": "水电气", "en": "Utilities"}, {"key": "pets", "zh": "宠物", "en": "Pets"}]


def test_a_community_without_its_own_checklist_gets_the_default(client, session):
    butler = make_user("butler", community_id=make_community().id)
    r = client.get("/api/v1/visit-template", headers=auth(butler))
    assert r.status_code == 200
    assert [i["key"] for i in r.get_json()["items"]] == [i["key"] for i in DEFAULT_CHECKLIST]
    assert r.get_json()["version"] == 0


def test_a_supervisor_s_checklist_is_what_the_butlers_read(client, session):
    community = make_community()
    supervisor, butler = make_user("supervisor", community_id=community.id), make_user("butler", community_id=community.id)
    r = client.put("/api/v1/visit-template", json={"items": ITEMS}, headers=auth(supervisor))
    assert r.status_code == 200 and r.get_json()["version"] == 1
    assert client.get("/api/v1/visit-template", headers=auth(butler)).get_json()["items"] == ITEMS


def test_another_community_keeps_its_own_checklist(client, session):
    supervisor = make_user("supervisor", community_id=make_community().id)
    other = make_user("butler", community_id=make_community().id)
    client.put("/api/v1/visit-template", json={"items": ITEMS}, headers=auth(supervisor))
    assert client.get("/api/v1/visit-template", headers=auth(other)).get_json()["version"] == 0


def test_a_butler_cannot_change_the_checklist(client, session):
    butler = make_user("butler", community_id=make_community().id)
    assert client.put("/api/v1/visit-template", json={"items": ITEMS}, headers=auth(butler)).status_code == 403


def test_two_items_with_one_key_are_refused_in_chinese(client, session):
    supervisor = make_user("supervisor", community_id=make_community().id)
    r = client.put("/api/v1/visit-template", json={"items": ITEMS + [ITEMS[0]]}, headers=auth(supervisor))
    assert r.status_code == 422
    assert r.get_json()["details"]["errors"][0] == {"field": "items", "code": "duplicate", "message": "检查项已存在。"}


def test_an_empty_checklist_is_refused_and_changes_nothing(client, session):
    supervisor = make_user("supervisor", community_id=make_community().id)
    r = client.put("/api/v1/visit-template", json={"items": []}, headers=auth(supervisor))
    assert r.status_code == 422
    assert client.get("/api/v1/visit-template", headers=auth(supervisor)).get_json()["version"] == 0
