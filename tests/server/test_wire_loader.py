"""The loader compiled from each marshmallow schema (sync/wire.py compile_loader) gives exactly
what marshmallow gives: the same loaded values, or the same ValidationError messages."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, fields, validate

from server.resources.registry import registry
from sync.protocol import Limits, MutationSchema, SyncRequestSchema
from sync.wire import compile_loader

SCHEMAS = {rtype: res.wire for rtype, res in registry().items()}
SCHEMAS["mutation"] = MutationSchema()
SCHEMAS["sync_request"] = SyncRequestSchema(limits=Limits(max_limit=50))

json_scalars = st.none() | st.booleans() | st.integers(-3, 2**63) | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
datetimes = st.datetimes().map(lambda d: d.isoformat()) | st.datetimes(timezones=st.timezones()).map(
    lambda d: d.isoformat())
uuids = st.uuids().map(str)


def typed(field: fields.Field):
    """Values a client would plausibly send for a field, mostly valid, sometimes just over a limit."""
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.Integer):
        return st.integers(-2, 60) | st.sampled_from([2**62, 2**62 + 1])
    if isinstance(field, fields.Float):
        return st.floats(-10, 1000, allow_nan=False) | st.integers(0, 200)
    if isinstance(field, fields.DateTime):
        return datetimes
    if isinstance(field, fields.Date):
        return st.dates().map(lambda d: d.isoformat())
    if isinstance(field, fields.Nested):
        return records(field.schema)
    if isinstance(field, fields.List):
        return st.lists(value_for(field.inner), max_size=4) | st.lists(st.just("x"), min_size=19, max_size=52)
    if isinstance(field, fields.Dict):
        keys = st.text(max_size=6) | st.just("x" * 51)  # JSON keys are strings
        values = value_for(field.value_field) if field.value_field else json_values
        return st.dictionaries(keys, values, max_size=3)
    if isinstance(field, fields.String):
        choices = [c for v in field.validators if isinstance(v, validate.OneOf) for c in v.choices]
        if choices:
            return st.sampled_from(choices) | st.sampled_from(["x", "x" * 37])
        return uuids | st.text(max_size=12) | st.just("x" * 37)
    return json_values


def valid(field: fields.Field):
    """Values marshmallow accepts for a field (mostly: a custom validator may still refuse)."""
    bounds = {}
    for v in field.validators:
        if isinstance(v, validate.OneOf):
            return st.sampled_from(list(v.choices))
        if isinstance(v, (validate.Length, validate.Range)):
            bounds = {"min": v.min, "max": v.max}
        elif field.validators and isinstance(field, fields.String):
            return uuids  # the envelope's own uuid check
    most = bounds.get("max")
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.Integer):
        return st.integers(bounds.get("min") or 0, 2**40 if most is None else most)
    if isinstance(field, fields.Float):
        return st.floats(0, 1000, allow_nan=False)
    if isinstance(field, fields.AwareDateTime):
        return st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    if isinstance(field, fields.Nested):
        names = {(f.data_key or name): f for name, f in field.schema.load_fields.items()}
        return st.fixed_dictionaries({n: valid(f) for n, f in names.items() if f.required},
                                     optional={n: valid(f) for n, f in names.items() if not f.required})
    if isinstance(field, fields.List):
        return st.lists(valid(field.inner), max_size=min(most or 4, 4))
    if isinstance(field, fields.Dict):
        return st.dictionaries(st.text(max_size=6), valid(field.value_field) if field.value_field else json_values,
                               max_size=3)
    if isinstance(field, fields.String):
        return st.text(max_size=min(most or 12, 12))
    return typed(field)


def mostly(usual, *rare):
    """`usual` nine times in ten (one_of gives each branch the same weight, even a repeated one)."""
    others = st.one_of(*rare)
    return st.integers(0, 9).flatmap(lambda n: usual if n else others)


def value_for(field: fields.Field):
    return mostly(valid(field), typed(field), json_values)


def records(schema):
    """Dicts over the schema's fields (any subset), sometimes with an unknown key."""
    names = {(f.data_key or name): f for name, f in schema.load_fields.items()}
    optional = {name: value_for(f) for name, f in names.items()}
    required = {name: value_for(f) for name, f in names.items() if f.required}
    optional = {name: value for name, value in optional.items() if name not in required}
    full = st.fixed_dictionaries(required, optional=optional)
    return mostly(full, st.fixed_dictionaries({}, optional=optional),
                  st.fixed_dictionaries({**required, "surprise": json_values}, optional=optional))


def outcome(load, data, partial):
    try:
        return "ok", load(data, partial)
    except ValidationError as exc:
        return "error", exc.messages


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_compiled_load_equals_marshmallow(name):
    schema = SCHEMAS[name]
    compiled = compile_loader(schema)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=mostly(records(schema), json_values), partial=st.booleans())
    def check(data, partial):
        expected = outcome(lambda d, p: schema.load(d, partial=p), data, partial)
        assert outcome(compiled, data, partial) == expected

    check()


def valid_visit():
    return {"household_id": "7c1e0a2b-0000-4000-8000-000000000001", "visited_at": "2026-11-27T10:00:00+08:00",
            "kind": "routine", "checklist": {"水电气": {"ok": True}, "门窗": {"ok": False, "note": "漏风"}},
            "needs": ["保洁"], "satisfaction": 5, "products_interest": ["water"], "notes": "", "follow_up_at": None}


def test_a_valid_visit_is_loaded_without_marshmallow(monkeypatch):
    """The point of compiling: the common case never reaches marshmallow's per-field machinery."""
    schema = SCHEMAS["visit"]
    compiled = compile_loader(schema)
    expected = schema.load(valid_visit())
    monkeypatch.setattr(type(schema), "load", lambda *a, **k: pytest.fail("fell back to marshmallow"))
    assert compiled(valid_visit()) == expected


def test_an_invalid_visit_gets_marshmallows_error_codes():
    compiled = compile_loader(SCHEMAS["visit"])
    bad = {**valid_visit(), "satisfaction": 9, "checklist": {"门窗": {"ok": "maybe"}}, "nope": 1}
    with pytest.raises(ValidationError) as caught:
        compiled(bad)
    assert caught.value.messages == {"satisfaction": ["out_of_range|min=1|max=5"],
                                     "checklist": {"门窗": {"value": {"ok": ["invalid_type"]}}},
                                     "nope": ["unknown_field"]}


def test_the_request_limit_hook_runs_in_the_compiled_load():
    compiled = compile_loader(SCHEMAS["sync_request"])
    body = {"client_id": "7c1e0a2b-0000-4000-8000-000000000001", "schema": 1, "limit": 51}
    with pytest.raises(ValidationError) as caught:
        compiled(body)
    assert caught.value.messages == {"limit": ["out_of_range|min=1|max=50"]}
    assert compiled({**body, "limit": 50})["limit"] == 50


@pytest.mark.parametrize(("text", "code"), [("燃气\x00阀门", "invalid_character"), ("ok\x00", "invalid_character"),
                                            ("半个\ud83d", "invalid_unicode")])
def test_text_holding_nul_or_a_lone_surrogate_is_refused_by_the_compiled_load(text, code):
    """ASCII and non-ASCII text alike: the compiled check skips its pattern only where it cannot match."""
    compiled = compile_loader(SCHEMAS["visit"])
    with pytest.raises(ValidationError) as caught:
        compiled({**valid_visit(), "notes": text})
    assert caught.value.messages == {"notes": [code]}
