"""Each record's wire form, kept when it is written and sent as it is by the pull.

A first sync sends tens of thousands of visits. Reading each one's columns, decoding its JSON and
times and dumping it again cost most of the pull's time in the app server; the JSON the phone
receives is the same every time. So a record of a type that keeps it (`server.records.KeepsWire`)
carries its schema's dump as JSON text, made by whoever writes the record, with the version it was
made at. The pull sends that text when the version is the record's own, and dumps the record from
its columns otherwise: a record written before the column existed, or by a writer that did not
keep it. A stale form is therefore never sent; a forgotten one only costs time.

The household file (households and people) never keeps one: its personal fields would be stored
twice, a phone number in plain beside its ciphertext.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa

from server.bulk import python_default
from server.records import KeepsWire
from server.resources.registry import registry


@cache
def keeping() -> frozenset[str]:
    """The record types that keep their wire form."""
    return frozenset(rtype for rtype, res in registry().items() if issubclass(res.model, KeepsWire))


def text_of(rtype: str, source: Any) -> str | None:
    """The wire form of a record as JSON text: `source` is the record, or the column values of one
    about to be inserted (a column left out gets its default, as the INSERT will give it). None
    when orjson cannot write it (the pull then dumps the record from its columns)."""
    dump, attributes, defaults = _plan(rtype)
    if isinstance(source, Mapping):
        values = {key: source[key] if key in source else defaults[key]() if key in defaults else None
                  for key in attributes}
    else:
        values = {key: getattr(source, key) for key in attributes}
    for key, value in values.items():
        if isinstance(value, datetime):  # as the database gives it back: UTC
            values[key] = value.astimezone(timezone.utc)
    try:
        return orjson.dumps(dump(values)).decode()
    except orjson.JSONEncodeError:
        return None


def keep(rtype: str, record: Any) -> None:
    """Keep the wire form of a record just written (its version already bumped)."""
    if rtype in keeping():
        record.wire = text_of(rtype, record)
        record.wire_version = record.version if record.wire is not None else None


def keep_row(rtype: str, row: dict) -> None:
    """Keep the wire form in the column values of a record about to be inserted."""
    if rtype in keeping():
        row["wire"] = text_of(rtype, row)
        row["wire_version"] = row["version"] if row["wire"] is not None else None


@cache
def _plan(rtype: str) -> tuple[Any, tuple[str, ...], dict]:
    """The type's dump, the attributes it reads, and their Python defaults."""
    res = registry()[rtype]
    attributes = tuple(dict.fromkeys(field.attribute or name for name, field in res.wire.dump_fields.items()))
    columns = {attr.key: attr.columns[0] for attr in sa.inspect(res.model).column_attrs}
    defaults = {key: python_default(columns[key]) for key in attributes if key in columns}
    return res.dump, attributes, {key: make for key, make in defaults.items() if make is not None}
