"""Rules of the monthly work plan and quality inspections: plain functions, the session first.

A plan item belongs to one community and one month (stored as the month's first day) and is due
inside that month. An inspection answers every item of its category's checklist, pass or fail.
The caller commits; these functions only flush.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import User
from server.errors import FieldError, Forbidden, NotFound, ValidationFailed
from server.months import add_months, month_end, month_text
from server.operations.checklists import CATEGORIES, checklist
from server.operations.models import Inspection, WorkPlanItem
from server.records import utcnow

TITLE_MAX = 100
CONTRACTOR_MAX = 100
PLACE_MAX = 100
NOTE_MAX = 2000
ITEM_NOTE_MAX = 500
STAFF_ROLES = ("butler", "supervisor")  # who may be given a plan item


# ---- scope ------------------------------------------------------------------------------------

def _check_scope(actor: User, community_id: str | None) -> None:
    """Supervisors act in their own community; admins in any."""
    if not community_id or (actor.role != "admin" and actor.community_id != community_id):
        raise Forbidden()


def _valid_assignee(session: Session, community_id: str, assignee_id: str) -> bool:
    user = session.get(User, assignee_id)
    return bool(user and user.community_id == community_id and user.role in STAFF_ROLES and user.active)


def _text(value: str | None) -> str:
    return (value or "").strip()


def _length(errors: list[FieldError], field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors.append(FieldError(field, "too_long", max=limit))


# ---- the monthly plan -------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanEntry:
    item: WorkPlanItem
    state: str  # "done", "overdue" (not done and due before today) or "open"


@dataclass(frozen=True)
class MonthPlan:
    month: date
    entries: list[PlanEntry]
    counts: dict[str, tuple[int, int]]  # category -> (done, total), categories with items only


def add_plan_item(session: Session, *, actor: User, community_id: str, month: date, category: str, title: str,
                  due_date: date | None, contractor: str = "", assignee_id: str | None = None,
                  note: str = "") -> WorkPlanItem:
    """A new item of the month's plan; every field checked at once."""
    _check_scope(actor, community_id)
    month = month.replace(day=1)
    title, contractor, note = _text(title), _text(contractor), _text(note)
    errors: list[FieldError] = []
    if not title:
        errors.append(FieldError("title", "required"))
    _length(errors, "title", title, TITLE_MAX)
    if category not in CATEGORIES:
        errors.append(FieldError("category", "invalid_choice", choices=", ".join(CATEGORIES)))
    if due_date is None:
        errors.append(FieldError("due_date", "required"))
    elif (due_date.year, due_date.month) != (month.year, month.month):
        errors.append(FieldError("due_date", "outside_month", month=month_text(month)))
    _length(errors, "contractor", contractor, CONTRACTOR_MAX)
    _length(errors, "note", note, NOTE_MAX)
    if assignee_id and not _valid_assignee(session, community_id, assignee_id):
        errors.append(FieldError("assignee_id", "invalid"))
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    item = WorkPlanItem(community_id=community_id, month=month, category=category, title=title, due_date=due_date,
                        contractor=contractor, assignee_id=assignee_id or None, note=note, created_by=actor.id,
                        created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    return item


def get_plan_item(session: Session, *, actor: User, community_id: str, item_id: str) -> WorkPlanItem:
    """The community's (undeleted) item; NotFound for any other id, another community's included."""
    _check_scope(actor, community_id)
    item = session.get(WorkPlanItem, item_id)
    if item is None or item.community_id != community_id or item.deleted:
        raise NotFound()
    return item


def mark_done(session: Session, *, actor: User, community_id: str, item_id: str, note: str = "") -> WorkPlanItem:
    """Done now, by the actor, with an optional note."""
    item = get_plan_item(session, actor=actor, community_id=community_id, item_id=item_id)
    note = _text(note)
    errors: list[FieldError] = []
    if item.done_at is not None:
        errors.append(FieldError("done_at", "already_done"))
    _length(errors, "done_note", note, NOTE_MAX)
    if errors:
        raise ValidationFailed(errors)
    item.done_at = item.updated_at = utcnow()
    item.done_by, item.done_note = actor.id, note
    session.flush()
    return item


def reopen(session: Session, *, actor: User, community_id: str, item_id: str) -> WorkPlanItem:
    """Not done after all: the done mark and its note are cleared."""
    item = get_plan_item(session, actor=actor, community_id=community_id, item_id=item_id)
    if item.done_at is None:
        raise ValidationFailed([FieldError("done_at", "not_done")])
    item.done_at, item.done_by, item.done_note = None, None, ""
    item.updated_at = utcnow()
    session.flush()
    return item


def delete_plan_item(session: Session, *, actor: User, community_id: str, item_id: str) -> WorkPlanItem:
    """Off the plan. Kept as a deleted row: inspections may point at it (see WorkPlanItem)."""
    item = get_plan_item(session, actor=actor, community_id=community_id, item_id=item_id)
    item.deleted = True
    item.updated_at = utcnow()
    session.flush()
    return item


def copy_previous_month(session: Session, *, actor: User, community_id: str, month: date) -> list[WorkPlanItem]:
    """Last month's items into `month`: same titles, categories, contractors and notes; due dates a month
    later (the 31st becomes the month's last day). An item already copied here (even if deleted since),
    or one whose category and title the month already has, is skipped, so copying twice adds nothing."""
    _check_scope(actor, community_id)
    month = month.replace(day=1)
    source = add_months(month, -1)
    sources = session.scalars(
        sa.select(WorkPlanItem).where(WorkPlanItem.community_id == community_id, WorkPlanItem.month == source,
                                      WorkPlanItem.deleted.is_(False))
        .order_by(WorkPlanItem.due_date, WorkPlanItem.created_at, WorkPlanItem.id)).all()
    present = session.scalars(sa.select(WorkPlanItem).where(WorkPlanItem.community_id == community_id,
                                                            WorkPlanItem.month == month)).all()
    copied = {item.copied_from_id for item in present if item.copied_from_id}
    named = {(item.category, item.title) for item in present if not item.deleted}
    last_day = month_end(month).day
    now = utcnow()
    made = []
    for old in sources:
        if old.id in copied or (old.category, old.title) in named:
            continue
        assignee = old.assignee_id if old.assignee_id and _valid_assignee(session, community_id,
                                                                           old.assignee_id) else None
        made.append(WorkPlanItem(
            community_id=community_id, month=month, category=old.category, title=old.title,
            due_date=month.replace(day=min(old.due_date.day, last_day)), contractor=old.contractor,
            assignee_id=assignee, note=old.note, copied_from_id=old.id, created_by=actor.id,
            created_at=now, updated_at=now))
        named.add((old.category, old.title))
    session.add_all(made)
    session.flush()
    return made


def month_items(session: Session, *, community_id: str, month: date,
                category: str | None = None) -> list[WorkPlanItem]:
    """The month's undeleted items by due date (of one category when given)."""
    query = sa.select(WorkPlanItem).where(WorkPlanItem.community_id == community_id,
                                          WorkPlanItem.month == month.replace(day=1),
                                          WorkPlanItem.deleted.is_(False))
    if category is not None:
        query = query.where(WorkPlanItem.category == category)
    return list(session.scalars(query.order_by(WorkPlanItem.due_date, WorkPlanItem.created_at, WorkPlanItem.id)))


def list_month(session: Session, *, community_id: str, month: date, today: date) -> MonthPlan:
    """The month's plan by due date, each item's state, and done/total per category."""
    entries = []
    counts: dict[str, list[int]] = {}
    for item in month_items(session, community_id=community_id, month=month):
        state = "done" if item.done_at is not None else ("overdue" if item.due_date < today else "open")
        entries.append(PlanEntry(item, state))
        count = counts.setdefault(item.category, [0, 0])
        count[0] += state == "done"
        count[1] += 1
    ordered = {code: tuple(counts[code]) for code in CATEGORIES if code in counts}
    return MonthPlan(month=month.replace(day=1), entries=entries, counts=ordered)


# ---- quality inspections ----------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryRate:
    category: str
    inspections: int
    passed: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.total if self.total else None


def record_inspection(session: Session, *, actor: User, community_id: str, category: str, place: str,
                      inspected_on: date | None, answers: Mapping[str, Mapping], today: date,
                      plan_item_id: str | None = None, notes: str = "") -> Inspection:
    """An inspection by the actor. `answers` maps each checklist key to {"passed": bool, "note": str};
    every item of the category's checklist must be answered, and no other."""
    _check_scope(actor, community_id)
    place, notes = _text(place), _text(notes)
    errors: list[FieldError] = []
    if category not in CATEGORIES:
        errors.append(FieldError("category", "invalid_choice", choices=", ".join(CATEGORIES)))
    if not place:
        errors.append(FieldError("place", "required"))
    _length(errors, "place", place, PLACE_MAX)
    if inspected_on is None:
        errors.append(FieldError("inspected_on", "required"))
    elif inspected_on > today:
        errors.append(FieldError("inspected_on", "in_future"))
    _length(errors, "notes", notes, NOTE_MAX)
    if plan_item_id:
        linked = session.get(WorkPlanItem, plan_item_id)
        if (linked is None or linked.community_id != community_id or linked.deleted
                or linked.category != category):
            errors.append(FieldError("plan_item_id", "invalid"))
    items = []
    expected = checklist(category)
    keys = {entry["key"] for entry in expected}
    for key in sorted(set(answers) - keys):
        errors.append(FieldError(f"items.{key}", "unknown_item"))
    for entry in expected:
        answer = answers.get(entry["key"]) or {}
        passed, note = answer.get("passed"), _text(answer.get("note"))
        if not isinstance(passed, bool):
            errors.append(FieldError(f"items.{entry['key']}", "unanswered"))
        _length(errors, f"items.{entry['key']}", note, ITEM_NOTE_MAX)
        items.append({**entry, "passed": passed, "note": note})
    if errors:
        raise ValidationFailed(errors)
    inspection = Inspection(community_id=community_id, inspected_on=inspected_on, category=category, place=place,
                            inspector_id=actor.id, plan_item_id=plan_item_id or None, items=items,
                            passed=sum(item["passed"] for item in items), total=len(items), notes=notes,
                            created_at=utcnow())
    session.add(inspection)
    session.flush()
    return inspection


def list_inspections(session: Session, *, community_id: str, start: date, end: date) -> list[Inspection]:
    """The community's inspections from start to end (inclusive), newest first."""
    return list(session.scalars(
        sa.select(Inspection).where(Inspection.community_id == community_id, Inspection.inspected_on >= start,
                                    Inspection.inspected_on <= end)
        .order_by(Inspection.inspected_on.desc(), Inspection.created_at.desc(), Inspection.id)))


def pass_rates(session: Session, *, community_id: str, start: date, end: date) -> list[CategoryRate]:
    """Per category: inspections, and checklist items passed over items checked, from start to end."""
    rows = session.execute(
        sa.select(Inspection.category, sa.func.count(), sa.func.sum(Inspection.passed), sa.func.sum(Inspection.total))
        .where(Inspection.community_id == community_id, Inspection.inspected_on >= start,
               Inspection.inspected_on <= end)
        .group_by(Inspection.category)).all()
    found = {category: CategoryRate(category, int(count), int(passed or 0), int(total or 0))
             for category, count, passed, total in rows}
    return [found[code] for code in CATEGORIES if code in found]
