"""The base of every marshmallow schema: errors come out as machine codes (see server/errors.py)."""
from __future__ import annotations

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


def tag_list():
    return fields.List(fields.String(validate=max_length(30)), validate=max_length(50))


class RecordSchema(WireSchema):
    """Bookkeeping fields every synced record shows and no client writes."""

    id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
