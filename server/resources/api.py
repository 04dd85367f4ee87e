"""REST access to every record type: /api/v1/<plural>[/<id>], all through the scope rules."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from server.audit import service as audit
from server.errors import FieldError, NotFound, ValidationFailed
from server.extensions import db
from server.http import int_arg, json_body, query_args, text_arg, version_arg
from server.resources import service
from server.resources.registry import by_plural, registry

bp = Blueprint("resources", __name__)


def _type(plural: str) -> str:
    res = by_plural(plural)
    if res is None:
        raise NotFound()
    return res.type


def _via() -> audit.Via:
    return audit.Via("api", g.device.id)


def _sent(rtype: str, items: list[dict]):
    """Records of the household file leave the server only with an audit event each."""
    events = audit.read_events(db.session, user=g.user, via=_via(), reads=[(rtype, item) for item in items])
    if events:
        # End the read first: on SQLite a transaction that read before it writes can be refused
        # when another writer committed in between; a fresh one waits for the lock instead.
        db.session.commit()
        audit.insert(db.session, events)
        db.session.commit()


@bp.get("/<plural>")
def list_records(plural: str):
    """Records of one type in the caller's scope, paged by id."""
    rtype = _type(plural)
    args = query_args("limit", "after", *registry()[rtype].filters)
    filters = {k: v for k, v in args.items() if k not in ("limit", "after")}
    limit = int_arg(args, "limit", 100, low=1, high=service.MAX_PAGE)
    after = text_arg(args, "after", max_length=service.MAX_ID_LENGTH)
    records, next_after = service.list_records(db.session, user=g.user, rtype=rtype, filters=filters,
                                               limit=limit, after=after)
    items = [service.dump(g.user, rtype, r) for r in records]
    _sent(rtype, items)
    return jsonify(items=items, next=next_after)


@bp.get("/<plural>/<record_id>")
def get_record(plural: str, record_id: str):
    """One record."""
    rtype = _type(plural)
    item = service.dump(g.user, rtype, service.get(db.session, user=g.user, rtype=rtype, record_id=record_id))
    _sent(rtype, [item])
    return jsonify(item)


@bp.post("/<plural>")
def create_record(plural: str):
    """A new record; the body may carry the id the client chose."""
    rtype = _type(plural)
    body = json_body()
    key = registry()[rtype].key
    if key in body and body[key] is None:  # left out, the server chooses; null is a mistake
        raise ValidationFailed([FieldError(key, "null")])
    record_id = body.pop(key, None)
    record = service.create(db.session, user=g.user, rtype=rtype, data=body, record_id=record_id, via=_via())
    db.session.commit()
    return jsonify(service.dump(g.user, rtype, record)), 201


@bp.patch("/<plural>/<record_id>")
def update_record(plural: str, record_id: str):
    """Change some fields; `version` in the body makes it fail with 409 if someone else was first."""
    rtype = _type(plural)
    body = json_body()
    version = body.pop("version", None)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ValidationFailed([FieldError("version", "invalid_type")])
    record = service.update(db.session, user=g.user, rtype=rtype, record_id=record_id, data=body,
                            expected_version=version, via=_via())
    db.session.commit()
    return jsonify(service.dump(g.user, rtype, record))


@bp.delete("/<plural>/<record_id>")
def delete_record(plural: str, record_id: str):
    """Delete a record (kept as a tombstone for the phones)."""
    rtype = _type(plural)
    service.delete(db.session, user=g.user, rtype=rtype, record_id=record_id,
                   expected_version=version_arg(query_args("version")), via=_via())
    db.session.commit()
    return "", 204
