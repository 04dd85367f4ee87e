"""Emergencies (突发事件), read by everyone of their community, and households' answers to them."""
from server.incidents.models import Incident, IncidentCheck
from server.incidents.schemas import IncidentCheckSchema, IncidentSchema
from server.incidents.service import CHECK_RULES, INCIDENT_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

_RAISE = fields("community_id", "kind", "severity", "title", "body", "buildings", "started_at", "knock_after_minutes")
# A second writer of a household's answer sends it whole: the same incident and household are no change.
_ANSWER = fields("incident_id", "household_id", "answer", "note", "answered_at")

RESOURCES = [
    Resource("incident", "incidents", Incident, IncidentSchema, INCIDENT_RULES, filters=("community_id", "kind"),
             scope="community_wide", synced=True,
             rights={"supervisor": Rights(create=_RAISE,
                                          update=_RAISE - {"community_id"} | fields("ended_at", "all_clear_note")),
                     "butler": Rights(create=_RAISE)}),
    # Every field is decided by the answer rules (service.wins), never a merge conflict.
    Resource("incident_check", "incident-checks", IncidentCheck, IncidentCheckSchema, CHECK_RULES,
             filters=("incident_id", "household_id", "answer"), scope="in_household", synced=True,
             residents_read=True, serial_fields=_ANSWER | fields("source"),
             rights={"resident": Rights(create=_ANSWER, update=_ANSWER),
                     "butler": Rights(create=_ANSWER, update=_ANSWER)}),
]
