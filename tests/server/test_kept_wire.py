"""Each record's kept wire form (server/resources/kept_wire.py): written with the record, sent as it
is by the pull when it is the record's version, never when it is stale or for a viewer with hidden
fields. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import uuid

import orjson
import sqlalchemy as sa

from server import jsonio
from server.audit.service import personal_fields
from server.community.models import Household, Person
from server.custody.models import CustodyContract
from server.extensions import db
from server.resources import kept_wire
from server.syncing.store import _row_dumper, _wire_rows
from server.tickets import sla
from server.tickets.models import Ticket
from server.visits.models import Visit
from tests.factories import auth, complete_visit
from tests.support.phone import PHONE_B, Phone, put, results
from tests.server.test_sync import world  # noqa: F401 - the fixture

VISIT = {"satisfaction": 4, "visited_at": "2026-11-27T09:15:02+08:00", "checklist": {"water": {"ok": True}},
         "notes": "厨房漏水 🚰"}


def columns_dump(rtype: str, rid: str) -> dict:
    """The record as the pull dumps it from its columns."""
    row = db.session.connection().execute(_wire_rows(rtype, db.engine.dialect.name), {"ids": [rid]}).one()
    return _row_dumper(rtype, frozenset())(row)


def kept(model, rid: str) -> tuple[str | None, int | None, int]:
    db.session.rollback()
    return db.session.execute(sa.select(model.wire, model.wire_version, model.version).where(model.id == rid)).one()


def set_kept(model, rid: str, text: str | None, version_offset: int = 0) -> None:
    db.session.execute(sa.update(model).where(model.id == rid).values(wire=text, wire_version=model.version + version_offset))
    db.session.commit()


def sent(changes: list[dict], rid: str) -> dict:
    (change,) = [c for c in changes if c["id"] == rid and c["op"] == "put"]
    return change


def test_the_household_file_keeps_no_second_copy():
    assert kept_wire.keeping() == {"visit", "touchpoint", "ticket", "order", "notice", "checkin", "team", "incident",
                                   "custody_inspection"}
    assert not kept_wire.keeping() & set(personal_fields())
    for model in (Household, Person, CustodyContract):
        assert "wire" not in model.__table__.columns


def test_a_pushed_visit_keeps_its_wire_form_through_create_and_update(app, client, world):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    vid = str(uuid.uuid4())
    assert results(phone.sync(put("visit", vid, complete_visit({"household_id": world["h1"].id, **VISIT}))))[0]["status"] == "applied"
    text, at_version, version = kept(Visit, vid)
    assert (at_version, version) == (1, 1)
    # Defaults the phone left out (kind, needs, …) and times in UTC, as the columns give them back.
    assert orjson.loads(text) == columns_dump("visit", vid)
    assert orjson.loads(text)["visited_at"] == "2026-11-27T01:15:02+00:00"

    assert results(phone.sync(put("visit", vid, {"notes": "修好了"}, base=1)))[0]["status"] == "applied"
    text, at_version, version = kept(Visit, vid)
    assert (at_version, version) == (2, 2)
    assert orjson.loads(text) == columns_dump("visit", vid) and orjson.loads(text)["notes"] == "修好了"


def test_a_rest_write_and_an_escalation_keep_it_too(app, client, world):
    created = client.post("/api/v1/tickets", json={"household_id": world["h1"].id, "category": "repair",
                                                   "description": "电梯异响"}, headers=auth(world["b1"]))
    assert created.status_code == 201, created.get_json()
    tid = created.get_json()["id"]
    changed = client.patch(f"/api/v1/tickets/{tid}", json={"description": "电梯异响，三楼"},
                           headers=auth(world["supervisor"]))
    assert changed.status_code == 200, changed.get_json()
    text, at_version, version = kept(Ticket, tid)
    assert at_version == version == 2 and orjson.loads(text) == columns_dump("ticket", tid)

    sla.escalate_now(db.session, db.session.get(Ticket, tid), "accept")
    db.session.commit()
    text, at_version, version = kept(Ticket, tid)
    assert at_version == version == 3 and orjson.loads(text)["escalated"] == "accept"
    assert orjson.loads(text) == columns_dump("ticket", tid)


def test_the_pull_sends_the_kept_text_as_it_is(app, client, world):
    app.config["SYNC_CHECK_KEPT_WIRE"] = False  # the marker below is not the columns' dump, on purpose
    vid = world["visit"].id
    marked = {**columns_dump("visit", vid), "notes": "kept, not dumped"}
    set_kept(Visit, vid, json.dumps(marked, ensure_ascii=False))
    assert sent(Phone(client, world["b1"]).pull_all(), vid)["data"] == marked


def test_a_stale_or_missing_kept_form_is_never_sent(app, client, world):
    app.config["SYNC_CHECK_KEPT_WIRE"] = False
    vid = world["visit"].id
    set_kept(Visit, vid, json.dumps({"notes": "stale"}), version_offset=-1)  # made at an older version
    assert sent(Phone(client, world["b1"]).pull_all(), vid)["data"] == columns_dump("visit", vid)
    set_kept(Visit, vid, None)  # written before records kept one
    assert sent(Phone(client, world["b1"], client_id=PHONE_B).pull_all(), vid)["data"] == columns_dump("visit", vid)


def test_a_viewer_with_hidden_fields_is_sent_the_columns_without_them(app, client, world):
    app.config["SYNC_CHECK_KEPT_WIRE"] = False
    created = client.post("/api/v1/tickets", json={"household_id": world["h1"].id, "category": "repair",
                                                   "description": "水管"}, headers=auth(world["resident"]))
    tid = created.get_json()["id"]
    set_kept(Ticket, tid, json.dumps({**columns_dump("ticket", tid), "backoffice_rating": 1}))
    data = sent(Phone(client, world["resident"]).pull_all(), tid)["data"]
    hidden = {"backoffice_rating", "handoff_note", "handoffs"}  # the resident's hidden fields
    assert "backoffice_rating" not in data and data == {k: v for k, v in columns_dump("ticket", tid).items()
                                                        if k not in hidden}


def test_the_tests_own_check_catches_a_kept_form_that_is_not_the_record(app, client, world):
    assert app.config["SYNC_CHECK_KEPT_WIRE"]  # on in every test of the suite (tests/support/app.py)
    vid = world["visit"].id
    set_kept(Visit, vid, json.dumps({**columns_dump("visit", vid), "satisfaction": 1}))
    assert Phone(client, world["b1"]).sync().status_code == 500


def test_a_record_orjson_cannot_write_keeps_none():
    row = {"id": "x", "version": 1, "household_id": "h", "visited_at": None, "notes": "", "satisfaction": 2 ** 70}
    assert kept_wire.text_of("visit", row) is None
    kept_wire.keep_row("visit", row)
    assert row["wire"] is None and row["wire_version"] is None


def test_kept_text_goes_into_an_answer_unparsed_and_through_the_fallback_parsed(app):
    text = '{"b":1,"a":[true,null]}'
    assert jsonio.body({"data": jsonio.JsonText(text)}) == b'{"data":' + text.encode() + b"}"
    # An integer beyond 64 bits sends the answer through the standard library, which parses it.
    assert json.loads(jsonio.body({"n": 2 ** 70, "data": jsonio.JsonText(text)})) == {
        "n": 2 ** 70, "data": {"b": 1, "a": [True, None]}}
    assert json.loads(app.json.dumps({"data": jsonio.JsonText(text)})) == {"data": {"b": 1, "a": [True, None]}}
