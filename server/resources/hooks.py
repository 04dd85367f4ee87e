"""What a record type declares besides its model and schema: its domain rules (hooks) and who may do
what with it. A leaf module: it imports nothing of the app, so each area's services and its record
type's declaration (`<area>/resources.py`) can import it without going round through the registry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class PrepareCreate(Protocol):
    """Fill defaults of a new record's loaded `values` and check them; may raise."""

    def __call__(self, session: Session, user: Any, values: dict) -> None: ...


class PrepareUpdate(Protocol):
    """Check a change against the current record; may add derived changes (a ticket's timestamps)."""

    def __call__(self, session: Session, user: Any, record: Any, changes: dict) -> None: ...


class AudienceOf(Protocol):
    """The household ids whose readers this write may change (a household moved to another grid, a
    grid given to another butler): phones evict or gain."""

    def __call__(self, session: Session, record: Any, changes: dict) -> list[str]: ...


class AfterWrite(Protocol):
    """What a write sets off, in the same transaction (a ticket's notifications). `previous` holds
    the changed fields' old values."""

    def __call__(self, session: Session, user: Any, record: Any, previous: dict, created: bool) -> None: ...


class DerivedId(Protocol):
    """The id a new record must have, derived from its values (a household's answer to an incident:
    from the incident and the household), so that two writers offline write one record."""

    def __call__(self, values: dict) -> str: ...


class RefuseHidden(Protocol):
    """May raise a clearer error than 403 for a write to a record the user cannot see (a ticket
    another butler has just claimed: already_claimed)."""

    def __call__(self, user: Any, record: Any, changes: dict) -> None: ...


class LetsGo(Protocol):
    """Whether a write may leave the record outside the writer's scope: a technician who hands a
    ticket on (or gives it back) no longer sees it. `previous` holds its holder before the write."""

    def __call__(self, user: Any, record: Any, previous: dict) -> bool: ...


@dataclass(frozen=True)
class Rules:
    """A type's domain rules, run inside the write's savepoint."""

    prepare_create: PrepareCreate | None = None
    prepare_update: PrepareUpdate | None = None
    audience_of: AudienceOf | None = None
    after_write: AfterWrite | None = None
    refuse_hidden: RefuseHidden | None = None
    lets_go: LetsGo | None = None
    derived_id: DerivedId | None = None


@dataclass(frozen=True)
class Rights:
    """What one role may do with one record type."""

    create: frozenset[str] = frozenset()  # fields it may set on a new record; empty = may not create
    update: frozenset[str] = frozenset()  # fields it may change
    delete: bool = False
    hidden: frozenset[str] = frozenset()  # fields it never sees
    own_only: bool = False  # may change only records it authored (visits, touchpoints)


def fields(*names: str) -> frozenset[str]:
    return frozenset(names)
