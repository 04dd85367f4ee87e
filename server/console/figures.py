"""The figures of the supervisors' dashboard, each one a small table computed in the database.

Pure functions of a SQLAlchemy session: no Flask request, no app context beyond the session. Every
figure is a GROUP BY, an aggregate or a window function that runs the same on SQLite and PostgreSQL;
Python only shapes the few aggregated rows that come back (rounding, the natural order of "2栋" before
"10栋", the rows of a status that has no ticket). The few expressions the two databases spell
differently (time arithmetic, the week of a date, "is the room all digits", the elements of a JSON list)
are chosen by the session's dialect in `_Sql`.

Conventions the pages rely on:
- `Table.rows` hold plain values: str, int, float, `date`, or None (nothing to show, e.g. a percentage
  of nothing). Codes (ticket categories and statuses) stay codes; the page translates them.
- kind "percent": 0–100, one decimal; "minutes": one decimal; "number" (average scores): two
  decimals; "int": an int; "date": a `date`. Averages come back as Decimal from PostgreSQL and are
  made floats here.
- Only the community's records count, and never a deleted one (deleted is True). A ticket, visit or
  order belongs to the community of its household, and is left out with it when that is deleted.
- Date ranges are whole days of the community's time zone (`tz`, an IANA name; times are stored in
  UTC), both ends included: [start 00:00, end + 1 day 00:00). "As of today" (coverage) counts visits
  made before the end of `today`. Weeks are the zone's weeks: exactly on PostgreSQL, which knows the
  zone's rules; on SQLite with the zone's UTC offset at the end of the range (exact for zones without
  daylight saving time, such as China's).
- Ticket times run from the ticket's creation, as its service level does (server/tickets/sla.py).
- No table holds personal data: no resident's name or phone, only addresses, grids and butlers.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.auth.models import User
from server.community.models import Grid, Household
from server.products.models import Order, Product
from server.records import unindexed
from server.tickets.models import CATEGORIES, STATUSES, Ticket
from server.tickets.sla import Sla
from server.visits.models import Visit

KINDS = ("text", "int", "percent", "number", "minutes", "date")
CHARTS = ("bar", "line", "heatmap", "none")
OVERDUE_LIMIT = 200
MICROS_PER_DAY = 86_400_000_000
MICROS_PER_MINUTE = 60_000_000


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "text"  # "text" | "int" | "percent" | "number" | "minutes" | "date"


@dataclass(frozen=True)
class Table:
    name: str  # url-safe, e.g. "coverage_by_grid"
    zh: str
    en: str  # title
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    chart: str = "bar"  # "bar" | "line" | "heatmap" | "none" (heatmap: rows are (building, floor, value))


# ---- the dashboard ----------------------------------------------------------------------------------

# Where a household is and who looks after it: the first columns of the lists of overdue households.
PLACE_COLUMNS = (
    Column("building", "楼栋", "Building"),
    Column("unit", "单元", "Unit"),
    Column("room", "房号", "Room"),
    Column("grid", "网格", "Grid"),
    Column("butler", "管家", "Butler"),
)


def dashboard(session, *, community_id: str, start: date, end: date, today: date, sla: Sla,
              tz: str = "UTC") -> dict[str, Table]:
    """Every figure of the dashboard, by table name (in the order the page shows them).

    Coverage and the overdue list are as of `today`; everything else counts the records of
    [start, end] (both days included), days being those of the time zone `tz`.
    """
    zone = ZoneInfo(tz)
    until = _midnight(end + timedelta(days=1), zone)
    q = _Sql(session, zone, until)
    since = _midnight(start, zone)
    tables = [
        *coverage(session, q, community_id, today),
        overdue_households(session, q, community_id, today),
        _overdue_custody(session, community_id, today),
        tickets_by_status(session, community_id, since, until),
        ticket_times_by_category(session, q, community_id, since, until, sla),
        ticket_times_by_butler(session, q, community_id, since, until, sla),
        satisfaction_over_time(session, q, community_id, since, until),
        backoffice_by_category(session, community_id, since, until),
        _team_scorecard(session, q, community_id, since, until),
        products(session, q, community_id, since, until),
    ]
    return {table.name: table for table in tables}


def _overdue_custody(*args) -> Table:
    from server.custody.figures import overdue_custody  # it builds on this module

    return overdue_custody(*args)


def _team_scorecard(*args) -> Table:
    from server.teams.scorecard import team_scorecard  # it builds on this module

    return team_scorecard(*args)


def to_csv(table: Table, language: str) -> str:
    """The table as CSV for Excel: UTF-8 with a BOM, CRLF line ends, the header in `language`."""
    english = not language.lower().startswith("zh")
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.en if english else c.zh for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value  # a name typed as a formula stays text in Excel
    return value


# ---- what the two databases spell differently ------------------------------------------------------

class _Sql:
    """Expressions that differ between SQLite and PostgreSQL, chosen by the session's dialect."""

    def __init__(self, session, zone: ZoneInfo = ZoneInfo("UTC"), at: datetime | None = None):
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.zone = zone
        offset = (at or datetime.now(timezone.utc)).astimezone(zone).utcoffset() or timedelta(0)
        self.offset_minutes = int(offset // timedelta(minutes=1))

    def midnight(self, day: date) -> datetime:
        """The instant the community's `day` begins."""
        return _midnight(day, self.zone)

    def local_date(self, moment: datetime | None) -> date | None:
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.zone).date()

    def micros(self, moment):
        """A stored time as whole microseconds since 1970 (exact integer arithmetic on both).

        SQLite keeps times as text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, SQLAlchemy's format): the
        seconds from strftime('%s'), the microseconds from characters 21–26."""
        if self.postgres:
            return sa.cast(sa.extract("epoch", moment) * 1_000_000, sa.BigInteger)
        return (sa.cast(sa.func.strftime("%s", moment), sa.BigInteger) * 1_000_000
                + sa.cast(sa.func.substr(moment, 21, 6), sa.BigInteger))

    def week(self, moment):
        """The ISO week (its Monday) of a stored time, as a date."""
        if self.postgres:
            return sa.cast(sa.func.date_trunc("week", sa.func.timezone(self.zone.key, moment)), sa.Date)
        # 'weekday 0' moves to the coming Sunday (or stays on one); six days back is its Monday.
        return sa.func.date(moment, f"{self.offset_minutes:+d} minutes", "weekday 0", "-6 days", type_=sa.Date)

    def unindexed(self, column):
        """The column kept off its index on SQLite (server/records.py `unindexed`)."""
        return unindexed(column, self.postgres)

    def all_digits(self, text, at_least: int):
        if self.postgres:
            return text.op("~")(f"^[0-9]{{{at_least},}}$")
        return sa.and_(sa.func.length(text) >= at_least, sa.not_(text.op("GLOB")("*[^0-9]*")))

    def json_contains(self, json_list, text):
        """Condition: the JSON list of strings holds `text` (once or more)."""
        if self.postgres:
            return json_list.op("?")(text)  # jsonb: is the string an element of the array
        element = sa.func.json_each(json_list).table_valued("value")
        return sa.exists(sa.select(1).select_from(element).where(element.c.value == text))


# ---- visit coverage --------------------------------------------------------------------------------

def _visits_of(q: "_Sql", community_id: str):
    """Condition: the visit belongs to a live household of the community (a scan of the visits, not
    a walk of the household index: see `_Sql.unindexed`)."""
    return q.unindexed(Visit.household_id).in_(
        sa.select(Household.id).where(Household.community_id == community_id, Household.deleted.is_(False)))


def _households(session, q: _Sql, community_id: str, today: date):
    """One row per household of the community: its address, grid, cycle, latest visit and whether
    that visit is recent enough (covered: 1 or 0)."""
    end_of_today = q.midnight(today + timedelta(days=1))
    last = (sa.select(Visit.household_id, sa.func.max(Visit.visited_at).label("last_visit"))
            .where(_visits_of(q, community_id), Visit.deleted.is_(False), Visit.visited_at < end_of_today)
            .group_by(q.unindexed(Visit.household_id))
            .subquery("last"))
    today_micros = _epoch_micros(q.midnight(today))
    covered = sa.case((q.micros(last.c.last_visit) >= _big(today_micros) - Household.visit_cycle_days * _big(MICROS_PER_DAY), 1),
                      else_=0)
    return (sa.select(Household.id, Household.building, Household.unit, Household.room, Household.grid_id,
                      Household.visit_cycle_days, last.c.last_visit, covered.label("covered"))
            .outerjoin(last, last.c.household_id == Household.id)
            .where(Household.community_id == community_id, Household.deleted.is_(False))
            .cte("households"))


def coverage(session, q: _Sql, community_id: str, today: date) -> list[Table]:
    """Coverage by grid, by building, and by building and floor, from one GROUP BY at the finest of
    the three (grid × building × floor: a few hundred rows for thousands of households) that the
    three tables then add up. The floor is the room number but its last two digits ("1203" → 12);
    a room that is not all digits (or shorter than three) has none: counted by grid and building,
    left out of the heat map."""
    h = _households(session, q, community_id, today)
    floor = sa.case((q.all_digits(h.c.room, 3),
                     sa.cast(sa.func.substr(h.c.room, 1, sa.func.length(h.c.room) - 2), sa.Integer))).label("floor")
    cells = session.execute(
        sa.select(h.c.grid_id, Grid.name, User.name, h.c.building, floor, sa.func.count(), sa.func.sum(h.c.covered))
        .select_from(h).outerjoin(Grid, Grid.id == h.c.grid_id).outerjoin(User, User.id == Grid.butler_id)
        .group_by(h.c.grid_id, Grid.name, User.name, h.c.building, floor)).all()
    by_grid, by_building, by_floor = {}, {}, {}
    for grid_id, grid, butler, building, fl, n, covered in cells:
        for totals, key in ((by_grid, (grid_id, grid, butler)), (by_building, building),
                            (by_floor, (building, fl) if fl is not None else None)):
            if key is not None:
                was = totals.get(key, (0, 0))
                totals[key] = (was[0] + n, was[1] + int(covered))
    grids = sorted(((grid, butler, n, covered, _percent(covered, n))
                    for (_id, grid, butler), (n, covered) in by_grid.items()),
                   key=lambda r: (r[0] is None, _natural(r[0])))
    buildings = sorted(((building, n, covered, _percent(covered, n)) for building, (n, covered) in by_building.items()),
                       key=lambda r: _natural(r[0]))
    floors = sorted(((building, fl, _percent(covered, n)) for (building, fl), (n, covered) in by_floor.items()),
                    key=lambda r: (_natural(r[0]), r[1]))
    households = Column("households", "户数", "Households", "int")
    visited = Column("covered", "周期内已走访", "Visited within cycle", "int")
    share = Column("percent", "覆盖率 %", "Coverage %", "percent")
    return [
        Table("coverage_by_grid", "网格走访覆盖率", "Visit coverage by grid",
              (Column("grid", "网格", "Grid"), Column("butler", "管家", "Butler"), households, visited, share),
              tuple(grids)),
        Table("coverage_by_building", "楼栋走访覆盖率", "Visit coverage by building",
              (Column("building", "楼栋", "Building"), households, visited, share), tuple(buildings)),
        Table("coverage_heatmap", "走访覆盖热力图（楼栋 × 楼层）", "Visit coverage by building and floor",
              (Column("building", "楼栋", "Building"), Column("floor", "楼层", "Floor", "int"), share),
              tuple(floors), chart="heatmap"),
    ]


def overdue_households(session, q: _Sql, community_id: str, today: date) -> Table:
    """Households not visited within their cycle as of `today`: never visited first, then the most
    overdue. Days overdue = days from the last visit's day to today, less the cycle (1 = due yesterday)."""
    h = _households(session, q, community_id, today)
    since_last = (_big(_epoch_micros(q.midnight(today)) + MICROS_PER_DAY - 1) - q.micros(h.c.last_visit)) // _big(MICROS_PER_DAY)
    days_overdue = (since_last - h.c.visit_cycle_days).label("days_overdue")
    rows = session.execute(
        sa.select(h.c.building, h.c.unit, h.c.room, Grid.name, User.name, h.c.last_visit, days_overdue)
        .select_from(h).outerjoin(Grid, Grid.id == h.c.grid_id).outerjoin(User, User.id == Grid.butler_id)
        .where(h.c.covered == 0)
        .order_by(sa.case((h.c.last_visit.is_(None), 0), else_=1), days_overdue.desc(),
                  h.c.building, h.c.unit, sa.func.length(h.c.room), h.c.room)
        .limit(OVERDUE_LIMIT)).all()
    rows = tuple((b, u, r, grid, butler, q.local_date(last), None if days is None else int(days))
                 for b, u, r, grid, butler, last, days in rows)
    return Table("overdue_households", f"逾期未走访住户（最多 {OVERDUE_LIMIT} 户）",
                 f"Households overdue for a visit (at most {OVERDUE_LIMIT})", (
                     *PLACE_COLUMNS,
                     Column("last_visit", "最近走访", "Last visit", "date"),
                     Column("days_overdue", "逾期天数", "Days overdue", "int"),
                 ), rows, chart="none")


# ---- tickets -----------------------------------------------------------------------------------------

def _tickets_in(community_id: str, since: datetime, until: datetime):
    """Conditions: the community's live tickets raised in [since, until)."""
    return (Household.community_id == community_id, Household.deleted.is_(False), Ticket.deleted.is_(False),
            Ticket.created_at >= since, Ticket.created_at < until)


def tickets_by_status(session, community_id: str, since: datetime, until: datetime) -> Table:
    counts = dict(session.execute(
        sa.select(Ticket.status, sa.func.count()).join(Household, Household.id == Ticket.household_id)
        .where(*_tickets_in(community_id, since, until)).group_by(Ticket.status)).all())
    return Table("tickets_by_status", "报事报修按状态", "Requests by status", (
        Column("status", "状态", "Status"),
        Column("tickets", "件数", "Requests", "int"),
    ), tuple((status, counts.get(status, 0)) for status in STATUSES))


def _ticket_times(session, q: _Sql, community_id: str, since: datetime, until: datetime, sla: Sla,
                  keys: list) -> dict[tuple, tuple]:
    """Per group of `keys`: tickets, accepted, median minutes to accept, average minutes to resolve,
    % accepted within the SLA (of those accepted), % resolved within the SLA (of those resolved),
    escalations."""
    accept_limit = _big(sla.accept // timedelta(microseconds=1))
    resolve_limit = sa.case({category: _big(limit // timedelta(microseconds=1)) for category, limit in sla.resolve.items()},
                            value=Ticket.category, else_=_big(max(sla.resolve.values()) // timedelta(microseconds=1)))
    created = q.micros(Ticket.created_at)
    base = (sa.select(*[k.label(f"k{i}") for i, k in enumerate(keys)],
                      sa.case((Ticket.accepted_at.is_not(None), q.micros(Ticket.accepted_at) - created)).label("to_accept"),
                      sa.case((Ticket.resolved_at.is_not(None), q.micros(Ticket.resolved_at) - created)).label("to_resolve"),
                      resolve_limit.label("resolve_limit"), Ticket.escalated)
            .join(Household, Household.id == Ticket.household_id)
            .outerjoin(User, User.id == Ticket.assignee_id)
            .where(*_tickets_in(community_id, since, until))
            .cte("times"))
    group = [base.c[f"k{i}"] for i in range(len(keys))]
    totals = session.execute(sa.select(
        *group, sa.func.count(), sa.func.count(base.c.to_accept),
        sa.func.sum(sa.case((base.c.to_accept <= accept_limit, 1), else_=0)),
        sa.func.count(base.c.to_resolve), sa.func.avg(base.c.to_resolve),
        sa.func.sum(sa.case((base.c.to_resolve <= base.c.resolve_limit, 1), else_=0)),
        sa.func.count(base.c.escalated),
    ).group_by(*group)).all()
    # The median without percentile_cont (PostgreSQL only): number the accepted tickets of each
    # group by their time, and average the middle one (odd count) or two (even count).
    ranked = (sa.select(*group, base.c.to_accept,
                        sa.func.row_number().over(partition_by=group, order_by=base.c.to_accept).label("n"),
                        sa.func.count().over(partition_by=group).label("of"))
              .where(base.c.to_accept.is_not(None)).subquery("ranked"))
    middle = [ranked.c[f"k{i}"] for i in range(len(keys))]
    medians = {tuple(row[:-1]): row[-1] for row in session.execute(
        sa.select(*middle, sa.func.avg(ranked.c.to_accept))
        .where(ranked.c.n.in_([(ranked.c.of + 1) // 2, (ranked.c.of + 2) // 2]))
        .group_by(*middle)).all()}
    figures = {}
    for row in totals:
        key, (tickets, accepted, accepted_in_time, resolved, resolve_avg, resolved_in_time, escalated) = \
            tuple(row[:len(keys)]), row[len(keys):]
        figures[key] = (tickets, _minutes(medians.get(key)), _minutes(resolve_avg),
                        _percent(accepted_in_time, accepted), _percent(resolved_in_time, resolved), escalated)
    return figures


_TIME_COLUMNS = (
    Column("tickets", "件数", "Requests", "int"),
    Column("accept_median_minutes", "受理用时中位数（分钟）", "Median minutes to accept", "minutes"),
    Column("resolve_avg_minutes", "解决平均用时（分钟，自报事起）", "Average minutes to resolve (from raising)", "minutes"),
    Column("accepted_in_sla_percent", "按时受理 %（已受理中）", "Accepted within SLA % (of accepted)", "percent"),
    Column("resolved_in_sla_percent", "按时解决 %（已解决中）", "Resolved within SLA % (of resolved)", "percent"),
    Column("escalations", "升级次数", "Escalations", "int"),
)


def ticket_times_by_category(session, q: _Sql, community_id: str, since: datetime, until: datetime,
                             sla: Sla) -> Table:
    figures = _ticket_times(session, q, community_id, since, until, sla, [Ticket.category])
    order = {category: i for i, category in enumerate(sla.resolve)}
    rows = tuple((category, *values) for (category,), values in
                 sorted(figures.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0][0])))
    return Table("ticket_times_by_category", "报事报修时效（按类别）", "Request times by category",
                 (Column("category", "类别", "Category"), *_TIME_COLUMNS), rows)


def ticket_times_by_butler(session, q: _Sql, community_id: str, since: datetime, until: datetime,
                           sla: Sla) -> Table:
    """By assignee; the tickets nobody was assigned make a row with no butler (last)."""
    figures = _ticket_times(session, q, community_id, since, until, sla, [Ticket.assignee_id, User.name])
    rows = tuple((name, *values) for (_id, name), values in
                 sorted(figures.items(), key=lambda item: (item[0][0] is None, _natural(item[0][1]), item[0][0] or "")))
    return Table("ticket_times_by_butler", "报事报修时效（按管家）", "Request times by butler",
                 (Column("butler", "管家", "Butler"), *_TIME_COLUMNS), rows)


def backoffice_by_category(session, community_id: str, since: datetime, until: datetime) -> Table:
    """后台能力评价: the butlers' 1–5 ratings of the back office, on tickets resolved in the range."""
    rows = dict((category, (n, avg)) for category, n, avg in session.execute(
        sa.select(Ticket.category, sa.func.count(Ticket.backoffice_rating), sa.func.avg(Ticket.backoffice_rating))
        .join(Household, Household.id == Ticket.household_id)
        .where(Household.community_id == community_id, Household.deleted.is_(False),
               Ticket.deleted.is_(False),
               Ticket.backoffice_rating.is_not(None),
               Ticket.resolved_at >= since, Ticket.resolved_at < until)
        .group_by(Ticket.category)).all())
    return Table("backoffice_by_category", "后台能力评价（按类别）", "Back-office ratings by category", (
        Column("category", "类别", "Category"),
        Column("ratings", "评价数", "Ratings", "int"),
        Column("average", "平均分（1–5）", "Average (1–5)", "number"),
    ), tuple((c, rows[c][0], _number(rows[c][1])) for c in CATEGORIES if c in rows))


# ---- satisfaction and products ---------------------------------------------------------------------

def satisfaction_over_time(session, q: _Sql, community_id: str, since: datetime, until: datetime) -> Table:
    """By ISO week (its Monday): visit satisfaction of visits made in the range, and residents'
    ratings of tickets resolved in the range."""
    visits = (sa.select(q.week(Visit.visited_at).label("week"), Visit.satisfaction.label("visit"),
                        sa.null().label("ticket"))
              .where(_visits_of(q, community_id), Visit.deleted.is_(False),
                     Visit.satisfaction.is_not(None), Visit.visited_at >= since, Visit.visited_at < until))
    tickets = (sa.select(q.week(Ticket.resolved_at).label("week"), sa.null().label("visit"),
                         Ticket.rating.label("ticket"))
               .join(Household, Household.id == Ticket.household_id)
               .where(Household.community_id == community_id, Household.deleted.is_(False),
                      Ticket.deleted.is_(False),
                      Ticket.rating.is_not(None), Ticket.resolved_at >= since, Ticket.resolved_at < until))
    both = sa.union_all(visits, tickets).subquery("scores")
    rows = session.execute(sa.select(both.c.week, sa.func.avg(both.c.visit), sa.func.avg(both.c.ticket))
                           .group_by(both.c.week).order_by(both.c.week)).all()
    return Table("satisfaction_over_time", "满意度趋势（按周）", "Satisfaction by week", (
        Column("week", "周（周一）", "Week (Monday)", "date"),
        Column("visit_satisfaction", "走访满意度（1–5）", "Visit satisfaction (1–5)", "number"),
        Column("ticket_rating", "报事评价（1–5）", "Request rating (1–5)", "number"),
    ), tuple((_date(week), _number(v), _number(t)) for week, v, t in rows), chart="line")


def products(session, q: _Sql, community_id: str, since: datetime, until: datetime) -> Table:
    """Per catalogue product: visits in the range that recorded interest in it, and the orders
    (not cancelled) placed in the range with their quantity."""
    interest = (sa.select(Product.id.label("code"), sa.func.count(Visit.id).label("visits"))
                .join(Visit, q.json_contains(Visit.products_interest, Product.id))
                .where(_visits_of(q, community_id), Visit.deleted.is_(False),
                       Visit.visited_at >= since, Visit.visited_at < until)
                .group_by(Product.id).subquery("interest"))
    orders = (sa.select(Order.product_code.label("code"), sa.func.count().label("orders"),
                        sa.func.sum(Order.quantity).label("quantity"))
              .join(Household, Household.id == Order.household_id)
              .where(Household.community_id == community_id, Household.deleted.is_(False),
                     Order.deleted.is_(False),
                     Order.status != "cancelled", Order.created_at >= since, Order.created_at < until)
              .group_by(Order.product_code).subquery("orders"))
    rows = session.execute(
        sa.select(Product.id, Product.name, Product.name_en, sa.func.coalesce(interest.c.visits, 0),
                  sa.func.coalesce(orders.c.orders, 0), sa.func.coalesce(orders.c.quantity, 0))
        .outerjoin(interest, interest.c.code == Product.id).outerjoin(orders, orders.c.code == Product.id)
        .where(Product.deleted.is_(False))
        .order_by(Product.category, Product.id)).all()
    return Table("products", "服务产品：意向与订单", "Service products: interest and orders", (
        Column("code", "编码", "Code"),
        Column("product", "产品", "Product"),
        Column("product_en", "产品（英文）", "Product (English)"),
        Column("interest", "走访意向次数", "Visits with interest", "int"),
        Column("orders", "订单数（未取消）", "Orders (not cancelled)", "int"),
        Column("quantity", "数量", "Quantity", "int"),
    ), tuple((c, name, name_en, int(i), int(o), int(n)) for c, name, name_en, i, o, n in rows))


# ---- small helpers -------------------------------------------------------------------------------------

def _big(n: int):
    """An integer constant typed BIGINT (PostgreSQL would take a bare one for INTEGER and overflow)."""
    return sa.literal(n, sa.BigInteger)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (in UTC) the day begins in the zone."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def _epoch_micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def _percent(part, whole) -> float | None:
    return round(100.0 * float(part or 0) / whole, 1) if whole else None


def _number(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _minutes(micros) -> float | None:
    return None if micros is None else round(float(micros) / MICROS_PER_MINUTE, 1)


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    return date.fromisoformat(str(value))


def _natural(text) -> tuple:
    """"2栋" before "10栋": digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text or "") if part)

