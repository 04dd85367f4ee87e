"""The visit checklist template: phones read it (and keep it for offline visits), supervisors set it."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from server.extensions import db
from server.http import json_body
from server.visits import service
from server.visits.schemas import ChecklistTemplateSchema

bp = Blueprint("visits", __name__)


@bp.get("/visit-template")
def get_template():
    """The checklist of the caller's community."""
    return jsonify(ChecklistTemplateSchema().dump(service.checklist_template(db.session, user=g.user)))


@bp.put("/visit-template")
def put_template():
    """Replace the community's checklist (supervisors)."""
    data = ChecklistTemplateSchema().load(json_body())
    template = service.set_checklist_template(db.session, user=g.user, items=data["items"])
    db.session.commit()
    return jsonify(ChecklistTemplateSchema().dump(template))
