"""The record types clients read and write, with their model, wire schema and domain rules."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Mapping

from server.resources.hooks import Rights, Rules
from server.wire import WireSchema


# How a user reaches a type's records (server/auth/scopes.py visible_filter reads it):
SCOPES = (
    "household",  # the record is a household: the households the user holds
    "in_household",  # it hangs on one (`household_id`): as its household
    "in_household_or_assigned",  # as its household, and wherever it is for the one it is assigned to
    "catalogue",  # company-wide: everyone reads what is on offer; what is withdrawn leaves the phones
    "community",  # the record is a community
    "community_wide",  # it belongs to a community (`community_id`): everyone of that community
    # It belongs to a community and is for all of it or one building (`building`, "" for all): its
    # residents read those for all and their household's building's; everyone else, all of them.
    "community_or_building",
    "own_in_community",  # a butler's own; their community's for a supervisor
    "grid",  # a grid: its butler, and its community's supervisor
    # It belongs to one record of a type that takes attachments (`record_type`, `record_id`) and hangs
    # on that record's household: whoever sees the record sees it (a photo of a visit, of a ticket).
    "of_record",
)


@dataclass(frozen=True)
class Resource:
    """One record type, declared once by its area (`server/<area>/resources.py`); every list of
    types the app keeps (what phones replicate, what hangs on a household, what the audit trail
    reads as the household file, …) is derived from these."""

    type: str  # the wire type, as in sync
    plural: str  # the REST collection: /api/v1/<plural>
    model: type
    schema: type[WireSchema]
    rules: Rules = field(default_factory=Rules)
    filters: tuple[str, ...] = ()  # query parameters a list may filter on (equality)
    rights: Mapping[str, Rights] = field(default_factory=dict)  # by role; administrators may do everything
    scope: str = "in_household"  # one of SCOPES
    synced: bool = False  # phones replicate it (POST /api/v1/sync); the others are read through REST
    residents_read: bool = False  # residents read it in their household (else only the household itself)
    serial_fields: frozenset[str] = frozenset()  # moved by a state machine: never a merge conflict
    grace: bool = False  # accepted from a butler who lost the household lately, for work done before
    # Its writes never change who may see what (no audience rules), so a sync batch may write it
    # without an ORM object and check the scope of all its writes at the end (server/resources/batch.py);
    # what its writes set off (`Rules.after_write`: an order's notifications) runs once the batch has passed.
    fast: bool = False
    personal_fields: frozenset[str] = frozenset()  # the household file: reads of these are audited
    # Not the household file, but who read a record of it is asked too (a ticket: the console's
    # page lists its readers): every read is recorded, naming those of these fields sent with a value.
    read_fields: frozenset[str] = frozenset()
    key: str = "id"  # the field a client names a new record by (products: their code)
    attachments: bool = False  # photos may be attached to its records (server/attachments)

    def __post_init__(self):
        if self.scope not in SCOPES:
            raise ValueError(f"{self.type}: unknown scope {self.scope!r}")

    @property
    def on_household(self) -> bool:
        """Whether its records hang on a household (`household_id`): evicted and purged with it."""
        return self.scope in ("in_household", "in_household_or_assigned", "of_record")

    @property
    def scope_field(self) -> str:
        """The field an out-of-scope write is refused on."""
        return {"household": "community_id", "grid": "community_id", "community": "id",
                "of_record": "record_id"}.get(self.scope, "household_id")

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
    """All record types by wire type, as each area declares them. Built on first use: the areas'
    declarations import their services, which import this module."""
    from server.attachments import resources as attachments
    from server.attendance import resources as attendance
    from server.community import resources as community
    from server.custody import resources as custody
    from server.incidents import resources as incidents
    from server.notices import resources as notices
    from server.products import resources as products
    from server.teams import resources as teams
    from server.tickets import resources as tickets
    from server.visits import resources as visits
    from server.voice import resources as voice

    found: dict[str, Resource] = {}
    for area in (community, visits, tickets, products, notices, attendance, teams, attachments, incidents, voice,
                 custody):
        for resource in area.RESOURCES:
            if resource.type in found:
                raise ValueError(f"record type {resource.type!r} declared twice")
            found[resource.type] = resource
    return found


@cache
def types(**wanted) -> frozenset[str]:
    """The record types whose declarations have the attribute values given (`synced=True`, …)."""
    return frozenset(rtype for rtype, res in registry().items()
                     if all(getattr(res, name) == value for name, value in wanted.items()))


def household_children() -> dict[str, type]:
    """The types whose records hang on a household, with their models."""
    return {rtype: res.model for rtype, res in registry().items() if res.on_household}


def by_plural(plural: str) -> Resource | None:
    return next((r for r in registry().values() if r.plural == plural), None)
