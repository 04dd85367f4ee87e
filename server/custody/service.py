"""Domain rules of custody (房屋托管): contracts, inspections and when the next one is due."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.community.models import DEFAULT_TIMEZONE, Community, Household
from server.custody.models import CustodyContract, CustodyInspection
from server.errors import FieldError, Forbidden, ValidationFailed
from server.resources.hooks import Rules

# ---- status and schedule: plain arithmetic on dates ---------------------------------------------


def contract_status(contract, today: date) -> str:
    """upcoming before its start, ended after its end, active between (both days included)."""
    if today < contract.start_date:
        return "upcoming"
    if contract.end_date is not None and today > contract.end_date:
        return "ended"
    return "active"


def next_due(contract, last_inspected_on: date | None) -> date:
    """The day the next inspection is due: `inspection_every_days` after the last one, or the
    contract's first day when there has been none (an inspection before the start counts from the start)."""
    if last_inspected_on is None or last_inspected_on < contract.start_date:
        return contract.start_date
    return last_inspected_on + timedelta(days=contract.inspection_every_days)


def due_state(due: date, today: date) -> str:
    """overdue after the due day, due on it, else later."""
    if today > due:
        return "overdue"
    return "due" if today == due else "later"


@dataclass(frozen=True)
class Due:
    """One home in custody whose next inspection is due or overdue."""

    household: Household
    contract: CustodyContract
    due_on: date
    state: str  # "due" or "overdue"
    days_late: int


def schedule(session: Session, *, community_id: str, today: date, grid_ids: list[str] | None = None) -> list[Due]:
    """The active contracts of a community (or of some of its grids) whose inspection is due or
    overdue on `today`, most overdue first. The day of an inspection is its community's day."""
    zone = ZoneInfo(session.scalar(sa.select(Community.timezone).where(Community.id == community_id))
                    or DEFAULT_TIMEZONE)
    query = (sa.select(CustodyContract, Household)
             .join(Household, Household.id == CustodyContract.household_id)
             .where(Household.community_id == community_id, Household.deleted.is_(False),
                    CustodyContract.deleted.is_(False)))
    if grid_ids is not None:
        query = query.where(Household.grid_id.in_(grid_ids))
    rows = [(c, h) for c, h in session.execute(query) if contract_status(c, today) == "active"]
    last = dict(session.execute(
        sa.select(CustodyInspection.contract_id, sa.func.max(CustodyInspection.inspected_at))
        .where(CustodyInspection.contract_id.in_([c.id for c, _ in rows]) if rows else sa.false(),
               CustodyInspection.deleted.is_(False))
        .group_by(CustodyInspection.contract_id)).all())
    found = []
    for contract, household in rows:
        at = last.get(contract.id)
        if at is not None and at.tzinfo is None:  # SQLite's max() hands back text or naive time
            at = at.replace(tzinfo=ZoneInfo("UTC"))
        if isinstance(at, str):
            at = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo("UTC"))
        due = next_due(contract, at.astimezone(zone).date() if at is not None else None)
        state = due_state(due, today)
        if state != "later":
            found.append(Due(household, contract, due, state, (today - due).days))
    found.sort(key=lambda d: (d.due_on, d.household.building, d.household.unit, d.household.room))
    return found


# ---- the record types' rules -------------------------------------------------------------------


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed([FieldError("end_date", "invalid")])


def _check_services(services: list[str]) -> None:
    if not services:
        raise ValidationFailed([FieldError("services", "required")])
    if len(set(services)) != len(services):
        raise ValidationFailed([FieldError("services", "duplicate")])


def _contract_create(session: Session, user: User, values: dict) -> None:
    _check_dates(values.get("start_date"), values.get("end_date"))
    _check_services(values.get("services") or [])
    live = session.scalar(sa.select(CustodyContract.id).where(
        CustodyContract.household_id == values.get("household_id"), CustodyContract.deleted.is_(False)).limit(1))
    if live is not None:  # one contract per household: a renewal changes its dates
        raise ValidationFailed([FieldError("household_id", "duplicate")])


def _contract_update(session: Session, user: User, contract: CustodyContract, changes: dict) -> None:
    _check_dates(changes.get("start_date", contract.start_date), changes.get("end_date", contract.end_date))
    if "services" in changes:
        _check_services(changes["services"] or [])


def unanswered(services: list[str], checklist: dict) -> list[FieldError]:
    """Every contracted service must be answered; nothing else may be."""
    errors = [FieldError(f"checklist.{name}", "required") for name in services if name not in checklist]
    errors += [FieldError(f"checklist.{name}", "invalid") for name in checklist if name not in services]
    return errors


def _contract_of(session: Session, contract_id: str | None, household_id: str | None) -> CustodyContract:
    contract = session.get(CustodyContract, contract_id) if contract_id else None
    if contract is None or contract.deleted:
        raise ValidationFailed([FieldError("contract_id", "not_found")])
    if household_id is not None and contract.household_id != household_id:
        raise ValidationFailed([FieldError("contract_id", "invalid")])
    return contract


def _inspection_create(session: Session, user: User, values: dict) -> None:
    if user.role == "butler":
        if values.setdefault("butler_id", user.id) != user.id:
            raise Forbidden(errors=[FieldError("butler_id", "out_of_scope")])
    elif "butler_id" not in values:
        raise ValidationFailed([FieldError("butler_id", "required")])
    contract = _contract_of(session, values.get("contract_id"), values.get("household_id"))
    errors = unanswered(contract.services, values.get("checklist") or {})
    if errors:
        raise ValidationFailed(errors)


def _inspection_update(session: Session, user: User, inspection: CustodyInspection, changes: dict) -> None:
    if "butler_id" in changes and user.role == "butler" and changes["butler_id"] != user.id:
        raise Forbidden(errors=[FieldError("butler_id", "out_of_scope")])
    if "checklist" in changes or "contract_id" in changes:
        contract = _contract_of(session, changes.get("contract_id", inspection.contract_id), inspection.household_id)
        errors = unanswered(contract.services, changes.get("checklist", inspection.checklist))
        if errors:
            raise ValidationFailed(errors)


CONTRACT_RULES = Rules(prepare_create=_contract_create, prepare_update=_contract_update)
INSPECTION_RULES = Rules(prepare_create=_inspection_create, prepare_update=_inspection_update)
