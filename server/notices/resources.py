"""Community notices (公告): for a whole community or one building; a resident reads only those for
all buildings and their own building's (server/auth/scopes.py building_filter)."""
from server.notices.models import Notice
from server.notices.schemas import NoticeSchema
from server.notices.service import NOTICE_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

RESOURCES = [
    Resource("notice", "notices", Notice, NoticeSchema, NOTICE_RULES, filters=("community_id",),
             scope="community_or_building", synced=True,
             rights={"supervisor": Rights(create=fields("community_id", "title", "body", "published_at", "building",
                                                 "pinned"),
                                          update=fields("title", "body", "published_at", "building", "pinned"),
                                          delete=True)}),
]
