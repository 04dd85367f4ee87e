"""A community's notices as the console lists them: pinned first, then newest, withdrawn ones last;
filtered by state (published, scheduled, withdrawn) and a page at a time by keyset (server/keyset.py).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
from server.notices.models import Notice

PAGE = 50
STATES = ("published", "scheduled", "withdrawn")


def _rank(notice: Notice) -> int:
    """2: pinned, 1: not pinned, 0: withdrawn (the list runs from the highest)."""
    return 0 if notice.deleted else 2 if notice.pinned else 1


_ORDER = keyset.Order(
    "notices", (keyset.Key(sa.case((Notice.deleted.is_(True), 0), (Notice.pinned.is_(True), 2), else_=1), int),
                keyset.Key(Notice.published_at, datetime), keyset.Key(Notice.id, str)),
    True, lambda row: (_rank(row[0]), row[0].published_at, row[0].id))


def notice_page(session: Session, community_id: str | None, *, state: str | None, now: datetime,
                after: str | None = None, before: str | None = None, limit: int = PAGE) -> keyset.Page:
    """One page of the community's notices (Notice rows) in `state` (None: all), and how many there are.
    Raises keyset.BadPageToken for a token it did not write."""
    conditions = [Notice.community_id == community_id]
    if state == "withdrawn":
        conditions.append(Notice.deleted.is_(True))
    elif state in ("published", "scheduled"):
        conditions += [Notice.deleted.is_(False),
                       Notice.published_at <= now if state == "published" else Notice.published_at > now]
    total = session.scalar(sa.select(sa.func.count()).select_from(Notice).where(*conditions))
    found = keyset.page(session, sa.select(Notice).where(*conditions), _ORDER, limit=limit, after=after, before=before)
    return replace(found, rows=[notice for notice, in found.rows], total=total)
