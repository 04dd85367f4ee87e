"""The base of every marshmallow schema: errors come out as machine codes, never English text.

Pure marshmallow (no Flask): the sync engine and the server share it.
"""
from __future__ import annotations

import re

from marshmallow import Schema, fields, validate

# What each built-in field error becomes; errors.py turns the code into the user's language.
_FIELD_CODES = {
    "required": "required",
    "null": "null",
    "invalid": "invalid_type",
    "type": "invalid_type",
    "format": "invalid_type",
    "too_large": "invalid_type",
    "validator_failed": "invalid",
    "invalid_utf8": "invalid_type",
    "invalid_uuid": "invalid_type",
    "special": "invalid_type",
}


class WireSchema(Schema):
    """Rejects unknown keys (marshmallow's default) with the code `unknown_field`."""

    error_messages = {"unknown": "unknown_field", "type": "invalid_type"}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _code_errors(field_obj)


def _code_errors(field_obj: fields.Field) -> None:
    field_obj.error_messages = {key: _FIELD_CODES.get(key, "invalid_type") for key in field_obj.error_messages}
    for inner in (getattr(field_obj, "inner", None), getattr(field_obj, "value_field", None),
                  getattr(field_obj, "key_field", None)):
        if isinstance(inner, fields.Field):
            _code_errors(inner)


def one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error="invalid_choice|choices={choices}")


def in_range(low, high) -> validate.Range:
    return validate.Range(low, high, error="out_of_range|min={min}|max={max}")


def max_length(n: int) -> validate.Length:
    return validate.Length(max=n, error="too_long|max={max}")


_CODE = re.compile(r"^[a-z_]+$")


def flatten_errors(messages, prefix: str = "") -> list[tuple[str, str, dict[str, str]]]:
    """marshmallow's nested messages as (field path, code, params); params come from "code|k=v"."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            name = "" if key == "_schema" and prefix else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.extend(flatten_errors(value, path))
        return out
    if isinstance(messages, (list, tuple)):
        out = []
        for item in messages:
            out.extend(flatten_errors(item, prefix) if isinstance(item, (dict, list, tuple))
                       else [_one(prefix or "_schema", str(item))])
        return out
    return [_one(prefix or "_schema", str(messages))]


def _one(field: str, text: str) -> tuple[str, str, dict[str, str]]:
    code, *pairs = text.split("|")
    if not _CODE.match(code):  # marshmallow's own English text: a validator we did not word
        return field, "invalid", {}
    return field, code, dict(pair.split("=", 1) for pair in pairs if "=" in pair)
