"""Column types and bookkeeping columns shared by every record that phones edit."""
from __future__ import annotations

import functools
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.types import TypeDecorator

# JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def dialect_name(session) -> str:
    """The kind of database a session talks to ("postgresql", "sqlite")."""
    return session.get_bind().dialect.name


def among(column, name: str, dialect: str):
    """`column` is one of the values of the list bound as `name` (the ids of a sync batch, up to 500).

    PostgreSQL: `= ANY(array)`, one parameter, so the statement's text is the same for any number
    of ids and the driver parses and prepares it once (an IN of 500 placeholders was a new text of
    10 kB to parse for every batch). Elsewhere an expanding IN."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def loaded(session, model: type, key):
    """`session.get(model, key)` for a record the session holds already, without its per-call work
    (an inspection and option handling: ~4 µs where this takes ~1.3, and a sync batch looks up each
    visit's household and products). Anything else, such as a record not loaded or expired, goes to
    session.get."""
    found = session.identity_map.get(_identity_key(model)((key,)))
    if found is not None and type(found) is model and not instance_state(found).expired:
        return found
    return session.get(model, key)


@functools.cache
def _identity_key(model: type):
    """The model's identity key for a primary key, as the session's identity map files records."""
    return sa.inspect(model).identity_key_from_primary_key


def new_id() -> str:
    """A fresh record id; clients may also choose their own UUIDs."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on both databases: stored as UTC, read back aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):
        """PostgreSQL's driver reads aware datetimes itself: one call per value rather than the
        decorator's two (a bootstrap reads ~80,000 of them)."""
        if dialect.name != "postgresql" or self.impl_instance.result_processor(dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)
        utc = timezone.utc

        def process(value):
            if value is None or value.tzinfo is utc:
                return value
            return value.astimezone(utc) if value.tzinfo is not None else value.replace(tzinfo=utc)

        return process


def enum(*values: str, name: str) -> sa.Enum:
    """A string column limited to `values` by a CHECK constraint on both databases."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20,
                   validate_strings=True)


class Synced:
    """Bookkeeping columns of a record that clients edit and the sync engine moves.

    Written by server/syncing/bookkeeping.py (`created`, `changed`) for every write, never by hooks.
    """

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Tracked:
    """What the sync engine keeps on each record that phones replicate.

    seq: the position of the record's latest change in the one global change order (the pull
    cursor counts in it); unique, allocated by server/syncing/changes.py.
    field_meta: per field, [record version, client id, user id] of its last change, for merging.
    """

    seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    field_meta: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)


class KeepsWire:
    """The record's wire form, kept when it is written: the JSON object a pull sends for it (the
    type's schema dump), and the version it was made at. A pull sends it as it is when that version
    is the record's own; any write that bumps the version without keeping it again only makes the
    pull dump the record from its columns, as it does for records written before (server/syncing/
    stored.py). Only for types outside the household file: those are never kept twice, in plain.

    Deferred: the ORM's loads of records (REST, the console, a push's checks) never read it."""

    wire: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    wire_version: Mapped[int | None] = mapped_column(sa.Integer)


def unindexed(column, postgres: bool):
    """SQLite: `+column`, which keeps the planner off the column's index. Joining or grouping the
    visits by household through ix_visit_household_seq_id reads the whole table in index order, one
    random page per visit: at 100,000 visits several times slower than scanning it and grouping in a
    temporary b-tree. PostgreSQL plans this well by itself."""
    if postgres:
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def index_household_changes(*models) -> None:
    """Index a household's records in change order, (household_id, seq, id): a pull far behind
    walks each of the user's households as one short index range (server/syncing/store.py). It
    serves every lookup by household too."""
    for model in models:
        sa.Index(f"ix_{model.__tablename__}_household_seq_id", model.household_id, model.seq, model.id)


def index_change_order(*models) -> None:
    """Index each table in change order, (seq, id): a pull reads `(seq, id) > (s, i) ORDER BY
    seq, id LIMIT n` as one index range, even among rows that share a seq (bulk-written ones)."""
    for model in models:
        sa.Index(f"ix_{model.__tablename__}_seq_id", model.seq, model.id)
