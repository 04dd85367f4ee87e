"""The console's notices (公告): supervisors write their community's, for everyone in it or one
building, publish them now or at a time (scheduled), pin them on top and withdraw them. They are
written through the same domain rules as the REST API (server/notices/service.py): publishing tells
the residents and butlers of the audience through the notification outbox, a scheduled notice when
it falls due. Withdrawing deletes it: the phones drop it at their next sync; the console still lists it.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import g, request

from server.audit import service as audit
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import bp, current_community, done, failed, render_page, t, zone_name
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.notices.models import Notice
from server.records import utcnow
from server.resources import service

FIELDS = ("title", "body", "building", "publish_at")


def _local(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(zone_name())).strftime("%Y-%m-%d %H:%M") if moment else ""


def _publish_at(text: str) -> datetime | None:
    """A datetime-local field (the community's clock) as an aware time; None when left empty (now)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone_name()))
    except ValueError:
        raise ValidationFailed([FieldError("published_at", "invalid")]) from None


def _notices_page(refused: dict | None = None):
    community = current_community()
    notices = list(db.session.scalars(sa.select(Notice).where(Notice.community_id == community)
                                      .order_by(Notice.deleted, Notice.pinned.desc(), Notice.published_at.desc(),
                                                Notice.id).limit(200)))
    return render_page("console/notices.html", refused, notices=notices, now=utcnow(), local=_local,
                       buildings=queries.buildings(db.session, community))


@bp.get("/notices")
@console_login_required
def notices():
    """The community's notices: pinned first, then newest; withdrawn ones last."""
    return _notices_page()


@bp.post("/notices")
@console_login_required
def notice_create():
    """Write a notice: now, or at `publish_at` (the community's time)."""
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    values["pinned"] = request.form.get("pinned") == "on"
    try:
        data = {"title": values["title"], "body": values["body"], "building": values["building"],
                "pinned": values["pinned"], "community_id": current_community()}
        publish_at = _publish_at(values["publish_at"])
        if publish_at is not None:
            data["published_at"] = publish_at.isoformat()
        notice = service.create(db.session, user=g.user, rtype="notice", data=data,
                                via=audit.Via("console", g.device.id))
        db.session.commit()
    except ApiError as error:
        return _notices_page(failed(error, "create", None, values))
    key = "ntc_done_published" if notice.notified_at else "ntc_done_scheduled"
    return done(t(key, title=notice.title, at=_local(notice.published_at)), "console.notices")


def _change(notice_id: str, data: dict | None, message: str):
    try:
        if data is None:
            service.delete(db.session, user=g.user, rtype="notice", record_id=notice_id,
                           via=audit.Via("console", g.device.id))
        else:
            service.update(db.session, user=g.user, rtype="notice", record_id=notice_id, data=data,
                           via=audit.Via("console", g.device.id))
        db.session.commit()
    except ApiError as error:
        return _notices_page(failed(error, "change", notice_id, {}))
    return done(t(message), "console.notices")


@bp.post("/notices/<notice_id>/pin")
@console_login_required
def notice_pin(notice_id: str):
    """Pin a notice on top (`pinned=on`), or unpin it."""
    pinned = request.form.get("pinned") == "on"
    return _change(notice_id, {"pinned": pinned}, "ntc_done_pinned" if pinned else "ntc_done_unpinned")


@bp.post("/notices/<notice_id>/withdraw")
@console_login_required
def notice_withdraw(notice_id: str):
    """Withdraw a notice: it leaves every phone."""
    return _change(notice_id, None, "ntc_done_withdrawn")
