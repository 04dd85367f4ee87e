"""Who works in a team, over REST (supervisors: their community; admins: any): a team's members,
new technician accounts, moving one in or out, deactivating one. Teams themselves are a record type
(`/teams`, server/resources/api.py)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from server.audit import service as audit
from server.extensions import db
from server.http import json_body, query_args, version_arg
from server.teams import people, schemas

bp = Blueprint("team_people", __name__)


def _via() -> audit.Via:
    return audit.Via("api", g.device.id)


@bp.delete("/teams/<record_id>")
def deactivate_team(record_id: str):
    """Delete (deactivate) a team, as the record API does, but only an empty one: nobody in it and no
    open job waiting in it (422 `team_not_empty`)."""
    version = version_arg(query_args("version"))
    people.deactivate_team(db.session, actor=g.user, team_id=record_id, via=_via(), expected_version=version)
    db.session.commit()
    return "", 204


@bp.get("/teams/<team_id>/members")
def members(team_id: str):
    """The team's active technicians."""
    found = people.members(db.session, actor=g.user, team_id=team_id)
    return jsonify(schemas.TeamMembersSchema().dump({"members": found}))


@bp.post("/teams/<team_id>/members")
def add_member(team_id: str):
    """Put a technician of the community in the team."""
    people.managed_team(db.session, g.user, team_id)  # 403/404 before the body is read
    data = schemas.MemberNewSchema().load(json_body())
    people.add_member(db.session, actor=g.user, team_id=team_id, user_id=data["user_id"], via=_via())
    db.session.commit()
    return jsonify(schemas.TeamMembersSchema().dump(
        {"members": people.members(db.session, actor=g.user, team_id=team_id)}))


@bp.delete("/teams/<team_id>/members/<user_id>")
def remove_member(team_id: str, user_id: str):
    """Take a technician out of the team; the jobs in their hands go back to its pool."""
    people.remove_member(db.session, actor=g.user, team_id=team_id, user_id=user_id, via=_via())
    db.session.commit()
    return "", 204


@bp.post("/teams/<team_id>/technicians")
def create_technician(team_id: str):
    """A new technician account in the team, with its one-time initial password (shown this once)."""
    people.managed_team(db.session, g.user, team_id)
    data = schemas.TechnicianNewSchema().load(json_body())
    user, password = people.create_technician(db.session, actor=g.user, team_id=team_id, via=_via(), **data)
    db.session.commit()
    return jsonify(schemas.NewTechnicianSchema().dump({"user": user, "initial_password": password})), 201


@bp.post("/teams/technicians/<user_id>/password")
def reset_password(user_id: str):
    """A new one-time password for a technician who lost theirs (shown this once); their phones are
    logged out, keeping what they have not sent."""
    user, password = people.reset_password(db.session, actor=g.user, user_id=user_id, via=_via())
    db.session.commit()
    return jsonify(schemas.NewTechnicianSchema().dump({"user": user, "initial_password": password}))


@bp.post("/teams/technicians/<user_id>/deactivation")
def deactivate(user_id: str):
    """Deactivate a technician: their open jobs go back to the team's pool with the reason, their
    devices are revoked."""
    user = people.managed_technician(db.session, g.user, user_id)
    data = schemas.DeactivationSchema().load(json_body())
    returned = people.deactivate_technician(db.session, actor=g.user, user_id=user.id, reason=data["reason"],
                                            via=_via())
    db.session.commit()
    return jsonify(schemas.JobsReturnedSchema().dump({"user": user, "returned_jobs": returned}))
