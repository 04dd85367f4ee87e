"""What phone and server promise each other (docs/sync-contract.md), written once and checked on
both sides: the sync engine on its in-memory store, and the app's POST /api/v1/sync on SQLite and
PostgreSQL. What only one side has (envelope parsing, the app's scopes and roles) is tested beside it:
tests/sync/test_engine.py and tests/server/test_sync.py."""
from __future__ import annotations

import pytest

from tests.support.app import fresh_database
from tests.support.phone import PHONE_A, PHONE_B, delete, put
from tests.support.sync_backends import MemoryBackend, ServerBackend, new_id


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The engine's own store, or the app on each database."""
    if request.param == "memory":
        yield None
        return
    yield from fresh_database(request, request.param, tmp_path)


@pytest.fixture
def side(request, database_url):
    if database_url is None:
        return MemoryBackend()
    return ServerBackend(request.getfixturevalue("client"), request.getfixturevalue("session"))


def pulled(answer, *types):
    """The changes of a pull of the given types (the app also sends its catalogue and notices)."""
    return [c for c in answer["changes"] if c["type"] in (types or ("household", "visit", "conflict"))]


def pull_all(side, user, cursor=None, limit=None):
    changes = []
    while True:
        answer = side.sync(user, cursor=cursor, limit=limit)
        changes += pulled(answer)
        cursor = answer["cursor"]
        if not answer["more"]:
            return changes, cursor


# ---- exactly once, in order ---------------------------------------------------------------------

def test_a_new_record_is_applied_with_version_1(side):
    (result,) = side.sync(side.butler, put("visit", vid := new_id(), side.visit(side.h1, satisfaction=5)))["results"]
    assert (result["status"], result["version"]) == ("applied", 1)
    assert side.value("visit", vid, "satisfaction") == 5


def test_a_resent_mutation_returns_the_first_result_and_changes_nothing(side):
    vid = new_id()
    m = put("visit", vid, side.visit(side.h1, notes="一"))
    first = side.sync(side.butler, m)["results"]
    again = side.sync(side.butler, m)["results"]
    assert again == first
    assert side.value("visit", vid, "version") == 1


def test_another_user_s_mid_never_returns_their_result(side):
    m = put("visit", new_id(), side.visit(side.h1, notes="一"))
    side.sync(side.butler, m)
    (result,) = side.sync(side.other, m)["results"]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "out_of_scope"


def test_mutations_apply_in_the_order_sent(side):
    vid = new_id()
    answer = side.sync(side.butler, put("visit", vid, side.visit(side.h1, notes="first")),
                       put("visit", vid, {"notes": "second"}, base=1))
    assert [r["version"] for r in answer["results"]] == [1, 2]
    assert side.value("visit", vid, "notes") == "second"


def test_one_bad_record_never_blocks_the_rest(side):
    bad, good = new_id(), new_id()
    answer = side.sync(side.butler, put("visit", bad, side.visit(side.h1, satisfaction=9)),
                       put("visit", good, side.visit(side.h1, satisfaction=4)))
    refused, applied = answer["results"]
    assert refused["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("satisfaction", "out_of_range")]
    assert applied["status"] == "applied"
    assert not side.stands("visit", bad) and side.stands("visit", good)


def test_an_unknown_type_is_rejected_not_fatal(side):
    (result,) = side.sync(side.butler, put("spaceship", new_id(), {}))["results"]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "invalid_choice"


# ---- merge and conflicts ------------------------------------------------------------------------

def test_changes_to_different_fields_from_two_phones_both_survive(side):
    side.sync(side.butler, put("household", side.h1, {"notes": "甲"}, base=1), client=PHONE_A)
    (result,) = side.sync(side.butler, put("household", side.h1, {"status": "rented"}, base=1),
                          client=PHONE_B)["results"]
    assert result["status"] == "merged"
    assert (side.value("household", side.h1, "notes"), side.value("household", side.h1, "status")) == \
        ("甲", "rented")


def test_the_same_field_from_two_phones_is_a_conflict_that_keeps_both_values(side):
    side.sync(side.butler, put("household", side.h1, {"notes": "甲写的"}, base=1), client=PHONE_A)
    (result,) = side.sync(side.butler, put("household", side.h1, {"notes": "乙写的"}, base=1),
                          client=PHONE_B)["results"]
    assert result["status"] == "conflict"
    (conflict,) = result["conflicts"]
    assert (conflict["field"], conflict["yours"], conflict["theirs"], conflict["kept"]) == \
        ("notes", "乙写的", "甲写的", "yours")
    assert side.value("household", side.h1, "notes") == "乙写的"
    assert side.conflict_status(conflict["conflict_id"]) == "open"


def test_a_phone_does_not_conflict_with_its_own_earlier_change(side):
    side.sync(side.butler, put("household", side.h1, {"notes": "一"}, base=1), client=PHONE_A)
    (result,) = side.sync(side.butler, put("household", side.h1, {"notes": "二"}, base=1),
                          client=PHONE_A)["results"]
    assert result["status"] == "merged"


def test_the_same_value_from_two_phones_is_no_conflict(side):
    side.sync(side.butler, put("household", side.h1, {"notes": "同"}, base=1), client=PHONE_A)
    (result,) = side.sync(side.butler, put("household", side.h1, {"notes": "同"}, base=1),
                          client=PHONE_B)["results"]
    assert result["status"] == "merged"


def test_a_conflict_is_pulled_and_settled_with_one_put(side):
    side.sync(side.butler, put("household", side.h1, {"notes": "甲"}, base=1), client=PHONE_A)
    answer = side.sync(side.butler, put("household", side.h1, {"notes": "乙"}, base=1), client=PHONE_B)
    conflict_id = answer["results"][0]["conflicts"][0]["conflict_id"]
    assert [c["id"] for c in pulled(answer, "conflict")] == [conflict_id]
    settled = side.sync(side.butler, put("conflict", conflict_id, {"chosen": "甲"}), client=PHONE_B)
    assert settled["results"][0]["status"] == "applied"
    assert side.value("household", side.h1, "notes") == "甲"
    assert side.conflict_status(conflict_id) == "settled"


# ---- deletes ------------------------------------------------------------------------------------

def test_a_delete_travels_as_a_tombstone_with_its_version(side):
    vid = new_id()
    side.sync(side.butler, put("visit", vid, side.visit(side.h1)))
    cursor = side.sync(side.butler)["cursor"]
    side.sync(side.butler, delete("visit", vid, base=1))
    assert {"type": "visit", "id": vid, "op": "delete", "version": 2} in side.sync(side.butler, cursor=cursor)["changes"]


def test_deleting_what_someone_else_changed_unseen_is_refused(side):
    vid = new_id()
    side.sync(side.butler, put("visit", vid, side.visit(side.h1)), client=PHONE_A)
    side.sync(side.butler, put("visit", vid, {"notes": "新的"}, base=1), client=PHONE_B)
    (result,) = side.sync(side.butler, delete("visit", vid, base=1), client=PHONE_A)["results"]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "changed_since_seen"
    assert side.stands("visit", vid)


# ---- pull ---------------------------------------------------------------------------------------

def test_a_pull_pages_by_limit_and_misses_nothing(side):
    visits = [new_id() for _ in range(5)]
    side.sync(side.butler, *[put("visit", v, side.visit(side.h1)) for v in visits])
    seen, _ = pull_all(side, side.butler, limit=2)
    ids = [c["id"] for c in seen]
    assert sorted(ids) == sorted([side.h1, *visits])
    assert len(ids) == len(set(ids))


def test_an_incremental_pull_sends_only_what_changed(side):
    cursor = side.sync(side.butler)["cursor"]
    side.sync(side.butler, put("visit", vid := new_id(), side.visit(side.h1)))
    assert [c["id"] for c in pulled(side.sync(side.butler, cursor=cursor))] == [vid]


def test_a_pull_sends_only_what_is_in_the_user_s_scope(side):
    side.sync(side.other, put("visit", new_id(), side.visit(side.h2)))
    changes, _ = pull_all(side, side.butler)
    assert [c["id"] for c in changes] == [side.h1]


def test_a_forged_cursor_starts_a_full_resend_with_reset(side):
    answer = side.sync(side.butler, cursor="forged.cursor")
    assert answer["reset"] is True
    assert [c["id"] for c in pulled(answer)] == [side.h1]


def test_another_user_s_cursor_is_not_trusted(side):
    cursor = side.sync(side.other)["cursor"]
    assert side.sync(side.butler, cursor=cursor)["reset"] is True


def test_a_cursor_older_than_the_kept_tombstones_is_reset(side):
    gone, kept = new_id(), new_id()
    cursor = side.sync(side.butler, put("visit", gone, side.visit(side.h1)))["cursor"]
    side.sync(side.butler, delete("visit", gone, base=1))
    side.sync(side.butler, put("visit", kept, side.visit(side.h1)))
    side.purge_tombstones()
    answer = side.sync(side.butler, cursor=cursor)
    assert answer["reset"] is True
    assert {c["id"] for c in pulled(answer)} == {side.h1, kept}


def test_a_delete_during_a_paged_first_sync_still_reaches_the_phone(side):
    side.sync(side.butler, *[put("visit", new_id(), side.visit(side.h1)) for _ in range(4)])
    page = side.sync(side.butler, limit=2)
    while not pulled(page, "visit"):  # the app sends its catalogue too: on to the first page with a visit
        page = side.sync(side.butler, cursor=page["cursor"], limit=2)
    gone = pulled(page, "visit")[0]["id"]
    side.sync(side.butler, delete("visit", gone, base=1))
    changes, _ = pull_all(side, side.butler, cursor=page["cursor"], limit=2)
    assert {"type": "visit", "id": gone, "op": "delete", "version": 2} in changes


# ---- evict --------------------------------------------------------------------------------------

def test_a_household_moved_away_is_evicted_with_what_hangs_on_it(side):
    vid = new_id()
    side.sync(side.butler, put("visit", vid, side.visit(side.h1)))
    _, cursor = pull_all(side, side.butler)
    side.move_household(side.h1, from_user=side.butler, to_user=side.other)
    changes, _ = pull_all(side, side.butler, cursor=cursor)
    assert {(c["type"], c["id"], c["op"]) for c in changes} == {("household", side.h1, "evict"),
                                                                 ("visit", vid, "evict")}
    gained, _ = pull_all(side, side.other)
    assert {c["id"] for c in gained} >= {side.h1, vid}


def test_a_page_never_sends_one_record_twice(side):
    vid = new_id()
    side.sync(side.butler, put("visit", vid, side.visit(side.h1)))
    _, cursor = pull_all(side, side.butler)
    side.move_household(side.h1, from_user=side.butler, to_user=side.other)
    side.move_household(side.h1, from_user=side.other, to_user=side.butler)
    changes, _ = pull_all(side, side.butler, cursor=cursor)
    keys = [(c["type"], c["id"]) for c in changes]
    assert len(keys) == len(set(keys))
    assert {c["op"] for c in changes if c["id"] == side.h1} == {"put"}
