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


def list_follow_ups(session: Session, *, user: User, status: str | None, community_id: str | None = None,
                    called: bool | None = None, rating: int | None = None, since=None, until=None,
                    limit: int = 500, offset: int = 0) -> list[FollowUp]:
    """A community's 回访 tasks, newest first, filtered (an admin may name the community)."""
    own = _community_of(user)
    community_id = own if own is not None else community_id
    query = sa.select(FollowUp).order_by(FollowUp.created_at.desc(), FollowUp.id)
    if community_id is not None:
        query = query.where(FollowUp.community_id == community_id)
    if status is not None:
        query = query.where(FollowUp.status == status)
    if called is not None:
        query = query.where(FollowUp.called_at.is_not(None) if called else FollowUp.called_at.is_(None))
    if rating is not None:
        query = query.where(FollowUp.rating == rating)
    if since is not None:
        query = query.where(FollowUp.created_at >= since)
    if until is not None:
        query = query.where(FollowUp.created_at < until)
    return list(session.scalars(query.offset(offset).limit(limit)))


def settle(session: Session, *, user: User, follow_up_id: str, status: str, note: str | None,
           called: bool | None = None) -> FollowUp:
    community_id = _community_of(user)
    follow_up = session.get(FollowUp, follow_up_id, with_for_update=True)
    if follow_up is None or (community_id is not None and follow_up.community_id != community_id):
        raise NotFound()
    if note is not None:
        follow_up.note = note
    if called is not None and called != (follow_up.called_at is not None):
        follow_up.called_at = utcnow() if called else None
    if status != follow_up.status:
        follow_up.status = status
        follow_up.done_at, follow_up.done_by = (utcnow(), user.id) if status == "done" else (None, None)
    session.flush()
    return follow_up
