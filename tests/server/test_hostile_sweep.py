"""A sweep of the whole API: every operation of the API reference (server/openapi) is sent hostile
input in each place it reads input — its body's fields, its query parameters, its path — and each
answer must be a 4xx in the one error shape, with no row of any table added or removed.

The catalogue: nesting past the limit, a lone surrogate, NUL, a megabyte of text, wrong types,
unknown enum values, integers past 64 bits, numbers below their minimum (negative paging), times no
clock meant. Each field gets the values that are wrong for its declared type, one at a time (the
others left out), so a value the server wrongly took would show as a 2xx or as a row added; the
records named in paths exist, so a PATCH that took a hostile value would change a real record."""
from __future__ import annotations

import itertools
import json
import re
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from server.extensions import db
from tests.factories import (make_community, make_grid, make_household, make_order, make_person, make_team,
                             make_ticket, make_touchpoint, make_user, make_visit, token_for)

DEEP = "[" * 40 + "]" * 40
MEGABYTE = "x" * 1_000_000
HUGE = 10**30
# Routes whose records hang on a household: sent by the butler who holds it; the rest by an admin.
BUTLER_WRITES = {"households", "persons", "visits", "touchpoints", "tickets", "orders", "attachments", "checkins"}


def hostile_values(schema: dict, spec: dict) -> list:
    """Values that are wrong for a field of this (OpenAPI) schema."""
    schema = resolve(schema, spec)
    kinds = schema.get("type", "string")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    out: list = []
    if "enum" in schema:
        out += ["bogus-choice", "a\x00b"]
    if "string" in kinds:
        out += ["\ud800", "a\x00b", {"a": [1]}, HUGE]
        out.append("x" * (schema["maxLength"] + 1) if "maxLength" in schema else MEGABYTE)
        if schema.get("format") == "date-time":
            out += ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-11-27T09:15:02"]
        if schema.get("format") == "date":
            out += ["9999-12-31", "0001-01-01"]
    if "integer" in kinds:
        out += ["4", 4.5, HUGE, True, [1]]
        if "minimum" in schema:
            out.append(schema["minimum"] - 1)
    if "number" in kinds:
        out += ["1.5", 10**400, [1]]
    if "boolean" in kinds:
        out += ["true", 1]
    if "array" in kinds:
        out += ["x", [{"a": [1]}], ["\ud800"]]
    if "object" in kinds:
        out += ["x", [1], {"\ud800": 1}]
    return out


def resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:  # (nullable refs and the like: the first concrete branch)
            branches = [resolve(s, spec) for s in schema[key] if s.get("type") != "null"]
            return branches[0] if branches else schema
    return schema


def hostile_query_values(schema: dict) -> list[str]:
    """Values that are wrong for a query parameter of this schema (all text: a URL has no types)."""
    kind = schema.get("type", "string")
    if "enum" in schema:
        return ["bogus-choice", "a\x00b"]
    if kind == "integer":
        return ["-1", "4.5", "9" * 30, "abc", "1e3"]  # -1: negative paging (and no version is below 0)
    if kind == "number":
        return ["abc", "nan", "1e999"]
    return ["a\x00b", "x" * 5000]  # no id, code or filter is anywhere near 5,000 characters


def table_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in db.metadata.sorted_tables}


@pytest.fixture
def world(app):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    grid = make_grid(community, butler)
    household = make_household(community, grid)
    team = make_team(community)
    records = {"households": household, "persons": make_person(household), "visits": make_visit(household, butler),
               "touchpoints": make_touchpoint(household, butler), "tickets": make_ticket(household),
               "orders": make_order(household), "communities": community, "grids": grid, "teams": team}
    users = {"butler": butler, "admin": make_user("admin")}
    tokens = {role: {"Authorization": f"Bearer {token_for(user)}"} for role, user in users.items()}
    return {"records": records, "tokens": tokens}


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield path, method, op, [*item.get("parameters", []), *op.get("parameters", [])]


def filled(path: str, world) -> tuple[str, str]:
    """The path with real ids where the API has such a record, and who sends it."""
    first = path.strip("/").split("/")[0]
    record = world["records"].get(first)
    role = "butler" if first in BUTLER_WRITES else "admin"
    real = re.sub(r"\{[^}]+\}", lambda _: record.id if record is not None else str(uuid.uuid4()), path)
    return "/api/v1" + real, role


def test_every_operation_answers_hostile_input_with_a_4xx_and_changes_nothing(app, client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    before = table_counts()
    sent, wrong = 0, []
    turn = itertools.count()

    def check(method: str, url: str, role: str, **kwargs) -> None:
        nonlocal sent
        sent += 1
        r = client.open(url, method=method.upper(), headers={**world["tokens"][role], **kwargs.pop("headers", {})},
                        **kwargs)
        body = r.get_json(silent=True) if r.mimetype == "application/json" else None
        shaped = isinstance(body, dict) and {"error", "message", "details"} <= set(body)
        if not (400 <= r.status_code < 500 and shaped):
            wrong.append(f"{method.upper()} {url[:120]} {str(kwargs.get('data', ''))[:80]!r} -> {r.status_code} "
                         f"{r.get_data(as_text=True)[:160]}")

    for path, method, op, params in operations(spec):
        url, role = filled(path, world)
        if method == "delete" and not [p for p in params if p["in"] == "query"]:
            url = re.sub(r"/[^/]+$", "/" + quote("\x00"), url)  # no query to spoil: spoil the path
        if path == "/docs/{name}" or path.startswith("/openapi") or path == "/docs":
            continue  # static pages of the reference itself
        body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body_schema is not None:
            json_headers = {"Content-Type": "application/json"}
            check(method, url, role, data=DEEP, headers=json_headers)
            for name, field in resolve(body_schema, spec).get("properties", {}).items():
                if field.get("readOnly"):
                    continue
                values = hostile_values(field, spec)
                for value in values[next(turn) % 3::3]:  # a third of them, the next third on the next field
                    check(method, url, role, data=json.dumps({name: value}), headers=json_headers)
        for param in params:
            if param["in"] != "query":
                continue
            for value in hostile_query_values(param.get("schema", {})):
                separator = "&" if "?" in url else "?"
                check(method, f"{url}{separator}{param['name']}={quote(value)}", role)
        if method == "get" and "{" in path:
            check(method, re.sub(r"/[^/]+$", "/" + quote("\x00"), url), role)
            check(method, re.sub(r"/[^/]+$", "/" + "x" * 5000, url), role)

    assert sent > 300  # (about 650)
    assert not wrong, f"{len(wrong)} of {sent} answers were not a 4xx in the error shape:\n" + "\n".join(wrong)
    assert table_counts() == before
