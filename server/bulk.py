"""Many new rows in one go: COPY on PostgreSQL, one executemany elsewhere.

A sync batch of 500 visits inserts 500 records, 500 audit events and 500 kept answers. psycopg
sends an executemany as one pipelined statement per row, and that Python side cost more than the
rest of the batch's statements together. COPY (psycopg's `Cursor.copy`, rows formatted in C) sends
the same rows as one stream. Rows are keyed by attribute names, as for an ORM bulk INSERT; each
column's Python default and type (UTC times, encryption, JSON) apply as they would there, and a
refusal (a duplicate key, say) raises SQLAlchemy's exception, as a statement would.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session


def insert_rows(session: Session, target: Any, rows: list[dict]) -> None:
    """Insert `rows` into `target` (a mapped class or a Table) in the session's transaction."""
    if not rows:
        return
    shapes: dict[frozenset, list[dict]] = {}
    for row in rows:
        shapes.setdefault(frozenset(row), []).append(row)
    table, key_of = _columns(target)
    unknown = set().union(*shapes) - set(key_of.values())
    if unknown:  # (an INSERT would drop them silently)
        raise sa.exc.ArgumentError(f"no such columns in {table.name}: {', '.join(sorted(unknown))}")
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        session.execute(sa.insert(target), rows)
        return
    raw = connection.connection.dbapi_connection
    for keys, some in shapes.items():
        plan = _plan(target, keys, dialect)
        try:
            with raw.cursor() as cursor, cursor.copy(plan.statement) as copy:
                for row in some:
                    copy.write_row([convert(row[key]) if key is not None else convert(default())
                                    for key, convert, default in plan.columns])
        except dialect.loaded_dbapi.Error as error:
            raise sa.exc.DBAPIError.instance(plan.statement, None, error, dialect.loaded_dbapi.Error) from error


@dataclass(frozen=True)
class _Plan:
    statement: str
    # Per column copied: the row's key (None: the column's Python default), its bind processing,
    # and the default.
    columns: list[tuple[str | None, Callable[[Any], Any], Callable[[], Any] | None]]


def _as_is(value: Any) -> Any:
    return value


def python_default(column: sa.Column) -> Callable[[], Any] | None:
    """The value an INSERT without the column gives it on the Python side, as a function; None when
    it has none there (the database's own default, or NULL)."""
    if column.default is None:
        return None
    if column.default.is_scalar:
        return lambda value=column.default.arg: value
    if column.default.is_callable:
        return lambda make=column.default.arg: make(None)
    return None


@lru_cache(maxsize=64)
def _columns(target: Any) -> tuple[sa.Table, dict[str, str]]:
    """The table, and the key a row gives each of its columns by (an attribute name, if mapped)."""
    if isinstance(target, sa.Table):
        return target, {column.name: column.key for column in target.columns}
    mapper = sa.inspect(target)
    return mapper.local_table, {attr.columns[0].name: attr.key for attr in mapper.column_attrs}


@lru_cache(maxsize=128)
def _plan(target: Any, keys: frozenset, dialect: sa.Dialect) -> _Plan:
    table, key_of = _columns(target)
    names, columns = [], []
    for column in table.columns:
        key = key_of.get(column.name)
        default = None
        if key not in keys:
            default = python_default(column)
            if default is None:
                continue  # the database's own default, or NULL
            key = None
        convert = column.type.dialect_impl(dialect).bind_processor(dialect) or _as_is
        names.append(dialect.identifier_preparer.quote(column.name))
        columns.append((key, convert, default))
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({', '.join(names)}) FROM STDIN"
    return _Plan(statement, columns)
