"""Domain rules of community activities (社区活动) and their sign-ups.

A household signs up with a head count (`people`). While the activity has room (`capacity`, in
people; none: no limit) a sign-up is confirmed, else it waits. When room frees up (a cancellation,
a smaller head count, a larger capacity) the waiting list moves up first come, first served, and
stops at the first sign-up that does not fit, so nobody is overtaken by a smaller party. The
activity keeps its head count (`taken`) and its waiting count (`waiting`) for the phones.
A household signs up once (its sign-up's id is a UUIDv5 of activity and household on the phone);
cancelling and signing up again reuses that sign-up, at the back of the queue.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import scopes
from server.auth.models import User
from server.community.models import Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.records import utcnow
from server.resources.hooks import Rules
from server.syncing import bookkeeping
from server.voice.models import Activity, ActivitySignup
from server.voice.service import _text


def _activity_create(session: Session, user: User, values: dict) -> None:
    scopes.community_of_new_record(user, values)
    errors: list[FieldError] = []
    _text(values, "title", errors)
    if errors:
        raise ValidationFailed(errors)
    values["building"] = (values.get("building") or "").strip()


def _activity_update(session: Session, user: User, activity: Activity, changes: dict) -> None:
    if "community_id" in changes and changes["community_id"] != activity.community_id:
        raise Forbidden(errors=[FieldError("community_id", "not_writable")])
    errors: list[FieldError] = []
    _text(changes, "title", errors)
    if errors:
        raise ValidationFailed(errors)
    if "building" in changes:
        changes["building"] = (changes["building"] or "").strip()


def _activity_written(session: Session, user: User, activity: Activity, previous: dict, created: bool) -> None:
    if not created and "capacity" in previous:
        rebalance(session, activity)


ACTIVITY_RULES = Rules(prepare_create=_activity_create, prepare_update=_activity_update,
                       after_write=_activity_written)


def _locked_activity(session: Session, activity_id: str) -> Activity | None:
    """The activity, locked: sign-ups to one activity are counted one after another."""
    return session.execute(sa.select(Activity).where(Activity.id == activity_id).with_for_update()
                           ).scalar_one_or_none()


def _fits(activity: Activity, people: int, already: int = 0) -> bool:
    """Whether `people` more fit, with `already` of the confirmed head count being theirs."""
    return activity.capacity is None or activity.taken - already + people <= activity.capacity


def _signup_create(session: Session, user: User, values: dict) -> None:
    activity = _locked_activity(session, values["activity_id"])
    household = session.get(Household, values["household_id"])
    if activity is None or activity.deleted:
        raise ValidationFailed([FieldError("activity_id", "not_found")])
    if household is None or household.deleted:
        raise ValidationFailed([FieldError("household_id", "not_found")])
    if household.community_id != activity.community_id or (activity.building
                                                           and household.building != activity.building):
        raise Forbidden(errors=[FieldError("activity_id", "out_of_scope")])
    if activity.starts_at <= utcnow():
        raise ValidationFailed([FieldError("activity_id", "activity_started")])
    if values.get("cancelled"):
        raise ValidationFailed([FieldError("cancelled", "not_writable")])
    if session.scalar(sa.select(sa.exists().where(ActivitySignup.activity_id == activity.id,
                                                  ActivitySignup.household_id == household.id))):
        raise ValidationFailed([FieldError("activity_id", "already_signed_up")])
    values["people"] = values.get("people") or 1
    values["cancelled"] = False
    values["state"] = "confirmed" if _fits(activity, values["people"]) and not activity.waiting else "waiting"


def _signup_update(session: Session, user: User, signup: ActivitySignup, changes: dict) -> None:
    activity = _locked_activity(session, signup.activity_id)
    if activity.starts_at <= utcnow():
        raise ValidationFailed([FieldError("activity_id", "activity_started")])
    if changes.get("activity_id", signup.activity_id) != signup.activity_id:
        raise Forbidden(errors=[FieldError("activity_id", "not_writable")])
    if changes.get("household_id", signup.household_id) != signup.household_id:
        raise Forbidden(errors=[FieldError("household_id", "not_writable")])
    people = changes.get("people", signup.people)
    if changes.get("cancelled") is True:
        changes["state"] = "cancelled"
    elif signup.cancelled and changes.get("cancelled") is False:  # signed up again: at the back of the queue
        changes["state"] = "confirmed" if _fits(activity, people) and not activity.waiting else "waiting"
        changes["created_at"] = utcnow()
    elif signup.state == "confirmed" and not _fits(activity, people, already=signup.people):
        raise ValidationFailed([FieldError("people", "no_room", left=activity.capacity - activity.taken + signup.people)])


def _signup_written(session: Session, user: User, signup: ActivitySignup, previous: dict, created: bool) -> None:
    rebalance(session, session.get(Activity, signup.activity_id))


SIGNUP_RULES = Rules(prepare_create=_signup_create, prepare_update=_signup_update, after_write=_signup_written)


def rebalance(session: Session, activity: Activity) -> None:
    """Move the waiting list up into the room there is, in order of arrival, and keep the
    activity's counts. The sign-ups moved and the activity get new versions: the phones pull them."""
    session.flush()
    signups = list(session.scalars(sa.select(ActivitySignup).where(
        ActivitySignup.activity_id == activity.id, ActivitySignup.deleted.is_(False),
        ActivitySignup.state != "cancelled").order_by(ActivitySignup.created_at, ActivitySignup.id)))
    taken = sum(s.people for s in signups if s.state == "confirmed")
    for signup in signups:
        if signup.state != "waiting":
            continue
        if activity.capacity is not None and taken + signup.people > activity.capacity:
            break
        signup.state = "confirmed"
        taken += signup.people
        bookkeeping.changed(session, "activity_signup", signup)
    waiting = sum(s.people for s in signups if s.state == "waiting")
    if (activity.taken, activity.waiting) != (taken, waiting):
        activity.taken, activity.waiting = taken, waiting
        bookkeeping.changed(session, "activity", activity)
    session.flush()


def head_count(session: Session, activity_id: str) -> dict:
    """The console's figures of one activity: households and people confirmed and waiting."""
    rows = session.execute(sa.select(ActivitySignup.state, sa.func.count(), sa.func.sum(ActivitySignup.people))
                           .where(ActivitySignup.activity_id == activity_id, ActivitySignup.deleted.is_(False))
                           .group_by(ActivitySignup.state)).all()
    out = {state: {"households": 0, "people": 0} for state in ("confirmed", "waiting", "cancelled")}
    for state, households, people in rows:
        out[state] = {"households": households, "people": int(people or 0)}
    return out
