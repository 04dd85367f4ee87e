"""Keyset pages of a long list (the console's tickets, households and notices), a page at a time.

A page is found by the sort key of the row next to it, carried in an opaque token (`after`: the last row
of the page before; `before`: the first row of the page after), never by an offset: the first page of
10,000 rows costs what the tenth does, and a row written while someone pages is neither skipped nor
shown twice. An order's key is a few columns, the last of them the id (a total order), all ascending or
all descending, so that "after this row" is one row-value comparison.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session


class BadPageToken(ValueError):
    """A page token this module did not write for this order (edited, or from another list or sort)."""


@dataclass(frozen=True)
class Key:
    """One column of an order's key and the Python type of its values (str, int or datetime)."""
    column: sa.ColumnElement
    kind: type


@dataclass(frozen=True)
class Order:
    """A list's order: its name (in every token, so a token only fits the order that wrote it), its key,
    which way it runs, and how to read a row's key values (in the key's order)."""
    name: str
    keys: Sequence[Key]
    descending: bool
    values: Callable[[object], Sequence]


@dataclass(frozen=True)
class Page:
    rows: list
    next_after: str | None  # the token of the page after this one, None on the last
    prev_before: str | None  # the token of the page before this one, None on the first
    total: int | None = None  # every row the list's filters match, where the list counts them


def token(order: Order, row) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in order.values(row)]
    return base64.urlsafe_b64encode(json.dumps([order.name, *values]).encode()).decode().rstrip("=")


def _value(kind: type, raw):
    """A token's value as its key's type, or ValueError: nothing a database would refuse (a NUL in a
    string, an integer beyond 32 bits, a time that is not aware or not a UTC time) gets to the query."""
    if kind is datetime:
        found = datetime.fromisoformat(raw)
        if found.tzinfo is None:
            raise ValueError(raw)
        return found.astimezone(timezone.utc)
    if not isinstance(raw, kind) or isinstance(raw, bool) or (kind is str and "\x00" in raw) or \
            (kind is int and not -2 ** 31 <= raw < 2 ** 31):
        raise ValueError(raw)
    return raw


def read_token(order: Order, text: str) -> list:
    """The key values a token carries; BadPageToken if it is not one of this order's."""
    try:
        found = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(found, list) or len(found) != len(order.keys) + 1 or found[0] != order.name:
            raise BadPageToken(text)
        return [_value(key.kind, raw) for key, raw in zip(order.keys, found[1:])]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadPageToken(text) from exc


def _beyond(order: Order, values: list, forward: bool):
    """Condition: the row comes after (forward) or before the row whose key is `values`."""
    columns = [key.column for key in order.keys]
    row = sa.tuple_(*columns)
    bound = sa.tuple_(*(sa.literal(value, type_=column.type) for column, value in zip(columns, values)))
    return row < bound if order.descending == forward else row > bound


def page(session: Session, statement: sa.Select, order: Order, *, limit: int, after: str | None = None,
         before: str | None = None) -> Page:
    """One page of `statement`'s rows in `order`: the first, the one after `after`'s row or the one
    before `before`'s. Raises BadPageToken for a token it did not write for this order."""
    forward = before is None
    if after or before:
        statement = statement.where(_beyond(order, read_token(order, after or before), forward))
    columns = [key.column for key in order.keys]
    ascending = order.descending != forward  # a page before is read backwards from its last row, then turned
    rows = session.execute(statement.order_by(*(c if ascending else c.desc() for c in columns))
                           .limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    first, last = (token(order, rows[0]), token(order, rows[-1])) if rows else (None, None)
    if forward:
        return Page(rows, last if more else None, first if after else None)
    return Page(rows, last, first if more else None)
