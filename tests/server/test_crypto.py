"""A person's phone number is encrypted at rest, tied to its data key, and kept out of the logs."""
from __future__ import annotations

import base64
import logging

import pytest
import sqlalchemy as sa

from server import create_app
from server.community.models import Person
from server.crypto import DataKeyError
from server.extensions import db
from tests.support.app import base_config
from tests.factories import auth, make_community, make_grid, make_household, make_person, make_user

PHONE = "13912345678"
OTHER_KEY = base64.urlsafe_b64encode(b"z" * 32).decode()


def fragments(number: str, size: int = 7) -> list[str]:
    """Every run of `size` digits of the number: none may show in stored or logged text."""
    return [number[i:i + size] for i in range(len(number) - size + 1)]


def raw_phone(person_id: str) -> str:
    """The phone column as the database holds it, read with plain SQL (no model, no decryption)."""
    return db.session.execute(sa.text("SELECT phone FROM person WHERE id = :id"), {"id": person_id}).scalar_one()


@pytest.fixture
def butler(app):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    butler.household = make_household(community, make_grid(community, butler))  # a plain attribute, for tests
    return butler


@pytest.fixture
def person(butler):
    return make_person(butler.household, phone=PHONE)


def test_the_raw_phone_column_holds_no_run_of_the_numbers_digits(person):
    stored = raw_phone(person.id)
    assert stored and not any(f in stored for f in fragments(PHONE))


def test_a_phone_sent_through_the_api_is_stored_encrypted(client, butler):
    r = client.post("/api/v1/persons", json={"household_id": butler.household.id, "name": "李雷",
                                            "consent": True, "phone": PHONE}, headers=auth(butler))
    assert r.status_code == 201, r.get_json()
    assert not any(f in raw_phone(r.get_json()["id"]) for f in fragments(PHONE))


def test_searching_the_raw_column_for_the_number_finds_nothing(person):
    found = db.session.execute(sa.text("SELECT count(*) FROM person WHERE phone LIKE :digits"),
                               {"digits": f"%{PHONE[-8:]}%"}).scalar_one()
    assert found == 0


def test_the_api_gives_the_butler_the_plaintext_phone(client, butler, person):
    r = client.get(f"/api/v1/persons/{person.id}", headers=auth(butler))
    assert r.status_code == 200
    assert r.get_json()["phone"] == PHONE


def test_the_orm_reads_the_plaintext_phone(person):
    person_id = person.id
    db.session.expunge_all()  # read it back from the database, not from the session's memory
    assert db.session.get(Person, person_id).phone == PHONE


def test_the_same_number_encrypts_differently_each_time(butler):
    first = make_person(butler.household, phone=PHONE)
    second = make_person(butler.household, phone=PHONE)
    assert raw_phone(first.id) != raw_phone(second.id)


def test_a_missing_phone_stays_null_in_the_database(butler):
    person = make_person(butler.household, phone=None)
    assert raw_phone(person.id) is None


@pytest.fixture
def app_with_another_key(database_url, tmp_path):
    """The same database, opened by an app configured with a different data key."""
    other = create_app({**base_config(tmp_path / "other", database_url), "DATA_KEY": OTHER_KEY})
    yield other
    with other.app_context():
        db.engine.dispose()


def test_an_app_with_another_data_key_refuses_to_read_the_phone(person, app_with_another_key):
    person_id = person.id
    with app_with_another_key.app_context():
        try:
            with pytest.raises(DataKeyError, match="key"):
                db.session.get(Person, person_id)
        finally:
            db.session.remove()


def test_an_app_with_another_data_key_never_returns_the_phone_or_ciphertext_over_the_api(
        butler, person, app_with_another_key):
    headers, person_id = auth(butler), person.id
    r = app_with_another_key.test_client().get(f"/api/v1/persons/{person_id}", headers=headers)
    assert r.status_code == 500
    assert r.get_json()["error"] == "internal_error"
    assert PHONE not in r.get_data(as_text=True) and "g1:" not in r.get_data(as_text=True)


def test_the_phone_never_appears_in_the_log(client, butler, caplog):
    """Not in the app's own logs at any level, nor in the SQL log that SQLALCHEMY_ECHO turns on
    (statements and parameters; SQLAlchemy's row-by-row DEBUG dump shows every column decrypted
    and is for a developer's own machine only)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="server")  # create_app sets it to INFO
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    headers = auth(butler)
    household_id = butler.household.id
    bad_requests = [
        {"household_id": household_id, "name": "李雷", "consent": False, "phone": PHONE},  # no consent
        {"household_id": household_id, "name": "李雷", "consent": True, "phone": PHONE + "x"},  # not a number
        {"household_id": household_id, "name": "李雷", "consent": True, "phone": PHONE, "nick": "小李"},
        {"household_id": "no-such-household", "name": "李雷", "consent": True, "phone": PHONE},
    ]
    try:
        statuses = [client.post("/api/v1/persons", json=body, headers=headers).status_code
                    for body in bad_requests]
        good = client.post("/api/v1/persons", json={"household_id": household_id, "name": "李雷",
                                                    "consent": True, "phone": PHONE}, headers=headers)
        client.get(f"/api/v1/persons/{good.get_json()['id']}", headers=headers)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
    assert statuses == [422, 422, 422, 422] and good.status_code == 201
    assert "INSERT INTO person" in caplog.text  # the SQL log was really on
    assert not any(f in caplog.text for f in fragments(PHONE))
