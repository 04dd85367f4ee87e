"""Reading and writing records of any registered type, always through the scope rules.

Writes run in a savepoint: a rejected write leaves nothing behind, and a batch (sync) can go on
with its next record. The caller commits. Every write leaves an audit event (server/audit) in
the same transaction: here, and nowhere else, so that no way in (REST, sync, console) is missed.
"""
from __future__ import annotations

from contextlib import nullcontext
from functools import cache
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.audit.service import Via
from server.auth import scopes
from server.auth.models import User
from server.errors import (AlreadyExists, FieldError, Forbidden, NotFound, StaleVersion,
                           ValidationFailed, field_errors_from_marshmallow)
from server.records import Tracked, new_id
from server.resources.batch import Batch, Written
from server.resources.registry import Resource, registry
from server.syncing import bookkeeping
from server.syncing.changes import apply_scope_change, audience, record_moved
from sync.merge import stamp
from sync.protocol import is_canonical_uuid

MAX_PAGE = 500
MAX_ID_LENGTH = 36  # a UUID, or a product's code
MAX_FILTER_LENGTH = 100
SERVER_CLIENT = "server"  # the client id of writes not made through sync (REST, console)


def resource(rtype: str) -> Resource:
    try:
        return registry()[rtype]
    except KeyError:
        raise NotFound() from None


def dump(user: User, rtype: str, record) -> dict[str, Any]:
    """The record as this user may see it."""
    res = resource(rtype)
    hidden = scopes.hidden_fields(user, rtype)
    data = res.dump(record)
    for name in hidden:
        data.pop(name, None)
    return data


def get(session: Session, *, user: User, rtype: str, record_id: str):
    """One live record in the user's scope: 404 if there is none, 403 if it is not theirs."""
    res = resource(rtype)
    record = session.get(res.model, record_id)
    if record is None or record.deleted:
        raise NotFound()
    if not scopes.is_visible(session, user, rtype, res.model, record_id):
        raise Forbidden()
    return record


def list_records(session: Session, *, user: User, rtype: str, filters: dict[str, str],
                 limit: int = 100, after: str | None = None) -> tuple[list, str | None]:
    """Live records in the user's scope, ordered by id, `after` the given id (keyset paging).

    Returns the page and the id to ask for the next page `after`, or None on the last page.
    """
    res = resource(rtype)
    model = res.model
    query = sa.select(model).where(model.deleted.is_(False), scopes.visible_filter(user, rtype, model))
    for name, value in _filter_values(res, filters).items():
        query = query.where(getattr(model, name) == value)
    if after:
        query = query.where(model.id > after)
    limit = max(1, min(limit, MAX_PAGE))
    records = list(session.scalars(query.order_by(model.id).limit(limit + 1)))
    if len(records) > limit:
        return records[:limit], records[limit - 1].id
    return records, None


def _filter_values(res: Resource, filters: dict[str, str]) -> dict[str, Any]:
    """The list's filters, each checked as its field: a value the field could never hold (a status
    that does not exist, a text too long) is a 422 naming it, not a query the database refuses."""
    errors: list[FieldError] = []
    values = {}
    for name, value in filters.items():
        if name not in res.filters:
            errors.append(FieldError(name, "unknown_field"))
            continue
        if len(value) > MAX_FILTER_LENGTH:  # an id, a code, a building's name: nothing filtered on is longer
            errors.append(FieldError(name, "too_long", max=MAX_FILTER_LENGTH))
            continue
        try:
            values[name] = res.wire.fields[name].deserialize(value)
        except ValidationError as exc:
            errors.extend(field_errors_from_marshmallow({name: exc.messages}))
    if errors:
        raise ValidationFailed(errors)
    return values


def load_fields(user: User, rtype: str, data: Any, *, creating: bool) -> dict[str, Any]:
    """Validate incoming fields with the type's schema and the user's write rights."""
    res = resource(rtype)
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("_schema", "invalid_type")])
    try:
        values = res.load(data, partial=not creating)
    except ValidationError as exc:
        raise ValidationFailed.from_marshmallow(exc) from None
    refused = [FieldError(name, "not_writable") for name in scopes.fields_refused(user, rtype, data, creating=creating)]
    if refused:
        raise Forbidden(errors=refused)
    return values


def create(session: Session, *, user: User, rtype: str, data: Any, record_id: str | None = None,
           client_id: str = SERVER_CLIENT, meta: dict | None = None, scope_grace: bool = False,
           batch: Batch | None = None, via: Via | None = None):
    """A new record, with the id the client chose (or a fresh one).

    `client_id` names the writing app for field-level merging; `meta` (from the sync engine)
    replaces the field metadata the write would otherwise get. `scope_grace` accepts a record
    outside the user's current scope: work done offline before a reassignment (sync decides).
    With a `batch` (sync), a simple write is checked in Python now and in SQL with the batch's
    others later (server/resources/batch.py), and returns only its id and version (`Written`).
    `via` names the channel and device for the audit trail (None: the console).
    """
    res = resource(rtype)
    if not scopes.rights(user, rtype).create:
        raise Forbidden()
    values = load_fields(user, rtype, data, creating=True)
    derive = res.rules.derived_id
    record_id = None if derive is not None and record_id is None else _checked_id(rtype, record_id)
    fast = batch is not None and batch.fast(rtype) and not scope_grace
    with nullcontext() if fast else session.begin_nested():
        if record_id is not None and not (fast and (rtype, record_id) in batch.absent) \
                and session.get(res.model, record_id) is not None:
            raise AlreadyExists()
        if res.rules.prepare_create:
            res.rules.prepare_create(session, user, values)
        if derive is not None:
            record_id = _derived_id(session, res, values, record_id)
        _check_references(session, values, batch if fast else None)
        row = bookkeeping.created(session, rtype, {"id": record_id, **values})
        if issubclass(res.model, Tracked):
            row["field_meta"] = _field_meta({}, values, meta=meta, version=1, client_id=client_id,
                                            writer_id=_writer_id(user, via))
        if fast:  # no ORM object: the batch inserts its new rows together (server/resources/batch.py)
            batch.add_row(rtype, row)
            if res.rules.after_write:  # once the batch has passed (server/resources/batch.py)
                batch.after_write(rtype, record_id, {}, True)
            _audit(session, user, "create", rtype, row, values, via, deferred=True)
            return Written(record_id, 1)
        record = res.model(**row)
        session.add(record)
        _flush(session)
        if not scope_grace:
            _check_in_scope(session, user, res, record)
        if res.rules.after_write:
            res.rules.after_write(session, user, record, {}, True)
        _audit(session, user, "create", rtype, record, values, via)
    return record


def update(session: Session, *, user: User, rtype: str, record_id: str, data: Any,
           expected_version: int | None = None, client_id: str = SERVER_CLIENT, meta: dict | None = None,
           batch: Batch | None = None, via: Via | None = None):
    """Change some fields of a record; 409 when `expected_version` is no longer current."""
    res = resource(rtype)
    changes = load_fields(user, rtype, data, creating=False)
    if not scopes.rights(user, rtype).update:
        raise Forbidden()  # even an empty change would bump the version of a record it may only read
    # A write that moves a record between households or hands needs the careful way: it may evict.
    fast = batch is not None and batch.fast(rtype) and not {"household_id", "assignee_id", "team_id"} & set(changes)
    with nullcontext() if fast else session.begin_nested():
        record = _load_for_write(session, user, res, record_id, expected_version, batch=batch if fast else None,
                                 changes=changes)
        if res.rules.prepare_update:
            res.rules.prepare_update(session, user, record, changes)
        _check_references(session, changes, batch if fast else None)
        previous = {name: getattr(record, name) for name in changes} if res.rules.after_write else {}
        if fast:
            for name, value in changes.items():
                setattr(record, name, value)
            bookkeeping.changed(session, rtype, record)
            _track(record, changes, meta=meta, client_id=client_id, writer_id=_writer_id(user, via))
            batch.note_written(rtype, record_id)
            if res.rules.after_write:  # once the batch has passed (server/resources/batch.py)
                batch.after_write(rtype, record_id, previous, False)
            _audit(session, user, "update", rtype, record, changes, via, deferred=True)
            return record
        watched = res.rules.audience_of(session, record, changes) if res.rules.audience_of else []
        before = audience(session, watched)
        moved = _movement(record, changes)
        previous_holder = {name: getattr(record, name) for name in ("assignee_id", "team_id") if hasattr(record, name)}
        for name, value in changes.items():
            setattr(record, name, value)
        bookkeeping.changed(session, rtype, record)
        _track(record, changes, meta=meta, client_id=client_id, writer_id=_writer_id(user, via))
        _flush(session)
        if not (res.rules.lets_go and res.rules.lets_go(user, record, previous_holder)):
            _check_in_scope(session, user, res, record)
        if watched:
            apply_scope_change(session, before, audience(session, watched))
        if moved:
            record_moved(session, rtype=rtype, record_id=record.id, **moved)
        if res.rules.after_write:
            res.rules.after_write(session, user, record, previous, False)
        _audit(session, user, "update", rtype, record, changes, via)
    return record


def delete(session: Session, *, user: User, rtype: str, record_id: str,
           expected_version: int | None = None, via: Via | None = None):
    """Mark a record deleted (a tombstone the sync engine sends on)."""
    res = resource(rtype)
    if not scopes.rights(user, rtype).delete:
        raise Forbidden()
    with session.begin_nested():
        record = _load_for_write(session, user, res, record_id, expected_version)
        watched = res.rules.audience_of(session, record, {"deleted": True}) if res.rules.audience_of else []
        before = audience(session, watched)
        record.deleted = True
        bookkeeping.changed(session, rtype, record)
        _track(record, {}, meta=None, client_id=SERVER_CLIENT, writer_id=_writer_id(user, via))
        _flush(session)
        if watched:
            apply_scope_change(session, before, audience(session, watched))
        _audit(session, user, "delete", rtype, record, {}, via)
    return record


def _audit(session: Session, user: User, action: str, rtype: str, record, fields, via: Via | None, *,
           deferred: bool = False) -> None:
    """The write's audit event: the names of the fields written (after the domain rules added theirs,
    such as the phone number that withdrawn consent erases), never their values. Inside the write's
    savepoint, so a refused write leaves no event; a sync batch's fast writes (no savepoint) keep theirs
    to be inserted with the batch's rows (server/syncing/store.py)."""
    event = audit.change_event(session, user=user, action=action, rtype=rtype, record=record, fields=fields,
                               via=via)
    if deferred:
        audit.defer(session, event)
    else:
        audit.insert(session, [event])


def _checked_id(rtype: str, record_id: Any) -> str:
    """A client-chosen id must be a UUID; a type keyed otherwise (a product by its catalogue code)
    must be given one."""
    key = resource(rtype).key
    if record_id is None:
        if key != "id":
            raise ValidationFailed([FieldError(key, "required")])
        return new_id()
    if key != "id":
        if not isinstance(record_id, str) or not 1 <= len(record_id) <= MAX_ID_LENGTH:
            raise ValidationFailed([FieldError(key, "invalid_type")])
        return record_id
    # The canonical form, in the client's own case: its next put must find the same record.
    if not isinstance(record_id, str) or not is_canonical_uuid(record_id):
        raise ValidationFailed([FieldError(key, "invalid_type")])
    return record_id


def _derived_id(session: Session, res: Resource, values: dict, given: str | None) -> str:
    """The id a type derives from its values: the one given must be it; none given, it is taken."""
    wanted = res.rules.derived_id(values)
    if given is None:
        if session.get(res.model, wanted) is not None:
            raise AlreadyExists()
        return wanted
    if given != wanted:
        raise ValidationFailed([FieldError("id", "invalid")])
    return given


def _load_for_write(session: Session, user: User, res: Resource, record_id: str,
                    expected_version: int | None, batch: Batch | None = None, changes: dict | None = None):
    if batch is not None:  # locked and scope-checked by the batch's prefetch
        record = session.get(res.model, record_id)
        visible = (res.type, record_id) in batch.visible
    else:
        record = session.execute(
            sa.select(res.model).where(res.model.id == record_id).with_for_update()
        ).scalar_one_or_none()
        visible = record is not None and scopes.is_visible(session, user, res.type, res.model, record_id)
    if record is None or record.deleted:
        raise NotFound()
    if not visible:
        if res.rules.refuse_hidden and changes is not None:
            res.rules.refuse_hidden(user, record, changes)  # a clearer refusal than 403, where there is one
        raise Forbidden()
    if scopes.rights(user, res.type).own_only and _author_of(record) != user.id:
        raise Forbidden(errors=[FieldError("butler_id" if hasattr(record, "butler_id") else "author_id",
                                           "out_of_scope")])
    if expected_version is not None and record.version != expected_version:
        raise StaleVersion(details={"current_version": record.version})
    return record


def _author_of(record) -> str | None:
    """Who made a record of a type that only its maker may change (a visit's butler, a photo's author)."""
    return getattr(record, "butler_id", None) or getattr(record, "author_id", None)


@cache
def _references():
    from server.auth.models import User as UserModel
    from server.community.models import Community, Grid, Household
    from server.products.models import Product

    return {"household_id": Household, "grid_id": Grid, "community_id": Community,
            "product_code": Product, "butler_id": UserModel, "assignee_id": UserModel, "team_id": _team_model()}


def _team_model():
    from server.teams.models import Team

    return Team


def _check_references(session: Session, values: dict[str, Any], batch: Batch | None = None) -> None:
    """Every id a record points at must exist (and be live); scope is checked after the write.

    A sync batch keeps the records it found (500 visits name the same few households and one
    butler): asking the session again for each cost more than the rest of the check. They are the
    session's own objects, so a change to one earlier in the batch is seen here."""
    missing = []
    for name, model in _references().items():
        target_id = values.get(name)
        if target_id is None:
            continue
        target = batch.referenced.get((model, target_id)) if batch is not None else None
        if target is None:
            target = session.get(model, target_id)
            if batch is not None and target is not None:
                batch.referenced[(model, target_id)] = target
        if target is None or getattr(target, "deleted", False) or not getattr(target, "active", True):
            missing.append(FieldError(name, "not_found"))
    if missing:
        raise ValidationFailed(missing)


def _movement(record, changes: dict) -> dict | None:
    """A record that hangs on a household and moves to another (or a ticket that changes hands)
    leaves some phones: what record_moved needs to evict it there."""
    household_moves = "household_id" in changes and changes["household_id"] != getattr(record, "household_id", None)
    old_assignee = getattr(record, "assignee_id", None)
    old_team = getattr(record, "team_id", None)
    hands_change = "assignee_id" in changes and old_assignee and changes["assignee_id"] != old_assignee
    team_change = "team_id" in changes and old_team and changes["team_id"] != old_team
    if not (household_moves or hands_change or team_change) or not isinstance(record, Tracked):
        return None
    return {"old_household": record.household_id, "new_household": changes.get("household_id", record.household_id),
            "old_assignee": old_assignee if hands_change or team_change else None,
            "new_assignee": changes.get("assignee_id", old_assignee),
            "old_team": old_team if team_change or hands_change else None,
            "new_team": changes.get("team_id", old_team)}


def _writer_id(user: User, via: Via | None) -> str:
    """Who wrote, for field-level merging: the person who acted on the device, even when another
    user's rights made the write (a butler who settles a conflict on the supervisor's value writes
    it with the supervisor's rights, but from the butler's phone, as the butler). A field stamped
    with the rights' owner and the actor's device names a writer that never was, and the actor's
    own next edit from that phone would conflict with the value they had just chosen."""
    return via.actor_id if via is not None and via.actor_id else user.id


def _track(record, changed: dict, *, meta: dict | None, client_id: str, writer_id: str) -> None:
    """Note who changed which field of a replicated record, at its new version."""
    if isinstance(record, Tracked):
        record.field_meta = _field_meta(record.field_meta or {}, changed, meta=meta, version=record.version,
                                        client_id=client_id, writer_id=writer_id)


def _field_meta(current_meta: dict, changed: dict, *, meta: dict | None, version: int, client_id: str,
                writer_id: str) -> dict:
    """The record's field metadata after a change."""
    # What the domain rules derived (a ticket's accepted_at, erased phone numbers) is stamped as
    # written by the same writer as the fields that were sent, so a later stale write conflicts.
    base = meta if meta is not None else current_meta
    return stamp(base, changed, version=version, client_id=client_id, user_id=writer_id)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # references are checked first: what is left is a duplicate
        raise AlreadyExists() from exc


def _check_in_scope(session: Session, user: User, res: Resource, record) -> None:
    """After the write, the record must still be one the user may see: no writing outside scope."""
    if not scopes.is_visible(session, user, res.type, res.model, record.id):
        raise Forbidden(errors=[FieldError(res.scope_field, "out_of_scope")])
