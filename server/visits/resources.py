"""Home visits (脱鞋入户) and touchpoints (触点): the butler's own work in a household."""
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource
from server.visits.models import Touchpoint, Visit
from server.visits.schemas import TouchpointSchema, VisitSchema
from server.visits.service import TOUCHPOINT_RULES, VISIT_RULES

_VISIT = fields("household_id", "butler_id", "visited_at", "kind", "checklist", "needs", "satisfaction",
                "products_interest", "notes", "follow_up_at")
_TOUCHPOINT = fields("household_id", "butler_id", "at", "channel", "summary")

RESOURCES = [
    # Work done offline before the butler lost the household is still accepted (grace).
    Resource("visit", "visits", Visit, VisitSchema, VISIT_RULES, filters=("household_id", "butler_id", "kind"),
             scope="in_household", synced=True, fast=True, grace=True, attachments=True,
             rights={"butler": Rights(create=_VISIT, update=_VISIT, delete=True, own_only=True),
                     "supervisor": Rights(update=_VISIT - {"household_id", "butler_id"}, delete=True)}),
    Resource("touchpoint", "touchpoints", Touchpoint, TouchpointSchema, TOUCHPOINT_RULES,
             filters=("household_id", "butler_id", "channel"), scope="in_household", synced=True, fast=True, attachments=True,
             grace=True,
             rights={"butler": Rights(create=_TOUCHPOINT, update=_TOUCHPOINT, delete=True, own_only=True),
                     "supervisor": Rights(update=_TOUCHPOINT - {"household_id", "butler_id"}, delete=True)}),
]
