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


def query_args(*known: str) -> dict[str, str]:
    """The request's query parameters, each given once and each one the view knows: anything else
    is a 422 naming it, for a misspelt filter must not quietly widen what is answered."""
    errors = [FieldError(name, "unknown_field") for name in request.args if name not in known]
    errors += [FieldError(name, "invalid_type") for name in known if len(request.args.getlist(name)) > 1]
    if errors:
        raise ValidationFailed(errors)
    return request.args.to_dict()


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a bearer token (login, health)."""
    view.public = True
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
