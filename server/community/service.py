"""Domain rules of grids, households and people; a community's time zone and its calendar days."""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import DEFAULT_TIMEZONE, Community, Grid, Household, Person
from server.errors import FieldError, NotFound, ValidationFailed
from server.records import utcnow
from server.resources.hooks import Rules
from server.syncing.changes import apply_scope_change, audience, erase_conflicting_values


def _check_butler(session: Session, community_id: str, butler_id: str | None) -> None:
    """A grid's butler must be an active butler of the grid's community."""
    if butler_id is None:
        return
    butler = session.get(User, butler_id)
    if butler is None or butler.role != "butler" or not butler.active or butler.community_id != community_id:
        raise ValidationFailed([FieldError("butler_id", "invalid")])


def _default_community(user: User, values: dict) -> None:
    """Supervisors work in one community; an admin must say which."""
    if user.community_id:
        values.setdefault("community_id", user.community_id)
    if not values.get("community_id"):
        raise ValidationFailed([FieldError("community_id", "required")])


def _grid_create(session: Session, user: User, values: dict) -> None:
    _default_community(user, values)
    _check_butler(session, values["community_id"], values.get("butler_id"))


def _grid_update(session: Session, user: User, grid: Grid, changes: dict) -> None:
    if "butler_id" in changes:
        _check_butler(session, changes.get("community_id", grid.community_id), changes["butler_id"])


def _check_grid(session: Session, community_id: str, grid_id: str | None) -> None:
    """A household's grid must belong to the household's community."""
    if grid_id is None:
        return
    grid = session.get(Grid, grid_id)
    if grid is not None and grid.community_id != community_id:
        raise ValidationFailed([FieldError("grid_id", "invalid")])


def _household_create(session: Session, user: User, values: dict) -> None:
    _default_community(user, values)
    _check_grid(session, values["community_id"], values.get("grid_id"))


def _household_update(session: Session, user: User, household: Household, changes: dict) -> None:
    if "grid_id" in changes or "community_id" in changes:
        _check_grid(session, changes.get("community_id", household.community_id),
                    changes.get("grid_id", household.grid_id))


def apply_consent(person_consent: bool, values: dict, *, was_consenting: bool) -> None:
    """Phone and year of birth are kept only with the person's consent (PIPL).

    Withdrawing consent erases them; setting them without consent is refused.
    """
    if person_consent:
        if not was_consenting:
            values["consent_at"] = utcnow()
        return
    if was_consenting and "consent" in values:
        values["phone"], values["birth_year"], values["consent_at"] = None, None, None
        return
    refused = [FieldError(name, "consent_required") for name in ("phone", "birth_year") if values.get(name)]
    if refused:
        raise ValidationFailed(refused)


def _person_create(session: Session, user: User, values: dict) -> None:
    apply_consent(values.get("consent", False), values, was_consenting=False)


def _person_update(session: Session, user: User, person: Person, changes: dict) -> None:
    apply_consent(changes.get("consent", person.consent), changes, was_consenting=person.consent)
    if person.consent and changes.get("consent") is False:
        erase_conflicting_values(session, rtype="person", record_id=person.id, fields=["phone", "birth_year"])


def _grid_audience(session: Session, grid: Grid, changes: dict) -> list[str]:
    """A grid given to another butler (or deleted) changes who sees all its households."""
    if "butler_id" not in changes and "deleted" not in changes:
        return []
    return list(session.scalars(sa.select(Household.id).where(Household.grid_id == grid.id)))


def _household_audience(session: Session, household: Household, changes: dict) -> list[str]:
    moved = {"grid_id", "community_id", "deleted"} & set(changes)
    return [household.id] if moved else []


GRID_RULES = Rules(prepare_create=_grid_create, prepare_update=_grid_update, audience_of=_grid_audience)
def _household_written(session: Session, user: User, household: Household, previous: dict, created: bool) -> None:
    """A household moved to another building: its residents' per-building notices follow."""
    if not created and "building" in previous and previous["building"] != household.building:
        from server.notices.service import household_building_changed

        household_building_changed(session, household, previous["building"] or "")


HOUSEHOLD_RULES = Rules(prepare_create=_household_create, prepare_update=_household_update,
                        audience_of=_household_audience, after_write=_household_written)
PERSON_RULES = Rules(prepare_create=_person_create, prepare_update=_person_update)


def _manages(actor: User, community_id: str | None) -> bool:
    return actor.role == "admin" or (actor.role == "supervisor" and actor.community_id == community_id)


def move_resident(session: Session, *, actor: User, resident_id: str, household_id: str | None) -> User:
    """A resident moves to another household of the community, or out (`None`).

    Their phone is sent `evict` for the household they left and all that hangs on it, and gets
    the new one at its next sync; the household's other readers are not affected.
    """
    resident = session.get(User, resident_id)
    if resident is None or resident.role != "resident" or not _manages(actor, resident.community_id):
        raise NotFound()
    if household_id is not None:
        target = session.get(Household, household_id)
        if target is None or target.deleted or target.community_id != resident.community_id:
            raise ValidationFailed([FieldError("household_id", "not_found")])
    return set_residence(session, resident, household_id)


def set_residence(session: Session, resident: User, household_id: str | None,
                  household_role: str | None = None) -> User:
    """Bind a resident to a household (or to none), with their role in it: the one path by which a
    resident gains or loses a household. Whoever loses it is sent `evict` at the next sync; whoever
    gains it pulls it. The caller has checked the right to do so."""
    from server.notices.service import readable, readers_changed

    watched = [h for h in (resident.household_id, household_id) if h]
    before, notices_before = audience(session, watched), readable(session, [resident.id])
    resident.household_id = household_id
    if household_id is None:
        resident.household_role = None
    elif household_role is not None:
        resident.household_role = household_role
    session.flush()
    apply_scope_change(session, before, audience(session, watched))
    readers_changed(session, notices_before, readable(session, [resident.id]))  # a building's notices
    return resident


# ---- the community's time zone ------------------------------------------------------------------

@lru_cache(maxsize=None)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())  # read from disk once


def is_timezone(name: object) -> bool:
    """Whether `name` is an IANA time zone this server knows ("Asia/Shanghai"; not "+08:00", not a path)."""
    if not isinstance(name, str) or name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(community_or_tz: Community | str | None) -> ZoneInfo:
    """The ZoneInfo of a community (or of a zone name); the default zone when unknown or unset."""
    name = getattr(community_or_tz, "timezone", community_or_tz) or DEFAULT_TIMEZONE
    return ZoneInfo(name if is_timezone(name) else DEFAULT_TIMEZONE)


def local_date(community_or_tz: Community | str | None, instant: datetime) -> date:
    """The calendar day an instant falls on in the community's time zone (a naive instant is UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(zone(community_or_tz)).date()


def today_in(community_or_tz: Community | str | None, *, now: datetime | None = None) -> date:
    """Today in the community's time zone."""
    return local_date(community_or_tz, now or utcnow())
