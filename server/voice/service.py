"""Domain rules of polls and their answers (docs/voice.md).

A poll belongs to one community (or one building of it) for good. Its questions, whether it is
anonymous and whom it counts once (a household or a resident) are fixed once it has an answer.
It takes answers from `opens_at` to `closes_at` by the server's clock; an answer made offline
before `closes_at` (the phone's `answered_at`) is still taken when it arrives within `GRACE` of the
close, unless a supervisor has sealed the poll (`closed_at`): nothing is taken after that, so a
sealed result never changes. A phone's clock cannot stretch this: it can only claim a time before
the close for an answer that reaches the server within the grace window.

Each household (or resident) is counted once: the answer's unique key is (poll, household, voter),
and the phones name it by a UUIDv5 of the same (pwa/js/views/voice-logic.js), so a retry or a
second phone meets the answer already stored and is refused with `already_answered`.

An anonymous poll's content goes to a ballot (`PollBallot`) with no household, user or time; the
answer row keeps only that the household answered.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import scopes
from server.auth.models import User
from server.community.models import Household
from server.errors import FieldError, Forbidden, ValidationFailed
from server.records import utcnow
from server.resources.hooks import Rules
from server.voice.models import Poll, PollAnswer, PollBallot

GRACE = timedelta(hours=24)  # how long after its close an answer made offline before it is still taken
MAX_AHEAD = timedelta(minutes=5)  # a phone's clock may run this far ahead of the server's
FIXED_ONCE_ANSWERED = ("questions", "anonymous", "one_per")
# The namespace of answer ids: UUIDv5(namespace, "<poll id>/<household id>[/<user id>]").
ANSWER_NAMESPACE = uuid.UUID("6f1d2c4e-8a3b-5c7d-9e0f-1a2b3c4d5e6f")


def answer_id(poll_id: str, household_id: str, voter_key: str = "") -> str:
    """The id every phone gives the one answer of a household (or of a resident) to a poll."""
    name = f"{poll_id}/{household_id}" + (f"/{voter_key}" if voter_key else "")
    return str(uuid.uuid5(ANSWER_NAMESPACE, name))


# ---- polls -------------------------------------------------------------------------------------

def _text(values: dict, name: str, errors: list[FieldError]) -> None:
    if name in values:
        values[name] = str(values[name] or "").strip()
        if not values[name]:
            errors.append(FieldError(name, "required"))


def question_errors(questions: list[dict]) -> list[FieldError]:
    """What is wrong with a poll's questions: ids unique, choices with two options or more, scores none."""
    errors: list[FieldError] = []
    if not questions:
        return [FieldError("questions", "required")]
    seen: set[str] = set()
    for i, question in enumerate(questions):
        where = f"questions.{i}"
        if question["id"] in seen:
            errors.append(FieldError(f"{where}.id", "duplicate"))
        seen.add(question["id"])
        if not question["text"].strip():
            errors.append(FieldError(f"{where}.text", "required"))
        options = question.get("options") or []
        if question["type"] == "score":
            if options:
                errors.append(FieldError(f"{where}.options", "not_for_score"))
        elif len(options) < 2:
            errors.append(FieldError(f"{where}.options", "too_few_options", min=2))
        elif len({o["id"] for o in options}) != len(options):
            errors.append(FieldError(f"{where}.options", "duplicate"))
    return errors


def _check_window(opens_at: datetime, closes_at: datetime) -> None:
    if closes_at <= opens_at:
        raise ValidationFailed([FieldError("closes_at", "before_opens")])


def _poll_create(session: Session, user: User, values: dict) -> None:
    scopes.community_of_new_record(user, values)
    errors: list[FieldError] = []
    _text(values, "title", errors)
    errors += question_errors(values["questions"])
    if values.get("closed_at") is not None:
        errors.append(FieldError("closed_at", "not_writable"))
    if errors:
        raise ValidationFailed(errors)
    values.pop("closed_at", None)
    values["building"] = (values.get("building") or "").strip()
    values.setdefault("opens_at", utcnow())
    _check_window(values["opens_at"], values["closes_at"])
    values["created_by"] = user.id


def has_answers(session: Session, poll_id: str) -> bool:
    return session.scalar(sa.select(sa.exists().where(PollAnswer.poll_id == poll_id,
                                                      PollAnswer.deleted.is_(False)))) or False


def _poll_update(session: Session, user: User, poll: Poll, changes: dict) -> None:
    if poll.closed_at is not None:  # sealed: its result, and what it asked, stay as they are
        raise ValidationFailed([FieldError(name, "poll_closed") for name in sorted(changes) or ["closed_at"]])
    if "community_id" in changes and changes["community_id"] != poll.community_id:
        raise Forbidden(errors=[FieldError("community_id", "not_writable")])
    errors: list[FieldError] = []
    _text(changes, "title", errors)
    if "questions" in changes:
        errors += question_errors(changes["questions"])
    fixed = [name for name in FIXED_ONCE_ANSWERED if name in changes and changes[name] != getattr(poll, name)]
    if fixed and has_answers(session, poll.id):
        errors += [FieldError(name, "has_answers") for name in fixed]
    if "closed_at" in changes and changes["closed_at"] is None:
        errors.append(FieldError("closed_at", "null"))
    if errors:
        raise ValidationFailed(errors)
    if "building" in changes:
        changes["building"] = (changes["building"] or "").strip()
    if "closed_at" in changes:
        changes["closed_at"] = utcnow()  # sealed now, by the server's clock, whatever was sent
    _check_window(changes.get("opens_at", poll.opens_at), changes.get("closes_at", poll.closes_at))


POLL_RULES = Rules(prepare_create=_poll_create, prepare_update=_poll_update)


def close_poll(session: Session, *, user: User, poll_id: str) -> Poll:
    """Seal a poll now (closed early, or its count declared final). The caller commits."""
    from server.audit.service import CONSOLE
    from server.resources import service as records

    return records.update(session, user=user, rtype="poll", record_id=poll_id, data={"closed_at": utcnow().isoformat()},
                          via=CONSOLE)


def status(poll: Poll, now: datetime | None = None) -> str:
    """"upcoming", "open", "counting" (closed, offline answers made before the close still arriving)
    or "closed" (sealed, or past the grace window: final)."""
    now = now or utcnow()
    if poll.closed_at is not None or now > poll.closes_at + GRACE:
        return "closed"
    if now < poll.opens_at:
        return "upcoming"
    return "open" if now < poll.closes_at else "counting"


# ---- answers -----------------------------------------------------------------------------------

def choice_errors(questions: list[dict], answers: list[dict]) -> list[FieldError]:
    """What is wrong with an answer's choices for these questions: each question answered once, by
    one option (单选), some options (多选) or a score of 1–5 (打分)."""
    by_id = {q["id"]: q for q in questions}
    errors: list[FieldError] = []
    given: set[str] = set()
    for i, choice in enumerate(answers):
        where = f"answers.{i}"
        question = by_id.get(choice["question_id"])
        if question is None:
            errors.append(FieldError(f"{where}.question_id", "not_found"))
            continue
        if choice["question_id"] in given:
            errors.append(FieldError(f"{where}.question_id", "duplicate"))
        given.add(choice["question_id"])
        options = choice.get("options") or []
        if question["type"] == "score":
            if choice.get("score") is None or options:
                errors.append(FieldError(f"{where}.score", "required"))
            continue
        if choice.get("score") is not None:
            errors.append(FieldError(f"{where}.score", "not_for_choice"))
        valid = {o["id"] for o in question.get("options") or []}
        if not options or (question["type"] == "single" and len(options) != 1):
            errors.append(FieldError(f"{where}.options", "one_option" if question["type"] == "single"
                                     else "required"))
        elif len(set(options)) != len(options) or not set(options) <= valid:
            errors.append(FieldError(f"{where}.options", "invalid_choice", choices=", ".join(sorted(valid))))
    for question in questions:
        if question["id"] not in given:
            errors.append(FieldError("answers", "unanswered", question=question["id"]))
    return errors


def timing_error(poll: Poll, answered_at: datetime, now: datetime) -> FieldError | None:
    """Why an answer made at `answered_at` (the phone's clock) and arriving `now` is refused, if it is."""
    if answered_at > now + MAX_AHEAD:
        return FieldError("answered_at", "in_future", minutes=int(MAX_AHEAD.total_seconds() // 60))
    if poll.closed_at is not None:
        return FieldError("poll_id", "poll_closed")
    if now < poll.opens_at:
        return FieldError("poll_id", "poll_not_open")
    if now < poll.closes_at:
        return None
    if answered_at < poll.closes_at and now <= poll.closes_at + GRACE:
        return None  # answered offline before the close, arrived within the grace window
    return FieldError("poll_id", "poll_closed")


def _answer_create(session: Session, user: User, values: dict) -> None:
    # Shared with a supervisor's sealing (FOR UPDATE): an answer and the seal never cross.
    poll = session.execute(sa.select(Poll).where(Poll.id == values["poll_id"]).with_for_update(read=True)
                           ).scalar_one_or_none()
    household = session.get(Household, values["household_id"])
    if poll is None or poll.deleted:
        raise ValidationFailed([FieldError("poll_id", "not_found")])
    if household is None or household.deleted:
        raise ValidationFailed([FieldError("household_id", "not_found")])
    if household.community_id != poll.community_id or (poll.building and household.building != poll.building):
        raise Forbidden(errors=[FieldError("poll_id", "out_of_scope")])
    now = utcnow()
    values["answered_at"] = values.get("answered_at") or now
    problem = timing_error(poll, values["answered_at"], now)
    if problem:
        raise ValidationFailed([problem])
    if values.get("answers") is None:
        raise ValidationFailed([FieldError("answers", "required")])
    errors = choice_errors(poll.questions, values["answers"])
    if errors:
        raise ValidationFailed(errors)
    values["source"] = "butler" if user.role == "butler" else "resident"
    if poll.one_per == "resident":
        if user.role != "resident":  # a door answer is a household's; a resident answers for themself
            raise ValidationFailed([FieldError("poll_id", "per_resident")])
        values["voter_key"] = user.id
    else:
        values["voter_key"] = ""
    if session.scalar(sa.select(sa.exists().where(
            PollAnswer.poll_id == poll.id, PollAnswer.household_id == household.id,
            PollAnswer.voter_key == values["voter_key"]))):
        raise ValidationFailed([FieldError("poll_id", "already_answered")])
    if poll.anonymous:
        session.add(PollBallot(poll_id=poll.id, answers=values["answers"]))
        values["answers"] = None


def _answer_update(session: Session, user: User, answer: PollAnswer, changes: dict) -> None:
    # Counted once, as first given: a second phone, or a resend under a new mutation id, changes nothing.
    raise ValidationFailed([FieldError("poll_id", "already_answered")])


ANSWER_RULES = Rules(prepare_create=_answer_create, prepare_update=_answer_update)
