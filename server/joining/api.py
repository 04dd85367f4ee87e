"""Invites, joining a household, requests to join and a household's residents (plain REST, not sync:
each of these needs the server at the moment it happens)."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from server.audit import service as audit
from server.community.models import Household
from server.extensions import db
from server.http import json_body, public, query_args
from server.errors import FieldError, ValidationFailed
from server.joining import schemas, service

bp = Blueprint("joining", __name__)


def _throttle() -> service.Throttle:
    return service.Throttle(secret_key=current_app.config["SECRET_KEY"], remote_addr=request.remote_addr,
                            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                            window=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])


def _via() -> audit.Via:
    return audit.Via("api", g.device.id)


def _address(household) -> dict:
    return {"building": household.building, "unit": household.unit, "room": household.room}


@bp.post("/invites")
def issue_invite():
    """A butler (their grids) or supervisor (their community) issues a one-time invite to a household."""
    data = schemas.InviteNewSchema().load(json_body())
    invite, code = service.issue_invite(db.session, actor=g.user, household_id=data["household_id"],
                                        household_role=data["household_role"],
                                        secret_key=current_app.config["SECRET_KEY"], via=_via())
    db.session.commit()
    url = service.join_url(request.host_url, code)
    household = db.session.get(Household, invite.household_id)
    answer = schemas.IssuedInviteSchema().dump({
        **{name: getattr(invite, name) for name in ("id", "household_id", "household_role", "created_at",
                                                    "expires_at")},
        "code": code, "join_url": url, "qr_svg": service.qr_svg(url), "address": _address(household)})
    return jsonify(answer), 201


@bp.get("/invites")
def list_invites():
    """A household's invites still usable (never their codes)."""
    household_id = query_args("household_id").get("household_id")
    if not household_id:
        raise ValidationFailed([FieldError("household_id", "required")])
    invites = service.invites_of(db.session, actor=g.user, household_id=household_id)
    return jsonify(schemas.InvitesSchema().dump({"invites": invites}))


@bp.delete("/invites/<invite_id>")
def revoke_invite(invite_id: str):
    """Revoke an invite: its code is refused from now on."""
    service.revoke_invite(db.session, actor=g.user, invite_id=invite_id, via=_via())
    db.session.commit()
    return "", 204


@bp.post("/join")
@public
def join():
    """Use an invite code: a new resident account, bound to the invite's household, logged in."""
    data = schemas.JoinSchema().load(json_body())
    token, user = service.join(db.session, code=data["invite_code"], account=service.new_account(data),
                               throttle=_throttle())
    return jsonify(schemas.JoinAnswerSchema().dump({"token": token, "user": user}))


@bp.get("/join/communities")
@public
def communities():
    """The communities one may ask to join (names only)."""
    return jsonify(schemas.CommunitiesSchema().dump({"communities": service.communities(db.session)}))


@bp.get("/join/communities/<community_id>")
@public
def addresses(community_id: str):
    """A community's buildings, units and rooms (the structure only, no one's name)."""
    return jsonify(schemas.AddressesSchema().dump(service.addresses(db.session, community_id)))


@bp.post("/join/requests")
@public
def request_to_join():
    """Ask to join a household without an invite: an account that waits for the butler's approval."""
    data = schemas.JoinRequestNewSchema().load(json_body())
    token, user, join_request = service.request_to_join(
        db.session, community_id=data["community_id"], building=data["building"], unit=data["unit"],
        room=data["room"], owner_name=data["owner_name"], household_role=data["household_role"],
        account=service.new_account(data), throttle=_throttle())
    household = db.session.get(Household, join_request.household_id)
    return jsonify(schemas.JoinRequestAnswerSchema().dump(
        {"token": token, "user": user, "request": _request(join_request, household)})), 201


def _request(join_request, household) -> dict:
    return {**{name: getattr(join_request, name) for name in
               ("id", "status", "household_role", "created_at", "decided_at", "reason", "household_id")},
            "address": _address(household)}


@bp.get("/me/join-request")
def my_request():
    """The user's own latest request to join, and where it stands."""
    join_request = service.my_request(db.session, g.user)
    household = db.session.get(Household, join_request.household_id)
    return jsonify(schemas.JoinRequestSchema().dump(_request(join_request, household)))


@bp.get("/join-requests")
def pending_requests():
    """The requests to join waiting for this butler (their grids) or supervisor (their community)."""
    rows = service.pending_requests(db.session, actor=g.user)
    return jsonify(schemas.PendingRequestsSchema().dump({"requests": [
        {**_request(r, h), "requester_name": u.name, "owner_name": r.owner_name} for r, h, u in rows]}))


@bp.post("/join-requests/<request_id>/decision")
def decide(request_id: str):
    """Approve a request (the account is bound to the household) or refuse it with a reason."""
    data = schemas.DecisionSchema().load(json_body())
    join_request = service.decide(db.session, actor=g.user, request_id=request_id, approve=data["approve"],
                                  household_role=data.get("household_role"), reason=data.get("reason", ""),
                                  via=_via())
    household = db.session.get(Household, join_request.household_id)
    return jsonify(schemas.JoinRequestSchema().dump(_request(join_request, household)))


@bp.get("/me/household/residents")
def housemates():
    """The residents of the user's own household, with their roles in it."""
    return jsonify(schemas.HousematesSchema().dump({"residents": service.housemates(db.session, user=g.user)}))


@bp.delete("/me/household/residents/<user_id>")
def remove_housemate(user_id: str):
    """An owner removes a family member or tenant from the household."""
    service.remove_housemate(db.session, actor=g.user, user_id=user_id, via=_via())
    return "", 204
