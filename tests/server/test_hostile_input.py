"""Hostile input never answers 500, changes nothing, and in a sync batch is judged one mutation at a
time: deep nesting, lone surrogates, NUL, overlong text, wrong types, times no clock meant, numbers
past their range, bad paging, an unreadable cursor, and a value the database itself refuses."""
from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from server.community.models import Person
from server.extensions import db
from server.resources import service
from server.syncing.models import SyncMutation
from server.tickets.models import Ticket
from server.visits.models import Visit
from tests.factories import auth, complete_visit, make_community, make_grid, make_household, make_person, make_user
from tests.support.phone import Phone, put, results

VISIT_TIME = "2026-11-27T09:15:02+08:00"


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error", "message", "details"} and body["error"] == code
    return body


def field_codes(body: dict) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body["details"]["errors"]}


def count_of(model) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar()


@pytest.fixture
def world(app):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    return {"butler": butler, "household": household, "resident": resident, "person": make_person(household)}


def post_raw(client, user, path: str, raw: str | bytes):
    return client.post(path, data=raw, headers={**auth(user), "Content-Type": "application/json"})


# ---- JSON nesting and size, before parsing ------------------------------------------------------

def nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "array" else '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/sync"])
def test_json_nested_a_thousand_deep_is_a_400_malformed_json(client, world, path, kind):
    before = count_of(Ticket)
    error_of(post_raw(client, world["resident"], path, nested(1000, kind)), 400, "malformed_json")
    error_of(post_raw(client, world["resident"], path, nested(100_000, kind)), 400, "malformed_json")
    assert count_of(Ticket) == before


def test_json_nested_33_deep_is_malformed_and_32_deep_is_read(client, world):
    error_of(post_raw(client, world["resident"], "/api/v1/tickets", nested(33, "object")), 400, "malformed_json")
    body = error_of(post_raw(client, world["resident"], "/api/v1/tickets", nested(32, "object")), 422,
                    "validation_failed")
    assert field_codes(body)["a"] == "unknown_field"


def test_brackets_inside_strings_do_not_count_as_nesting(client, world):
    description = '[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{"\\"[[[['
    r = post_raw(client, world["resident"], "/api/v1/tickets",
                 json.dumps({"category": "repair", "description": description}))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["description"] == description


def test_a_json_body_over_its_limit_is_a_413(app, client, world):
    app.config["JSON_MAX_BYTES"] = 1000
    raw = json.dumps({"category": "repair", "description": "漏" * 400})
    error_of(post_raw(client, world["resident"], "/api/v1/tickets", raw), 413, "too_large")
    assert count_of(Ticket) == 0


# ---- text: lone surrogates and NUL, over REST -----------------------------------------------------

@pytest.mark.parametrize("escape, code", [("\\ud800", "invalid_unicode"), ("\\udc00x", "invalid_unicode"),
                                          ("a\\u0000b", "invalid_character")])
def test_broken_text_in_a_rest_body_is_a_422_naming_the_field(client, world, escape, code):
    raw = '{"category": "repair", "description": "%s"}' % escape
    body = error_of(post_raw(client, world["resident"], "/api/v1/tickets", raw), 422, "validation_failed")
    assert field_codes(body) == {"description": code}
    assert count_of(Ticket) == 0


def test_a_surrogate_pair_is_one_character_and_is_kept(client, world):
    r = post_raw(client, world["resident"], "/api/v1/tickets",
                 '{"category": "repair", "description": "\\ud83d\\ude00 漏水"}')
    assert r.status_code == 201 and r.get_json()["description"] == "😀 漏水"


def test_utf8_encoded_surrogates_in_a_body_are_refused(client, world):
    raw = b'{"category": "repair", "description": "\xed\xa0\x80"}'
    r = post_raw(client, world["resident"], "/api/v1/tickets", raw)
    assert r.status_code in (400, 422) and count_of(Ticket) == 0


# ---- query strings: paging ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field, code", [
    ("limit=-1", "limit", "out_of_range"), ("limit=0", "limit", "out_of_range"),
    ("limit=501", "limit", "out_of_range"), ("limit=" + "9" * 30, "limit", "invalid_type"),
    ("limit=1e3", "limit", "invalid_type"), ("limit=%D9%A3", "limit", "invalid_type"),
    ("after=" + "a" * 37, "after", "too_long"), ("status=bogus", "status", "invalid_choice"),
    ("building=%00", "building", "invalid_character"), ("after=%00", "after", "invalid_character"),
])
def test_bad_paging_and_filters_are_a_422_naming_the_parameter(client, world, query, field, code):
    path = "/api/v1/households" if "building" in query else "/api/v1/tickets"
    body = error_of(client.get(f"{path}?{query}", headers=auth(world["butler"])), 422, "validation_failed")
    assert field_codes(body) == {field: code}


def test_a_delete_with_a_version_that_is_no_integer_is_a_422(client, world):
    r = client.delete(f"/api/v1/persons/{world['person'].id}?version=" + "1" * 40, headers=auth(world["butler"]))
    assert field_codes(error_of(r, 422, "validation_failed")) == {"version": "invalid_type"}
    assert count_of(Person) == 1


# ---- sync: each hostile value beside a valid mutation ----------------------------------------------------

def new_visit(world, **fields):
    return put("visit", str(uuid.uuid4()), complete_visit({"household_id": world["household"].id, "visited_at": VISIT_TIME, **fields}))


HOSTILE_MUTATIONS = {
    # name: (mutation maker, the field named, its code)
    "visit time in year 9999 at -14:00": (lambda w: new_visit(w, visited_at="9999-12-31T23:59:59-14:00"),
                                          "visited_at", "out_of_range"),
    "visit time in 1999": (lambda w: new_visit(w, visited_at="1999-12-31T23:00:00+00:00"), "visited_at",
                           "out_of_range"),
    "device time in year 1 at +14:00": (lambda w: {**new_visit(w), "at": "0001-01-01T00:00:00+14:00"}, "at",
                                        "out_of_range"),
    "device time in year 9999": (lambda w: {**new_visit(w), "at": "9999-12-31T23:59:59-14:00"}, "at",
                                 "out_of_range"),
    "a name with a lone surrogate": (lambda w: put("person", w["person"].id, {"name": "\ud800"}), "name",
                                     "invalid_unicode"),
    "a name with NUL": (lambda w: put("person", w["person"].id, {"name": "a\x00b"}), "name", "invalid_character"),
    "a new person's name with a lone low surrogate": (
        lambda w: put("person", str(uuid.uuid4()), {"household_id": w["household"].id, "name": "王\udc00"}),
        "name", "invalid_unicode"),
    "notes of a megabyte": (lambda w: new_visit(w, notes="x" * 1_000_000), "notes", "too_long"),
    "satisfaction as text": (lambda w: new_visit(w, satisfaction="4"), "satisfaction", "invalid_type"),
    "satisfaction as a float": (lambda w: new_visit(w, satisfaction=4.0), "satisfaction", "invalid_type"),
    "satisfaction as true": (lambda w: new_visit(w, satisfaction=True), "satisfaction", "invalid_type"),
    "a million for satisfaction": (lambda w: new_visit(w, satisfaction=10**6), "satisfaction", "out_of_range"),
    # Past 64 bits JSON parsers read a float (orjson too): no integer the field could take.
    "satisfaction past 64 bits": (lambda w: new_visit(w, satisfaction=10**30), "satisfaction", "invalid_type"),
    "an area past any float": (lambda w: put("household", w["household"].id, {"area_m2": 10**400}), "area_m2",
                               "invalid_type"),
    "an area as text": (lambda w: put("household", w["household"].id, {"area_m2": "1.5"}), "area_m2", "invalid_type"),
    "consent as text": (lambda w: put("person", w["person"].id, {"consent": "true"}), "consent", "invalid_type"),
    "consent as 1": (lambda w: put("person", w["person"].id, {"consent": 1}), "consent", "invalid_type"),
    "an unknown visit kind": (lambda w: new_visit(w, kind="bogus"), "kind", "invalid_choice"),
    "a name that is a list": (lambda w: put("person", w["person"].id, {"name": ["王"]}), "name", "invalid_type"),
    "needs holding an object": (lambda w: new_visit(w, needs=[{"a": 1}]), "needs.0", "invalid_type"),
}


def send_raw_batch(client, user, mutations) -> dict:
    """The batch as the standard library writes it (a lone surrogate as an escape, not an error)."""
    body = json.dumps({"client_id": str(uuid.uuid4()), "schema": 1, "cursor": None, "mutations": mutations})
    r = post_raw(client, user, "/api/v1/sync", body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_json()


@pytest.mark.parametrize("case", list(HOSTILE_MUTATIONS))
def test_a_hostile_value_is_rejected_alone_and_the_valid_mutation_beside_it_applies(client, world, case):
    make_bad, field, code = HOSTILE_MUTATIONS[case]
    good, bad = new_visit(world, notes="好"), make_bad(world)
    answer = send_raw_batch(client, world["butler"], [good, bad])
    first, second = answer["results"]
    assert first == {"mid": good["mid"], "status": "applied", "version": 1}
    assert second["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in second["errors"]] == [(field, code)]
    assert db.session.get(Visit, good["id"]) is not None
    assert db.session.get(Person, world["person"].id).name == "王芳"
    # The phone's outbox moves on: both are answered for good, the same again on a resend.
    again = send_raw_batch(client, world["butler"], [good, bad])["results"]
    assert [r["status"] for r in again] == ["applied", "rejected"]
    assert count_of(SyncMutation) == 2


def test_an_unreadable_cursor_starts_the_phone_over_instead_of_failing(client, world):
    for cursor in ("abc.é", "é", "abc.def", ".", "\u00e9" * 400):
        body = Phone(client, world["butler"]).sync(cursor=cursor).get_json()
        assert body["reset"] is True, cursor


# ---- a value the database refuses after every check passed -------------------------------------------

@pytest.fixture
def poison(monkeypatch):
    """Values that pass the schema but that the database refuses: a note reading "poison" turns into a
    visit kind outside the column's CHECK constraint, as a check forgotten in the schema would let in."""
    real = service.load_fields

    def load_fields(user, rtype, data, *, creating):
        values = real(user, rtype, data, creating=creating)
        if values.get("notes") == "poison":
            values["kind" if rtype == "visit" else "status"] = "not-a-kind"
        return values

    monkeypatch.setattr(service, "load_fields", load_fields)


@pytest.mark.parametrize("rtype", ["visit", "household"])
def test_a_database_error_on_one_mutation_rejects_it_alone(client, world, poison, rtype):
    """The visit is written the fast, set-based way (the failure comes at the batch's end); the
    household in a savepoint of its own. Either way the batch is redone without it."""
    bad = (new_visit(world, notes="poison") if rtype == "visit"
           else put("household", world["household"].id, {"notes": "poison"}))
    before, after = new_visit(world, notes="先"), new_visit(world, notes="后")
    answer = results(Phone(client, world["butler"]).sync(before, bad, after))
    assert [r["status"] for r in answer] == ["applied", "rejected", "applied"]
    assert [(e["field"], e["code"]) for e in answer[1]["errors"]] == [(None, "not_storable")]
    assert answer[1]["errors"][0]["message"]
    assert db.session.get(Visit, before["id"]) and db.session.get(Visit, after["id"])
    assert db.session.get(Visit, bad["id"]) is None
    assert count_of(SyncMutation) == 3
