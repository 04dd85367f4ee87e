"""Butlers' daily check-ins (签到/签退): a fact once made; a supervisor may delete a wrong one."""
from server.attendance.models import Checkin
from server.attendance.schemas import CheckinSchema
from server.attendance.service import CHECKIN_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

RESOURCES = [
    # The butler and the community are the server's to fill in.
    Resource("checkin", "checkins", Checkin, CheckinSchema, CHECKIN_RULES, filters=("butler_id", "kind"),
             scope="own_in_community", synced=True,
             rights={"butler": Rights(create=fields("kind", "at", "note")), "supervisor": Rights(delete=True)}),
]
