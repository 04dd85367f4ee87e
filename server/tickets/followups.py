"""回访 tasks: the supervisors of a community list them and mark them done."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.errors import Forbidden, NotFound
from server.records import utcnow
from server.tickets.models import FollowUp


def _community_of(user: User) -> str | None:
    """Supervisors see their community's tasks; admins, any (None: all)."""
    if user.role == "admin":
        return None
    if user.role != "supervisor" or not user.community_id:
        raise Forbidden()
    return user.community_id


def list_follow_ups(session: Session, *, user: User, status: str | None) -> list[FollowUp]:
    community_id = _community_of(user)
    query = sa.select(FollowUp).order_by(FollowUp.created_at.desc(), FollowUp.id)
    if community_id is not None:
        query = query.where(FollowUp.community_id == community_id)
    if status is not None:
        query = query.where(FollowUp.status == status)
    return list(session.scalars(query.limit(500)))


def settle(session: Session, *, user: User, follow_up_id: str, status: str, note: str | None) -> FollowUp:
    community_id = _community_of(user)
    follow_up = session.get(FollowUp, follow_up_id, with_for_update=True)
    if follow_up is None or (community_id is not None and follow_up.community_id != community_id):
        raise NotFound()
    if note is not None:
        follow_up.note = note
    if status != follow_up.status:
        follow_up.status = status
        follow_up.done_at, follow_up.done_by = (utcnow(), user.id) if status == "done" else (None, None)
    session.flush()
    return follow_up
