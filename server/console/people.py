"""Who works and who lives here: the back office's teams and technician accounts (班组), and the
residents' invites and requests to join (入住申请与邀请).

Every write goes through the domain (server/teams/people.py, the resource service for teams,
server/joining/service.py for decisions and revocations) with the logged-in supervisor as the user,
so the scope rules apply: a supervisor acts only in their own community, an admin in the one chosen.

A new technician's initial password is shown on the page that answers the form, once: it is never
put in a redirect, a flash message (the session cookie is signed, not secret) or a log. Invite codes
are never shown: only their hashes are stored.
"""
from __future__ import annotations

from flask import abort, g, request

from server import i18n
from server.audit.service import Via
from server.auth import scopes
from server.auth.models import HOUSEHOLD_ROLES, User
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, current_community, done, failed, language, render_page, t
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.joining import service as joining
from server.joining.rules import invite_state
from server.records import utcnow
from server.resources import service
from server.teams import people
from server.teams.models import TEAM_KINDS, Team

PAGE = 50
HOUSEHOLD_ROLE_NAMES = {"owner": ("业主", "Owner"), "family": ("家人", "Family"), "tenant": ("租户", "Tenant")}


def _community() -> str:
    community = current_community()
    if community is None or not scopes.manages_people(g.user, community):
        abort(403)
    return community


def _via() -> Via:
    return Via("console", g.device.id)


def _page_arg(name: str = "page") -> int:
    return max(1, request.args.get(name, 1, type=int) or 1)


# ---- 班组: teams and technicians ---------------------------------------------------------------------

def _teams_page(refused: dict | None = None, created: dict | None = None, status: int = 200):
    import sqlalchemy as sa

    community = _community()
    teams = list(db.session.scalars(sa.select(Team).where(Team.community_id == community, Team.deleted.is_(False))
                                    .order_by(Team.kind, Team.name)))
    everyone = people.technicians(db.session, actor=g.user, community_id=community)
    lang = language()
    return render_page("console/teams.html", refused, status=status, teams=teams, kinds=TEAM_KINDS,
                       kind_name=lambda code: i18n.pick(i18n.TEAM_KINDS[code], lang),
                       members={team.id: [u for u in everyone if u.active and u.team_id == team.id] for team in teams},
                       active=[u for u in everyone if u.active], inactive=[u for u in everyone if not u.active],
                       team_names={team.id: team.name for team in teams}, created=created)


@bp.get("/teams")
@console_login_required
def teams():
    """The community's teams with their members, and the technician accounts."""
    return _teams_page()


def _team_form() -> dict:
    return {name: request.form.get(name, "").strip() for name in ("name", "kind", "company")}


@bp.post("/teams")
@console_login_required
def team_create():
    """A new team (工程维修, 保洁, 秩序安保, or an outside company's, 外委)."""
    values = _team_form()
    try:
        team = service.create(db.session, user=g.user, rtype="team", via=_via(),
                              data={"community_id": _community(), **values})
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "team-new", None, values))
    return done(t("done_team_added", team=team.name), "console.teams")


@bp.post("/teams/<team_id>")
@console_login_required
def team_save(team_id: str):
    """Rename a team (or change its kind or company)."""
    values = _team_form()
    try:
        people.managed_team(db.session, g.user, team_id)
        team = service.update(db.session, user=g.user, rtype="team", record_id=team_id, via=_via(), data=values)
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "team", team_id, values))
    return done(t("done_team_saved", team=team.name), "console.teams")


@bp.post("/teams/<team_id>/deactivate")
@console_login_required
def team_deactivate(team_id: str):
    """Take a team out of use (only an empty one: nobody in it, no open job waiting in it)."""
    try:
        team = people.deactivate_team(db.session, actor=g.user, team_id=team_id, via=_via())
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "team-off", team_id, {}))
    return done(t("done_team_off", team=team.name), "console.teams")


@bp.post("/teams/<team_id>/members")
@console_login_required
def team_member_add(team_id: str):
    """Put a technician of the community in the team."""
    user_id = request.form.get("user_id", "")
    try:
        if not user_id:
            raise ValidationFailed([FieldError("user_id", "required")])
        user = people.add_member(db.session, actor=g.user, team_id=team_id, user_id=user_id, via=_via())
        team = db.session.get(Team, team_id)
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "member-add", team_id, {"user_id": user_id}))
    return done(t("done_member_added", name=user.name, team=team.name), "console.teams")


@bp.post("/teams/<team_id>/members/<user_id>/remove")
@console_login_required
def team_member_remove(team_id: str, user_id: str):
    """Take a technician out of the team; the jobs in their hands go back to its pool."""
    reason = request.form.get("reason", "")
    try:
        returned = people.remove_member(db.session, actor=g.user, team_id=team_id, user_id=user_id, reason=reason,
                                        via=_via())
        user = db.session.get(User, user_id)
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "member-remove", user_id, {"reason": reason}))
    return done(t("done_member_removed", name=user.name, n=returned), "console.teams")


@bp.post("/technicians")
@console_login_required
def technician_create():
    """A new technician account in a team: its initial password is shown on the answer, once."""
    values = {"username": request.form.get("username", ""), "name": request.form.get("name", ""),
              "team_id": request.form.get("team_id", "")}
    try:
        _community()
        if not values["team_id"]:
            raise ValidationFailed([FieldError("team_id", "required")])
        user, password = people.create_technician(db.session, actor=g.user, team_id=values["team_id"],
                                                  username=values["username"], name=values["name"], via=_via())
        team = db.session.get(Team, values["team_id"])
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "technician-new", None, values))
    return _teams_page(created={"name": user.name, "username": user.username, "team": team.name,
                                "password": password}, status=201)


@bp.post("/technicians/<user_id>/password")
@console_login_required
def technician_password(user_id: str):
    """A new one-time password for a technician who lost theirs, shown on the answer, once."""
    try:
        user, password = people.reset_password(db.session, actor=g.user, user_id=user_id, via=_via())
        team = db.session.get(Team, user.team_id) if user.team_id else None
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "technician-password", user_id, {}))
    return _teams_page(created={"name": user.name, "username": user.username, "reset": True,
                                "team": team.name if team is not None else t("no_team"), "password": password})


@bp.post("/technicians/<user_id>/deactivate")
@console_login_required
def technician_deactivate(user_id: str):
    """A technician who leaves: jobs back to the team's pool with the reason, devices revoked."""
    reason = request.form.get("reason", "")
    try:
        returned = people.deactivate_technician(db.session, actor=g.user, user_id=user_id, reason=reason, via=_via())
        user = db.session.get(User, user_id)
        db.session.commit()
    except ApiError as error:
        return _teams_page(failed(error, "technician-off", user_id, {"reason": reason}))
    return done(t("done_technician_off", name=user.name, n=returned), "console.teams")


# ---- 入住申请与邀请: requests to join and invites ------------------------------------------------------

def _joining_page(refused: dict | None = None):
    community = _community()
    lang = language()
    req_page, inv_page = _page_arg("page"), _page_arg("invites_page")
    state = request.args.get("state", "")
    state = state if state in joining.INVITE_STATES else ""
    requests, request_total = joining.community_requests(db.session, actor=g.user, community_id=community,
                                                         offset=(req_page - 1) * PAGE, limit=PAGE)
    invites, invite_total = joining.community_invites(db.session, actor=g.user, community_id=community,
                                                      state=state or None, offset=(inv_page - 1) * PAGE, limit=PAGE)
    issuers = queries.users_by_id(db.session, {invite.issued_by for invite, _ in invites})
    now = utcnow()
    return render_page("console/joining.html", refused, requests=requests, request_total=request_total,
                       req_page=req_page, req_more=req_page * PAGE < request_total,
                       invites=invites, invite_total=invite_total, inv_page=inv_page,
                       inv_more=inv_page * PAGE < invite_total, state=state, states=joining.INVITE_STATES,
                       issuers=issuers, address=address, roles=HOUSEHOLD_ROLES,
                       role_name=lambda code: i18n.pick(HOUSEHOLD_ROLE_NAMES.get(code, (code, code)), lang),
                       state_of=lambda invite: invite_state(expires_at=invite.expires_at, used_at=invite.used_at,
                                                            revoked_at=invite.revoked_at, now=now))


@bp.get("/joining")
@console_login_required
def joining_requests():
    """The community's pending requests to join, and the invites issued, a page at a time."""
    return _joining_page()


def _decision_community(request_id: str) -> None:
    """A request of another community than the page's is not decided from this page (404)."""
    from server.community.models import Household
    from server.joining.models import JoinRequest

    found = db.session.get(JoinRequest, request_id)
    household = db.session.get(Household, found.household_id) if found is not None else None
    if household is None or household.community_id != _community():
        abort(404)


@bp.post("/joining/requests/<request_id>/decision")
@console_login_required
def joining_decide(request_id: str):
    """Approve a request (with the role, which may be changed) or refuse it with a reason: the same
    rules as the butler's phone."""
    values = {"approve": request.form.get("approve", ""), "household_role": request.form.get("household_role", ""),
              "reason": request.form.get("reason", "")}
    _decision_community(request_id)
    try:
        if values["approve"] not in ("yes", "no"):
            raise ValidationFailed([FieldError("approve", "required")])
        role = values["household_role"] or None
        if role is not None and role not in HOUSEHOLD_ROLES:
            raise ValidationFailed([FieldError("household_role", "invalid")])
        decided = joining.decide(db.session, actor=g.user, request_id=request_id, approve=values["approve"] == "yes",
                                 household_role=role, reason=values["reason"], via=_via())
    except ApiError as error:
        return _joining_page(failed(error, "decide", request_id, values))
    return done(t("done_join_approved" if decided.status == "approved" else "done_join_refused"),
                "console.joining_requests")


@bp.post("/joining/invites/<invite_id>/revoke")
@console_login_required
def joining_revoke(invite_id: str):
    """Revoke an invite: its code is refused from now on."""
    from server.community.models import Household
    from server.joining.models import Invite

    found = db.session.get(Invite, invite_id)
    household = db.session.get(Household, found.household_id) if found is not None else None
    if household is None or household.community_id != _community():
        abort(404)
    try:
        joining.revoke_invite(db.session, actor=g.user, invite_id=invite_id, via=_via())
        db.session.commit()
    except ApiError as error:
        return _joining_page(failed(error, "revoke-invite", invite_id, {}))
    return done(t("done_invite_revoked", address=address(household)), "console.joining_requests")
