"""The /api/v1 blueprint: authentication for every view but the public ones, and health."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request

from server.attachments.api import bp as attachments_bp
from server.auth import service as auth_service
from server.auth.api import WHILE_PASSWORD_MUST_CHANGE
from server.auth.api import bp as auth_bp
from server.errors import FieldError, Forbidden, Unavailable, ValidationFailed
from server.extensions import db
from server.http import bearer_token, public
from server.joining.api import bp as joining_bp
from server.notify.api import bp as notify_bp
from server.openapi import bp as openapi_bp
from server.tickets.api import bp as tickets_bp
from server.resources.api import bp as resources_bp
from server.syncing.api import bp as sync_bp
from server.teams.api import bp as teams_bp
from server.visits.api import bp as visits_bp

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.before_request
def _authenticate():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or getattr(view, "public", False):
        return
    g.user, g.device = auth_service.authenticate(db.session, bearer_token())
    g.language = g.user.language
    if g.user.must_change_password and request.endpoint not in WHILE_PASSWORD_MUST_CHANGE:
        # Nothing is taken in: the phone keeps its outbox and sends it once the password is the user's own.
        raise Forbidden("password_change_required")
    # Reads leave no trace; a write request notes when the device was last seen.
    if request.method not in ("GET", "HEAD") and auth_service.touch(g.device):
        db.session.commit()


@api.before_request
def _refuse_nul():
    """A path or query value holding U+0000 is refused as the caller's mistake (422), as text fields
    are (sync/wire.py WellFormedText): PostgreSQL cannot even compare with it, so it would end as a 500."""
    named = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    bad = sorted({name for name, value in named if isinstance(value, str) and "\x00" in value}
                 | {name for name in request.args if "\x00" in name})
    if bad:
        raise ValidationFailed([FieldError(name, "invalid_character") for name in bad])


@api.get("/health")
@public
def health():
    """Whether the server and its database answer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        raise Unavailable() from None
    return jsonify(status="ok", db="ok")


api.register_blueprint(auth_bp)
api.register_blueprint(sync_bp)
api.register_blueprint(visits_bp)
api.register_blueprint(notify_bp)
api.register_blueprint(tickets_bp)
api.register_blueprint(openapi_bp)
api.register_blueprint(joining_bp)
api.register_blueprint(teams_bp)
api.register_blueprint(attachments_bp)
api.register_blueprint(resources_bp)  # last: its /<plural> routes are the most general
