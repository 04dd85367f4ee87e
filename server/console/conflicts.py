"""The console's sync conflicts: two values typed for one field met; the later one is
in the record, the other is kept in the conflict (sync-contract §4). A supervisor sees the open ones of
their community and settles each with one action: keep the value in the record, or put the other one
back. Settling goes through the sync store's settle_conflict, as a settlement from a phone does, so the
same rules hold (a value changed since is never overwritten unseen) and the phones pull the outcome.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for

from server import i18n
from server.auth.models import User
from server.community.models import Household
from server.console.actions import _address, _community, _failed, _messages
from server.console.auth import console_login_required
from server.console.views import TEXT, bp, community_query, language, t
from server.errors import ApiError, FieldError, NotFound, ValidationFailed
from server.extensions import db
from server.records import utcnow
from server.syncing.models import SyncConflict
from server.audit import service as audit
from server.syncing.store import SqlStore, conflict_read, shows_personal_data
from sync.errors import Rejected

TEXT.update({
    "conflicts": ("同步冲突", "Sync conflicts"),
    "conflicts_intro": ("两台设备改了同一项：记录里是后到的值，另一个值保存在这里。请选择保留哪一个。",
                        "Two devices changed the same field: the record holds the later value, the other is kept here. "
                        "Choose which one stays."),
    "no_conflicts": ("没有待处理的冲突。", "No open conflicts."),
    "record": ("记录", "Record"),
    "field": ("字段", "Field"),
    "in_record": ("记录中的值", "Value in the record"),
    "other_value": ("另一个值", "The other value"),
    "keep_this": ("保留此值", "Keep this"),
    "by_at": ("{user}，{at}", "{user}, {at}"),
    "empty_value": ("（空）", "(empty)"),
    "settled_recently": ("最近处理的冲突（30 天内）", "Settled in the last 30 days"),
    "settled_by": ("处理人", "Settled by"),
    "chosen_value": ("保留的值", "Kept value"),
    "done_settle": ("已处理：{field}保留“{value}”，手机将在下次同步时更新。",
                    "Settled: {field} keeps “{value}”; phones update at their next sync."),
    "err_already_settled": ("该冲突已被处理。", "This conflict is already settled."),
    "err_changed_since_conflict": ("该项在冲突之后又被修改过，只能保留记录中的当前值。",
                                   "The field changed again after the conflict; only the value now in the record can be kept."),
})

RECORD_TYPES: dict[str, tuple[str, str]] = {
    "household": ("住户档案", "Household"), "person": ("家庭成员", "Household member"), "visit": ("入户记录", "Visit"),
    "touchpoint": ("触点", "Touchpoint"), "ticket": ("工单", "Ticket"), "order": ("订单", "Order"),
    "product": ("服务产品", "Product"), "notice": ("公告", "Notice"),
}
SIDES = ("kept", "other")
RECENT = timedelta(days=30)


def show_value(value) -> str:
    """A typed value as a supervisor reads it."""
    if value is None or value == "" or value == []:
        return t("empty_value")
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "、".join(show_value(item) for item in value)
    if isinstance(value, dict):
        return "；".join(f"{key}: {show_value(item)}" for key, item in value.items())
    return str(value)


def _conflicts(community: str | None, *, open_: bool) -> list[SyncConflict]:
    query = sa.select(SyncConflict).where(SyncConflict.community_id == community, SyncConflict.deleted.is_(False))
    if open_:
        query = query.where(SyncConflict.status == "open").order_by(SyncConflict.created_at, SyncConflict.id)
    else:
        query = (query.where(SyncConflict.status == "settled", SyncConflict.settled_at >= utcnow() - RECENT)
                 .order_by(SyncConflict.settled_at.desc()).limit(100))
    return list(db.session.scalars(query))


def _conflicts_page(failed: dict | None = None):
    community = _community()
    open_, settled = _conflicts(community, open_=True), _conflicts(community, open_=False)
    people = {c.kept_by for c in open_ + settled} | {c.other_by for c in open_ + settled} | {
        c.settled_by for c in settled}
    people.discard(None)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(people)))} if people else {}
    households = {c.household_id for c in open_ + settled if c.household_id}
    homes = ({h.id: h for h in db.session.scalars(sa.select(Household).where(Household.id.in_(households)))}
             if households else {})
    # Both values of a field of the household file are on the page: that is a read of it (docs/audit.md).
    audit.record_reads(db.session, user=g.user, via=audit.Via("console", g.device.id),
                       reads=[conflict_read(c) for c in open_ + settled if shows_personal_data(c)])
    db.session.commit()
    lang = language()
    context = {"open": open_, "settled": settled, "users": users, "homes": homes, "address": _address,
               "failed": failed, "messages": _messages(), "show": show_value,
               "field_name": lambda name: i18n.label(name, lang),
               "type_name": lambda code: i18n.pick(RECORD_TYPES.get(code, (code, code)), lang)}
    return render_template("console/conflicts.html", **context), (failed["status"] if failed else 200)


@bp.get("/conflicts")
@console_login_required
def conflicts():
    """The community's open sync conflicts, and those settled lately."""
    return _conflicts_page()


@bp.post("/conflicts/<conflict_id>/settle")
@console_login_required
def conflict_settle(conflict_id: str):
    """Keep one of the two values (form field `keep`: kept | other)."""
    keep = request.form.get("keep", "")
    try:
        conflict = db.session.get(SyncConflict, conflict_id)
        if conflict is None or conflict.community_id != _community():
            raise NotFound()
        if keep not in SIDES:
            raise ValidationFailed([FieldError("keep", "invalid_choice", choices=", ".join(SIDES))])
        # The value comes from the conflict itself, never from the form: the browser only says which.
        chosen = conflict.kept_value if keep == "kept" else conflict.other_value
        field = conflict.field
        try:
            SqlStore(db.session, channel="console", device_id=g.device.id).settle_conflict(g.user, conflict_id, {"chosen": chosen},
                                                 client_id=f"console:{g.device.id}", at=utcnow())
        except Rejected as rejected:
            problem = rejected.problems[0]
            raise ValidationFailed([FieldError(problem.field or "keep", problem.code, **problem.params)]) from None
        db.session.commit()
    except ApiError as error:
        return _conflicts_page(_failed(error, "settle", conflict_id, {"keep": keep}))
    flash(t("done_settle", field=i18n.label(field, language()), value=show_value(chosen)))
    return redirect(url_for("console.conflicts", **community_query()))
