"""The console's actions: grids and households, tickets, butlers and their devices.

Each list is a GET page; each action a POST form (CSRF-checked by console_login_required) whose write
goes through the domain services with the logged-in supervisor as the user, so the scope rules apply:
a supervisor acts only in their own community. A write that worked redirects back with a message
(post/redirect/get); one that was refused renders the page again with the message beside the form
and the values that were sent still chosen (a password is never sent back to the browser).
"""
from __future__ import annotations

from flask import g, request

from server.audit import service as audit
from server.auth import service as auth_service
from server.auth.models import User
from server.community.models import Grid
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, current_community, done, failed, render_page, t
from server.console.ticket import ticket_page
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.resources import service
from server.tickets import sla


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


# ---- grids and households ---------------------------------------------------------------------

def _grids_page(refused: dict | None = None, building: str | None = None):
    community = current_community()
    grids = queries.grids(db.session, community)
    buildings = queries.buildings(db.session, community)
    building = building if building is not None else request.args.get("building", "")
    if building not in buildings:
        building = buildings[0] if buildings else ""
    return render_page("console/grids.html", refused, grids=grids, users=queries.users_of(db.session, community),
                       counts=queries.household_counts(db.session, community),
                       butlers=queries.active_users(db.session, community, ("butler",)),
                       buildings=buildings, building=building,
                       households=queries.households_in(db.session, community, building),
                       grid_names={grid.id: grid.name for grid in grids}, address=address)


@bp.get("/grids")
@console_login_required
def grids():
    """The community's grids with their butlers, and one building's households with their grids."""
    return _grids_page()


@bp.post("/grids/<grid_id>/butler")
@console_login_required
def grid_butler(grid_id: str):
    """Give a grid to another butler (or to none)."""
    butler_id = request.form.get("butler_id", "")
    try:
        grid = service.update(db.session, user=g.user, rtype="grid", record_id=grid_id,
                              data={"butler_id": butler_id or None})
        butler = db.session.get(User, grid.butler_id) if grid.butler_id else None
        db.session.commit()
    except ApiError as error:
        return _grids_page(failed(error, "grid-butler", grid_id, {"butler_id": butler_id}))
    return done(t("done_grid_butler", grid=grid.name, butler=_name(butler) or t("no_butler")),
                "console.grids", building=request.form.get("building") or None)


@bp.post("/households/<household_id>/grid")
@console_login_required
def household_grid(household_id: str):
    """Move a household to another grid (or to none)."""
    grid_id = request.form.get("grid_id", "")
    building = request.form.get("building", "")
    try:
        household = service.update(db.session, user=g.user, rtype="household", record_id=household_id,
                                   data={"grid_id": grid_id or None})
        grid = db.session.get(Grid, household.grid_id) if household.grid_id else None
        message = t("done_household_grid", address=address(household), grid=grid.name if grid else t("no_grid"))
        db.session.commit()
    except ApiError as error:
        return _grids_page(failed(error, "household-grid", household_id, {"grid_id": grid_id}), building=building)
    return done(message, "console.grids", building=building or None)


# ---- tickets ----------------------------------------------------------------------------------

@bp.post("/tickets/<ticket_id>/assignee")
@console_login_required
def ticket_assignee(ticket_id: str):
    """Give a ticket to another butler or supervisor, or to a technician of the back office."""
    assignee_id = request.form.get("assignee_id", "")
    try:
        if not assignee_id:
            raise ValidationFailed([FieldError("assignee_id", "required")])
        ticket = service.update(db.session, user=g.user, rtype="ticket", record_id=ticket_id,
                                data={"assignee_id": assignee_id})
        assignee = db.session.get(User, ticket.assignee_id)
        db.session.commit()
    except ApiError as error:
        return ticket_page(ticket_id, failed(error, "assignee", ticket_id, {"assignee_id": assignee_id}))
    return done(t("done_reassign", user=_name(assignee)), "console.tickets")


@bp.post("/tickets/<ticket_id>/escalate")
@console_login_required
def ticket_escalate(ticket_id: str):
    """Escalate a ticket now for a stage (accept or resolve), as its deadline passing would."""
    stage = request.form.get("stage", "")
    try:
        ticket = service.get(db.session, user=g.user, rtype="ticket", record_id=ticket_id)  # scope: 403/404
        ticket = queries.ticket_to_change(db.session, ticket.id)
        sla.escalate_now(db.session, ticket, stage, actor_id=g.user.id)
        audit.insert(db.session, [audit.change_event(db.session, user=g.user, action="update", rtype="ticket",
                                                     record=ticket, fields=("escalated", "escalated_at"),
                                                     via=audit.Via("console", g.device.id))])
        db.session.commit()
    except ApiError as error:
        return ticket_page(ticket_id, failed(error, "escalate", ticket_id, {"stage": stage}))
    return done(t("done_escalate"), "console.tickets")


# ---- butlers and their devices ----------------------------------------------------------------

def _butlers_page(refused: dict | None = None):
    butlers, devices = queries.butlers_and_devices(db.session, current_community())
    return render_page("console/butlers.html", refused, butlers=butlers, devices=devices)


@bp.get("/butlers")
@console_login_required
def butlers():
    """The community's butlers and their devices."""
    return _butlers_page()


@bp.post("/devices/<device_id>/revoke")
@console_login_required
def device_revoke(device_id: str):
    """Revoke a butler's device: it wipes its local data at its next contact."""
    try:
        device = auth_service.revoke_managed_device(db.session, actor=g.user, device_id=device_id)
    except ApiError as error:
        return _butlers_page(failed(error, "revoke", device_id, {}))
    return done(t("done_revoke", device=device.name or device.id[:8], user=device.user.name), "console.butlers")


@bp.post("/butlers")
@console_login_required
def butler_create():
    """A new butler account in the community."""
    values = {"username": request.form.get("username", ""), "name": request.form.get("name", "")}
    try:
        butler = auth_service.create_butler(db.session, actor=g.user, community_id=current_community(),
                                            password=request.form.get("password", ""), **values)
        db.session.commit()
    except ApiError as error:
        return _butlers_page(failed(error, "create", None, values))
    return done(t("done_create", name=butler.name, username=butler.username), "console.butlers")


@bp.post("/butlers/<user_id>/password")
@console_login_required
def butler_password(user_id: str):
    """Set a butler's password; every device of theirs is logged out."""
    try:
        butler = auth_service.reset_password(db.session, actor=g.user, user_id=user_id,
                                             password=request.form.get("password", ""))
        db.session.commit()
    except ApiError as error:
        return _butlers_page(failed(error, "password", user_id, {}))
    return done(t("done_reset", name=butler.name), "console.butlers")
