"""The base of every marshmallow schema: errors come out as machine codes, never English text.

Pure marshmallow (no Flask): the sync engine and the server share it.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, missing, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

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
    """Rejects unknown keys (marshmallow's default) with the code `unknown_field`; text holding a NUL
    character with `invalid_character`, or a lone surrogate with `invalid_unicode`; a time outside
    2000–2100 with `out_of_range`; and takes numbers and yes/no only as JSON numbers and booleans
    (not "4", not 4.0 for an integer)."""

    error_messages = {"unknown": "unknown_field", "type": "invalid_type"}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _code_errors(field_obj)


# U+0000, and the halves of a surrogate pair standing alone: a JSON escape (`"\ud800"`) can name one,
# the standard library's parser reads it into a str, and it then fails as a server error where the
# text is encoded (UTF-8 cannot hold it). A pair that belongs together is one code point in a str.
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class WellFormedText(validate.Validator):
    """Text may not hold U+0000: PostgreSQL cannot store it (in text or in JSON), so it would fail
    there as a server error instead of as the caller's mistake, and SQLite would keep what
    PostgreSQL refuses. No one types it; it is refused on every text field, on both databases.
    Nor may it hold a lone surrogate: not Unicode text at all (a phone that cut an emoji in half)."""

    def __call__(self, value):
        if isinstance(value, str) and (bad := _NOT_TEXT.search(value)) is not None:
            raise ValidationError("invalid_character" if bad.group() == "\x00" else "invalid_unicode")
        return value


WELL_FORMED = WellFormedText()

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class SaneTime(validate.Validator):
    """A time (or date) from 2000 to 2100, which a time with an offset is also in UTC: a phone's
    clock or a typing slip can say year 1 or 9999, which no one meant and which overflows where it
    is converted to UTC (a server error, for the whole sync batch)."""

    error = f"out_of_range|min={EARLIEST_YEAR}|max={LATEST_YEAR}"

    def __call__(self, value):
        if not is_sane_time(value):
            raise ValidationError(self.error)
        return value


def is_sane_time(value) -> bool:
    """Whether a date, or a datetime (in UTC when it has an offset), lies in 2000–2100."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value = value.astimezone(timezone.utc)
        except OverflowError:
            return False
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


SANE_TIME = SaneTime()


def _code_errors(field_obj: fields.Field) -> None:
    field_obj.error_messages = {key: _FIELD_CODES.get(key, "invalid_type") for key in field_obj.error_messages}
    if isinstance(field_obj, fields.String) and WELL_FORMED not in field_obj.validators:
        field_obj.validators = [*field_obj.validators, WELL_FORMED]
    # Numbers and yes/no as JSON has them: "4", 4.0 for an integer, "1.5" for a number, "true" or 1 for
    # a yes/no are a client's mistake, not a value to guess at. (marshmallow refuses true as a number.)
    if isinstance(field_obj, fields.Integer):
        field_obj.strict = True
    elif isinstance(field_obj, fields.Float):
        _only_types(field_obj, (int, float))
    elif isinstance(field_obj, fields.Boolean):
        _only_types(field_obj, (bool,))
    if (isinstance(field_obj, (fields.DateTime, fields.Date)) and SANE_TIME not in field_obj.validators
            and not field_obj.metadata.get("any_year")):
        field_obj.validators = [*field_obj.validators, SANE_TIME]
    for inner in (getattr(field_obj, "inner", None), getattr(field_obj, "value_field", None),
                  getattr(field_obj, "key_field", None)):
        if isinstance(inner, fields.Field):
            _code_errors(inner)


def _only_types(field_obj: fields.Field, kinds: tuple[type, ...]) -> None:
    """The field reads only values of exactly these Python types (as JSON parsers make them)."""
    deserialize = type(field_obj)._deserialize.__get__(field_obj)

    def strictly(value, attr, data, **kwargs):
        if type(value) not in kinds:
            raise field_obj.make_error("invalid")
        return deserialize(value, attr, data, **kwargs)

    field_obj._deserialize = strictly


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


# ---- a compiled load ---------------------------------------------------------------------------
class _Slow(Exception):
    """The fast load met something it does not decide itself: ask marshmallow."""


def compile_loader(schema: Schema):
    """`load(data, partial=False)` equivalent to `schema.load(data, partial=partial)`.

    A sync push loads every mutation and every record with marshmallow, whose per-field machinery
    costs more than writing the row. This walks the schema's fields once, up front, into plain
    checks for the common field classes (the schema stays the one definition of the wire format).
    Whatever it does not decide itself — any invalid value, any field class or hook it does not
    know — goes to `schema.load`, so errors (and rare inputs) are exactly marshmallow's. Tests
    compare both on generated input for every schema (tests/sync/test_wire_loader.py).
    """
    hooks = schema._hooks
    if schema.many or any(hooks[tag] for tag in (PRE_LOAD, POST_LOAD, VALIDATES_SCHEMA)):
        return lambda data, partial=False: schema.load(data, partial=partial)
    fast = _schema_plan(schema)

    def load(data, partial: bool = False) -> dict:
        try:
            return fast(data, partial)
        except (_Slow, ValidationError):
            return schema.load(data, partial=partial)

    return load


def _schema_plan(schema: Schema):
    plan = []
    for name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else name
        attr = field.attribute or name
        if "." in attr:
            raise ValueError(f"dotted attribute {attr!r} is not supported")
        plan.append((key, attr, field.required, field.load_default, field.allow_none, _field_plan(field)))
    known = frozenset(key for key, *_ in plan)
    checks = []
    for hook, _many, kwargs in schema._hooks[VALIDATES]:
        for field_name in kwargs["field_names"]:
            field = schema.fields[field_name]
            data_key = field.data_key if field.data_key is not None else field_name
            checks.append((field.attribute or field_name, functools.partial(getattr(schema, hook), data_key=data_key)))

    def load(data, partial: bool) -> dict:
        if not isinstance(data, dict) or not known.issuperset(data):
            raise _Slow
        out = {}
        for key, attr, required, default, allow_none, value_of in plan:
            if key not in data:
                if partial:
                    continue
                if required:
                    raise _Slow
                if default is not missing:
                    out[attr] = default() if callable(default) else default
                continue
            value = data[key]
            if value is None:
                if not allow_none:
                    raise _Slow
                out[attr] = None
            else:
                out[attr] = value_of(value, data, partial)
        for attr, check in checks:
            if attr in out and check(out[attr]) is missing:
                raise _Slow
        return out

    return load


def _field_plan(field: fields.Field):
    """value_of(value, data, partial) for a present, non-None value; raises _Slow if undecided."""
    kind = type(field)
    checks = tuple(_check_of(validator) for validator in field.validators)
    if field.pre_load or field.post_load:
        kind = None

    def validated(value):
        for check in checks:
            if not check(value):
                raise _Slow
        return value

    if kind is fields.String:
        def value_of(value, data, partial):
            if type(value) is not str:
                raise _Slow
            return validated(value) if checks else value
    elif kind is fields.Integer:
        def value_of(value, data, partial):
            if type(value) is not int:
                raise _Slow
            return validated(value) if checks else value
    elif kind is fields.Boolean:
        def value_of(value, data, partial):
            if value is not True and value is not False:
                raise _Slow
            return validated(value) if checks else value
    elif kind is fields.AwareDateTime and field.format in (None, "iso", "iso8601"):
        fallback_zone = field.default_timezone

        def value_of(value, data, partial):
            if type(value) is not str:
                raise _Slow
            try:
                moment = datetime.fromisoformat(value)  # what marshmallow's "iso" format is
            except ValueError:
                raise _Slow from None
            if moment.tzinfo is None:
                if fallback_zone is None:
                    raise _Slow
                moment = moment.replace(tzinfo=fallback_zone)
            return validated(moment) if checks else moment
    elif kind is fields.Nested and not field.many and field.unknown is None and isinstance(field.nested, type):
        nested = _schema_plan(field.schema)

        def value_of(value, data, partial):
            loaded = nested(value, partial)
            return validated(loaded) if checks else loaded
    elif kind is fields.List:
        inner = _inner_plan(field.inner)

        def value_of(value, data, partial):
            if type(value) is not list:
                raise _Slow
            loaded = [inner(each, value, partial) for each in value]
            return validated(loaded) if checks else loaded
    elif kind is fields.Dict:
        keys = _inner_plan(field.key_field) if field.key_field is not None else None
        values = _inner_plan(field.value_field) if field.value_field is not None else None

        def value_of(value, data, partial):
            if type(value) is not dict:
                raise _Slow
            loaded = {keys(k, value, partial) if keys else k: values(v, value, partial) if values else v
                      for k, v in value.items()}
            return validated(loaded) if checks else loaded
    else:
        def value_of(value, data, partial):
            return field.deserialize(value, field.name, data)

    return value_of


def _check_of(validator):
    """check(value) -> whether the value passes, for a value of the field's type. The usual validators
    are decided in a comparison or two; any other is called (a refusal sends the value to marshmallow,
    which words the error)."""
    kind = type(validator)
    if validator is WELL_FORMED:
        search = _NOT_TEXT.search
        return lambda value: search(value) is None
    if kind is validate.Length:
        low, high, equal = validator.min, validator.max, validator.equal
        if equal is not None:
            return lambda value: len(value) == equal
        return lambda value: (low is None or len(value) >= low) and (high is None or len(value) <= high)
    if kind is validate.OneOf:
        try:
            choices = frozenset(validator.choices)
        except TypeError:  # unhashable choices: as marshmallow does it
            choices = validator.choices
        return lambda value: type(value) in (str, int) and value in choices
    if kind is validate.Range and validator.min_inclusive and validator.max_inclusive:
        low, high = validator.min, validator.max
        return lambda value: (low is None or value >= low) and (high is None or value <= high)

    def called(value):
        try:
            return validator(value) is not False
        except ValidationError:
            return False

    return called


def _inner_plan(field: fields.Field):
    """An inner field of a List or Dict: None is decided by the field itself."""
    value_of = _field_plan(field)

    def inner(value, data, partial):
        if value is None:
            if not field.allow_none:
                raise _Slow
            return None
        return value_of(value, data, partial)

    return inner
