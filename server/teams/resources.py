"""Back-office teams (工程, 保洁, 秩序, 外委) of a community."""
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource
from server.teams.models import Team
from server.teams.schemas import TeamSchema
from server.teams.service import TEAM_RULES

RESOURCES = [
    # Everyone of the community reads its teams (a butler hands a job to one); residents not who is in them.
    Resource("team", "teams", Team, TeamSchema, TEAM_RULES, filters=("community_id", "kind"),
             scope="community_wide", synced=True,
             rights={"supervisor": Rights(create=fields("community_id", "name", "kind", "company"),
                                          update=fields("name", "kind", "company"), delete=True),
                     "resident": Rights(hidden=fields("members"))}),
]
