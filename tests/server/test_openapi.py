"""The API reference: GET /api/v1/openapi.json describes every /api/v1 route, in OpenAPI 3.1, and
what it says is what the API really answers; GET /api/v1/docs renders it with files the app serves."""
from __future__ import annotations

import copy
import json
import re
import uuid

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from server.openapi import ASSETS, document
from server.resources.registry import registry
from tests.factories import auth, make_community, make_grid, make_household, make_ticket, make_user, PASSWORD

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec(client):
    answer = client.get("/api/v1/openapi.json")  # no token: the reference is public
    assert answer.status_code == 200
    return answer.get_json()


def conforms(spec: dict, name: str, instance) -> None:
    """Raise unless `instance` is valid against the document's component `name`."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(instance)


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(spec).validate()


def _template(rule: str, base: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z0-9_]+)>", r"{\1}", rule[len(base):])


def undescribed(app, spec) -> list[str]:
    """Each route and method under the API's base that the document does not describe."""
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    base = spec["servers"][0]["url"]
    plurals = [res.plural for res in registry().values()]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(base + "/"):
            continue
        template = _template(rule.rule, base)
        # The generic collections are described once per record type.
        paths = [template.replace("{plural}", p) for p in plurals] if "{plural}" in template else [template]
        for path in paths:
            for method in sorted(rule.methods - IGNORED_METHODS):
                if (path, method) not in described:
                    missing.append(f"{method} {base}{path}")
    return missing


def test_every_reference_names_a_schema_the_document_defines(spec):
    named = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert named and named <= set(spec["components"]["schemas"]), sorted(named - set(spec["components"]["schemas"]))


def test_every_api_route_and_method_is_described(app, spec):
    assert undescribed(app, spec) == []
    # And nothing is described that the app does not serve.
    base = spec["servers"][0]["url"]
    served = {_template(r.rule, base).replace("{plural}", p) for r in app.url_map.iter_rules()
              if r.rule.startswith(base + "/") for p in [res.plural for res in registry().values()]}
    assert set(spec["paths"]) <= served


def test_a_route_left_out_of_the_document_is_noticed(app, spec):
    """The check above has teeth: a route, or one method of it, missing from the document is reported."""
    partial = copy.deepcopy(spec)
    del partial["paths"]["/follow-ups"]
    del partial["paths"]["/tickets/{record_id}"]["patch"]
    assert undescribed(app, partial) == ["GET /api/v1/follow-ups", "PATCH /api/v1/tickets/{record_id}"]


def test_every_error_answer_points_to_the_one_error_shape(spec):
    for response in spec["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["$ref"].startswith("#/components/responses/"), (method, path, status)
                    assert spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]


def test_real_errors_match_the_error_schema(client, spec):
    user = make_user("butler")
    headers = {**auth(user), "Accept-Language": "en"}
    answers = [
        client.get("/api/v1/tickets/nope", headers=headers),  # 404
        client.post("/api/v1/tickets", data="{", headers=headers),  # 400
        client.post("/api/v1/tickets", json={"category": "nope", "x": 1}, headers=headers),  # 422, per field
        client.get("/api/v1/me"),  # 401
        client.post("/api/v1/sync", json={"client_id": str(uuid.uuid4()), "schema": 0}, headers=headers),  # 426
    ]
    assert [a.status_code for a in answers] == [404, 400, 422, 401, 426]
    for answer in answers:
        conforms(spec, "Error", answer.get_json())
    assert answers[2].get_json()["details"]["errors"]


def test_the_security_scheme_is_the_bearer_token(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {
        **spec["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearer": []}]
    assert spec["paths"]["/auth/login"]["post"]["security"] == []
    assert spec["paths"]["/health"]["get"]["security"] == []
    assert "security" not in spec["paths"]["/sync"]["post"]  # the document's default: the token


def test_the_document_is_built_once_per_app(app, client):
    assert document(app) is document(app)
    assert client.get("/api/v1/openapi.json").get_json() == document(app)


def test_a_ticket_as_served_matches_its_schema(client, spec):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    ticket = make_ticket(household)
    schema = spec["components"]["schemas"]["Ticket"]
    for user, hidden in ((butler, set()), (resident, {"backoffice_rating", "handoff_note", "handoffs"})):
        answer = client.get(f"/api/v1/tickets/{ticket.id}", headers=auth(user))
        assert answer.status_code == 200
        record = answer.get_json()
        conforms(spec, "Ticket", record)
        # Exactly the fields the schema knows, all that are always there, less what the role may not see.
        assert set(record) == set(schema["properties"]) - hidden
        assert set(schema["required"]) <= set(record)
    assert "backoffice_rating" not in schema["required"]
    listed = client.get("/api/v1/tickets", headers=auth(butler)).get_json()
    assert listed["items"] and listed["next"] is None
    for item in listed["items"]:
        conforms(spec, "Ticket", item)


def test_every_record_type_has_its_three_shapes(spec):
    schemas = spec["components"]["schemas"]
    for res in registry().values():
        name = "".join(part.capitalize() for part in res.type.split("_"))
        assert {name, f"{name}New", f"{name}Changes"} <= set(schemas)
        # What a client may not write is not offered for writing: the server refuses it as unknown.
        written = set(schemas[f"{name}New"]["properties"]) - {res.key}
        assert written == {k for k, f in res.wire.load_fields.items()}
        assert schemas[f"{name}New"]["additionalProperties"] is False


def test_login_and_sync_answers_match_their_schemas(client, spec):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    make_household(community, make_grid(community, butler))
    login = client.post("/api/v1/auth/login", json={"username": butler.username, "password": PASSWORD})
    assert login.status_code == 200
    conforms(spec, "LoginAnswer", login.get_json())
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    body = {"client_id": str(uuid.uuid4()), "schema": 1, "cursor": None,
            "mutations": [{"mid": str(uuid.uuid4()), "type": "checkin", "id": str(uuid.uuid4()), "op": "put",
                           "fields": {"kind": "nope", "at": "2026-11-27T09:15:02+08:00"},
                           "at": "2026-11-27T09:15:02+08:00"}]}
    conforms(spec, "SyncRequest", body)
    answer = client.post("/api/v1/sync", json=body, headers=headers)
    assert answer.status_code == 200
    conforms(spec, "SyncResponse", answer.get_json())
    assert answer.get_json()["results"][0]["status"] == "rejected"
    assert answer.get_json()["changes"]
    for path, name in (("/api/v1/me", "User"), ("/api/v1/me/devices", "Devices"),
                       ("/api/v1/visit-template", "ChecklistTemplate"), ("/api/v1/notifications", "Notifications")):
        reply = client.get(path, headers=headers)
        assert reply.status_code == 200, path
        conforms(spec, name, reply.get_json())


def test_the_reference_page_loads_with_files_the_app_serves(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # no inline script: the policy allows none
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    files = [ref for ref in referenced if ref.startswith("docs/")]
    assert {"docs/swagger-ui-bundle.js", "docs/docs.js", "docs/swagger-ui.css"} <= set(files)
    assert "openapi.json" in html
    for ref in referenced:
        assert not ref.startswith(("http:", "https:", "//")), ref  # nothing from elsewhere: works offline
        asset = client.get(f"/api/v1/{ref}")
        assert asset.status_code == 200, ref
        assert asset.get_data()
    assert client.get("/api/v1/docs/swagger-ui-bundle.js").mimetype == "text/javascript"
    assert client.get("/api/v1/docs/swagger-ui.css").mimetype == "text/css"
    assert client.get("/api/v1/docs/swagger-ui-LICENSE.txt").status_code == 200
    assert set(ASSETS) >= {ref.removeprefix("docs/") for ref in files}


def test_only_the_reference_files_can_be_named(client):
    for name in ("index.html", "..", "%2e%2e%2fsetup.py", "swagger-ui.js.map", "nope.js"):
        answer = client.get(f"/api/v1/docs/{name}")
        assert answer.status_code == 404, name
        assert answer.get_json()["error"] == "not_found"


def test_the_sync_page_size_bounds_are_the_server_s_setting(app, spec):
    limit = spec["components"]["schemas"]["SyncRequest"]["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, app.config["SYNC_MAX_LIMIT"])
    envelope = spec["components"]["schemas"]["SyncRequest"]["properties"]
    assert envelope["client_id"]["format"] == "uuid"
