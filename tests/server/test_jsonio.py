"""orjson on the wire writes what Flask's default provider writes, and reads JSON columns back."""
from __future__ import annotations

import datetime
import decimal
import json
import uuid

import sqlalchemy as sa
from flask.json.provider import DefaultJSONProvider

from server import jsonio
from server.jsonio import OrjsonProvider

SAMPLES = [
    {"b": 1, "a": "翠湖花园 3 栋", "nested": {"z": [1, 2.5, None, True], "y": {}}},
    {"when": datetime.datetime(2026, 11, 27, 9, 30, tzinfo=datetime.timezone.utc), "day": datetime.date(2026, 1, 2)},
    {"id": uuid.UUID("7c1e0a2b-0000-4000-8000-000000000001"), "money": decimal.Decimal("12.50")},
    {"huge": 2**70, "list": ["x"]},  # beyond orjson: the standard library writes it
    [1, "二", {"三": 3}],
]


def test_compact_output_equals_the_default_providers(app):
    ours, theirs = OrjsonProvider(app), DefaultJSONProvider(app)
    theirs.ensure_ascii = False
    for sample in SAMPLES:
        assert json.loads(ours.dumps(sample, separators=(",", ":"))) == json.loads(
            theirs.dumps(sample, separators=(",", ":")))
        assert list(json.loads(ours.dumps(sample)) if isinstance(sample, dict) else []) == sorted(
            sample if isinstance(sample, dict) else [])


def test_a_body_says_what_the_provider_says_in_the_order_it_was_built(app):
    theirs = DefaultJSONProvider(app)
    with app.app_context():
        for sample in SAMPLES:
            written = jsonio.body(sample)
            assert isinstance(written, bytes)
            assert json.loads(written) == json.loads(theirs.dumps(sample))
        assert list(json.loads(jsonio.body({"b": 1, "a": 2, "c": 3}))) == ["b", "a", "c"]
        assert "翠湖花园" in jsonio.body(SAMPLES[0]).decode()


def test_answers_keep_chinese_readable(client):
    with client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"}) as response:
        assert response.status_code == 401
        text = response.get_data(as_text=True)
    assert "\\u" not in text and any("\u4e00" <= ch <= "\u9fff" for ch in json.loads(text)["message"])


def test_json_columns_are_read_back_as_written(app, session):
    from tests.factories import make_community, make_grid, make_household, make_user, make_visit

    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    checklist = {"门窗": {"ok": False, "note": "漏风 \"旧\""}, "水电气": {"ok": True}}
    visit = make_visit(household, butler, checklist=checklist, needs=["保洁", "送水"])
    session.expire_all()
    from server.visits.models import Visit

    row = session.execute(sa.select(Visit.checklist, Visit.needs).where(Visit.id == visit.id)).one()
    assert row.checklist == checklist and row.needs == ["保洁", "送水"]
