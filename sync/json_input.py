"""JSON text from outside (a request body) to Python, within limits checked before it is parsed.

A body nested thousands deep (`[[[[…]]]]`) would exhaust the parser's recursion (the standard
library's, which reads what orjson refuses) and every recursive walk after it; no request of the
API nests more than a few levels, so anything deeper than MAX_DEPTH is malformed. The depth is read
from the bytes with C-speed string operations (a 400 kB sync batch: about a millisecond).
"""
from __future__ import annotations

import json
import re
from typing import Any

import orjson

MAX_DEPTH = 32  # arrays and objects inside one another

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_AS_BRACES = bytes.maketrans(b"[]", b"{}")


class Malformed(ValueError):
    """Not JSON, or nested deeper than allowed."""


def nesting_within(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in `raw` nest at most `limit` deep (False also for brackets that
    do not pair up: such text is not JSON either)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return True
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)  # an escaped quote must not end a string
    # Outside strings only: every other piece between quotes is a string's content.
    brackets = b"".join(raw.split(b'"')[::2]).translate(_AS_BRACES, _NOT_BRACKET)
    # Each pass takes away the innermost pairs: `limit` passes empty anything no deeper.
    for _ in range(limit):
        if not brackets:
            return True
        shorter = brackets.replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return False
        brackets = shorter
    return not brackets


def parse(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `raw`; Malformed if it is not JSON or nests deeper than `max_depth`.

    orjson first (several times faster on a sync batch); what it refuses and the standard library
    reads (NaN, integers beyond 64 bits, a lone surrogate escape) is read as before, and so refused
    by the schema that loads it, naming the field, rather than as malformed."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not nesting_within(data, max_depth):
        raise Malformed("too deep")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed("not JSON") from None
