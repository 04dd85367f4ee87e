"""The console's notices (公告): supervisors write their community's, for everyone in it or one
building, publish them now or at a time (scheduled), pin them on top and withdraw them. They are
written through the same domain rules as the REST API (server/notices/service.py): publishing tells
the residents and butlers of the audience through the notification outbox, a scheduled notice when
it falls due. Withdrawing deletes it: the phones drop it at their next sync; the console still lists it.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import g, request, url_for

from server import keyset
from server.audit import service as audit
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import bp, community_query, current_community, done, failed, render_page, t, zone_name
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.notices import listing
from server.records import utcnow
from server.resources import service

FIELDS = ("title", "body", "building", "publish_at")
STATE_WORDS = {"published": "ntc_live", "scheduled": "ntc_scheduled", "withdrawn": "ntc_withdrawn"}


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
    community, now = current_community(), utcnow()
    state = request.args.get("state", "")
    ignored = None
    if state and state not in listing.STATES:
        state, ignored = "", t("filters_ignored", names=t("status"))
    after, before = request.args.get("after", "").strip()[:400] or None, request.args.get("before", "").strip()[:400] or None
    bad = None
    try:
        page = listing.notice_page(db.session, community, state=state or None, now=now, after=after, before=before)
    except keyset.BadPageToken:
        bad = t("bad_page_link")
        page = listing.notice_page(db.session, community, state=state or None, now=now)
    args = ({"state": state} if state else {}) | community_query()
    return render_page("console/notices.html", refused, notices=page.rows, total=page.total, now=now, local=_local,
                       buildings=queries.buildings(db.session, community), state=state, bad=bad, ignored=ignored,
                       states=[(code, t(STATE_WORDS[code])) for code in listing.STATES],
                       page_args={k: v for k, v in (("state", state), ("after", after), ("before", before)) if v},
                       first_url=url_for("console.notices", **args) if after or before else None,
                       next_url=url_for("console.notices", **args, after=page.next_after) if page.next_after else None,
                       prev_url=url_for("console.notices", **args, before=page.prev_before) if page.prev_before else None)


@bp.get("/notices")
@console_login_required
def notices():
    """The community's notices a page at a time (server/notices/listing.py): pinned first, then newest;
    withdrawn ones last; all of them or those published, scheduled or withdrawn."""
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
    kept = {name: request.args[name][:400] for name in ("state", "after", "before") if request.args.get(name)}
    return done(t(message), "console.notices", **kept)  # back to the same list and page


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
