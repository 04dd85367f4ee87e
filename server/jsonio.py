"""JSON on the wire and out of the database with orjson.

A bootstrap pull decodes and encodes tens of thousands of records; the standard `json` module was
a third of its time. orjson (a maintained, widely used C extension) does the same work several
times faster and writes the same JSON. What orjson refuses (integers beyond 64 bits) goes to the
standard library, so nothing that worked before fails now.
"""
from __future__ import annotations

import json
from typing import Any

import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider

# JSON text read back from our own JSON columns.
loads = orjson.loads

_COMPACT = {"separators": (",", ":")}  # what Flask asks for outside debug mode
# Dates and dataclasses are left to a `default` (Flask's, on the wire), as the standard library would.
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_OPTIONS = orjson.OPT_SORT_KEYS | _PASSTHROUGH


class JsonText:
    """JSON text to put into an answer as it is: a record's kept wire form (server/resources/
    kept_wire.py). `body` writes it without parsing it; any other writer parses it first."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonText) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"JsonText({self.text!r})"


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, with orjson for compact output: sorted keys, UTF-8 text, and dates,
    decimals and dataclasses through Flask's own `default`, as the default provider writes them."""

    ensure_ascii = False
    sort_keys = True

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, JsonText):
            return orjson.loads(o.text)
        return DefaultJSONProvider.default(o)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs and kwargs != _COMPACT:  # indented (debug) output: the standard library
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, option=_OPTIONS, default=self.default).decode()
        except orjson.JSONEncodeError:  # an integer over 64 bits, a key that is not a string, …
            return super().dumps(obj, **kwargs)


def body(obj: Any) -> bytes:
    """A large JSON answer as UTF-8 bytes, as the provider writes it but with keys in the order the
    server built them (a sync page's records in their schema's order): a page of 1,000 records was
    sorted, decoded to text and encoded back for the response, twice orjson's own work. What orjson
    refuses goes through the provider, as for any answer."""
    fallback = current_app.json.default

    def default(o: Any) -> Any:
        return orjson.Fragment(o.text) if type(o) is JsonText else fallback(o)

    try:
        return orjson.dumps(obj, option=_PASSTHROUGH, default=default)
    except orjson.JSONEncodeError:
        return current_app.json.dumps(obj).encode()


def column_dumps(obj: Any) -> str:
    """JSON text for a JSON column: orjson, in the standard library's key order and meaning (a push
    of 500 visits writes thousands of checklists, field stamps and audit field lists). What orjson
    refuses (a lone surrogate, an integer beyond 64 bits) is written by the standard library, as
    before."""
    try:
        return orjson.dumps(obj, option=_PASSTHROUGH).decode()
    except orjson.JSONEncodeError:
        return json.dumps(obj)
