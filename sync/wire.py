"""The base of every marshmallow schema: errors come out as machine codes, never English text.

Pure marshmallow (no Flask): the sync engine and the server share it.
"""
from __future__ import annotations

import functools
import itertools
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
    """load(data, partial) for one schema, as Python source compiled once: each field's checks
    written out in line (a call per field and per check was most of the cost of loading a visit)."""
    return _Source().schema_loader(schema)


# Names in the compiled code, and each loader's own file name (profiles and tracebacks tell them apart):
# one count for the process, so no two loaders' names meet anywhere.
_NUMBERS = itertools.count(1)


class _Source:
    """Writes and compiles the loaders. Each value the code refers to (a field, a default, a set of
    choices, a nested loader) is bound to a name in the compiled code's namespace."""

    def __init__(self):
        self.namespace: dict = {"_Slow": _Slow, "missing": missing, "_fromisoformat": datetime.fromisoformat}

    def bind(self, value) -> str:
        name = f"_v{next(_NUMBERS)}"
        self.namespace[name] = value
        return name

    def compiled(self, label: str, parameters: str, body: list[str]):
        """A function of `parameters` whose body is `body` (lines indented by four spaces); `label`
        names it in tracebacks and profiles."""
        number = next(_NUMBERS)
        name = f"_load{number}"
        source = "\n".join([f"def {name}({parameters}):", *body])
        code = compile(source, f"<wire loader {label} {number}>", "exec")
        exec(code, self.namespace)  # noqa: S102 (our own text)
        return self.namespace[name]

    def schema_loader(self, schema: Schema):
        plan = []
        for name, field in schema.load_fields.items():
            key = field.data_key if field.data_key is not None else name
            attr = field.attribute or name
            if "." in attr:
                raise ValueError(f"dotted attribute {attr!r} is not supported")
            plan.append((key, attr, field))
        checks = []
        for hook, _many, kwargs in schema._hooks[VALIDATES]:
            for field_name in kwargs["field_names"]:
                field = schema.fields[field_name]
                data_key = field.data_key if field.data_key is not None else field_name
                checks.append((field.attribute or field_name,
                               functools.partial(getattr(schema, hook), data_key=data_key)))
        known = self.bind(frozenset(key for key, _attr, _field in plan))
        lines = [f"    if not isinstance(data, dict) or not {known}.issuperset(data):",
                 "        raise _Slow",
                 "    out = {}"]
        for key, attr, field in plan:
            lines += [f"    if {key!r} in data:",
                      f"        value = data[{key!r}]",
                      "        if value is None:",
                      f"            out[{attr!r}] = None" if field.allow_none else "            raise _Slow",
                      "        else:",
                      *self.value_lines(field, "            "),
                      f"            out[{attr!r}] = value"]
            if field.required:
                lines += ["    elif not partial:", "        raise _Slow"]
            elif field.load_default is not missing:
                default = self.bind(field.load_default)
                made = f"{default}()" if callable(field.load_default) else default
                lines += ["    elif not partial:", f"        out[{attr!r}] = {made}"]
        if checks:
            lines += [f"    for attr, check in {self.bind(tuple(checks))}:",
                      "        if attr in out and check(out[attr]) is missing:",
                      "            raise _Slow"]
        lines.append("    return out")
        return self.compiled(type(schema).__name__, "data, partial", lines)

    def value_lines(self, field: fields.Field, indent: str) -> list[str]:
        """Lines that take `value` (present, not None) to the loaded value, or raise _Slow where
        marshmallow must decide. `data` is the dict or list holding it."""
        kind = type(field) if not (field.pre_load or field.post_load) else None
        if kind is fields.String:
            lines = ["if type(value) is not str:", "    raise _Slow"]
        elif kind is fields.Integer:
            lines = ["if type(value) is not int:", "    raise _Slow"]
        elif kind is fields.Boolean:
            lines = ["if value is not True and value is not False:", "    raise _Slow"]
        elif kind is fields.AwareDateTime and field.format in (None, "iso", "iso8601"):
            lines = ["if type(value) is not str:", "    raise _Slow",
                     "try:", "    value = _fromisoformat(value)",  # what marshmallow's "iso" format is
                     "except ValueError:", "    raise _Slow from None",
                     "if value.tzinfo is None:"]
            if field.default_timezone is None:
                lines.append("    raise _Slow")
            else:
                lines.append(f"    value = value.replace(tzinfo={self.bind(field.default_timezone)})")
        elif kind is fields.Nested and not field.many and field.unknown is None and isinstance(field.nested, type):
            lines = [f"value = {self.bind(self.schema_loader(field.schema))}(value, partial)"]
        elif kind is fields.List:
            inner = self.bind(self.inner_loader(field.inner))
            lines = ["if type(value) is not list:", "    raise _Slow",
                     f"value = [{inner}(each, value, partial) for each in value]"]
        elif kind is fields.Dict:
            keys = self.bind(self.inner_loader(field.key_field)) if field.key_field is not None else None
            values = self.bind(self.inner_loader(field.value_field)) if field.value_field is not None else None
            key = f"{keys}(k, value, partial)" if keys else "k"
            item = f"{values}(v, value, partial)" if values else "v"
            lines = ["if type(value) is not dict:", "    raise _Slow",
                     f"value = {{{key}: {item} for k, v in value.items()}}"]
        else:
            lines = [f"value = {self.bind(field)}.deserialize(value, {field.name!r}, data)"]
        for validator in field.validators:
            lines += self.check_lines(validator)
        return [indent + line for line in lines]

    def check_lines(self, validator) -> list[str]:
        """Lines that raise _Slow unless `value` passes (a refusal goes to marshmallow, which words
        the error). The usual validators are a comparison or two; any other is called."""
        kind = type(validator)
        if validator is WELL_FORMED:  # (ASCII text, most of it, holds no surrogate: no pattern to run)
            return [f"if '\\x00' in value or not value.isascii() and {self.bind(_NOT_TEXT.search)}(value) is not None:",
                    "    raise _Slow"]
        if validator is SANE_TIME:
            return [f"if not {self.bind(is_sane_time)}(value):", "    raise _Slow"]
        if kind is validate.Length:
            if validator.equal is not None:
                return [f"if len(value) != {validator.equal!r}:", "    raise _Slow"]
            tests = ([f"len(value) < {validator.min!r}"] if validator.min is not None else []) + \
                    ([f"len(value) > {validator.max!r}"] if validator.max is not None else [])
            return [f"if {' or '.join(tests)}:", "    raise _Slow"] if tests else []
        if kind is validate.OneOf:
            try:
                choices = frozenset(validator.choices)
            except TypeError:  # unhashable choices: as marshmallow does it
                choices = validator.choices
            return [f"if type(value) not in (str, int) or value not in {self.bind(choices)}:", "    raise _Slow"]
        if kind is validate.Range and validator.min_inclusive and validator.max_inclusive:
            tests = ([f"value < {self.bind(validator.min)}"] if validator.min is not None else []) + \
                    ([f"value > {self.bind(validator.max)}"] if validator.max is not None else [])
            return [f"if {' or '.join(tests)}:", "    raise _Slow"] if tests else []

        def passes(value):
            try:
                return validator(value) is not False
            except ValidationError:
                return False

        return [f"if not {self.bind(passes)}(value):", "    raise _Slow"]

    def inner_loader(self, field: fields.Field):
        """inner(value, data, partial) for a List's or Dict's inner field: None is decided by the
        field itself; `data` is the list or dict holding the value."""
        return self.compiled(f"{type(field).__name__} item", "value, data, partial", [
            "    if value is None:",
            "        return None" if field.allow_none else "        raise _Slow",
            *self.value_lines(field, "    "),
            "    return value"])
