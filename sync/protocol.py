"""The wire envelope of POST /api/v1/sync (see docs/sync-protocol.md)."""
from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, validates
from marshmallow import fields as mf

from sync import json_input
from sync.errors import Problem, SyncError
from sync.wire import WireSchema, compile_loader, flatten_errors, in_range, max_length, one_of

SCHEMA_VERSION = 1  # the data schema this server speaks
MIN_SCHEMA = 1  # older clients get 426 and update themselves
OPS = ("put", "delete")


@dataclass(frozen=True)
class Limits:
    max_mutations: int = 500
    max_bytes: int = 4 * 1024 * 1024
    max_limit: int = 1000


# A UUID in its canonical 8-4-4-4-12 form, in either case: what every client sends. Matching it is
# a tenth of the cost of building a uuid.UUID, which a batch of 500 did a thousand times.
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_canonical_uuid(value: Any) -> bool:
    """`value` is a UUID written as str(uuid.UUID(...)) writes it, in upper or lower case."""
    return type(value) is str and _CANONICAL_UUID.fullmatch(value) is not None


def _uuid(value: str) -> None:
    if is_canonical_uuid(value):
        return
    try:
        uuid.UUID(value)  # the other spellings uuid.UUID reads (braces, urn:uuid:, no hyphens)
    except (ValueError, AttributeError, TypeError):
        raise ValidationError("invalid_type") from None


class MutationSchema(WireSchema):
    mid = mf.String(required=True, validate=_uuid, metadata={"format": "uuid"})
    type = mf.String(required=True, validate=max_length(20))
    id = mf.String(required=True, validate=max_length(36))
    op = mf.String(required=True, validate=one_of(OPS))
    base = mf.Integer(allow_none=True, load_default=None, validate=in_range(0, 2**62))
    fields = mf.Dict(keys=mf.String(), load_default=dict)
    # Its year is judged with the mutation (the engine), not the batch: a phone whose clock is wrong
    # has its mutations rejected, one by one, and the rest of the batch still applies.
    at = mf.AwareDateTime(required=True, metadata={"any_year": True})


class SyncRequestSchema(WireSchema):
    client_id = mf.String(required=True, validate=_uuid, metadata={"format": "uuid"})
    schema = mf.Integer(required=True, strict=True)
    cursor = mf.String(allow_none=True, load_default=None, validate=max_length(500))
    limit = mf.Integer(load_default=None, strict=True)
    mutations = mf.List(mf.Nested(MutationSchema), load_default=list)

    def __init__(self, *, limits: Limits, **kwargs):
        super().__init__(**kwargs)
        self.limits = limits

    @validates("limit")
    def _limit(self, value, **_kwargs) -> None:
        if value is not None and not 1 <= value <= self.limits.max_limit:
            raise ValidationError(f"out_of_range|min=1|max={self.limits.max_limit}")


# ---- the answer ----------------------------------------------------------------------------
# The engine builds its answer as plain dicts (sync/engine.py); these schemas are its one written
# description, for the API reference (server/openapi) and the tests that hold the answers to it.

class WordedErrorSchema(WireSchema):
    field = mf.String(required=True, allow_none=True)  # null: the record as a whole
    code = mf.String(required=True)
    message = mf.String(required=True)


class ConflictNoteSchema(WireSchema):
    field = mf.String(required=True)
    yours = mf.Raw(required=True, allow_none=True)
    theirs = mf.Raw(required=True, allow_none=True)
    kept = mf.String(required=True, validate=one_of(("yours",)))
    conflict_id = mf.String(required=True)


class ResultSchema(WireSchema):
    """What became of one mutation, in the order they were sent."""

    mid = mf.String(required=True)
    status = mf.String(required=True, validate=one_of(("applied", "merged", "conflict", "rejected")))
    version = mf.Integer(allow_none=True)  # the record's version after it (applied, merged, conflict)
    conflicts = mf.List(mf.Nested(ConflictNoteSchema))  # status conflict
    errors = mf.List(mf.Nested(WordedErrorSchema))  # status rejected


class ChangeSchema(WireSchema):
    """One entry of the pull: a put carries the whole record as the user may see it (`data`, in
    its type's wire format); a delete is a tombstone; an evict says the record left the user's scope."""

    type = mf.String(required=True)
    id = mf.String(required=True)
    op = mf.String(required=True, validate=one_of(("put", "delete", "evict")))
    version = mf.Integer()  # put and delete
    data = mf.Dict(keys=mf.String())  # put


class SyncResponseSchema(WireSchema):
    results = mf.List(mf.Nested(ResultSchema), required=True)
    changes = mf.List(mf.Nested(ChangeSchema), required=True)
    cursor = mf.String(required=True)
    more = mf.Boolean(required=True)
    reset = mf.Boolean()  # present (true) when the cursor was unusable: the client starts over


@functools.cache
def _request_loader(limits: Limits):
    return compile_loader(SyncRequestSchema(limits=limits))


@dataclass(frozen=True)
class Mutation:
    mid: str
    type: str
    id: str
    op: str
    base: int | None
    fields: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class SyncRequest:
    client_id: str
    schema: int
    cursor: str | None
    limit: int
    mutations: list[Mutation]


def parse_request(body: bytes | str | dict, limits: Limits) -> SyncRequest:
    """Bytes (or an already-parsed object) to a request; SyncError with the contract's status if bad."""
    if isinstance(body, (bytes, str)):
        if len(body) > limits.max_bytes:
            raise SyncError(413, "too_large")
        try:
            body = json_input.parse(body)
        except json_input.Malformed:
            raise SyncError(400, "malformed_json") from None
    if not isinstance(body, dict):
        raise SyncError(422, "validation_failed", problems=[Problem("_schema", "invalid_type")])
    mutations = body.get("mutations")
    if isinstance(mutations, list) and len(mutations) > limits.max_mutations:
        raise SyncError(413, "too_many_mutations", extra={"max_mutations": limits.max_mutations})
    try:
        data = _request_loader(limits)(body)
    except ValidationError as exc:
        problems = [Problem(f, c, p) for f, c, p in flatten_errors(exc.messages)]
        raise SyncError(422, "validation_failed", problems=problems) from None
    if data["schema"] < MIN_SCHEMA:
        raise SyncError(426, "client_outdated", extra={"min_schema": MIN_SCHEMA})
    return SyncRequest(
        client_id=data["client_id"], schema=data["schema"], cursor=data["cursor"],
        limit=data["limit"] or limits.max_limit,
        mutations=[Mutation(**m) for m in data["mutations"]],
    )
