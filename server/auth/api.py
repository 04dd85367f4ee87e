"""Login, logout, who am I, and my devices."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from server.audit import service as audit
from server.auth import known, service
from server.auth.schemas import DeviceSchema, LoginSchema, PasswordChangeSchema, ResidenceSchema, UserSchema
from server.community import service as community_service
from server.extensions import db
from server.http import bearer_token, json_body, public

bp = Blueprint("auth", __name__)


@bp.post("/auth/login")
@public
def login():
    """Exchange a username and password for a device token. A device that logged in as this user
    before (its device cookie, or a token it still holds) is not held back by failures elsewhere."""
    data = LoginSchema().load(json_body())
    policy = service.LoginPolicy.of(current_app.config)
    token, user = service.login(
        db.session, username=data["username"], password=data["password"],
        device_name=data.get("device_name", ""), client_id=data.get("client_id"),
        remote_addr=request.remote_addr, policy=policy,
        known=known.of_request(request, policy, bearer_token()),
    )
    return known.remember(jsonify(token=token, user=UserSchema().dump(user)), request, policy, data["username"])


@bp.post("/auth/logout")
def logout():
    """Revoke the token this request carries."""
    service.logout(db.session, g.device)
    return "", 204


@bp.get("/me")
def me():
    """The logged-in user."""
    return jsonify(UserSchema().dump(g.user))


@bp.patch("/me")
def update_me():
    """Change the user's own settings (their language)."""
    changes = UserSchema(partial=True).load(json_body())
    for name, value in changes.items():
        setattr(g.user, name, value)
    db.session.commit()
    return jsonify(UserSchema().dump(g.user))


@bp.post("/me/password")
def change_password():
    """Set the user's own password: every other device of theirs is logged out, this one stays."""
    data = PasswordChangeSchema().load(json_body())
    user = service.change_password(
        db.session, user=g.user, device=g.device, current_password=data["current_password"],
        new_password=data["new_password"], remote_addr=request.remote_addr,
        policy=service.LoginPolicy.of(current_app.config), via=audit.Via("api", g.device.id))
    return jsonify(UserSchema().dump(user))


# What a user whose password a supervisor chose may still do (server/api.py refuses the rest).
WHILE_PASSWORD_MUST_CHANGE = frozenset({"api.auth.logout", "api.auth.me", "api.auth.update_me",
                                        "api.auth.change_password"})


@bp.put("/users/<user_id>/household")
def move_resident(user_id: str):
    """A supervisor records a resident moving to another household, or out (household_id null)."""
    data = ResidenceSchema().load(json_body())
    user = community_service.move_resident(db.session, actor=g.user, resident_id=user_id,
                                           household_id=data["household_id"])
    audit.record_account_action(db.session, actor=g.user, action="update", record_type="user", record_id=user.id,
                                community_id=user.community_id, fields=("household_id",),
                                via=audit.Via("api", g.device.id))
    db.session.commit()
    return jsonify(UserSchema().dump(user))


@bp.get("/me/devices")
def my_devices():
    """The devices logged in as this user, so a lost phone can be found and cut off."""
    devices = [d for d in g.user.devices if d.revoked_at is None]
    return jsonify(devices=DeviceSchema(many=True).dump(devices), current=g.device.id)


@bp.delete("/me/devices/<device_id>")
def revoke_my_device(device_id: str):
    """Revoke one of the user's own devices."""
    service.revoke_device(db.session, user=g.user, device_id=device_id)
    return "", 204
