"""Field-level merge: which fields of a put collide with changes the client had not seen.

Each stored record keeps, per field, who changed it last and at which record version:
`meta[field] = [version, client_id, user_id]`. A put carries `base`, the version its client last
saw. A field the put changes is in conflict when it was changed after `base` by another writer
(another person, or the same person on another phone: a writer is a client and a user) and
now holds a different value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

FieldMeta = dict[str, list]  # field -> [version, client_id, user_id]


@dataclass(frozen=True)
class Collision:
    field: str
    yours: Any  # the value this put brings (it is kept: the later arrival wins)
    theirs: Any  # the value it replaces (kept in a conflict record)
    their_user_id: str | None
    their_client_id: str | None


@dataclass(frozen=True)
class Plan:
    status: str  # applied | merged | conflict
    collisions: list[Collision]


def _same_writer(changed: list, client_id: str, user_id: str) -> bool:
    return changed[1] == client_id and (len(changed) < 3 or changed[2] == user_id)


def plan_put(*, current: dict[str, Any], meta: FieldMeta, version: int, base: int | None,
             client_id: str, user_id: str, fields: dict[str, Any], serial: Iterable[str] = ()) -> Plan:
    """Decide how a put on an existing record merges. `serial` fields never conflict: a state
    machine (a ticket's status) decides them instead."""
    seen = base or 0
    collisions = []
    for name, value in fields.items():
        changed = meta.get(name)
        if name in serial or not changed or changed[0] <= seen or _same_writer(changed, client_id, user_id):
            continue
        if current.get(name) != value:
            collisions.append(Collision(name, value, current.get(name),
                                        changed[2] if len(changed) > 2 else None, changed[1]))
    if collisions:
        return Plan("conflict", collisions)
    return Plan("applied" if seen >= version else "merged", [])


def changed_by_others_since(meta: FieldMeta, base: int | None, client_id: str, user_id: str) -> bool:
    """Whether another writer changed the record after `base` (guards deletes)."""
    seen = base or 0
    return any(m[0] > seen and not _same_writer(m, client_id, user_id) for m in meta.values())


def stamp(meta: FieldMeta, names: Iterable[str], *, version: int, client_id: str, user_id: str) -> FieldMeta:
    """The record's field metadata after a write of `names` that makes it `version`."""
    updated = dict(meta)
    for name in names:
        updated[name] = [version, client_id, user_id]
    return updated
