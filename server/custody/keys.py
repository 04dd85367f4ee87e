"""The keys of homes in custody (钥匙托管): which key, who keeps it, and each time it is signed out
(to whom, when, why) and back in. Kept in the console only: a key's log names people outside the
household file, and no phone needs it offline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.custody.models import CustodyKey, CustodyKeyMove
from server.errors import FieldError, Forbidden, NotFound, ValidationFailed
from server.records import utcnow


def _household_of_supervisor(session: Session, user: User, household_id: str) -> None:
    from server.resources import service as records

    if user.role not in ("supervisor", "admin"):
        raise Forbidden()
    records.get(session, user=user, rtype="household", record_id=household_id)  # 403/404 outside their scope


def _text(name: str, value: str, limit: int, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed([FieldError(name, "required")])
    if len(value) > limit:
        raise ValidationFailed([FieldError(name, "too_long", max=limit)])
    return value


def add_key(session: Session, *, user: User, household_id: str, label: str, holder: str) -> CustodyKey:
    """A key handed to the company to keep. The caller commits."""
    _household_of_supervisor(session, user, household_id)
    key = CustodyKey(household_id=household_id, label=_text("label", label, 100, required=True),
                     holder=_text("holder", holder, 100, required=True), created_at=utcnow())
    session.add(key)
    session.flush()
    return key


def _key(session: Session, user: User, key_id: str) -> CustodyKey:
    key = session.get(CustodyKey, key_id)
    if key is None:
        raise NotFound()
    _household_of_supervisor(session, user, key.household_id)
    return key


def sign_out(session: Session, *, user: User, key_id: str, person: str, reason: str,
             at: datetime | None = None) -> CustodyKeyMove:
    """The key leaves its keeper: to whom and why. A key already out must come back first."""
    key = _key(session, user, key_id)
    if key.out_to is not None:
        raise ValidationFailed([FieldError("key", "key_out")])
    person = _text("person", person, 100, required=True)
    move = CustodyKeyMove(key_id=key.id, move="out", person=person, reason=_text("reason", reason, 500, required=True),
                          at=at or utcnow(), by_user=user.id)
    key.out_to = person
    session.add(move)
    session.flush()
    return move


def sign_in(session: Session, *, user: User, key_id: str, at: datetime | None = None) -> CustodyKeyMove:
    """The key is back with its keeper."""
    key = _key(session, user, key_id)
    if key.out_to is None:
        raise ValidationFailed([FieldError("key", "key_in")])
    move = CustodyKeyMove(key_id=key.id, move="in", person=key.out_to, reason="", at=at or utcnow(), by_user=user.id)
    key.out_to = None
    session.add(move)
    session.flush()
    return move


@dataclass
class KeyWithLog:
    key: CustodyKey
    moves: list[CustodyKeyMove]


def keys_of(session: Session, household_id: str) -> list[KeyWithLog]:
    """The household's keys, each with its log, newest move first."""
    keys = list(session.scalars(sa.select(CustodyKey).where(CustodyKey.household_id == household_id)
                                .order_by(CustodyKey.created_at, CustodyKey.id)))
    moves: dict[str, list[CustodyKeyMove]] = {}
    if keys:
        for move in session.scalars(sa.select(CustodyKeyMove).where(CustodyKeyMove.key_id.in_([k.id for k in keys]))
                                    .order_by(CustodyKeyMove.at.desc(), CustodyKeyMove.id)):
            moves.setdefault(move.key_id, []).append(move)
    return [KeyWithLog(key, moves.get(key.id, [])) for key in keys]
