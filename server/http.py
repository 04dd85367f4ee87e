"""Small helpers every API view uses: the JSON body, the current user, public views."""
from __future__ import annotations

import re
from typing import Any, Callable

from flask import current_app, request

from server.errors import BadRequest, FieldError, TooLarge, ValidationFailed
from sync import json_input


def json_body(*, required: bool = True) -> Any:
    """The request's JSON: 413 past JSON_MAX_BYTES, 400 if it is not JSON or nests deeper than
    sync/json_input.py allows (both decided before it is parsed), 422 if it is not an object."""
    if (request.content_length or 0) > current_app.config["JSON_MAX_BYTES"]:
        raise TooLarge()
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise BadRequest("malformed_json")
        return {}
    if len(raw) > current_app.config["JSON_MAX_BYTES"]:
        raise TooLarge()
    try:
        body = json_input.parse(raw)
    except json_input.Malformed:
        raise BadRequest("malformed_json") from None
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("_schema", "invalid_type")])
    return body


def query_args(*known: str) -> dict[str, str]:
    """The request's query parameters, each given once and each one the view knows: anything else
    is a 422 naming it, for a misspelt filter must not quietly widen what is answered."""
    errors = [FieldError(name, "unknown_field") for name in request.args if name not in known]
    errors += [FieldError(name, "invalid_type") for name in known if len(request.args.getlist(name)) > 1]
    if errors:
        raise ValidationFailed(errors)
    return request.args.to_dict()


_DECIMAL = re.compile(r"-?[0-9]{1,19}")


def int_arg(args: dict[str, str], name: str, default: int | None, *, low: int, high: int) -> int | None:
    """An integer query parameter, as written in ASCII digits and within [low, high]: anything else
    (`abc`, `1e3`, `-1` for a page size, twenty digits) is a 422 naming it, never a guess."""
    raw = args.get(name)
    if raw is None:
        return default
    if not _DECIMAL.fullmatch(raw):
        raise ValidationFailed([FieldError(name, "invalid_type")])
    value = int(raw)
    if not low <= value <= high:
        raise ValidationFailed([FieldError(name, "out_of_range", min=low, max=high)])
    return value


def version_arg(args: dict[str, str]) -> int | None:
    """`?version=`: the version a delete expects the record to be at (409 if it moved on)."""
    return int_arg(args, "version", None, low=0, high=2**62)


def text_arg(args: dict[str, str], name: str, *, max_length: int) -> str | None:
    """A text query parameter of at most `max_length` characters (a record's id: 36)."""
    raw = args.get(name)
    if raw is not None and len(raw) > max_length:
        raise ValidationFailed([FieldError(name, "too_long", max=max_length)])
    return raw


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a bearer token (login, health)."""
    view.public = True
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
