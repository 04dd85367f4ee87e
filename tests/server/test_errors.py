"""Every API error is JSON shaped {"error", "message", "details"}, in the caller's language."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server import create_app
from server.community.models import Household, Person
from server.extensions import db
from server.visits.models import Visit
from tests.support.app import POSTGRES_URL, base_config
from tests.support.needs import need
from tests.factories import (auth, token_for, make_community, make_grid, make_household, make_person, make_user,
                             make_visit)

VISIT_TIME = "2026-11-01T10:00:00+08:00"


# ---- helpers ----------------------------------------------------------------------------------

def error_of(response, status: int, code: str) -> dict:
    """The response's error body, after checking its status, media type, shape and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message", "details"}
    assert isinstance(body["details"], dict)
    assert isinstance(body["message"], str) and body["message"]
    assert body["error"] == code
    return body


def field_errors(body: dict) -> dict[str, str]:
    """details.errors as {field: code}, after checking each entry's shape."""
    errors = body["details"]["errors"]
    for entry in errors:
        assert set(entry) == {"field", "code", "message"} and entry["message"]
    return {entry["field"]: entry["code"] for entry in errors}


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def committed(statement):
    """What another connection sees: only what was committed."""
    with db.engine.connect() as conn:
        return conn.execute(statement).scalar()


def count_of(model) -> int:
    return committed(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def community(app):
    return make_community()


@pytest.fixture
def butler(community):
    return make_user("butler", community_id=community.id)


@pytest.fixture
def household(community, butler):
    """A household in the butler's grid."""
    return make_household(community, make_grid(community, butler))


@pytest.fixture
def other_household(community):
    """A household in the same community, in a grid that is not the butler's."""
    return make_household(community, make_grid(community))


# ---- 400 --------------------------------------------------------------------------------------

def test_malformed_json_is_a_400_with_code_malformed_json(client, butler):
    r = client.post("/api/v1/persons", data="{not json", content_type="application/json",
                    headers=auth(butler))
    error_of(r, 400, "malformed_json")


def test_malformed_json_on_login_is_a_400_too(client):
    r = client.post("/api/v1/auth/login", data=b"\xff\xfe{", content_type="application/json")
    error_of(r, 400, "malformed_json")


def test_an_empty_body_where_json_is_required_is_a_400(client, butler):
    r = client.post("/api/v1/persons", data="", content_type="application/json", headers=auth(butler))
    error_of(r, 400, "malformed_json")


# ---- language ---------------------------------------------------------------------------------

def test_error_messages_are_chinese_by_default(client):
    body = error_of(client.get("/api/v1/me"), 401, "unauthorized")
    assert is_chinese(body["message"])


def test_error_messages_are_english_for_accept_language_en(client):
    body = error_of(client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.9"}),
                    401, "unauthorized")
    assert body["message"].isascii()


def test_a_chinese_accept_language_keeps_chinese_messages(client):
    body = error_of(client.get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}),
                    401, "unauthorized")
    assert is_chinese(body["message"])


def test_a_user_who_chose_english_gets_english_errors_without_accept_language(client, household,
                                                                              other_household):
    reader = make_user("butler", language="en")
    r = client.get(f"/api/v1/households/{other_household.id}", headers=auth(reader))
    assert error_of(r, 403, "forbidden")["message"].isascii()


def test_field_error_messages_follow_the_callers_language(client, butler, household):
    visit = {"household_id": household.id, "visited_at": VISIT_TIME, "satisfaction": 9}
    zh = error_of(client.post("/api/v1/visits", json=visit, headers=auth(butler)), 422, "validation_failed")
    en = error_of(client.post("/api/v1/visits", json=visit, headers={**auth(butler), "Accept-Language": "en"}),
                  422, "validation_failed")
    assert is_chinese(zh["details"]["errors"][0]["message"])
    assert en["details"]["errors"][0]["message"].isascii()


# ---- 401 --------------------------------------------------------------------------------------

def test_a_request_without_a_token_is_a_401(client):
    error_of(client.get("/api/v1/households"), 401, "unauthorized")


def test_a_request_with_an_unknown_token_is_a_401(client):
    r = client.get("/api/v1/households", headers={"Authorization": "Bearer not-a-real-token"})
    error_of(r, 401, "invalid_token")


def test_a_token_in_the_wrong_scheme_is_a_401(client, butler):
    token = auth(butler)["Authorization"].split(" ", 1)[1]
    error_of(client.get("/api/v1/households", headers={"Authorization": f"Basic {token}"}),
             401, "unauthorized")


def test_a_401_tells_the_client_to_use_a_bearer_token(client):
    r = client.get("/api/v1/households")
    error_of(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


# ---- 403 --------------------------------------------------------------------------------------

def test_reading_a_household_outside_ones_grids_is_a_403(client, butler, other_household):
    error_of(client.get(f"/api/v1/households/{other_household.id}", headers=auth(butler)), 403, "forbidden")


def test_writing_a_person_into_a_household_outside_ones_grids_is_a_403(client, butler, other_household):
    r = client.post("/api/v1/persons", json={"household_id": other_household.id, "name": "李雷"},
                    headers=auth(butler))
    error_of(r, 403, "forbidden")


# ---- 404 --------------------------------------------------------------------------------------

def test_an_unknown_record_is_a_404(client, butler):
    error_of(client.get(f"/api/v1/households/{uuid.uuid4()}", headers=auth(butler)), 404, "not_found")


def test_an_unknown_record_type_is_a_404(client, butler):
    error_of(client.get("/api/v1/spaceships", headers=auth(butler)), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/v2/households", "/api/v1/households/a/b/c"])
def test_an_unknown_path_under_api_is_a_json_404_not_an_html_page(client, butler, path):
    r = client.get(path, headers=auth(butler))
    error_of(r, 404, "not_found")
    assert b"<html" not in r.get_data().lower()


def test_a_deleted_record_is_a_404(client, butler, household):
    person = make_person(household, deleted=True)
    error_of(client.get(f"/api/v1/persons/{person.id}", headers=auth(butler)), 404, "not_found")


# ---- 405 --------------------------------------------------------------------------------------

def test_an_unsupported_method_is_a_405(client):
    error_of(client.delete("/api/v1/health"), 405, "method_not_allowed")


def test_a_405_names_the_allowed_methods(client, butler, household):
    r = client.put(f"/api/v1/households/{household.id}", json={}, headers=auth(butler))
    error_of(r, 405, "method_not_allowed")
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in r.headers["Allow"].split(",")}


# ---- 409 --------------------------------------------------------------------------------------

def test_a_patch_with_a_stale_version_is_a_409_naming_the_current_version(client, butler, household):
    headers = auth(butler)
    first = client.patch(f"/api/v1/households/{household.id}", json={"notes": "第一次", "version": 1},
                         headers=headers)
    assert first.status_code == 200 and first.get_json()["version"] == 2
    r = client.patch(f"/api/v1/households/{household.id}", json={"notes": "第二次", "version": 1},
                     headers=headers)
    assert error_of(r, 409, "stale_version")["details"]["current_version"] == 2


def test_a_delete_with_a_stale_version_is_a_409(client, butler, household):
    person = make_person(household, version=3)
    r = client.delete(f"/api/v1/persons/{person.id}?version=2", headers=auth(butler))
    error_of(r, 409, "stale_version")


def test_creating_a_record_with_an_id_that_exists_is_a_409(client, butler, household):
    person = make_person(household)
    r = client.post("/api/v1/persons", json={"id": person.id, "household_id": household.id, "name": "李雷"},
                    headers=auth(butler))
    error_of(r, 409, "already_exists")


# ---- 413 --------------------------------------------------------------------------------------

def test_a_body_over_the_default_5_mb_is_a_413(client):
    r = client.post("/api/v1/auth/login", data=b" " * (5 * 1024 * 1024 + 1), content_type="application/json")
    error_of(r, 413, "too_large")


def test_a_body_over_a_configured_limit_is_a_413(database_url, tmp_path, butler):
    small = create_app({**base_config(tmp_path / "small", database_url), "MAX_CONTENT_LENGTH": 1024})
    try:
        r = small.test_client().post("/api/v1/persons", json={"name": "x" * 2000}, headers=auth(butler))
        error_of(r, 413, "too_large")
    finally:
        with small.app_context():
            db.engine.dispose()


# ---- 422 --------------------------------------------------------------------------------------

def test_an_unknown_key_is_a_422_with_code_unknown_field(client, butler, household):
    r = client.post("/api/v1/persons", json={"household_id": household.id, "name": "李雷", "nickname": "小李"},
                    headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {"nickname": "unknown_field"}


def test_a_wrong_type_is_a_422_with_code_invalid_type(client, butler, household):
    r = client.post("/api/v1/persons", json={"household_id": household.id, "name": "李雷",
                                            "birth_year": "nineteen eighty"}, headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {"birth_year": "invalid_type"}


def test_a_satisfaction_of_9_is_a_422_with_code_out_of_range(client, butler, household):
    r = client.post("/api/v1/visits", json={"household_id": household.id, "visited_at": VISIT_TIME,
                                           "satisfaction": 9}, headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {"satisfaction": "out_of_range"}


def test_a_value_outside_its_choices_is_a_422_with_code_invalid_choice(client, butler, household):
    r = client.post("/api/v1/visits", json={"household_id": household.id, "visited_at": VISIT_TIME,
                                           "kind": "party"}, headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {"kind": "invalid_choice"}


def test_missing_required_fields_are_each_listed(client, butler):
    r = client.post("/api/v1/persons", json={}, headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {"household_id": "required",
                                                                   "name": "required"}


def test_every_bad_field_of_one_request_is_reported(client, butler, household):
    r = client.post("/api/v1/visits", json={"household_id": household.id, "visited_at": "yesterday",
                                           "satisfaction": 0, "colour": "red"}, headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {
        "visited_at": "invalid_type", "satisfaction": "out_of_range", "colour": "unknown_field"}


def test_a_json_body_that_is_not_an_object_is_a_422(client, butler):
    r = client.post("/api/v1/persons", json=["李雷"], headers=auth(butler))
    error_of(r, 422, "validation_failed")


def test_an_unknown_key_in_a_patch_is_a_422(client, butler, household):
    r = client.patch(f"/api/v1/households/{household.id}", json={"colour": "red"}, headers=auth(butler))
    assert field_errors(error_of(r, 422, "validation_failed")) == {"colour": "unknown_field"}


def test_an_unknown_key_on_login_is_a_422(client):
    r = client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "remember": True})
    assert field_errors(error_of(r, 422, "validation_failed")) == {"remember": "unknown_field"}


# ---- a rejected request changes nothing -------------------------------------------------------

def test_a_stale_patch_changes_nothing(client, butler, household):
    headers = auth(butler)
    client.patch(f"/api/v1/households/{household.id}", json={"notes": "已更新", "version": 1}, headers=headers)
    client.patch(f"/api/v1/households/{household.id}", json={"notes": "迟到的修改", "version": 1},
                 headers=headers)
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(Household.notes, Household.version)
                           .where(Household.id == household.id)).one()
    assert tuple(row) == ("已更新", 2)


def test_an_invalid_visit_is_not_stored(client, butler, household):
    client.post("/api/v1/visits", json={"household_id": household.id, "visited_at": VISIT_TIME,
                                       "satisfaction": 9}, headers=auth(butler))
    assert count_of(Visit) == 0


def test_a_person_refused_for_scope_is_not_stored_even_after_a_later_commit(client, butler, household,
                                                                           other_household):
    headers = auth(butler)
    refused = client.post("/api/v1/persons", json={"household_id": other_household.id, "name": "越界"},
                          headers=headers)
    assert refused.status_code == 403
    accepted = client.post("/api/v1/persons", json={"household_id": household.id, "name": "本网格"},
                           headers=headers)
    assert accepted.status_code == 201
    assert committed(sa.select(sa.func.count()).select_from(Person).where(Person.name == "越界")) == 0


def test_a_visit_with_a_partly_bad_patch_keeps_all_its_old_values(client, butler, household):
    visit = make_visit(household, butler, notes="原来的备注")
    client.patch(f"/api/v1/visits/{visit.id}", json={"notes": "新的备注", "satisfaction": 9},
                 headers=auth(butler))
    assert committed(sa.select(Visit.notes).where(Visit.id == visit.id)) == "原来的备注"


# ---- 503 --------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_without_database(request, tmp_path):
    """An app whose database cannot be reached: a SQLite file in a missing folder, or a
    PostgreSQL database that does not exist on a running server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'guanjia.sqlite3'}"
    else:
        need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
        url = (sa.make_url(POSTGRES_URL).set(database=f"guanjia_gone_{uuid.uuid4().hex[:8]}")
               .render_as_string(hide_password=False))
    app = create_app(base_config(tmp_path, url))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_health_is_a_json_503_when_the_database_is_gone(app_without_database):
    r = app_without_database.test_client().get("/api/v1/health")
    error_of(r, 503, "db_unavailable")


def test_any_api_call_is_a_json_503_when_the_database_is_gone(app_without_database):
    r = app_without_database.test_client().post("/api/v1/auth/login",
                                                json={"username": "butler1", "password": "guanjia-demo"})
    error_of(r, 503, "db_unavailable")



def test_a_request_that_finds_no_free_database_connection_is_a_503_to_retry(database_url, tmp_path, butler):
    """Past what the server can do (every pooled connection taken for the pool's whole timeout),
    the app is told to try again shortly: 503 with Retry-After, not a 500."""
    token = token_for(butler)
    busy = create_app({**base_config(tmp_path / "busy", database_url),
                       "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}})
    try:
        with busy.app_context(), db.engine.connect():  # the pool's only connection, held
            r = busy.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        error_of(r, 503, "server_busy")
        assert int(r.headers["Retry-After"]) > 0
        assert busy.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        with busy.app_context():
            db.engine.dispose()


# ---- query parameters -------------------------------------------------------------------------

@pytest.mark.parametrize("query, field, code", [
    ("kind=lunch", "kind", "invalid_choice"),  # a check-in is `in` or `out`: an enum column
    ("status=gone", "status", "invalid_choice"),
])
def test_a_filter_value_its_field_could_never_hold_is_a_422_in_the_user_s_language(client, butler, household,
                                                                                   query, field, code):
    path = "/api/v1/checkins" if field == "kind" else "/api/v1/households"
    body = error_of(client.get(f"{path}?{query}", headers=auth(butler)), 422, "validation_failed")
    assert field_errors(body) == {field: code}
    assert is_chinese(body["details"]["errors"][0]["message"])
    english = error_of(client.get(f"{path}?{query}", headers={**auth(butler), "Accept-Language": "en"}),
                       422, "validation_failed")
    assert not is_chinese(english["details"]["errors"][0]["message"])


def test_a_filter_value_its_field_holds_still_filters(client, butler, household):
    r = client.get(f"/api/v1/households?status={household.status}", headers=auth(butler))
    assert r.status_code == 200
    assert [item["id"] for item in r.get_json()["items"]] == [household.id]
    other = "vacant" if household.status != "vacant" else "rented"
    assert client.get(f"/api/v1/households?status={other}", headers=auth(butler)).get_json()["items"] == []


@pytest.mark.parametrize("path, known", [
    ("/api/v1/notifications", "wait=0"),
    ("/api/v1/follow-ups", "status=open"),
    ("/api/v1/households", "limit=5"),
])
def test_an_unknown_query_parameter_is_a_422_naming_it(client, butler, path, known):
    """A misspelt parameter (`stauts`) must not quietly answer as if it were not there."""
    supervisor = make_user("supervisor", community_id=butler.community_id)
    user = supervisor if "follow-ups" in path else butler
    assert client.get(f"{path}?{known}", headers=auth(user)).status_code == 200
    body = error_of(client.get(f"{path}?{known}&stauts=open", headers=auth(user)), 422, "validation_failed")
    assert field_errors(body) == {"stauts": "unknown_field"}


def test_a_query_parameter_given_twice_is_a_422(client, butler):
    body = error_of(client.get("/api/v1/households?limit=5&limit=500", headers=auth(butler)), 422,
                    "validation_failed")
    assert field_errors(body) == {"limit": "invalid_type"}


def test_a_delete_with_an_unknown_query_parameter_changes_nothing(client, butler, household):
    visit = make_visit(household, butler)
    body = error_of(client.delete(f"/api/v1/visits/{visit.id}?versoin=1", headers=auth(butler)), 422,
                    "validation_failed")
    assert field_errors(body) == {"versoin": "unknown_field"}
    assert committed(sa.select(Visit.deleted).where(Visit.id == visit.id)) is False


# ---- NUL characters ---------------------------------------------------------------------------
# PostgreSQL can neither store nor compare text holding U+0000: such input is the caller's mistake,
# refused on both databases alike, with nothing written.

def test_text_holding_a_nul_character_is_a_422_and_nothing_is_written(client, butler, household):
    r = client.post("/api/v1/persons", json={"household_id": household.id, "name": "王\x00芳"},
                    headers={**auth(butler), "Accept-Language": "en"})
    body = error_of(r, 422, "validation_failed")
    assert field_errors(body) == {"name": "invalid_character"}
    assert "NUL" in body["details"]["errors"][0]["message"]
    assert count_of(Person) == 0


def test_a_nul_character_in_a_list_or_a_key_is_refused_too(client, butler, household):
    visit = {"household_id": household.id, "visited_at": VISIT_TIME, "needs": ["维修\x00"],
             "checklist": {"door\x00": {"ok": True}}}
    body = error_of(client.post("/api/v1/visits", json=visit, headers=auth(butler)), 422, "validation_failed")
    assert set(field_errors(body).values()) == {"invalid_character"}
    assert count_of(Visit) == 0


def test_a_nul_character_in_a_sync_mutation_is_rejected_alone(client, butler, household):
    person_id = str(uuid.uuid4())
    r = client.post("/api/v1/sync", headers=auth(butler), json={
        "client_id": str(uuid.uuid4()), "schema": 1,
        "mutations": [{"mid": str(uuid.uuid4()), "type": "person", "id": person_id, "op": "put",
                       "fields": {"household_id": household.id, "name": "\x00"}, "at": VISIT_TIME}]})
    assert r.status_code == 200
    [result] = r.get_json()["results"]
    assert result["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("name", "invalid_character")]
    assert count_of(Person) == 0


def test_a_nul_character_in_a_login_is_a_422(client):
    body = error_of(client.post("/api/v1/auth/login", json={"username": "a\x00", "password": "x"}), 422,
                    "validation_failed")
    assert field_errors(body) == {"username": "invalid_character"}


@pytest.mark.parametrize("path", ["/api/v1/tickets?after=a%00b", "/api/v1/tickets?status=new%00",
                                  "/api/v1/tickets/a%00b", "/api/v1/grids?a%00=1"])
def test_a_nul_character_in_a_path_or_query_is_a_422(client, butler, path):
    body = error_of(client.get(path, headers=auth(butler)), 422, "validation_failed")
    assert set(field_errors(body).values()) == {"invalid_character"}
    assert is_chinese(body["details"]["errors"][0]["message"])


@pytest.mark.parametrize("key, path", [("id", "/api/v1/persons"), ("code", "/api/v1/products")])
def test_a_null_id_on_create_is_a_422_not_a_record_with_a_chosen_id(client, butler, household, key, path):
    admin = make_user("admin")
    body = {key: None, "household_id": household.id, "name": "王芳"} if key == "id" else {
        key: None, "name": "桶装水", "category": "life", "price": 20, "unit": "桶"}
    r = client.post(path, json=body, headers=auth(butler if key == "id" else admin))
    assert field_errors(error_of(r, 422, "validation_failed")) == {key: "null"}
    assert count_of(Person) == 0
