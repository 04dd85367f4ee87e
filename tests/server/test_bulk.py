"""Many new rows in one go (server/bulk.py): what an ORM insert would store, on both databases."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server import bulk
from server.audit.models import AuditEvent
from server.community.models import Community, Person
from tests.support.app import statements_sent
from tests.factories import make_community, make_grid, make_household, make_user

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def butler(session):
    return make_user("butler", community_id=make_community().id)


@pytest.fixture
def household(session, butler):
    community = session.get(Community, butler.community_id)
    return make_household(community, make_grid(community, butler))


def test_rows_read_back_as_an_orm_insert_would_have_stored_them(app, session, household):
    consented_at = datetime(2026, 12, 4, 9, 15, tzinfo=SHANGHAI)
    full = {"id": str(uuid.uuid4()), "household_id": household.id, "name": "王芳", "phone": "13800001111",
            "tags": ["独居老人", "行动不便"], "consent": True, "consent_at": consented_at,
            "field_meta": {"name": [1, "phone-1", "u-1"]}}
    bare = {"id": str(uuid.uuid4()), "household_id": household.id, "name": "李四"}  # another shape: defaults
    bulk.insert_rows(session, Person, [full, bare])
    session.commit()
    session.expire_all()

    stored = session.get(Person, full["id"])
    assert (stored.name, stored.phone, stored.tags, stored.consent) == ("王芳", "13800001111", ["独居老人", "行动不便"], True)
    assert stored.consent_at == consented_at and stored.consent_at.tzinfo == timezone.utc
    assert stored.field_meta == {"name": [1, "phone-1", "u-1"]}
    defaulted = session.get(Person, bare["id"])
    assert (defaulted.relation, defaulted.tags, defaulted.notes, defaulted.consent, defaulted.version,
            defaulted.deleted, defaulted.field_meta) == ("owner", [], "", False, 1, False, {})
    assert defaulted.created_at is not None and defaulted.phone is None
    # The phone number is encrypted at rest, as through the ORM.
    raw = session.execute(sa.text("SELECT phone FROM person WHERE id = :id"), {"id": full["id"]}).scalar_one()
    assert "13800001111" not in str(raw)


def test_a_table_without_a_mapped_class_takes_rows_by_column_name(app, session, household, butler):
    event = {"at": datetime.now(timezone.utc), "user_id": butler.id, "device_id": None, "community_id": None,
             "household_id": household.id, "action": "create", "record_type": "person", "record_id": "p-1",
             "fields": ["name", "phone"], "channel": "sync"}
    bulk.insert_rows(session, AuditEvent.__table__, [event])
    session.commit()
    stored = session.execute(sa.select(AuditEvent).where(AuditEvent.record_id == "p-1")).scalar_one()
    assert (stored.fields, stored.channel, stored.household_id) == (["name", "phone"], "sync", household.id)


def test_a_duplicate_key_raises_sqlalchemy_s_integrity_error_and_stores_nothing(app, session, household):
    taken = str(uuid.uuid4())
    bulk.insert_rows(session, Person, [{"id": taken, "household_id": household.id, "name": "王芳"}])
    session.commit()
    fresh = str(uuid.uuid4())
    with pytest.raises(sa.exc.IntegrityError):
        bulk.insert_rows(session, Person, [{"id": fresh, "household_id": household.id, "name": "新人"},
                                           {"id": taken, "household_id": household.id, "name": "重复"}])
    session.rollback()
    assert session.get(Person, fresh) is None
    assert session.get(Person, taken).name == "王芳"


def test_an_unknown_key_is_refused_before_anything_is_sent(app, session, household):
    with pytest.raises(sa.exc.ArgumentError, match="nickname"):
        bulk.insert_rows(session, Person, [{"id": str(uuid.uuid4()), "household_id": household.id,
                                            "name": "王芳", "nickname": "芳芳"}])


def test_the_rows_go_as_one_copy_on_postgresql_and_one_executemany_on_sqlite(app, session, household):
    rows = [{"id": str(uuid.uuid4()), "household_id": household.id, "name": f"住户{i}"} for i in range(200)]
    with statements_sent(app) as sent:
        bulk.insert_rows(session, Person, rows)
    inserts = [s for s in sent if s.startswith("INSERT INTO person")]
    # COPY goes to the driver directly: no INSERT at all on PostgreSQL.
    assert len(inserts) == (0 if session.get_bind().dialect.name == "postgresql" else 1)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Person)) == 200


def test_a_list_of_ids_finds_exactly_the_rows_named_whatever_their_characters(app, session):
    """records.among: the ids of a batch bound as one list (an array literal on PostgreSQL)."""
    from server.products.models import Product
    from server.records import among, dialect_name

    codes = ['quote"d', "back\\slash", "{brace}", "comma,code", " spaced ", "饮用水", "NULL", "a'b"]
    existing = {code for (code,) in session.execute(sa.select(Product.id))}
    for code in codes:
        session.add(Product(id=code, name=code, category="life", price=1, unit="桶"))
    session.commit()
    statement = sa.select(Product.id).where(among(Product.id, "ids", dialect_name(session)))
    named = codes[:5] + ["no-such-code", None]
    found = {code for (code,) in session.execute(statement, {"ids": named})}
    assert found == set(codes[:5])
    assert {code for (code,) in session.execute(statement, {"ids": ["NULL", "a'b"]})} == {"NULL", "a'b"}
    assert session.execute(statement, {"ids": []}).all() == []
    assert not existing & set(codes)
