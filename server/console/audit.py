"""The console's audit trail: who read a household's file and who changed what, when.

One page, /console/audit, newest first: the whole community, or one household (chosen by building then
household, or linked from the grids page with ?household=), or one user; "older" pages by id. It shows
what server.audit recorded — field names, never values. A supervisor sees their own community only;
an admin the community chosen by ?community=.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import abort, g, render_template, request

from server import i18n
from server.audit import service as audit
from server.auth.models import User
from server.community.models import Household
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, community_for, language, zone_name
from server.extensions import db

ROLES = {"butler": ("管家", "butler"), "resident": ("住户", "resident"), "supervisor": ("主管", "supervisor"),
         "admin": ("管理员", "administrator")}
ACTIONS = {"read": ("查看", "read"), "create": ("新建", "created"), "update": ("修改", "changed"),
           "delete": ("删除", "deleted"), "create_user": ("新建账号", "created the account"),
           "reset_password": ("重置密码", "reset the password"),
           "revoke_device": ("注销设备", "revoked the device")}
RECORD_TYPES = {"household": ("住户档案", "household file"), "person": ("住户成员", "household member"),
                "visit": ("走访", "visit"), "touchpoint": ("触点", "touchpoint"), "ticket": ("工单", "ticket"),
                "order": ("订单", "order"), "product": ("服务产品", "service product"),
                "notice": ("公告", "notice"), "grid": ("网格", "grid"), "community": ("小区", "community"),
                "user": ("账号", "account"), "device": ("设备", "device"), "checkin": ("签到", "check-in"),
                "poll": ("征询投票", "poll"), "poll_answer": ("答卷", "poll answer"), "activity": ("社区活动", "activity"),
                "activity_signup": ("活动报名", "activity sign-up")}
CHANNELS = {"api": ("接口", "API"), "sync": ("手机同步", "phone sync"), "console": ("控制台", "console")}
# Field names that server.i18n.LABELS does not hold (it words the API's errors).
FIELD_LABELS = {"consent_at": ("同意时间", "Consent given"), "deleted": ("删除", "Deleted")}


def _words(table: dict, code: str | None) -> str:
    return i18n.pick(table[code], language()) if code in table else (code or "")


def _fields(names: list[str]) -> str:
    lang = language()
    words = [i18n.pick(FIELD_LABELS[name], lang) if name in FIELD_LABELS else i18n.label(name, lang)
             for name in names]
    return ("、" if lang != "en" else ", ").join(words)


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


def _chosen_household(community: str) -> tuple[Household | None, str]:
    """The household asked for (404 outside the community) and the building whose households are listed."""
    household_id, building = request.args.get("household") or None, request.args.get("building") or None
    household = db.session.get(Household, household_id) if household_id else None
    if household_id and (household is None or household.community_id != community):
        abort(404)
    if household is not None and building is not None and building != household.building:
        household = None  # another building was chosen: its households are listed, none is chosen yet
    return household, (household.building if household is not None else building or "")


def _local(moment: datetime) -> datetime:
    """A stored time on the community's clock (the console's days are the community's)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(zone_name()))


def _rows(events: list, users: dict[str, User]) -> list[dict]:
    """The events as the page shows them: words in the page's language, the record by its address."""
    homes = queries.households_by_id(db.session, {e.household_id for e in events if e.household_id})
    addresses = {home_id: address(home) for home_id, home in homes.items()}
    devices = queries.devices_by_id(db.session, {e.record_id for e in events if e.record_type == "device"})
    rows = []
    for event in events:
        who = users.get(event.user_id)
        if event.record_type == "user" and event.record_id in users:
            record = users[event.record_id].name
        elif event.record_type == "device" and event.record_id in devices:
            device = devices[event.record_id]
            record = f"{device.name or device.id[:8]} ({device.user.name})"
        else:
            record = addresses.get(event.household_id, "")
        rows.append({"event": event, "at": _local(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                     "who": who.name if who else event.user_id, "role": _words(ROLES, who.role if who else None),
                     "action": _words(ACTIONS, event.action), "type": _words(RECORD_TYPES, event.record_type),
                     "record": record, "fields": _fields(event.fields or []),
                     "channel": _words(CHANNELS, event.channel)})
    return rows


@bp.get("/audit")
@console_login_required
def audit_trail():
    """The community's audit trail, newest first, for one household or one user if chosen."""
    community, _ = community_for(g.user)
    if community is None:
        abort(404)
    household, building = _chosen_household(community)
    users = queries.may_act_in(db.session, community)
    by_id = {user.id: user for user in users}
    user_id = request.args.get("user") or None
    if user_id and user_id not in by_id:
        abort(404)
    events, older = audit.list_events(db.session, community_id=community,
                                      household_id=household.id if household else None, user_id=user_id,
                                      before=_int_arg("before"))
    # Authors of the events that are not (or no longer) of this community, named all the same.
    missing = {e.user_id for e in events} - set(by_id)
    by_id.update(queries.users_by_id(db.session, missing))
    # Deleted households have a past too: they are listed.
    buildings = queries.buildings(db.session, community, with_deleted=True)
    households = queries.households_in(db.session, community, building, with_deleted=True) if building else []
    query = {"community": community} if g.user.role == "admin" else {}
    if household is not None:
        query["household"] = household.id
    if user_id:
        query["user"] = user_id
    context = {"rows": _rows(events, by_id), "older": older, "query": query,
               "community": community, "buildings": buildings, "building": building, "households": households,
               "household": household, "users": users, "user_id": user_id, "address": address,
               "role_name": lambda code: _words(ROLES, code), "before": _int_arg("before")}
    return render_template("console/audit.html", **context)
