"""The supervisors' dashboard figures (server/console/figures.py) against the same numbers computed
here independently: plain Python over every row (or plain SQL), on the demo community 翠湖花园 plus a
few records that must not count (another community, deleted rows, a visit after today) and a few
edge cases (a room that is not all digits, a ticket accepted exactly at its service level).

Each test seeds the demo into its own database (SQLite and PostgreSQL), about a second or two.
"""
from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.auth.models import User
from server.community.models import Community, Grid, Household
from server.console import figures
from server.demo import COMMUNITY_ID, seed
from server.products.models import Order, Product
from server.records import UTCDateTime
from server.tickets.models import STATUSES, Ticket
from server.tickets.sla import Sla
from server.visits.models import Visit
from server.syncing import bookkeeping
from tests.factories import make_community, make_grid, make_household, make_user, make_visit

TODAY = date(2026, 11, 27)
START, END = TODAY - timedelta(days=45), TODAY - timedelta(days=3)
SLA = Sla()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


SINCE, UNTIL = midnight(START), midnight(END + timedelta(days=1))


def in_range(moment: datetime | None) -> bool:
    return moment is not None and SINCE <= moment < UNTIL


@pytest.fixture
def demo(session):
    """The demo community, and records around it that the figures must count or leave out."""
    seed(session, today=TODAY)
    households = list(session.scalars(sa.select(Household).where(Household.community_id == COMMUNITY_ID)
                                      .order_by(Household.building, Household.unit, Household.room)))
    grid = session.get(Grid, households[0].grid_id)
    butler = session.get(User, grid.butler_id)
    now = midnight(TODAY) + timedelta(hours=10)

    # Another community's records count nowhere.
    other = Community(name="别的小区", city="杭州")
    session.add(other)
    session.flush()
    stranger = Household(community_id=other.id, building="1栋", unit="1单元", room="101")
    session.add(stranger)
    session.flush()
    session.add_all([
        Visit(household_id=stranger.id, butler_id=butler.id, visited_at=now - timedelta(days=5), satisfaction=1,
              products_interest=["water"]),
        Ticket(household_id=stranger.id, category="repair", status="closed", created_at=now - timedelta(days=10),
               accepted_at=now - timedelta(days=10), resolved_at=now - timedelta(days=9), rating=1,
               backoffice_rating=1, escalated="accept"),
        Order(household_id=stranger.id, product_code="water", quantity=9, created_at=now - timedelta(days=10)),
    ])
    # A room with no floor in its number: counted by grid and building, not in the heat map.
    session.add(Household(community_id=COMMUNITY_ID, grid_id=grid.id, building="1栋", unit="1单元", room="B1"))
    # A deleted household; the latest visit of another one deleted; a visit after today.
    households[1].deleted = True
    bookkeeping.changed(session, "household", households[1])
    latest = session.scalar(sa.select(Visit).where(Visit.household_id == households[2].id)
                            .order_by(Visit.visited_at.desc()).limit(1))
    if latest:
        latest.deleted = True
        bookkeeping.changed(session, "visit", latest)
    never = session.scalar(sa.select(Household).where(Household.community_id == COMMUNITY_ID,
                                                      ~Household.id.in_(sa.select(Visit.household_id))).limit(1))
    session.add(Visit(household_id=never.id, butler_id=butler.id, visited_at=now + timedelta(days=2),
                      satisfaction=5, products_interest=["water", "water"]))
    # A visit in range that names the same product twice counts once; a deleted one not at all.
    session.add(Visit(household_id=households[3].id, butler_id=butler.id, visited_at=now - timedelta(days=10),
                      satisfaction=3, products_interest=["cleaning", "cleaning", "repair"]))
    session.add(Visit(household_id=households[3].id, butler_id=butler.id, visited_at=now - timedelta(days=11),
                      satisfaction=1, products_interest=["custody"], deleted=True))
    # Tickets: some escalated, one deleted, one accepted and one resolved exactly at their service level.
    tickets = list(session.scalars(sa.select(Ticket).join(Household).where(Household.community_id == COMMUNITY_ID)
                                   .order_by(Ticket.id)))
    for ticket in tickets[::7]:
        ticket.escalated = "accept"
    tickets[5].deleted = True
    exact = next(t for t in tickets[6:] if t.resolved_at and in_range(t.created_at))
    exact.accepted_at = exact.created_at + SLA.accept
    exact.resolved_at = exact.created_at + SLA.resolve[exact.category]
    for ticket in {*tickets[::7], tickets[5], exact}:
        bookkeeping.changed(session, "ticket", ticket)
    # An order cancelled and one deleted: not counted.
    session.add_all([Order(household_id=households[4].id, product_code="repair", quantity=5, status="cancelled",
                           created_at=now - timedelta(days=10)),
                     Order(household_id=households[4].id, product_code="repair", quantity=7, deleted=True,
                           created_at=now - timedelta(days=10))])
    session.commit()
    return session


def dashboard(session) -> dict[str, figures.Table]:
    return figures.dashboard(session, community_id=COMMUNITY_ID, start=START, end=END, today=TODAY, sla=SLA)


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# ---- independent computations -------------------------------------------------------------------

def coverage_rows(session) -> list[dict]:
    """Every live household of the demo with its latest live visit before the end of today."""
    end_of_today = midnight(TODAY + timedelta(days=1))
    latest: dict[str, datetime] = {}
    for visit in session.scalars(sa.select(Visit).where(Visit.deleted.is_(False))):
        if visit.visited_at < end_of_today and visit.visited_at > latest.get(visit.household_id, midnight(date.min)):
            latest[visit.household_id] = visit.visited_at
    grids = {g.id: g for g in session.scalars(sa.select(Grid))}
    names = {u.id: u.name for u in session.scalars(sa.select(User))}
    rows = []
    for h in session.scalars(sa.select(Household).where(Household.community_id == COMMUNITY_ID,
                                                        Household.deleted.is_(False))):
        last = latest.get(h.id)
        grid = grids.get(h.grid_id)
        rows.append({"building": h.building, "unit": h.unit, "room": h.room,
                     "grid": grid.name if grid else None, "butler": names.get(grid.butler_id) if grid else None,
                     "last": last, "cycle": h.visit_cycle_days,
                     "covered": last is not None and last >= midnight(TODAY - timedelta(days=h.visit_cycle_days))})
    return rows


def grouped_coverage(rows, key) -> dict:
    totals: dict = defaultdict(lambda: [0, 0])
    for row in rows:
        k = key(row)
        if k is not None:
            totals[k][0] += 1
            totals[k][1] += row["covered"]
    return totals


def live_tickets(session) -> list[Ticket]:
    return list(session.scalars(sa.select(Ticket).join(Household).where(
        Household.community_id == COMMUNITY_ID, Household.deleted.is_(False), Ticket.deleted.is_(False))))


def ticket_times(tickets: list[Ticket]) -> tuple:
    accept = [t.accepted_at - t.created_at for t in tickets if t.accepted_at]
    resolve = [t.resolved_at - t.created_at for t in tickets if t.resolved_at]
    in_time = [t.resolved_at - t.created_at <= SLA.resolve[t.category] for t in tickets if t.resolved_at]
    minutes = timedelta(minutes=1)
    return (len(tickets),
            round(statistics.median(a / minutes for a in accept), 1) if accept else None,
            round(statistics.mean(r / minutes for r in resolve), 1) if resolve else None,
            percent(sum(a <= SLA.accept for a in accept), len(accept)),
            percent(sum(in_time), len(in_time)),
            sum(t.escalated is not None for t in tickets))


def approx(rows):
    return [tuple(pytest.approx(v, abs=0.051) if isinstance(v, float) else v for v in row) for row in rows]


# ---- the tests ------------------------------------------------------------------------------------

def test_visit_coverage_by_grid_building_and_floor_and_the_overdue_list(demo):
    tables = dashboard(demo)
    rows = coverage_rows(demo)

    by_grid = grouped_coverage(rows, lambda r: (r["grid"], r["butler"]))
    assert sorted(tables["coverage_by_grid"].rows) == sorted(
        (grid, butler, n, covered, percent(covered, n)) for (grid, butler), (n, covered) in by_grid.items())
    assert [r[0] for r in tables["coverage_by_grid"].rows] == ["1–2栋网格", "3–4栋网格", "5–6栋网格"]

    by_building = grouped_coverage(rows, lambda r: r["building"])
    assert list(tables["coverage_by_building"].rows) == [
        (b, n, covered, percent(covered, n)) for b, (n, covered) in sorted(by_building.items())]
    assert sum(r[1] for r in tables["coverage_by_building"].rows) == 600  # 600 − 1 deleted + "B1"

    def floor(r):
        return (r["building"], int(r["room"][:-2])) if r["room"].isdigit() and len(r["room"]) >= 3 else None

    by_floor = grouped_coverage(rows, floor)
    heatmap = tables["coverage_heatmap"]
    assert heatmap.chart == "heatmap" and len(heatmap.rows) == 6 * 25
    assert sorted(heatmap.rows) == sorted((b, f, percent(covered, n)) for (b, f), (n, covered) in by_floor.items())

    overdue = [(r["building"], r["unit"], r["room"], r["grid"], r["butler"],
                r["last"].date() if r["last"] else None,
                (TODAY - r["last"].date()).days - r["cycle"] if r["last"] else None)
               for r in rows if not r["covered"]]
    assert 0 < len(overdue) <= figures.OVERDUE_LIMIT
    table = tables["overdue_households"]
    assert table.chart == "none" and sorted(table.rows, key=repr) == sorted(overdue, key=repr)
    days = [r[-1] for r in table.rows]
    never = days.count(None)
    assert never > 0 and all(d is None for d in days[:never])
    assert days[never:] == sorted(days[never:], reverse=True) and min(days[never:]) >= 1
    # No personal data: the columns are the address, the grid, the butler and the dates.
    assert [c.key for c in table.columns] == ["building", "unit", "room", "grid", "butler", "last_visit",
                                              "days_overdue"]


def test_ticket_counts_and_times_by_category_and_butler(demo):
    tables = dashboard(demo)
    # Counted by plain SQL.
    counts = dict(demo.execute(sa.text(
        "SELECT t.status, COUNT(*) FROM ticket t JOIN household h ON h.id = t.household_id "
        "WHERE h.community_id = :c AND h.deleted = :no AND t.deleted = :no AND t.created_at >= :since AND t.created_at < :until "
        "GROUP BY t.status").bindparams(sa.bindparam("since", type_=UTCDateTime),
                                        sa.bindparam("until", type_=UTCDateTime)),
        {"c": COMMUNITY_ID, "no": False, "since": SINCE, "until": UNTIL}).all())
    assert tables["tickets_by_status"].rows == tuple((s, counts.get(s, 0)) for s in STATUSES)

    tickets = [t for t in live_tickets(demo) if in_range(t.created_at)]
    by_category = defaultdict(list)
    for t in tickets:
        by_category[t.category].append(t)
    assert approx(sorted(tables["ticket_times_by_category"].rows)) == sorted(
        (category, *ticket_times(group)) for category, group in by_category.items())
    assert sum(r[-1] for r in tables["ticket_times_by_category"].rows) > 0  # escalations are counted

    names = {u.id: u.name for u in demo.scalars(sa.select(User))}
    by_butler = defaultdict(list)
    for t in tickets:
        by_butler[names.get(t.assignee_id)].append(t)
    assert approx(sorted(tables["ticket_times_by_butler"].rows, key=repr)) == sorted(
        ((name, *ticket_times(group)) for name, group in by_butler.items()), key=repr)

    ratings = defaultdict(list)
    for t in live_tickets(demo):
        if t.backoffice_rating is not None and in_range(t.resolved_at):
            ratings[t.category].append(t.backoffice_rating)
    assert approx(sorted(tables["backoffice_by_category"].rows)) == sorted(
        (c, len(r), round(statistics.mean(r), 2)) for c, r in ratings.items())


def test_the_sla_shares_count_a_ticket_done_exactly_on_time_as_in_time(session):
    """One repair accepted at 15:00 minutes and resolved at 24 h, one a microsecond late for both."""
    seed(session, today=TODAY)
    session.execute(sa.update(Ticket).values(deleted=True))
    household = session.scalar(sa.select(Household).where(Household.community_id == COMMUNITY_ID).limit(1))
    created = midnight(END) + timedelta(hours=1, microseconds=123_456)
    late = timedelta(microseconds=1)
    for extra in (timedelta(0), late):
        session.add(Ticket(household_id=household.id, category="repair", status="resolved", created_at=created,
                           accepted_at=created + SLA.accept + extra,
                           resolved_at=created + SLA.resolve["repair"] + extra))
    session.commit()
    (row,) = dashboard(session)["ticket_times_by_category"].rows
    assert row == ("repair", 2, 15.0, 24 * 60.0, 50.0, 50.0, 0)


def test_satisfaction_by_week_and_products(demo):
    tables = dashboard(demo)
    visits = [v for v in demo.scalars(sa.select(Visit).join(Household).where(
        Household.community_id == COMMUNITY_ID, Household.deleted.is_(False), Visit.deleted.is_(False))) if in_range(v.visited_at)]

    def week(moment: datetime) -> date:
        day = moment.astimezone(timezone.utc).date()
        return day - timedelta(days=day.weekday())

    scores, ratings = defaultdict(list), defaultdict(list)
    for v in visits:
        if v.satisfaction is not None:
            scores[week(v.visited_at)].append(v.satisfaction)
    for t in live_tickets(demo):
        if t.rating is not None and in_range(t.resolved_at):
            ratings[week(t.resolved_at)].append(t.rating)
    table = tables["satisfaction_over_time"]
    assert table.chart == "line"
    assert approx(table.rows) == [
        (w, round(statistics.mean(scores[w]), 2) if w in scores else None,
         round(statistics.mean(ratings[w]), 2) if w in ratings else None)
        for w in sorted(set(scores) | set(ratings))]
    assert all(w.weekday() == 0 for w, *_ in table.rows)

    interest = Counter(code for v in visits for code in set(v.products_interest))
    orders, quantity = Counter(), Counter()
    for o in demo.scalars(sa.select(Order).join(Household).where(Household.community_id == COMMUNITY_ID, Household.deleted.is_(False),
                                                                 Order.deleted.is_(False))):
        if o.status != "cancelled" and in_range(o.created_at):
            orders[o.product_code] += 1
            quantity[o.product_code] += o.quantity
    catalogue = demo.scalars(sa.select(Product).where(Product.deleted.is_(False))).all()
    assert sorted(tables["products"].rows) == sorted(
        (p.id, p.name, p.name_en, interest[p.id], orders[p.id], quantity[p.id]) for p in catalogue)
    assert sum(r[3] for r in tables["products"].rows) > 0 and sum(r[4] for r in tables["products"].rows) > 0


def test_every_table_exports_as_csv_for_excel(demo):
    tables = dashboard(demo)
    assert list(tables) == ["coverage_by_grid", "coverage_by_building", "coverage_heatmap", "overdue_households",
                            "overdue_custody", "tickets_by_status", "ticket_times_by_category", "ticket_times_by_butler",
                            "satisfaction_over_time", "backoffice_by_category", "team_scorecard", "products"]
    for name, table in tables.items():
        assert table.name == name and all(c.kind in figures.KINDS for c in table.columns)
        assert all(len(row) == len(table.columns) for row in table.rows), name
        for language, header in (("zh-CN", [c.zh for c in table.columns]), ("en", [c.en for c in table.columns])):
            text = figures.to_csv(table, language)
            assert text.startswith("\ufeff")
            parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
            assert parsed[0] == header and len(parsed) == len(table.rows) + 1
    overdue = list(csv.reader(io.StringIO(figures.to_csv(tables["overdue_households"], "en")[1:])))
    first_dated = next(r for r in overdue[1:] if r[5])
    assert date.fromisoformat(first_dated[5]) < TODAY and int(first_dated[6]) >= 1


# ---- the community's time zone --------------------------------------------------------------------

def test_days_and_weeks_are_the_community_s_own(session):
    """A visit at 20:30 UTC on Sunday 22 November is Monday 23 November, 04:30, in Shanghai: in a
    Shanghai range that starts on the 23rd it counts, in its week of the 23rd; in UTC it does not."""
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    make_visit(household, butler, visited_at=datetime(2026, 11, 22, 20, 30, tzinfo=timezone.utc), satisfaction=4)
    session.commit()

    def weeks(tz):
        tables = figures.dashboard(session, community_id=community.id, start=date(2026, 11, 23),
                                   end=date(2026, 11, 27), today=date(2026, 11, 27), sla=SLA, tz=tz)
        return [(week, visit) for week, visit, _ in tables["satisfaction_over_time"].rows]

    assert weeks("Asia/Shanghai") == [(date(2026, 11, 23), 4.0)]
    assert weeks("UTC") == []
