"""Domain rules of check-ins, and the month of attendance they add up to.

A check-in is made by a butler on the phone, often offline, and synced later: `at` is the phone's
clock at the tap. The server accepts it if it is not in the future (beyond a little clock drift) and
not older than a week; it files it under the writer and the writer's community, and nobody changes
it afterwards. Attendance counts check-ins on the community's calendar (its time zone).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attendance.models import Checkin
from server.auth.models import User
from server.community.models import Community
from server.community.service import local_date, today_in, zone
from server.errors import FieldError, Forbidden, ValidationFailed
from server.months import month_days
from server.records import UTCDateTime, utcnow
from server.resources.hooks import Rules

MAX_AHEAD = timedelta(minutes=10)  # a phone's clock may run a little fast
MAX_AGE = timedelta(days=7)  # a phone offline for longer than a week has its taps refused
WORK_STARTS = time(9, 0)  # a first check-in after this (local time) is late (迟到)


def _checkin_create(session: Session, user: User, values: dict) -> None:
    if user.role != "butler":
        raise Forbidden()  # a check-in is a butler's own
    if not user.community_id:
        raise ValidationFailed([FieldError("community_id", "required")])
    now = utcnow()
    if values["at"] > now + MAX_AHEAD:
        raise ValidationFailed([FieldError("at", "in_future", minutes=int(MAX_AHEAD.total_seconds() // 60))])
    if values["at"] < now - MAX_AGE:
        raise ValidationFailed([FieldError("at", "too_old", days=MAX_AGE.days)])
    values["butler_id"] = user.id
    values["community_id"] = user.community_id
    values["note"] = (values.get("note") or "").strip()


CHECKIN_RULES = Rules(prepare_create=_checkin_create)


# ---- attendance: one month of a community --------------------------------------------------------

PRESENT, LATE, ABSENT, OPEN, FUTURE, BEFORE = "present", "late", "absent", "open", "future", "before"


@dataclass(frozen=True)
class Day:
    """One butler's day: first 签到 and last 签退 in local time ("08:42"), and what the day counts as.

    state: present | late | absent (a past day without any check-in) | open (today, none yet) | future |
    before (a day before the butler's account existed: not an absence).
    """

    day: date
    first_in: str | None = None
    last_out: str | None = None
    state: str = FUTURE


@dataclass(frozen=True)
class ButlerMonth:
    butler_id: str
    name: str
    username: str
    days: tuple[Day, ...]

    @property
    def present(self) -> int:
        return sum(d.state in (PRESENT, LATE) for d in self.days)

    @property
    def late(self) -> int:
        return sum(d.state == LATE for d in self.days)

    @property
    def absent(self) -> int:
        return sum(d.state == ABSENT for d in self.days)


@dataclass(frozen=True)
class Month:
    first: date
    timezone: str
    work_starts: time
    days: tuple[date, ...]
    today: date
    butlers: tuple[ButlerMonth, ...]


def _utc(day: date, at: time, tz) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)


def attendance(session: Session, *, community_id: str, year: int, month: int, now: datetime | None = None,
               work_starts: time = WORK_STARTS) -> Month:
    """The community's attendance for one calendar month, its days counted in the community's zone.

    The grouping by butler and local day runs in SQL on both databases: SQLite knows no time zones, so
    each local day's bounds in UTC (and the instant after which a first check-in is late) are worked
    out here with zoneinfo (daylight saving included) and joined in as a small table of the month's
    days (one SELECT per day, UNION ALL). Only the few grouped rows come back.
    """
    community = session.get(Community, community_id)
    tz = zone(community)
    first = date(year, month, 1)
    days = month_days(first)
    today = today_in(community, now=now)
    bounds = [(d, _utc(d, time(0), tz), _utc(d + timedelta(days=1), time(0), tz), _utc(d, work_starts, tz))
              for d in days]
    # SELECT … UNION ALL SELECT …: SQLite cannot name the columns of a VALUES list.
    table = sa.union_all(*[
        sa.select(sa.literal(d, sa.Date()).label("day"), sa.literal(starts, UTCDateTime()).label("starts"),
                  sa.literal(ends, UTCDateTime()).label("ends"), sa.literal(late, UTCDateTime()).label("late_after"))
        for d, starts, ends, late in bounds]).subquery("month_days")
    first_in = sa.func.min(sa.case((Checkin.kind == "in", Checkin.at)))
    last_out = sa.func.max(sa.case((Checkin.kind == "out", Checkin.at)))
    late = sa.case((first_in > table.c.late_after, True), else_=False)
    rows = session.execute(
        sa.select(Checkin.butler_id, table.c.day, first_in.label("first_in"), last_out.label("last_out"),
                  late.label("late"))
        .select_from(Checkin)
        .join(table, sa.and_(Checkin.at >= table.c.starts, Checkin.at < table.c.ends))
        .where(Checkin.community_id == community_id, Checkin.deleted.is_(False),
               Checkin.at >= bounds[0][1], Checkin.at < bounds[-1][2])
        .group_by(Checkin.butler_id, table.c.day, table.c.late_after)
    ).all()
    found: dict[tuple[str, date], tuple] = {}
    for butler_id, day, first, last, is_late in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        found[(butler_id, day)] = (_local(first, tz), _local(last, tz), bool(is_late))
    with_checkins = {butler_id for butler_id, _ in found}
    # The community's butlers; one no longer active still shows for a month in which they checked in.
    listed = sa.or_(User.active.is_(True), User.id.in_(with_checkins)) if with_checkins else User.active.is_(True)
    butlers = session.scalars(
        sa.select(User).where(User.community_id == community_id, User.role == "butler", listed)
        .order_by(User.name, User.username)).all()
    out = []
    for butler in butlers:
        out.append(ButlerMonth(butler.id, butler.name, butler.username,
                               tuple(_day(d, found.get((butler.id, d)), today, local_date(tz.key, butler.created_at))
                                     for d in days)))
    return Month(first, tz.key, work_starts, tuple(days), today, tuple(out))


def _local(value, tz) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands an aggregate of a CASE back as text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz).strftime("%H:%M")


def _day(day: date, found: tuple | None, today: date, joined: date) -> Day:
    if found is not None:
        first_in, last_out, late = found
        return Day(day, first_in, last_out, LATE if late else PRESENT)
    if day < joined:
        return Day(day, state=BEFORE)
    if day < today:
        return Day(day, state=ABSENT)
    return Day(day, state=OPEN if day == today else FUTURE)
