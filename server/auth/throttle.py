"""Counting login attempts: slow whoever guesses, never lock the owner out.

Each thing counted is a *subject*: a keyed hash of a username, an address or a known device
(`keyed_subject`), so the table never holds one readably. An attempt is counted *before* the
password is checked, in one short transaction that takes a lock per subject (PostgreSQL: a
transaction-level advisory lock; SQLite: the write lock every write request takes at BEGIN), reads
the counts and writes the attempt's rows. However many logins arrive at once, no more passwords are
checked than the limits allow. The transaction commits before the (deliberately slow) password
check, so no write lock or database connection is held through it; the rows that the outcome
proves wrong (a failure row for a right password, a login row for a wrong one) are then deleted.

A subject's limit is `free` attempts within the window; past that each further attempt waits
`backoff × 2^(n − free)` seconds after the last one (at most the window): an attacker's guesses
grow exponentially slower, and an owner who mistyped waits seconds, not the whole window.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import LoginFailure
from server.errors import TooManyRequests
from server.records import utcnow


def keyed_subject(secret_key: str, kind: str, value: str) -> str:
    """A throttling subject: a keyed hash of what is counted (a username, an address, a code),
    so the failure table never holds it readably."""
    return hmac.new(secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Limit:
    """At most `free` attempts of `subject` in the window, then waits doubling from `backoff`
    seconds (0: none past `free`, until the oldest leaves the window)."""

    subject: str
    free: int
    backoff: float = 0.0
    code: str = "too_many_attempts"  # what a refusal says


@dataclass
class Attempt:
    """The rows written for one attempt, by subject (to delete those its outcome proves wrong), and
    its place among each subject's attempts in the window (1: the first)."""

    rows: dict[str, int] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)

    def forget(self, session: Session, subjects) -> None:
        """Delete this attempt's rows for `subjects` (the caller commits)."""
        ids = [self.rows[s] for s in subjects if s in self.rows]
        if ids:
            session.execute(sa.delete(LoginFailure).where(LoginFailure.id.in_(ids)))


def lock_subjects(session: Session, subjects) -> None:
    """Serialise attempts on the same subjects until the transaction ends (PostgreSQL: an advisory
    lock per subject, taken in one order so two attempts never wait on each other; SQLite: its
    write lock, taken at BEGIN, already serialises every writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for subject in sorted(set(subjects)):
        key = int(subject[:15], 16)  # 60 bits of the keyed hash: a bigint lock key
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def wait_needed(count: int, oldest, last, limit: Limit, *, window: int, now) -> int:
    """Seconds before `limit.subject` may try again (0: now), given its attempts in the window."""
    if count < limit.free:
        return 0
    until = oldest + timedelta(seconds=window)  # without back-off: until the oldest leaves the window
    if limit.backoff:
        delay = min(float(window), limit.backoff * 2 ** (count - limit.free))
        until = min(until, last + timedelta(seconds=delay))
    seconds = (until - now).total_seconds()
    return max(0, int(seconds) + 1) if seconds > 0 else 0


def counts(session: Session, subjects, *, window: int, now) -> dict[str, tuple[int, object, object]]:
    """(count, oldest, newest) of each subject's attempts within the window, in one query."""
    since = now - timedelta(seconds=window)
    rows = session.execute(
        sa.select(LoginFailure.subject, sa.func.count(), sa.func.min(LoginFailure.at), sa.func.max(LoginFailure.at))
        .where(LoginFailure.subject.in_(list(set(subjects))), LoginFailure.at > since)
        .group_by(LoginFailure.subject)).all()
    return {subject: (count, oldest, newest) for subject, count, oldest, newest in rows}


def refuse_if_over(session: Session, limits: list[Limit], *, window: int) -> dict[str, int]:
    """429 with Retry-After (and the code of the limit that waits longest) when any subject must
    wait; else each subject's attempts in the window."""
    now = utcnow()
    found = counts(session, [limit.subject for limit in limits], window=window, now=now)
    wait, code = max(((wait_needed(*found[limit.subject], limit, window=window, now=now), limit.code)
                      for limit in limits if limit.subject in found), default=(0, ""))
    if wait:
        raise TooManyRequests(code, headers={"Retry-After": wait}, retry_after=wait,
                              details={"retry_after": wait})
    return {subject: count for subject, (count, _oldest, _newest) in found.items()}


def reserve(session: Session, limits: list[Limit], *, window: int) -> Attempt:
    """Lock the subjects, refuse (429) if any must wait, else write one row per subject: the attempt
    is counted before it is judged. The caller commits (which releases the locks)."""
    subjects = list(dict.fromkeys(limit.subject for limit in limits))
    lock_subjects(session, subjects)
    before = refuse_if_over(session, limits, window=window)
    now = utcnow()
    # What has left the window no longer counts: these subjects' rows stay few.
    session.execute(sa.delete(LoginFailure).where(LoginFailure.subject.in_(subjects),
                                                  LoginFailure.at <= now - timedelta(seconds=window)))
    ids = session.scalars(sa.insert(LoginFailure).returning(LoginFailure.id, sort_by_parameter_order=True),
                          [{"subject": s, "at": now} for s in subjects]).all()
    return Attempt(dict(zip(subjects, ids)), {s: before.get(s, 0) + 1 for s in subjects})


