"""The console's sync conflicts: two values typed for one field met; the later one is
in the record, the other is kept in the conflict (sync-contract §4). A supervisor sees the open ones of
their community and settles each with one action: keep the value in the record, or put the other one
back. Settling goes through the sync store's settle_conflict, as a settlement from a phone does, so the
same rules hold (a value changed since is never overwritten unseen) and the phones pull the outcome.
"""
from __future__ import annotations

from datetime import timedelta

from flask import g, request

from server import i18n
from server.audit import service as audit
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, current_community, done, failed, language, render_page, t
from server.errors import ApiError, FieldError, NotFound, ValidationFailed
from server.extensions import db
from server.records import utcnow
from server.syncing.models import SyncConflict
from server.syncing.store import SqlStore, conflict_read, shows_personal_data
from sync.errors import Rejected

RECORD_TYPES: dict[str, tuple[str, str]] = {
    "household": ("住户档案", "Household"), "person": ("家庭成员", "Household member"), "visit": ("入户记录", "Visit"),
    "touchpoint": ("触点", "Touchpoint"), "ticket": ("工单", "Ticket"), "order": ("订单", "Order"),
    "product": ("服务产品", "Product"), "notice": ("公告", "Notice"),
    "poll": ("征询投票", "Poll"), "poll_answer": ("答卷", "Poll answer"), "activity": ("社区活动", "Activity"),
    "activity_signup": ("活动报名", "Activity sign-up"),
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


def _conflicts_page(refused: dict | None = None):
    community = current_community()
    open_ = queries.open_conflicts(db.session, community)
    settled = queries.settled_conflicts(db.session, community, since=utcnow() - RECENT)
    people = {c.kept_by for c in open_ + settled} | {c.other_by for c in open_ + settled} | {
        c.settled_by for c in settled}
    people.discard(None)
    # Both values of a field of the household file are on the page: that is a read of it (docs/audit.md).
    audit.record_reads(db.session, user=g.user, via=audit.Via("console", g.device.id),
                       reads=[conflict_read(c) for c in open_ + settled if shows_personal_data(c)])
    db.session.commit()
    lang = language()
    return render_page("console/conflicts.html", refused, open=open_, settled=settled,
                       users=queries.users_by_id(db.session, people),
                       homes=queries.households_by_id(db.session, {c.household_id for c in open_ + settled
                                                                   if c.household_id}),
                       address=address, show=show_value, field_name=lambda name: i18n.label(name, lang),
                       type_name=lambda code: i18n.pick(RECORD_TYPES.get(code, (code, code)), lang))


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
        if conflict is None or conflict.community_id != current_community():
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
        return _conflicts_page(failed(error, "settle", conflict_id, {"keep": keep}))
    return done(t("done_settle", field=i18n.label(field, language()), value=show_value(chosen)), "console.conflicts")
