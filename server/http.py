"""Small helpers every API view uses: the JSON body, the current user, public views."""
from __future__ import annotations

import json
from typing import Any, Callable

from flask import request

from server.errors import BadRequest, FieldError, ValidationFailed


def json_body(*, required: bool = True) -> Any:
    """The request's JSON (400 if it is not JSON; 422 if it is not an object)."""
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise BadRequest("malformed_json")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("malformed_json") from None
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("_schema", "invalid_type")])
    return body


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a bearer token (login, health)."""
    view.public = True
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
