"""The sync engine on the in-memory store: the contract's promises, in milliseconds."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from sync.engine import Engine, EngineConfig
from sync.errors import Problem, SyncError
from sync.memory import MemoryStore, MemoryUser
from sync.protocol import Limits

AT = "2026-11-27T09:15:02+08:00"
H1, H2 = "h-1", "h-2"


def messages(code, field, params, language):
    return f"{language}:{code}:{field}"


def satisfaction_rule(values):
    s = values.get("satisfaction")
    return [Problem("satisfaction", "out_of_range", {"min": "1", "max": "5"})] if s is not None and not 1 <= s <= 5 else []


@pytest.fixture
def store():
    s = MemoryStore(validators={"visit": satisfaction_rule})
    supervisor = MemoryUser("supervisor", supervisor=True)
    for hid in (H1, H2):
        s.create(supervisor, "household", hid, {"notes": "", "status": "self_occupied"}, meta={}, at=None)
    return s


@pytest.fixture
def engine():
    return Engine(EngineConfig(cursor_key=b"k" * 32, limits=Limits(max_mutations=5, max_bytes=10_000)), messages)


@pytest.fixture
def butler():
    return MemoryUser("butler-1", {H1})


def mid():
    return str(uuid.uuid4())


def put(rtype, rid, fields, base=None, m=None):
    return {"mid": m or mid(), "type": rtype, "id": rid, "op": "put", "base": base, "fields": fields, "at": AT}


def request(*mutations, client="11111111-1111-1111-1111-111111111111", cursor=None, limit=None):
    body = {"client_id": client, "schema": 1, "cursor": cursor, "mutations": list(mutations)}
    if limit:
        body["limit"] = limit
    return body


PHONE_A = "11111111-1111-1111-1111-111111111111"
PHONE_B = "22222222-2222-2222-2222-222222222222"


def test_a_new_record_is_applied_with_version_1(engine, store, butler):
    answer = engine.sync(store, butler, request(put("visit", "v1", {"household_id": H1, "satisfaction": 5})))
    assert answer["results"][0]["status"] == "applied"
    assert answer["results"][0]["version"] == 1


def test_a_resent_mutation_returns_the_first_result_and_changes_nothing(engine, store, butler):
    m = put("visit", "v1", {"household_id": H1, "satisfaction": 5})
    first = engine.sync(store, butler, request(m))["results"]
    again = engine.sync(store, butler, request(m))["results"]
    assert again == first
    assert store.rows[("visit", "v1")].version == 1


def test_another_user_s_mid_never_returns_their_result(engine, store, butler):
    m = put("visit", "v1", {"household_id": H1, "satisfaction": 5})
    engine.sync(store, butler, request(m))
    stranger = MemoryUser("butler-2", {H2})
    result = engine.sync(store, stranger, request(m))["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "out_of_scope"


def test_mutations_apply_in_the_order_sent(engine, store, butler):
    answer = engine.sync(store, butler, request(
        put("visit", "v1", {"household_id": H1, "notes": "first"}),
        put("visit", "v1", {"notes": "second"}, base=1),
    ))
    assert [r["version"] for r in answer["results"]] == [1, 2]
    assert store.rows[("visit", "v1")].values["notes"] == "second"


def test_one_bad_record_never_blocks_the_rest(engine, store, butler):
    answer = engine.sync(store, butler, request(
        put("visit", "bad", {"household_id": H1, "satisfaction": 9}),
        put("visit", "good", {"household_id": H1, "satisfaction": 4}),
    ))
    bad, good = answer["results"]
    assert bad["status"] == "rejected"
    assert bad["errors"] == [{"field": "satisfaction", "code": "out_of_range",
                              "message": "zh-CN:out_of_range:satisfaction"}]
    assert good["status"] == "applied"
    assert ("visit", "bad") not in store.rows


def test_rejection_messages_use_the_caller_s_language(engine, store, butler):
    answer = engine.sync(store, butler, request(put("visit", "bad", {"household_id": H1, "satisfaction": 9})),
                         language="en")
    assert answer["results"][0]["errors"][0]["message"] == "en:out_of_range:satisfaction"


def test_changes_to_different_fields_from_two_phones_both_survive(engine, store, butler):
    engine.sync(store, butler, request(put("household", H1, {"notes": "甲"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("household", H1, {"status": "rented"}, base=1),
                                                client=PHONE_B))["results"][0]
    assert result["status"] == "merged"
    assert store.rows[("household", H1)].values == {"notes": "甲", "status": "rented"}


def test_the_same_field_from_two_phones_is_a_conflict_that_keeps_both_values(engine, store, butler):
    engine.sync(store, butler, request(put("household", H1, {"notes": "甲写的"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("household", H1, {"notes": "乙写的"}, base=1),
                                                client=PHONE_B))["results"][0]
    assert result["status"] == "conflict"
    (conflict,) = result["conflicts"]
    assert (conflict["field"], conflict["yours"], conflict["theirs"], conflict["kept"]) == \
        ("notes", "乙写的", "甲写的", "yours")
    assert store.rows[("household", H1)].values["notes"] == "乙写的"
    assert store.conflicts[conflict["conflict_id"]]["other"]["value"] == "甲写的"


def test_a_phone_does_not_conflict_with_its_own_earlier_change(engine, store, butler):
    engine.sync(store, butler, request(put("household", H1, {"notes": "一"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("household", H1, {"notes": "二"}, base=1),
                                                client=PHONE_A))["results"][0]
    assert result["status"] == "merged"


def test_the_same_value_from_two_phones_is_no_conflict(engine, store, butler):
    engine.sync(store, butler, request(put("household", H1, {"notes": "同"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("household", H1, {"notes": "同"}, base=1),
                                                client=PHONE_B))["results"][0]
    assert result["status"] == "merged"


def test_a_conflict_is_pulled_and_settled_with_one_put(engine, store, butler):
    engine.sync(store, butler, request(put("household", H1, {"notes": "甲"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("household", H1, {"notes": "乙"}, base=1), client=PHONE_B))
    conflict_id = result["results"][0]["conflicts"][0]["conflict_id"]
    pulled = [c for c in result["changes"] if c["type"] == "conflict"]
    assert [c["id"] for c in pulled] == [conflict_id]
    settle = engine.sync(store, butler, request(put("conflict", conflict_id, {"chosen": "甲"}), client=PHONE_B))
    assert settle["results"][0]["status"] == "applied"
    assert store.rows[("household", H1)].values["notes"] == "甲"
    assert store.conflicts[conflict_id]["status"] == "settled"


def test_a_ticket_status_never_conflicts_its_state_machine_decides(engine, store, butler):
    engine.sync(store, butler, request(put("ticket", "t1", {"household_id": H1, "status": "new"}), client=PHONE_A))
    engine.sync(store, butler, request(put("ticket", "t1", {"status": "accepted"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("ticket", "t1", {"status": "cancelled"}, base=1),
                                                client=PHONE_B))["results"][0]
    assert result["status"] == "merged"


def test_a_delete_travels_as_a_tombstone_with_its_version(engine, store, butler):
    engine.sync(store, butler, request(put("visit", "v1", {"household_id": H1})))
    first = engine.sync(store, butler, request())
    engine.sync(store, butler, request({**put("visit", "v1", {}, base=1), "op": "delete"}))
    answer = engine.sync(store, butler, request(cursor=first["cursor"]))
    assert {"type": "visit", "id": "v1", "op": "delete", "version": 2} in answer["changes"]


def test_deleting_what_someone_else_changed_unseen_is_refused(engine, store, butler):
    engine.sync(store, butler, request(put("visit", "v1", {"household_id": H1}), client=PHONE_A))
    engine.sync(store, butler, request(put("visit", "v1", {"notes": "新的"}, base=1), client=PHONE_B))
    result = engine.sync(store, butler, request({**put("visit", "v1", {}, base=1), "op": "delete"},
                                                client=PHONE_A))["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "changed_since_seen"
    assert not store.rows[("visit", "v1")].deleted


def test_a_pull_pages_by_limit_and_misses_nothing(engine, store, butler):
    engine.sync(store, butler, request(*[put("visit", f"v{i}", {"household_id": H1}) for i in range(5)]))
    seen, cursor, more = [], None, True
    while more:
        answer = engine.sync(store, butler, request(cursor=cursor, limit=2))
        seen += [c["id"] for c in answer["changes"]]
        cursor, more = answer["cursor"], answer["more"]
    assert sorted(seen) == sorted([H1] + [f"v{i}" for i in range(5)])
    assert len(seen) == len(set(seen))


def test_an_incremental_pull_sends_only_what_changed(engine, store, butler):
    cursor = engine.sync(store, butler, request())["cursor"]
    engine.sync(store, butler, request(put("visit", "v9", {"household_id": H1})))
    answer = engine.sync(store, butler, request(cursor=cursor))
    assert [c["id"] for c in answer["changes"]] == ["v9"]


def test_a_pull_sends_only_what_is_in_the_user_s_scope(engine, store, butler):
    answer = engine.sync(store, butler, request())
    assert [c["id"] for c in answer["changes"]] == [H1]


def test_a_forged_cursor_starts_a_full_resend_with_reset(engine, store, butler):
    answer = engine.sync(store, butler, request(cursor="forged.cursor"))
    assert answer["reset"] is True
    assert [c["id"] for c in answer["changes"]] == [H1]


def test_another_user_s_cursor_is_not_trusted(engine, store, butler):
    other = MemoryUser("butler-2", {H2})
    cursor = engine.sync(store, other, request())["cursor"]
    assert engine.sync(store, butler, request(cursor=cursor))["reset"] is True


def test_a_cursor_older_than_the_kept_tombstones_is_reset(engine, store, butler):
    cursor = engine.sync(store, butler, request(put("visit", "v1", {"household_id": H1})))["cursor"]
    engine.sync(store, butler, request({**put("visit", "v1", {}, base=1), "op": "delete"}))
    engine.sync(store, butler, request(put("visit", "v2", {"household_id": H1})))
    store.purge_tombstones()
    answer = engine.sync(store, butler, request(cursor=cursor))
    assert answer["reset"] is True
    assert {c["id"] for c in answer["changes"]} == {H1, "v2"}


def test_a_household_moved_away_is_evicted_with_what_hangs_on_it(engine, store, butler):
    engine.sync(store, butler, request(put("visit", "v1", {"household_id": H1})))
    cursor = engine.sync(store, butler, request())["cursor"]
    other = MemoryUser("butler-2", {H2})
    store.move_household(H1, from_user=butler, to_user=other)
    answer = engine.sync(store, butler, request(cursor=cursor))
    assert {(c["type"], c["id"], c["op"]) for c in answer["changes"]} == \
        {("household", H1, "evict"), ("visit", "v1", "evict")}
    gained = engine.sync(store, other, request())
    assert {c["id"] for c in gained["changes"]} >= {H1, "v1"}


def test_an_unknown_type_is_rejected_not_fatal(engine, store, butler):
    result = engine.sync(store, butler, request(put("spaceship", "x", {})))["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "invalid_choice"


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "malformed_json"),
    (b"[]", 422, "validation_failed"),
    (json.dumps({"client_id": "x", "schema": 1}).encode(), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": 1, "surprise": 1}).encode(), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": "1"}).encode(), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": 1, "limit": 5000}).encode(), 422, "validation_failed"),
    (json.dumps({"client_id": PHONE_A, "schema": 0}).encode(), 426, "client_outdated"),
    (json.dumps({"client_id": PHONE_A, "schema": 1, "mutations": [{}] * 6}).encode(), 413, "too_many_mutations"),
    (b" " * 10_001, 413, "too_large"),
])
def test_bad_requests_are_refused_whole_and_change_nothing(engine, store, butler, body, status, code):
    before = (dict(store.rows), dict(store.results))
    with pytest.raises(SyncError) as refused:
        engine.sync(store, butler, body)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert (dict(store.rows), dict(store.results)) == before


def test_a_bad_mutation_envelope_names_the_field(engine, store, butler):
    body = request({"mid": mid(), "type": "visit", "id": "v", "op": "upsert", "fields": {}, "at": AT})
    with pytest.raises(SyncError) as refused:
        engine.sync(store, butler, body)
    assert [(p.field, p.code) for p in refused.value.problems] == [("mutations.0.op", "invalid_choice")]


@pytest.mark.parametrize("spelling", [str.upper, lambda u: "{" + u + "}", lambda u: u.replace("-", ""),
                                      lambda u: "urn:uuid:" + u])
def test_a_mutation_id_may_be_any_spelling_of_a_uuid(engine, store, butler, spelling):
    body = request({**put("visit", "v1", {"household_id": H1}), "mid": spelling(mid())})
    assert engine.sync(store, butler, body)["results"][0]["status"] == "applied"


@pytest.mark.parametrize("bad", ["", "not-a-uuid", mid()[:-1], mid() + "0", mid() + "\n", 42])
def test_a_mutation_id_that_is_no_uuid_is_refused(engine, store, butler, bad):
    with pytest.raises(SyncError) as refused:
        engine.sync(store, butler, request({**put("visit", "v1", {"household_id": H1}), "mid": bad}))
    assert [p.field for p in refused.value.problems] == ["mutations.0.mid"]


def test_the_sync_package_imports_no_flask():
    code = ("import sys, sync.engine, sync.memory, sync.protocol, sync.cursor, sync.merge; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_sqlalchemy', 'werkzeug', 'server')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_two_people_sharing_a_client_id_still_conflict(engine, store):
    first, second = MemoryUser("butler-a", {H1}), MemoryUser("butler-b", {H1})
    engine.sync(store, first, request(put("household", H1, {"notes": "甲"}, base=1), client=PHONE_A))
    result = engine.sync(store, second, request(put("household", H1, {"notes": "乙"}, base=1),
                                                client=PHONE_A))["results"][0]
    assert result["status"] == "conflict"


def test_a_page_never_sends_one_record_twice(engine, store, butler):
    engine.sync(store, butler, request(put("visit", "v1", {"household_id": H1})))
    cursor = engine.sync(store, butler, request())["cursor"]
    other = MemoryUser("butler-2", {H2})
    store.move_household(H1, from_user=butler, to_user=other)
    store.move_household(H1, from_user=other, to_user=butler)
    changes = engine.sync(store, butler, request(cursor=cursor))["changes"]
    keys = [(c["type"], c["id"]) for c in changes]
    assert len(keys) == len(set(keys))
    assert {c["op"] for c in changes if c["id"] == H1} == {"put"}


def test_a_delete_during_a_paged_first_sync_still_reaches_the_phone(engine, store, butler):
    engine.sync(store, butler, request(*[put("visit", f"v{i}", {"household_id": H1}) for i in range(4)]))
    first_page = engine.sync(store, butler, request(limit=2))
    sent = {c["id"] for c in first_page["changes"]}
    gone = next(i for i in sent if i.startswith("v"))
    engine.sync(store, butler, request({**put("visit", gone, {}, base=1), "op": "delete"}))
    cursor, changes = first_page["cursor"], []
    while True:
        page = engine.sync(store, butler, request(cursor=cursor, limit=2))
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert {"type": "visit", "id": gone, "op": "delete", "version": 2} in changes
