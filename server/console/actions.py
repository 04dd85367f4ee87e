"""The console's actions: grids and households, tickets, butlers and their devices.

Each list is a GET page; each action a POST form (CSRF-checked by console_login_required) whose write
goes through the domain services with the logged-in supervisor as the user, so the scope rules apply:
a supervisor acts only in their own community. A write that worked redirects back with a message
(post/redirect/get); one that was refused renders the page again with the message beside the form
and the values that were sent still chosen (a password is never sent back to the browser).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, get_flashed_messages, redirect, render_template, request, url_for

from server import i18n
from server.audit import service as audit
from server.auth import service as auth_service
from server.auth.models import Device, User
from server.community.models import Grid, Household
from server.console.auth import console_login_required
from server.console.views import CATEGORIES, TEXT, bp, community_for, community_query, language, t
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.resources import service
from server.tickets import sla
from server.tickets.models import Ticket

TEXT.update({
    "grids": ("网格与住户", "Grids & households"),
    "tickets": ("工单", "Tickets"),
    "butlers": ("管家", "Butlers"),
    "grid": ("网格", "Grid"),
    "butler": ("管家", "Butler"),
    "households": ("住户", "Households"),
    "households_count": ("户数", "Households"),
    "building": ("楼栋", "Building"),
    "address": ("地址", "Address"),
    "no_grid": ("（无网格）", "(no grid)"),
    "no_butler": ("（无管家）", "(no butler)"),
    "change_butler": ("更换管家", "Change butler"),
    "move": ("移至网格", "Move to grid"),
    "save": ("保存", "Save"),
    "status": ("状态", "Status"),
    "category": ("类别", "Category"),
    "assignee": ("处理人", "Assignee"),
    "escalated": ("已升级", "Escalated"),
    "reassign": ("改派", "Reassign"),
    "escalate": ("升级", "Escalate"),
    "stage_accept": ("接单超时", "Not accepted in time"),
    "stage_resolve": ("处理超时", "Not resolved in time"),
    "no_open_tickets": ("没有未完成的工单。", "No open tickets."),
    "nobody": ("（未指派）", "(nobody)"),
    "username_label": ("用户名", "Username"),
    "name": ("姓名", "Name"),
    "initial_password": ("初始密码（至少 8 位）", "Initial password (8 characters or more)"),
    "new_password": ("新密码（至少 8 位）", "New password (8 characters or more)"),
    "create_butler": ("新建管家", "New butler"),
    "create": ("创建", "Create"),
    "reset_password": ("重置密码", "Reset password"),
    "devices": ("设备", "Devices"),
    "device": ("设备", "Device"),
    "last_seen": ("最后在线", "Last seen"),
    "never": ("从未", "never"),
    "revoke": ("注销设备", "Revoke"),
    "revoked": ("已注销", "revoked"),
    "inactive": ("已停用", "inactive"),
    "no_devices": ("没有设备", "No devices"),
    "done_grid_butler": ("已将网格“{grid}”交给{butler}。", "Grid {grid} now belongs to {butler}."),
    "done_household_grid": ("已将 {address} 移至网格“{grid}”。", "{address} moved to grid {grid}."),
    "done_reassign": ("工单已改派给{user}。", "The ticket is now with {user}."),
    "done_escalate": ("工单已升级，主管和处理人已收到通知。",
                      "The ticket is escalated; the supervisors and the assignee are told."),
    "done_revoke": ("设备“{device}”（{user}）已注销，下次联网时将清除本机数据。",
                    "Device {device} ({user}) is revoked; it wipes its local data at its next contact."),
    "done_create": ("已创建管家 {name}（{username}）。", "Butler {name} ({username}) created."),
    "done_reset": ("已重置{name}的密码，其所有设备已退出登录。",
                   "{name}'s password is reset; all their devices are logged out."),
    "err_too_short": ("{label}至少需要 {min} 个字符。", "{label} must be at least {min} characters long."),
    "err_not_open": ("该工单已完成或已取消，不能升级。", "This ticket is finished or cancelled; it cannot be escalated."),
    "err_already_escalated": ("该工单已按此阶段升级过。", "This ticket is already escalated for that stage."),
    "err_choose": ("请选择一项。", "Please choose one."),
})

OPEN = sla.WAITING + sla.IN_HAND


def _error_text(error: ApiError) -> str:
    """The domain's refusal in the page's language: its field errors, else its code."""
    lang = language()
    if error.errors:
        texts = []
        for field_error in error.errors:
            own = TEXT.get(f"err_{field_error.code}")
            if own:
                texts.append(i18n._format(i18n.pick(own, lang),
                                          {"label": i18n.label(field_error.field, lang), **field_error.params}))
            else:
                texts.append(field_error.as_dict(lang)["message"])
        return " ".join(texts)
    return i18n.error_message(error.code, lang, **error.params)


def _failed(error: ApiError, form: str, record_id: str | None, values: dict) -> dict:
    db.session.rollback()
    return {"form": form, "id": record_id, "sent": values, "message": _error_text(error), "status": error.status}


def _community() -> str | None:
    community, _ = community_for(g.user)
    return community


def _messages() -> list[str]:
    return get_flashed_messages()


def _address(household: Household) -> str:
    return "-".join(part for part in (household.building, household.unit, household.room) if part)


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


# ---- grids and households ---------------------------------------------------------------------

def _butlers(community: str | None, roles=("butler",)) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(
        User.community_id == community, User.role.in_(roles), User.active.is_(True)).order_by(User.name, User.username)))


def _grids(community: str | None) -> list[Grid]:
    return list(db.session.scalars(sa.select(Grid).where(Grid.community_id == community, Grid.deleted.is_(False))
                                   .order_by(Grid.name)))


def _grids_page(failed: dict | None = None, building: str | None = None):
    community = _community()
    grids = _grids(community)
    users = {user.id: user for user in db.session.scalars(sa.select(User).where(User.community_id == community))}
    counts = dict(db.session.execute(
        sa.select(Household.grid_id, sa.func.count()).where(Household.community_id == community,
                                                            Household.deleted.is_(False))
        .group_by(Household.grid_id)).all())
    buildings = list(db.session.scalars(
        sa.select(Household.building).where(Household.community_id == community, Household.deleted.is_(False))
        .distinct().order_by(Household.building)))
    building = building if building is not None else request.args.get("building", "")
    if building not in buildings:
        building = buildings[0] if buildings else ""
    households = list(db.session.scalars(
        sa.select(Household).where(Household.community_id == community, Household.deleted.is_(False),
                                   Household.building == building)
        .order_by(Household.unit, Household.room)))
    grid_names = {grid.id: grid.name for grid in grids}
    context = {"grids": grids, "users": users, "counts": counts, "butlers": _butlers(community),
               "buildings": buildings, "building": building, "households": households,
               "grid_names": grid_names, "address": _address, "failed": failed, "messages": _messages()}
    status = failed["status"] if failed else 200
    return render_template("console/grids.html", **context), status


@bp.get("/grids")
@console_login_required
def grids():
    return _grids_page()


@bp.post("/grids/<grid_id>/butler")
@console_login_required
def grid_butler(grid_id: str):
    butler_id = request.form.get("butler_id", "")
    try:
        grid = service.update(db.session, user=g.user, rtype="grid", record_id=grid_id,
                              data={"butler_id": butler_id or None})
        butler = db.session.get(User, grid.butler_id) if grid.butler_id else None
        db.session.commit()
    except ApiError as error:
        return _grids_page(_failed(error, "grid-butler", grid_id, {"butler_id": butler_id}))
    flash(t("done_grid_butler", grid=grid.name, butler=_name(butler) or t("no_butler")))
    return redirect(url_for("console.grids", building=request.form.get("building") or None, **community_query()))


@bp.post("/households/<household_id>/grid")
@console_login_required
def household_grid(household_id: str):
    grid_id = request.form.get("grid_id", "")
    building = request.form.get("building", "")
    try:
        household = service.update(db.session, user=g.user, rtype="household", record_id=household_id,
                                   data={"grid_id": grid_id or None})
        grid = db.session.get(Grid, household.grid_id) if household.grid_id else None
        message = t("done_household_grid", address=_address(household), grid=grid.name if grid else t("no_grid"))
        db.session.commit()
    except ApiError as error:
        return _grids_page(_failed(error, "household-grid", household_id, {"grid_id": grid_id}), building=building)
    flash(message)
    return redirect(url_for("console.grids", building=building or None, **community_query()))


# ---- tickets ----------------------------------------------------------------------------------

def _tickets_page(failed: dict | None = None):
    community = _community()
    rows = db.session.execute(
        sa.select(Ticket, Household).join(Household, Household.id == Ticket.household_id)
        .where(Household.community_id == community, Ticket.deleted.is_(False), Ticket.status.in_(OPEN))
        .order_by(Ticket.created_at, Ticket.id)).all()
    staff = _butlers(community, roles=("butler", "supervisor"))
    users = {user.id: user for user in db.session.scalars(sa.select(User).where(User.community_id == community))}
    lang = language()
    context = {"rows": rows, "staff": staff, "users": users, "failed": failed, "messages": _messages(),
               "status_name": lambda code: i18n.pick(i18n.TICKET_STATES[code], lang),
               "category_name": lambda code: i18n.pick(CATEGORIES[code], lang), "address": _address}
    return render_template("console/tickets.html", **context), (failed["status"] if failed else 200)


@bp.get("/tickets")
@console_login_required
def tickets():
    return _tickets_page()


@bp.post("/tickets/<ticket_id>/assignee")
@console_login_required
def ticket_assignee(ticket_id: str):
    assignee_id = request.form.get("assignee_id", "")
    try:
        if not assignee_id:
            raise ValidationFailed([FieldError("assignee_id", "required")])
        ticket = service.update(db.session, user=g.user, rtype="ticket", record_id=ticket_id,
                                data={"assignee_id": assignee_id})
        assignee = db.session.get(User, ticket.assignee_id)
        db.session.commit()
    except ApiError as error:
        return _tickets_page(_failed(error, "assignee", ticket_id, {"assignee_id": assignee_id}))
    flash(t("done_reassign", user=_name(assignee)))
    return redirect(url_for("console.tickets", **community_query()))


@bp.post("/tickets/<ticket_id>/escalate")
@console_login_required
def ticket_escalate(ticket_id: str):
    stage = request.form.get("stage", "")
    try:
        ticket = service.get(db.session, user=g.user, rtype="ticket", record_id=ticket_id)  # scope: 403/404
        ticket = db.session.execute(sa.select(Ticket).where(Ticket.id == ticket.id).with_for_update()).scalar_one()
        sla.escalate_now(db.session, ticket, stage)
        audit.insert(db.session, [audit.change_event(db.session, user=g.user, action="update", rtype="ticket",
                                                     record=ticket, fields=("escalated", "escalated_at"),
                                                     via=audit.Via("console", g.device.id))])
        db.session.commit()
    except ApiError as error:
        return _tickets_page(_failed(error, "escalate", ticket_id, {"stage": stage}))
    flash(t("done_escalate"))
    return redirect(url_for("console.tickets", **community_query()))


# ---- butlers and their devices ----------------------------------------------------------------

def _butlers_page(failed: dict | None = None):
    community = _community()
    butlers = list(db.session.scalars(sa.select(User).where(User.community_id == community, User.role == "butler")
                                      .order_by(User.name, User.username)))
    devices: dict[str, list[Device]] = {butler.id: [] for butler in butlers}
    if butlers:
        for device in db.session.scalars(sa.select(Device).where(Device.user_id.in_(list(devices)))
                                         .order_by(Device.last_seen_at.desc(), Device.created_at.desc())):
            devices[device.user_id].append(device)
    context = {"butlers": butlers, "devices": devices, "failed": failed, "messages": _messages()}
    return render_template("console/butlers.html", **context), (failed["status"] if failed else 200)


@bp.get("/butlers")
@console_login_required
def butlers():
    return _butlers_page()


@bp.post("/devices/<device_id>/revoke")
@console_login_required
def device_revoke(device_id: str):
    try:
        device = auth_service.revoke_managed_device(db.session, actor=g.user, device_id=device_id)
    except ApiError as error:
        return _butlers_page(_failed(error, "revoke", device_id, {}))
    flash(t("done_revoke", device=device.name or device.id[:8], user=device.user.name))
    return redirect(url_for("console.butlers", **community_query()))


@bp.post("/butlers")
@console_login_required
def butler_create():
    values = {"username": request.form.get("username", ""), "name": request.form.get("name", "")}
    try:
        butler = auth_service.create_butler(db.session, actor=g.user, community_id=_community(),
                                            password=request.form.get("password", ""), **values)
        db.session.commit()
    except ApiError as error:
        return _butlers_page(_failed(error, "create", None, values))
    flash(t("done_create", name=butler.name, username=butler.username))
    return redirect(url_for("console.butlers", **community_query()))


@bp.post("/butlers/<user_id>/password")
@console_login_required
def butler_password(user_id: str):
    try:
        butler = auth_service.reset_password(db.session, actor=g.user, user_id=user_id,
                                             password=request.form.get("password", ""))
        db.session.commit()
    except ApiError as error:
        return _butlers_page(_failed(error, "password", user_id, {}))
    flash(t("done_reset", name=butler.name))
    return redirect(url_for("console.butlers", **community_query()))
