"""The record types clients read and write, with their model, wire schema and domain rules."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Callable

from server.wire import WireSchema


@dataclass(frozen=True)
class Rules:
    """A type's domain rules, run inside the write's savepoint.

    prepare_create(session, user, values) fills defaults and may raise; values are loaded fields.
    prepare_update(session, user, record, changes) checks a change against the current record
    and may add derived changes (a ticket's timestamps, say).
    """

    prepare_create: Callable | None = None
    prepare_update: Callable | None = None
    # audience_of(session, record, changes) -> household ids whose readers this write may change
    # (a household moved to another grid, a grid given to another butler): phones evict or gain.
    audience_of: Callable | None = None
    # after_write(session, user, record, previous, created): what a write sets off, in the same
    # transaction (a ticket's notifications). `previous` holds the changed fields' old values.
    after_write: Callable | None = None
    # refuse_hidden(user, record, changes): may raise a clearer error than 403 for a write to a record
    # the user cannot see (a ticket another butler has just claimed: already_claimed).
    refuse_hidden: Callable | None = None


@dataclass(frozen=True)
class Resource:
    type: str  # the wire type, as in sync
    plural: str  # the REST collection: /api/v1/<plural>
    model: type
    schema: type[WireSchema]
    rules: Rules = field(default_factory=Rules)
    filters: tuple[str, ...] = ()  # query parameters a list may filter on (equality)

    @property
    def wire(self) -> WireSchema:
        """The type's schema, built once: marshmallow schemas hold no per-call state, and
        building one costs more than loading a record with it."""
        return _schema_instance(self.schema)

    @property
    def load(self):
        """`load(data, partial)`: the schema's load, compiled (see sync/wire.py compile_loader)."""
        return _loader(self.schema)

    @property
    def dump(self):
        """The wire dump of one record (see server/wire.py compile_dumper)."""
        return _dumper(self.schema)


@cache
def _schema_instance(schema: type[WireSchema]) -> WireSchema:
    return schema()


@cache
def _loader(schema: type[WireSchema]):
    from sync.wire import compile_loader

    return compile_loader(_schema_instance(schema))


@cache
def _dumper(schema: type[WireSchema]):
    from server.wire import compile_dumper

    return compile_dumper(_schema_instance(schema))


@cache
def registry() -> dict[str, Resource]:
    """All record types by wire type. Built on first use so that importing stays cheap."""
    from server.attendance.models import Checkin
    from server.attendance.schemas import CheckinSchema
    from server.attendance.service import CHECKIN_RULES
    from server.community.models import Community, Grid, Household, Person
    from server.community.schemas import CommunitySchema, GridSchema, HouseholdSchema, PersonSchema
    from server.community.service import GRID_RULES, HOUSEHOLD_RULES, PERSON_RULES
    from server.notices.models import Notice
    from server.notices.schemas import NoticeSchema
    from server.notices.service import NOTICE_RULES
    from server.products.models import Order, Product
    from server.products.schemas import OrderSchema, ProductSchema
    from server.products.service import ORDER_RULES
    from server.tickets.models import Ticket
    from server.tickets.schemas import TicketSchema
    from server.tickets.service import TICKET_RULES
    from server.visits.models import Touchpoint, Visit
    from server.visits.schemas import TouchpointSchema, VisitSchema
    from server.visits.service import VISIT_RULES, TOUCHPOINT_RULES

    resources = [
        Resource("community", "communities", Community, CommunitySchema),
        Resource("grid", "grids", Grid, GridSchema, GRID_RULES, filters=("community_id", "butler_id")),
        Resource("household", "households", Household, HouseholdSchema, HOUSEHOLD_RULES,
                 filters=("community_id", "grid_id", "building", "unit", "status")),
        Resource("person", "persons", Person, PersonSchema, PERSON_RULES, filters=("household_id",)),
        Resource("visit", "visits", Visit, VisitSchema, VISIT_RULES,
                 filters=("household_id", "butler_id", "kind")),
        Resource("touchpoint", "touchpoints", Touchpoint, TouchpointSchema, TOUCHPOINT_RULES,
                 filters=("household_id", "butler_id", "channel")),
        Resource("ticket", "tickets", Ticket, TicketSchema, TICKET_RULES,
                 filters=("household_id", "status", "category", "assignee_id")),
        Resource("product", "products", Product, ProductSchema, filters=("category",)),
        Resource("order", "orders", Order, OrderSchema, ORDER_RULES,
                 filters=("household_id", "product_code", "status")),
        Resource("notice", "notices", Notice, NoticeSchema, NOTICE_RULES, filters=("community_id",)),
        Resource("checkin", "checkins", Checkin, CheckinSchema, CHECKIN_RULES, filters=("butler_id", "kind")),
    ]
    return {r.type: r for r in resources}


def by_plural(plural: str) -> Resource | None:
    return next((r for r in registry().values() if r.plural == plural), None)
