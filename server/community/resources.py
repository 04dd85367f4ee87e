"""The community's record types: communities, grids (网格), households (户) and the people in them."""
from server.community.models import Community, Grid, Household, Person
from server.community.schemas import CommunitySchema, GridSchema, HouseholdSchema, PersonSchema
from server.community.service import GRID_RULES, HOUSEHOLD_RULES, PERSON_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

_HOUSEHOLD = fields("community_id", "grid_id", "building", "unit", "room", "status", "area_m2", "tags", "notes",
                    "visit_cycle_days")
_PERSON = fields("household_id", "name", "relation", "phone", "birth_year", "tags", "notes", "consent")

RESOURCES = [
    Resource("community", "communities", Community, CommunitySchema, scope="community",
             rights={"supervisor": Rights(update=fields("name", "city", "timezone"))}),
    Resource("grid", "grids", Grid, GridSchema, GRID_RULES, filters=("community_id", "butler_id"), scope="grid",
             rights={"supervisor": Rights(create=fields("community_id", "name", "butler_id"),
                                          update=fields("name", "butler_id"), delete=True)}),
    Resource("household", "households", Household, HouseholdSchema, HOUSEHOLD_RULES,
             filters=("community_id", "grid_id", "building", "unit", "status"), scope="household", synced=True,
             personal_fields=fields("building", "unit", "room", "status", "area_m2", "tags", "notes"),
             rights={"butler": Rights(update=fields("status", "area_m2", "tags", "notes", "visit_cycle_days")),
                     "resident": Rights(hidden=fields("notes", "tags")),
                     "supervisor": Rights(create=_HOUSEHOLD, update=_HOUSEHOLD, delete=True)}),
    Resource("person", "persons", Person, PersonSchema, PERSON_RULES, filters=("household_id",),
             scope="in_household", synced=True, fast=True,
             personal_fields=fields("name", "relation", "phone", "birth_year", "tags", "notes", "consent",
                                    "consent_at"),
             rights={"butler": Rights(create=_PERSON, update=_PERSON, delete=True),
                     "supervisor": Rights(create=_PERSON, update=_PERSON, delete=True)}),
]
