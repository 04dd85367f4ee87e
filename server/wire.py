"""Wire-format helpers of the server's schemas; the code-emitting base lives in sync/wire.py."""
from __future__ import annotations

from collections.abc import Mapping

from marshmallow import fields

from sync.wire import WireSchema, flatten_errors, in_range, max_length, one_of

__all__ = ["WireSchema", "RecordSchema", "flatten_errors", "in_range", "max_length", "one_of", "tag_list"]


def tag_list():
    return fields.List(fields.String(validate=max_length(30)), validate=max_length(50))


class RecordSchema(WireSchema):
    """Bookkeeping fields every synced record shows and no client writes."""

    id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


# Field classes whose dump of a value read from our own database is the value itself: the
# database holds only what the schema loaded, in these exact JSON types.
_AS_IS = (fields.String, fields.Integer, fields.Float, fields.Boolean, fields.List, fields.Dict)
_ISO = (fields.DateTime, fields.Date)  # AwareDateTime is a DateTime


def compile_dumper(schema: WireSchema):
    """A dump equivalent to `schema.dump(row)` for rows read from the database, derived from the
    schema (which stays the one definition of the wire format), without marshmallow's per-field
    machinery: a bootstrap dumps tens of thousands of records. Falls back to marshmallow for any
    field class it does not know, and tests compare both on every record type."""
    plan = []
    for name, field in schema.dump_fields.items():
        key = field.attribute or name
        if isinstance(field, _ISO) and field.format in (None, "iso", "iso8601"):
            plan.append((name, key, True))
        elif isinstance(field, _AS_IS) and not isinstance(field, _ISO):
            plan.append((name, key, False))
        else:
            return schema.dump

    def dump(row) -> dict:
        """`row`: a row mapping (pulls) or a model instance (REST)."""
        get = row.__getitem__ if isinstance(row, Mapping) else row.__getattribute__
        out = {}
        for name, key, iso in plan:
            value = get(key)
            out[name] = value.isoformat() if iso and value is not None else value
        return out

    return dump


def compile_row_dumper(schema: WireSchema, columns: tuple[str, ...], hidden: frozenset[str] = frozenset()):
    """dump(row) for a row whose values come in `columns` order (the attribute names a pull
    selects): `compile_dumper`'s dict without the fields in `hidden`, as generated code, one dict
    display with every value read by position. A first sync dumps tens of thousands of rows, and
    the general dump's loop, its look-ups by name and the removal of hidden fields were a tenth of
    its time. None when the schema has a field `compile_dumper` leaves to marshmallow."""
    position = {column: i for i, column in enumerate(columns)}
    items = []
    for name, field in schema.dump_fields.items():
        if name in hidden:
            continue
        index = position[field.attribute or name]
        if isinstance(field, _ISO) and field.format in (None, "iso", "iso8601"):
            items.append(f"{name!r}: (v{index}.isoformat() if (v{index} := row[{index}]) is not None else None)")
        elif isinstance(field, _AS_IS):
            items.append(f"{name!r}: row[{index}]")
        else:
            return None
    namespace: dict = {}
    exec(f"def dump(row):\n    return {{{', '.join(items)}}}\n", namespace)  # noqa: S102 - names from our own schema
    return namespace["dump"]
