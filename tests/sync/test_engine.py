"""The sync engine on the in-memory store: what only the engine has (the envelope, its limits and
ids, messages in the caller's language). The contract's promises themselves are checked on both the
engine and the app in tests/contract/test_sync_contract.py."""
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


def test_rejection_messages_use_the_caller_s_language(engine, store, butler):
    answer = engine.sync(store, butler, request(put("visit", "bad", {"household_id": H1, "satisfaction": 9})),
                         language="en")
    assert answer["results"][0]["errors"][0]["message"] == "en:out_of_range:satisfaction"


def test_a_ticket_status_never_conflicts_its_state_machine_decides(engine, store, butler):
    engine.sync(store, butler, request(put("ticket", "t1", {"household_id": H1, "status": "new"}), client=PHONE_A))
    engine.sync(store, butler, request(put("ticket", "t1", {"status": "accepted"}, base=1), client=PHONE_A))
    result = engine.sync(store, butler, request(put("ticket", "t1", {"status": "cancelled"}, base=1),
                                                client=PHONE_B))["results"][0]
    assert result["status"] == "merged"


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

