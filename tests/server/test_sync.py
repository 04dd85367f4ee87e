"""The sync contract (docs/sync-contract.md) over HTTP, on SQLite and PostgreSQL, as the app keeps it:
its scopes, roles, grids and residents. The promises every store keeps are in tests/contract."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server import create_app
from server.extensions import db
from server.records import utcnow
from server.syncing.changes import high_water, purge_tombstones
from server.syncing.models import SyncConflict
from server.visits.models import Visit
from tests.support.app import base_config, statements_sent
from tests.support.app import database_url_and_walks as database_url  # noqa: F401 - also walking households
from tests.factories import (auth, complete_visit, make_community, make_grid, make_household, make_person, make_ticket,
                             make_user, make_visit)
from tests.support.phone import PHONE_A, PHONE_B, Phone, delete, ids, put, results



@pytest.fixture
def world(session):
    community = make_community()
    b1 = make_user("butler", community_id=community.id)
    b2 = make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    g1, g2 = make_grid(community, b1), make_grid(community, b2)
    h1, h2 = make_household(community, g1), make_household(community, g2)
    resident = make_user("resident", community_id=community.id, household_id=h1.id)
    return {"community": community, "b1": b1, "b2": b2, "supervisor": supervisor, "g1": g1, "g2": g2,
            "h1": h1, "h2": h2, "resident": resident, "person": make_person(h1), "visit": make_visit(h1, b1)}


# ---- pull and scope ---------------------------------------------------------------------------

def test_a_first_sync_sends_the_butler_s_grid_and_nothing_else(client, world):
    changes = Phone(client, world["b1"]).pull_all()
    assert ids(changes, rtype="household") == {world["h1"].id}
    assert ids(changes, rtype="person") == {world["person"].id}
    assert ids(changes, rtype="visit") == {world["visit"].id}
    assert ids(changes, rtype="product") == {"water", "move_in", "cleaning", "repair", "custody"}


def test_a_resident_gets_their_household_without_the_butler_s_notes(client, world):
    changes = Phone(client, world["resident"]).pull_all()
    (household,) = [c for c in changes if c["type"] == "household"]
    assert household["id"] == world["h1"].id
    assert "notes" not in household["data"] and "tags" not in household["data"]
    assert not ids(changes, rtype="person") and not ids(changes, rtype="visit")


def test_each_record_comes_once_in_its_latest_state(client, world):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    hid = world["h1"].id
    for note in ("一", "二", "三"):
        results(Phone(client, world["b1"], PHONE_B).sync(put("household", hid, {"notes": note})))
    changes = phone.pull_all()
    households = [c for c in changes if c["type"] == "household"]
    assert len(households) == 1
    assert households[0]["data"]["notes"] == "三"


def test_pages_of_limit_size_deliver_everything_once(client, world):
    for _ in range(7):
        make_visit(world["h1"], world["b1"])
    phone, seen = Phone(client, world["b1"]), []
    while True:
        body = phone.sync(limit=3).get_json()
        assert len(body["changes"]) <= 3
        seen += [c["id"] for c in body["changes"]]
        if not body["more"]:
            break
    assert len(seen) == len(set(seen))
    assert ids([{"id": i, "op": "put", "type": "x"} for i in seen]) >= {world["visit"].id, world["h1"].id}


# ---- push ---------------------------------------------------------------------------------------

def test_a_visit_recorded_offline_is_applied(client, world, session):
    vid = str(uuid.uuid4())
    (result,) = results(Phone(client, world["b1"]).sync(put("visit", vid, complete_visit({
        "household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00", "satisfaction": 5}))))
    assert (result["status"], result["version"]) == ("applied", 1)
    assert session.get(Visit, vid).butler_id == world["b1"].id


# What an everyday sync (two new visits, then the pull) may send: each statement is CPU on the app
# server and the database, ~50 syncs a second on a busy deployment (docs/benchmarks.md, Load).
# SQLite's count includes its two BEGIN IMMEDIATE; one is the community's visit checklist, which a new
# visit must answer in full.
EVERYDAY_STATEMENTS = {"sqlite": 15, "postgresql": 13}


def test_an_everyday_sync_keeps_to_its_statements_and_never_reloads_its_user(app, client, world):
    app.config["SYNC_CHECK_KEPT_WIRE"] = False  # the tests' own check of kept wire forms is a statement more
    phone = Phone(client, world["b1"])
    phone.pull_all()
    visits = [put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "satisfaction": 4,
                                                "visited_at": "2026-11-27T09:15:02+08:00"})) for _ in range(2)]
    with statements_sent(app) as sent:
        assert [r["status"] for r in results(phone.sync(*visits))] == ["applied", "applied"]
    assert not [s for s in sent if s.startswith("SELECT user_account.")], "the user was loaded again"
    with app.app_context():
        dialect = db.engine.dialect.name
    assert len(sent) <= EVERYDAY_STATEMENTS[dialect], sent




def test_a_resend_after_a_server_restart_is_still_answered_the_same(client, world, database_url, tmp_path):
    m = put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00"}))
    phone = Phone(client, world["b1"])
    first = results(phone.sync(m))
    body = json.dumps({"client_id": PHONE_A, "schema": 1, "cursor": None, "mutations": [m]})
    restarted = create_app(base_config(tmp_path / "restarted", database_url))
    with restarted.app_context():  # touch no object of the first app's session in here
        r = restarted.test_client().post("/api/v1/sync", data=body,
                                         headers={**phone.headers, "Content-Type": "application/json"})
        from server.extensions import db
        db.session.remove()
        db.engine.dispose()
    assert results(r) == first






def test_one_bad_record_is_rejected_with_typed_errors_and_the_rest_apply(client, world, session):
    bad, good = str(uuid.uuid4()), str(uuid.uuid4())
    answer = results(Phone(client, world["b1"]).sync(
        put("visit", bad, complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00", "satisfaction": 9})),
        put("visit", good, complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00"}))))
    assert answer[0]["status"] == "rejected"
    assert answer[0]["errors"] == [{"field": "satisfaction", "code": "out_of_range",
                                    "message": "满意度必须在 1–5 之间。"}]
    assert answer[1]["status"] == "applied"
    assert session.get(Visit, bad) is None and session.get(Visit, good) is not None


def test_rejections_speak_english_when_asked(client, world):
    (result,) = results(Phone(client, world["b1"], language="en").sync(
        put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00",
                                         "satisfaction": 9}))))
    assert result["errors"][0]["message"] == "Satisfaction must be between 1 and 5."


def test_a_resent_rejection_is_worded_in_the_language_of_the_resend(client, world, session):
    m = put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00",
                                         "satisfaction": 9}))
    (first,) = results(Phone(client, world["b1"]).sync(m))
    (again,) = results(Phone(client, world["b1"], language="en").sync(m))
    assert first["errors"][0]["message"] == "满意度必须在 1–5 之间。"
    assert again == {**first, "errors": [{"field": "satisfaction", "code": "out_of_range",
                                          "message": "Satisfaction must be between 1 and 5."}]}
    assert session.get(Visit, m["id"]) is None


def test_a_record_of_another_grid_is_rejected_and_unchanged(client, world, session):
    (result,) = results(Phone(client, world["b1"]).sync(put("household", world["h2"].id, {"notes": "越权"}, base=1)))
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "out_of_scope"
    session.expire_all()
    assert world["h2"].notes == "内部备注"


def test_a_field_the_role_may_not_write_is_rejected(client, world):
    (result,) = results(Phone(client, world["b1"]).sync(put("household", world["h1"].id, {"grid_id": world["g2"].id}, base=1)))
    assert result["status"] == "rejected"
    assert result["errors"][0] == {"field": "grid_id", "code": "not_writable", "message": "您不能修改网格。"}


# ---- merge and conflicts -----------------------------------------------------------------------



def test_the_same_field_from_two_people_is_a_conflict_nothing_is_lost(client, world, session):
    hid = world["h1"].id
    results(Phone(client, world["supervisor"], PHONE_A).sync(put("household", hid, {"notes": "主管写的"}, base=1)))
    (result,) = results(Phone(client, world["b1"], PHONE_B).sync(put("household", hid, {"notes": "管家写的"}, base=1)))
    assert result["status"] == "conflict"
    (conflict,) = result["conflicts"]
    assert (conflict["yours"], conflict["theirs"], conflict["kept"]) == ("管家写的", "主管写的", "yours")
    session.expire_all()
    assert world["h1"].notes == "管家写的"
    stored = session.get(SyncConflict, conflict["conflict_id"])
    assert (stored.kept_value, stored.other_value, stored.other_by) == ("管家写的", "主管写的", world["supervisor"].id)


def test_both_parties_and_the_supervisor_pull_the_conflict_and_one_settles_it(client, world, session):
    hid = world["h1"].id
    supervisor, butler = Phone(client, world["supervisor"], PHONE_A), Phone(client, world["b1"], PHONE_B)
    results(supervisor.sync(put("household", hid, {"notes": "甲"}, base=1)))
    conflict_id = results(butler.sync(put("household", hid, {"notes": "乙"}, base=1)))[0]["conflicts"][0]["conflict_id"]
    for party in ("supervisor", "b1"):
        pulled = [c for c in Phone(client, world[party]).pull_all() if c["type"] == "conflict"]
        assert [c["id"] for c in pulled] == [conflict_id]
        assert pulled[0]["data"]["other"]["value"] == "甲"
    (settled,) = results(supervisor.sync(put("conflict", conflict_id, {"chosen": "甲乙合并"})))
    assert settled["status"] == "applied"
    session.expire_all()
    assert world["h1"].notes == "甲乙合并"
    assert [c["data"]["status"] for c in butler.pull_all() if c["type"] == "conflict"] == ["settled"]


def rating_conflict(client, world):
    """One butler rates the back office on two phones: 2 on one, then 5 on the other."""
    ticket = make_ticket(world["h1"], status="resolved", assignee_id=world["b1"].id)
    results(Phone(client, world["b1"], PHONE_A).sync(put("ticket", ticket.id, {"backoffice_rating": 2}, base=1)))
    (result,) = results(Phone(client, world["b1"], PHONE_B).sync(put("ticket", ticket.id, {"backoffice_rating": 5},
                                                                     base=1)))
    return ticket, result["conflicts"][0]["conflict_id"]


def test_a_supervisor_settles_a_conflict_on_a_field_only_butlers_write(client, world, session):
    ticket, conflict_id = rating_conflict(client, world)
    (settled,) = results(Phone(client, world["supervisor"]).sync(put("conflict", conflict_id, {"chosen": 2})))
    assert settled["status"] == "applied"
    session.expire_all()
    assert ticket.backoffice_rating == 2
    assert session.get(SyncConflict, conflict_id).settled_by == world["supervisor"].id


def test_a_value_nobody_typed_needs_the_settler_s_own_rights(client, world, session):
    ticket, conflict_id = rating_conflict(client, world)
    (refused,) = results(Phone(client, world["supervisor"]).sync(put("conflict", conflict_id, {"chosen": 3})))
    assert refused["status"] == "rejected" and refused["errors"][0]["code"] == "not_writable"
    session.expire_all()
    assert ticket.backoffice_rating == 5 and session.get(SyncConflict, conflict_id).status == "open"


def test_a_supervisor_may_also_confirm_the_value_that_stands(client, world, session):
    ticket, conflict_id = rating_conflict(client, world)
    (settled,) = results(Phone(client, world["supervisor"]).sync(put("conflict", conflict_id, {"chosen": 5})))
    assert settled["status"] == "applied"
    session.expire_all()
    assert ticket.backoffice_rating == 5 and session.get(SyncConflict, conflict_id).status == "settled"


def test_a_stranger_cannot_settle_a_conflict(client, world):
    hid = world["h1"].id
    results(Phone(client, world["supervisor"], PHONE_A).sync(put("household", hid, {"notes": "甲"}, base=1)))
    conflict_id = results(Phone(client, world["b1"], PHONE_B).sync(put("household", hid, {"notes": "乙"}, base=1)))[0]["conflicts"][0]["conflict_id"]
    (result,) = results(Phone(client, world["b2"]).sync(put("conflict", conflict_id, {"chosen": "丙"})))
    assert result["status"] == "rejected"


# ---- deletes, reset ---------------------------------------------------------------------------

def test_a_delete_reaches_other_phones_as_a_tombstone(client, world):
    other = Phone(client, world["b1"], PHONE_B)
    other.pull_all()
    results(Phone(client, world["b1"], PHONE_A).sync(delete("person", world["person"].id, base=1)))
    changes = other.pull_all()
    assert {"type": "person", "id": world["person"].id, "op": "delete", "version": 2} in changes




def test_a_cursor_older_than_the_tombstone_horizon_is_reset(client, world, session):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    session.execute(sa.text("UPDATE sync_counter SET horizon = :past"), {"past": high_water(session) + 1})
    session.commit()
    assert phone.sync().get_json()["reset"] is True


# ---- evictions ---------------------------------------------------------------------------------

def move_household(client, world, household, grid):
    r = client.patch(f"/api/v1/households/{household.id}", json={"grid_id": grid.id}, headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()


def test_a_household_moved_to_another_grid_is_evicted_with_all_that_hangs_on_it(client, world):
    butler1, butler2 = Phone(client, world["b1"]), Phone(client, world["b2"])
    butler1.pull_all()
    butler2.pull_all()
    move_household(client, world, world["h1"], world["g2"])
    evicted = butler1.pull_all()
    assert ids(evicted, op="evict") == {world["h1"].id, world["person"].id, world["visit"].id}
    gained = butler2.pull_all()
    assert ids(gained) >= {world["h1"].id, world["person"].id, world["visit"].id}


def test_a_page_that_ends_inside_one_transaction_s_evictions_resets_if_they_are_purged(client, world, session):
    """One move evicts a household and all on it in one transaction (on PostgreSQL they share its
    number). A phone whose page ended among them, when the rest are purged before its next pull,
    must start over: continuing would skip the evictions it never got, and keep what it lost."""
    butler1 = Phone(client, world["b1"])
    butler1.pull_all()
    move_household(client, world, world["h1"], world["g2"])
    first = butler1.sync(limit=1).get_json()
    assert first["more"] and [c["op"] for c in first["changes"]] == ["evict"]
    purge_tombstones(session, older_than=utcnow() + timedelta(days=1))
    session.commit()
    answer = butler1.sync().get_json()
    assert answer["reset"] is True
    assert not {world["h1"].id, world["person"].id, world["visit"].id} & ids(answer["changes"])


def test_a_grid_given_to_another_butler_moves_its_households(client, world):
    butler1 = Phone(client, world["b1"])
    butler1.pull_all()
    r = client.patch(f"/api/v1/grids/{world['g1'].id}", json={"butler_id": world["b2"].id}, headers=auth(world["supervisor"]))
    assert r.status_code == 200
    assert world["h1"].id in ids(butler1.pull_all(), op="evict")


def move_resident(client, world, household_id, actor="supervisor"):
    return client.put(f"/api/v1/users/{world['resident'].id}/household", json={"household_id": household_id},
                      headers=auth(world[actor]))


def test_a_resident_who_moves_out_is_evicted_from_their_old_household(client, world):
    ticket = make_ticket(world["h1"])
    resident, butler = Phone(client, world["resident"]), Phone(client, world["b1"])
    assert ids(resident.pull_all()) >= {world["h1"].id, ticket.id}
    butler.pull_all()
    r = move_resident(client, world, None)
    assert r.status_code == 200 and r.get_json()["household_id"] is None
    assert ids(resident.pull_all(), op="evict") >= {world["h1"].id, world["person"].id, ticket.id}
    assert ids(butler.pull_all(), op="evict") == set()  # the butler still holds the household


def test_a_resident_who_moves_house_gets_the_new_household_and_loses_the_old(client, world):
    resident = Phone(client, world["resident"])
    resident.pull_all()
    assert move_resident(client, world, world["h2"].id).status_code == 200
    changes = resident.pull_all()
    assert world["h1"].id in ids(changes, op="evict") and world["h2"].id in ids(changes)


@pytest.mark.parametrize("actor", ["b1", "resident"])
def test_only_a_supervisor_moves_residents(client, world, session, actor):
    assert move_resident(client, world, None, actor=actor).status_code == 404
    session.expire_all()
    assert world["resident"].household_id == world["h1"].id


def test_moving_a_resident_to_an_unknown_household_is_refused(client, world, session):
    r = move_resident(client, world, str(uuid.uuid4()))
    assert r.status_code == 422 and r.get_json()["details"]["errors"][0]["field"] == "household_id"
    session.expire_all()
    assert world["resident"].household_id == world["h1"].id


def test_a_visit_recorded_offline_before_the_reassignment_is_kept(client, world, session):
    before = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    move_household(client, world, world["h1"], world["g2"])
    vid = str(uuid.uuid4())
    (result,) = results(Phone(client, world["b1"]).sync(
        put("visit", vid, complete_visit({"household_id": world["h1"].id, "visited_at": before, "notes": "离线记录"}), at=before)))
    assert result["status"] == "applied"
    assert vid in ids(Phone(client, world["b2"]).pull_all(), rtype="visit")


def test_a_visit_made_after_the_reassignment_is_refused(client, world):
    move_household(client, world, world["h1"], world["g2"])
    after = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    (result,) = results(Phone(client, world["b1"]).sync(
        put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "visited_at": after}), at=after)))
    assert result["status"] == "rejected"


# ---- tickets -------------------------------------------------------------------------------------

def test_a_ticket_held_by_one_butler_is_already_claimed_for_another(client, world):
    ticket = make_ticket(world["h1"], status="accepted", assignee_id=world["b2"].id)
    (result,) = results(Phone(client, world["b1"]).sync(put("ticket", ticket.id, {"status": "accepted"}, base=1)))
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "already_claimed"


def test_a_ticket_cannot_jump_its_state_machine_through_sync(client, world):
    ticket = make_ticket(world["h1"], status="new")
    (result,) = results(Phone(client, world["b1"]).sync(put("ticket", ticket.id, {"status": "closed"}, base=1)))
    assert result["errors"][0]["code"] == "invalid_transition"


# ---- bad input -----------------------------------------------------------------------------------

def test_sync_needs_a_token(client, world):
    r = client.post("/api/v1/sync", json={"client_id": PHONE_A, "schema": 1})
    assert r.status_code == 401


def test_an_outdated_client_is_told_to_update(client, world):
    r = client.post("/api/v1/sync", json={"client_id": PHONE_A, "schema": 0}, headers=auth(world["b1"]))
    assert r.status_code == 426
    assert r.get_json()["error"] == "client_outdated"
    assert r.get_json()["min_schema"] == 1


@pytest.mark.parametrize("raw, status, code", [
    ("{broken", 400, "malformed_json"),
    (json.dumps({"client_id": PHONE_A, "schema": 1, "extra": True}), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": "one"}), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": 1, "cursor": 42}), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": 1, "limit": 1001}), 422, "validation_failed"),
])
def test_bad_input_gets_its_error_and_changes_nothing(client, world, session, raw, status, code):
    def written():
        return (session.scalar(sa.text("SELECT value FROM sync_counter")),
                session.scalar(sa.text("SELECT count(*) FROM sync_mutation")),
                session.scalar(sa.text("SELECT count(*) FROM audit_event")))

    before = written()
    r = Phone(client, world["b1"]).sync(raw=raw)
    assert (r.status_code, r.get_json()["error"]) == (status, code)
    assert written() == before


def test_too_many_mutations_is_413_and_nothing_applies(client, world, session):
    batch = [put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00"}))
             for _ in range(501)]
    r = Phone(client, world["b1"]).sync(*batch)
    assert r.status_code == 413
    assert r.get_json()["error"] == "too_many_mutations"
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1


def test_a_body_over_four_megabytes_is_413(client, world):
    r = Phone(client, world["b1"]).sync(raw=json.dumps({"client_id": PHONE_A, "schema": 1, "pad": "x" * (4 * 1024 * 1024)}))
    assert r.status_code == 413


def test_purging_old_tombstones_resets_phones_that_synced_before(client, world, session, runner):
    phone, person_id = Phone(client, world["b1"]), world["person"].id
    phone.pull_all()
    results(Phone(client, world["b1"], PHONE_B).sync(delete("person", person_id, base=1)))
    session.execute(sa.text("UPDATE person SET updated_at = :old"), {"old": datetime(2020, 1, 1, tzinfo=timezone.utc)})
    session.commit()
    out = runner.invoke(args=["sync-purge", "--days", "30"])
    assert out.exit_code == 0, out.output
    assert "person=1" in out.output
    body = phone.sync().get_json()
    assert body["reset"] is True
    assert person_id not in ids(body["changes"])


def test_purging_keeps_recent_tombstones_and_cursors_stay_valid(client, world, runner):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    results(Phone(client, world["b1"], PHONE_B).sync(delete("person", world["person"].id, base=1)))
    assert "person=0" in runner.invoke(args=["sync-purge", "--days", "30"]).output
    body = phone.sync().get_json()
    assert "reset" not in body
    assert {"type": "person", "id": world["person"].id, "op": "delete", "version": 2} in body["changes"]


def test_a_batch_with_one_record_outside_scope_applies_the_others(client, world, session):
    """The fast way through a batch checks scope at its end; a failure there redoes the batch
    carefully, so the one bad record is rejected and the others still apply."""
    good1, bad, good2 = (str(uuid.uuid4()) for _ in range(3))
    fields = {"visited_at": "2026-11-27T09:15:02+08:00"}
    answer = results(Phone(client, world["b1"]).sync(
        put("visit", good1, complete_visit({**fields, "household_id": world["h1"].id})),
        put("visit", bad, complete_visit({**fields, "household_id": world["h2"].id})),
        put("visit", good2, complete_visit({**fields, "household_id": world["h1"].id}))))
    assert [r["status"] for r in answer] == ["applied", "rejected", "applied"]
    assert answer[1]["errors"][0]["code"] == "out_of_scope"
    assert session.get(Visit, bad) is None
    assert session.get(Visit, good1) is not None and session.get(Visit, good2) is not None


def test_a_batch_can_create_a_record_and_change_it(client, world, session):
    vid = str(uuid.uuid4())
    answer = results(Phone(client, world["b1"]).sync(
        put("visit", vid, complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00"})),
        put("visit", vid, {"satisfaction": 3}, base=1),
        put("visit", vid, {"satisfaction": 4}, base=2)))
    assert [(r["status"], r["version"]) for r in answer] == [("applied", 1), ("applied", 2), ("applied", 3)]
    session.expire_all()
    assert session.get(Visit, vid).satisfaction == 4


def test_the_same_mid_twice_in_one_batch_is_applied_once(client, world, session):
    m = put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00"}))
    first, second = results(Phone(client, world["b1"]).sync(m, m))
    assert first == second
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.id == m["id"])) == 1


def test_the_same_time_written_two_ways_is_no_conflict(client, world):
    vid = world["visit"].id
    results(Phone(client, world["supervisor"], PHONE_A).sync(put("visit", vid, {"visited_at": "2026-11-27T01:15:02Z"}, base=1)))
    (result,) = results(Phone(client, world["b1"], PHONE_B).sync(
        put("visit", vid, {"visited_at": "2026-11-27T09:15:02+08:00"}, base=1)))
    assert result["status"] == "merged"


def test_a_person_moved_to_another_grid_s_household_is_evicted(client, world):
    butler1 = Phone(client, world["b1"])
    butler1.pull_all()
    r = client.patch(f"/api/v1/persons/{world['person'].id}", json={"household_id": world["h2"].id},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200
    assert ids(butler1.pull_all(), op="evict") == {world["person"].id}
    assert world["person"].id in ids(Phone(client, world["b2"]).pull_all(), rtype="person")


def test_a_product_taken_out_of_the_catalogue_leaves_the_phones(client, world):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    admin = make_user("admin")
    assert client.patch("/api/v1/products/water", json={"active": False}, headers=auth(admin)).status_code == 200
    changes = phone.pull_all()
    assert {"type": "product", "id": "water", "op": "evict"} in changes
    assert "water" not in ids(Phone(client, world["b2"]).pull_all(), rtype="product")


def test_an_upper_case_uuid_is_kept_as_the_client_wrote_it(client, world):
    vid = str(uuid.uuid4()).upper()
    phone = Phone(client, world["b1"])
    results(phone.sync(put("visit", vid, complete_visit({"household_id": world["h1"].id, "visited_at": "2026-11-27T09:15:02+08:00"}))))
    (again,) = results(phone.sync(put("visit", vid, {"notes": "再改"}, base=1)))
    assert (again["status"], again["version"]) == ("applied", 2)


def test_settling_never_overwrites_a_value_typed_after_the_conflict(client, world, session):
    hid = world["h1"].id
    supervisor, butler = Phone(client, world["supervisor"], PHONE_A), Phone(client, world["b1"], PHONE_B)
    results(supervisor.sync(put("household", hid, {"notes": "甲"}, base=1)))
    (result,) = results(butler.sync(put("household", hid, {"notes": "乙"}, base=1)))
    conflict_id = result["conflicts"][0]["conflict_id"]
    results(butler.sync(put("household", hid, {"notes": "丙，后来写的"}, base=result["version"])))
    (settle,) = results(supervisor.sync(put("conflict", conflict_id, {"chosen": "甲"})))
    assert settle["status"] == "rejected"
    assert settle["errors"][0]["code"] == "changed_since_conflict"
    session.expire_all()
    assert world["h1"].notes == "丙，后来写的"
    (closed,) = results(supervisor.sync(put("conflict", conflict_id, {"chosen": "丙，后来写的"})))
    assert closed["status"] == "applied"
    assert session.get(SyncConflict, conflict_id).status == "settled"


def test_withdrawn_consent_erases_phone_numbers_from_conflicts_too(client, world, session):
    pid = world["person"].id
    results(Phone(client, world["supervisor"], PHONE_A).sync(put("person", pid, {"phone": "13900000001"}, base=1)))
    (result,) = results(Phone(client, world["b1"], PHONE_B).sync(put("person", pid, {"phone": "13900000002"}, base=1)))
    conflict_id = result["conflicts"][0]["conflict_id"]
    results(Phone(client, world["b1"], PHONE_B).sync(put("person", pid, {"consent": False}, base=result["version"])))
    session.expire_all()
    conflict = session.get(SyncConflict, conflict_id)
    assert (conflict.kept_value, conflict.other_value, conflict.status) == (None, None, "settled")


def test_a_butler_who_loses_the_household_stops_seeing_its_conflicts(client, world):
    hid = world["h1"].id
    results(Phone(client, world["supervisor"], PHONE_A).sync(put("household", hid, {"notes": "甲"}, base=1)))
    butler = Phone(client, world["b1"], PHONE_B)
    conflict_id = results(butler.sync(put("household", hid, {"notes": "乙"}, base=1)))[0]["conflicts"][0]["conflict_id"]
    move_household(client, world, world["h1"], world["g2"])
    assert conflict_id in ids(butler.pull_all(), op="evict")
    assert conflict_id not in ids(Phone(client, world["b1"]).pull_all(), rtype="conflict")
