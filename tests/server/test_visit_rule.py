"""A new visit records the home: every checklist item answered and a satisfaction given or explicitly
未评价, on the server as in the phone's form (docs/sync-protocol.md §5.4). A visit that records nothing
would count toward coverage (上次走访)."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.records import utcnow
from server.visits.models import DEFAULT_CHECKLIST, ChecklistTemplate, Visit
from tests.factories import (auth, complete_visit, make_community, make_grid, make_household, make_user,
                             make_visit)
from tests.support.phone import Phone, ids, put, results

AT = "2026-11-27T09:15:02+08:00"
EVERY_ITEM = {f"checklist.{item['key']}" for item in DEFAULT_CHECKLIST}


@pytest.fixture
def world(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    return {"community": community, "butler": butler, "supervisor": supervisor, "household": household}


def new_visit(world, **fields) -> dict:
    return {"household_id": world["household"].id, "visited_at": AT, **fields}


def refused(result) -> dict[str, str]:
    assert result["status"] == "rejected", result
    assert all(e["message"] for e in result["errors"])
    return {e["field"]: e["code"] for e in result["errors"]}


def visits_of(household) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.household_id == household.id))


def test_an_empty_visit_is_rejected_naming_every_item_and_satisfaction_and_nothing_is_stored(client, world):
    vid = str(uuid.uuid4())
    phone = Phone(client, world["butler"])
    (result,) = results(phone.sync(put("visit", vid, new_visit(world))))
    assert refused(result) == {**{field: "required" for field in EVERY_ITEM}, "satisfaction": "required"}
    assert next(e for e in result["errors"] if e["field"] == "satisfaction")["message"] == "满意度为必填项。"
    assert db.session.get(Visit, vid) is None and visits_of(world["household"]) == 0  # coverage unchanged
    assert vid not in ids(Phone(client, world["supervisor"]).pull_all(), rtype="visit")  # no change to pull


def test_the_refusal_speaks_the_user_s_language(client, world):
    (result,) = results(Phone(client, world["butler"], language="en").sync(put("visit", str(uuid.uuid4()),
                                                                             new_visit(world))))
    assert next(e for e in result["errors"] if e["field"] == "satisfaction")["message"] == "Satisfaction is required."


def test_each_item_left_unanswered_is_named(client, world):
    checklist = complete_visit()["checklist"]
    del checklist["leaks"], checklist["drains"]
    (result,) = results(Phone(client, world["butler"]).sync(
        put("visit", str(uuid.uuid4()), new_visit(world, checklist=checklist, satisfaction=4))))
    assert refused(result) == {"checklist.leaks": "required", "checklist.drains": "required"}


@pytest.mark.parametrize("rating", [{"satisfaction": 4}, {"satisfaction": None}, {}],
                         ids=["rated", "unrated-null", "unrated-as-the-app-sends-it"])
def test_a_visit_with_every_item_answered_and_a_rating_or_unrated_is_applied(client, world, rating):
    vid = str(uuid.uuid4())
    fields = {**complete_visit(new_visit(world, checklist={"leaks": {"ok": False, "note": "厨房水槽下渗水"}})), **rating}
    if not rating:
        del fields["satisfaction"]
    (result,) = results(Phone(client, world["butler"]).sync(put("visit", vid, fields)))
    assert (result["status"], result["version"]) == ("applied", 1), result
    stored = db.session.get(Visit, vid)
    assert stored.satisfaction == rating.get("satisfaction") and stored.checklist["leaks"]["ok"] is False


def test_a_rest_create_follows_the_same_rule(client, world):
    r = client.post("/api/v1/visits", json=new_visit(world, notes="走过场"), headers=auth(world["butler"]))
    assert r.status_code == 422 and r.get_json()["error"] == "validation_failed"
    errors = {e["field"]: e["code"] for e in r.get_json()["details"]["errors"]}
    assert errors == {**{field: "required" for field in EVERY_ITEM}, "satisfaction": "required"}
    assert visits_of(world["household"]) == 0
    r = client.post("/api/v1/visits", json=complete_visit(new_visit(world)), headers=auth(world["butler"]))
    assert r.status_code == 201


def test_in_a_batch_only_the_empty_visit_is_rejected(client, world):
    empty, done, later = (str(uuid.uuid4()) for _ in range(3))
    answer = results(Phone(client, world["butler"]).sync(
        put("visit", done, complete_visit(new_visit(world))),
        put("visit", empty, new_visit(world, notes="只写了备注")),
        put("visit", later, complete_visit(new_visit(world, satisfaction=5)))))
    assert [r["status"] for r in answer] == ["applied", "rejected", "applied"]
    assert db.session.get(Visit, empty) is None and visits_of(world["household"]) == 2


def test_a_visit_stored_before_the_rule_still_takes_changes(client, world):
    old = make_visit(world["household"], world["butler"], checklist={}, satisfaction=None)
    (result,) = results(Phone(client, world["butler"]).sync(put("visit", old.id, {"notes": "补记：水压正常"}, base=1)))
    assert (result["status"], result["version"]) == ("applied", 2), result
    db.session.expire_all()
    assert db.session.get(Visit, old.id).notes == "补记：水压正常"


def set_template(world, keys, changed_days_ago: int) -> None:
    db.session.add(ChecklistTemplate(community_id=world["community"].id, version=2,
                                     items=[{"key": k, "zh": k, "en": k} for k in keys],
                                     updated_at=utcnow() - timedelta(days=changed_days_ago)))
    db.session.commit()


def test_the_community_s_own_checklist_is_the_one_required(client, world):
    set_template(world, ["gas", "windows"], changed_days_ago=30)
    phone = Phone(client, world["butler"])
    (result,) = results(phone.sync(put("visit", str(uuid.uuid4()), complete_visit(new_visit(world), keys=["gas"]))))
    assert refused(result) == {"checklist.windows": "required"}
    (result,) = results(phone.sync(put("visit", str(uuid.uuid4()),
                                       complete_visit(new_visit(world), keys=["gas", "windows"]))))
    assert result["status"] == "applied", result


def test_a_phone_may_still_hold_the_checklist_from_before_a_recent_change(client, world):
    set_template(world, ["gas", "windows", "balcony"], changed_days_ago=1)
    phone = Phone(client, world["butler"])
    made_with_the_old_one = complete_visit(new_visit(world, visited_at=utcnow().isoformat()), keys=["gas", "doors"])
    (result,) = results(phone.sync(put("visit", str(uuid.uuid4()), made_with_the_old_one)))
    assert result["status"] == "applied", result
    (result,) = results(phone.sync(put("visit", str(uuid.uuid4()), new_visit(world, visited_at=utcnow().isoformat()))))
    assert refused(result) == {"checklist.gas": "required", "checklist.windows": "required",
                               "checklist.balcony": "required", "satisfaction": "required"}


def test_an_edit_cannot_take_back_an_answer_but_may_change_one(client, world):
    vid = str(uuid.uuid4())
    phone = Phone(client, world["butler"])
    visit = complete_visit(new_visit(world))
    (result,) = results(phone.sync(put("visit", vid, visit)))
    assert result["status"] == "applied", result
    fewer = {key: answer for key, answer in visit["checklist"].items() if key != "leaks"}
    (result,) = results(phone.sync(put("visit", vid, {"checklist": {}}, base=1)))
    assert refused(result) == {field: "required" for field in EVERY_ITEM}
    (result,) = results(phone.sync(put("visit", vid, {"checklist": fewer}, base=1)))
    assert refused(result) == {"checklist.leaks": "required"}
    db.session.expire_all()
    assert db.session.get(Visit, vid).checklist == visit["checklist"] and db.session.get(Visit, vid).version == 1
    changed = {**visit["checklist"], "leaks": {"ok": False, "note": "卫生间渗水"}}
    (result,) = results(phone.sync(put("visit", vid, {"checklist": changed}, base=1)))
    assert (result["status"], result["version"]) == ("applied", 2), result


def test_a_rest_edit_follows_the_same_rule(client, world):
    r = client.post("/api/v1/visits", json=complete_visit(new_visit(world)), headers=auth(world["butler"]))
    assert r.status_code == 201
    visit = r.get_json()
    r = client.patch(f"/api/v1/visits/{visit['id']}", json={"checklist": {}, "version": visit["version"]},
                     headers=auth(world["butler"]))
    assert r.status_code == 422, r.get_json()
    assert {e["field"] for e in r.get_json()["details"]["errors"]} == EVERY_ITEM


def test_a_visit_stored_before_the_rule_may_keep_its_items_unanswered(client, world):
    old = make_visit(world["household"], world["butler"], checklist={"leaks": {"ok": True, "note": ""}}, satisfaction=None)
    (result,) = results(Phone(client, world["butler"]).sync(
        put("visit", old.id, {"checklist": {"leaks": {"ok": False, "note": "卫生间渗水"}}}, base=1)))
    assert (result["status"], result["version"]) == ("applied", 2), result
