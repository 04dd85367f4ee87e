"""The supervisors' dashboard on the demo data in real Chromium: `supervisor1` logs in through
the form, and the figures the page shows equal the same figures computed here with plain SQL on the
same database (not through server/console/figures.py); a CSV export, downloaded through the page's
link, parses and holds the rows of the table beside it; a resident is refused (a butler: test_console.py).

The demo is seeded as of the real today, because the dashboard's coverage is "as of today".
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server import demo
from server.community.models import DEFAULT_TIMEZONE
from server.i18n import TICKET_STATES
from server.records import UTCDateTime

pytestmark = pytest.mark.browser

ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # the demo community's: the console counts its days
CATEGORY_ZH = {"repair": "报修", "complaint": "投诉", "cleaning": "保洁", "water": "桶装水",
               "custody": "房屋托管", "other": "其他"}


def midnight(day: date) -> datetime:
    """The instant the demo community's day begins."""
    return datetime.combine(day, time.min, tzinfo=ZONE).astimezone(timezone.utc)


@dataclass(frozen=True)
class Period:
    """The range the test asks the dashboard for, from the day the test seeds the demo as today."""
    today: date

    @property
    def start(self) -> date:
        return self.today - timedelta(days=45)

    @property
    def end(self) -> date:
        return self.today - timedelta(days=3)

    @property
    def bounds(self) -> dict[str, datetime]:
        return {"since": midnight(self.start), "until": midnight(self.end + timedelta(days=1))}


@pytest.fixture
def period() -> Period:
    # Taken when the test runs, not at import: a run may cross the community's midnight in between.
    return Period(datetime.now(ZONE).date())  # what the console's views take as today


@pytest.fixture
def seeded(session, period):
    assert demo.seed(session, today=period.today)
    session.commit()
    return session


@pytest.fixture
def desk(chromium, live_server):
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900},
                                   locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str):
    """Through the console's form; returns the response to the form's POST."""
    page.goto("/console/")
    page.wait_for_url("**/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/console/login")) as posted:
        page.click("button[type=submit]")
    return posted.value


def section(page, name: str):
    return page.locator(f"[data-testid=section][data-name={name}]")


def html_table(page, name: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of a section's table, as the page shows them."""
    return section(page, name).locator("table[data-testid=table]").evaluate(
        """t => [[...t.tHead.rows[0].cells].map(c => c.textContent.trim()),
                 [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim()))]""")


def rows_by_first(rows: list[list[str]]) -> dict[str, list[str]]:
    keyed = {row[0]: row[1:] for row in rows}
    assert len(keyed) == len(rows), rows
    return keyed


def percent(part: int, whole: int) -> str:
    return f"{round(100.0 * part / whole, 1):.1f}%" if whole else "—"


# ---- the same figures with plain SQL --------------------------------------------------------------

def sql(session, text: str, **params):
    """Plain SQL with the range bound as UTC datetimes (stored alike on SQLite and PostgreSQL)."""
    statement = sa.text(text).bindparams(
        *[sa.bindparam(name, type_=UTCDateTime()) for name in params if isinstance(params[name], datetime)])
    return session.execute(statement, {"community": demo.COMMUNITY_ID, "no": False, **params}).all()


def coverage_sql(session, today: date) -> tuple[dict, dict]:
    """By grid: (butler, households, covered); by building: (households, covered). A household is
    covered when its latest visit up to today is no older than its visit_cycle_days (from today's start)."""
    statement = sa.text("""
        SELECT g.name AS grid, u.name AS butler, h.building AS building, h.visit_cycle_days AS cycle,
               MAX(v.visited_at) AS last_visit
        FROM household h
        LEFT JOIN grid g ON g.id = h.grid_id
        LEFT JOIN user_account u ON u.id = g.butler_id
        LEFT JOIN visit v ON v.household_id = h.id AND v.deleted = :no AND v.visited_at < :end_of_today
        WHERE h.community_id = :community AND h.deleted = :no
        GROUP BY h.id, g.name, u.name, h.building, h.visit_cycle_days
    """).bindparams(sa.bindparam("end_of_today", type_=UTCDateTime())).columns(
        grid=sa.String, butler=sa.String, building=sa.String, cycle=sa.Integer, last_visit=UTCDateTime())
    rows = session.execute(statement, {"community": demo.COMMUNITY_ID, "no": False,
                                       "end_of_today": midnight(today + timedelta(days=1))}).all()
    assert len(rows) == 600
    grids, buildings = defaultdict(lambda: [None, 0, 0]), defaultdict(lambda: [0, 0])
    for grid, butler, building, cycle, last in rows:
        covered = last is not None and last >= midnight(today) - timedelta(days=cycle)
        grids[grid][0] = butler
        grids[grid][1] += 1
        grids[grid][2] += covered
        buildings[building][0] += 1
        buildings[building][1] += covered
    return dict(grids), dict(buildings)


def tickets_by_status_sql(session, period: Period) -> Counter:
    return Counter(dict(sql(session, """
        SELECT t.status, COUNT(*) FROM ticket t JOIN household h ON h.id = t.household_id
        WHERE h.community_id = :community AND h.deleted = :no AND t.deleted = :no
          AND t.created_at >= :since AND t.created_at < :until
        GROUP BY t.status""", **period.bounds)))


def backoffice_sql(session, period: Period) -> dict[str, tuple[int, float]]:
    return {category: (n, float(total) / n) for category, n, total in sql(session, """
        SELECT t.category, COUNT(*), SUM(t.backoffice_rating) FROM ticket t
        JOIN household h ON h.id = t.household_id
        WHERE h.community_id = :community AND h.deleted = :no AND t.deleted = :no
          AND t.backoffice_rating IS NOT NULL AND t.resolved_at >= :since AND t.resolved_at < :until
        GROUP BY t.category""", **period.bounds)}


def products_sql(session, period: Period) -> dict[str, tuple[str, int, int, int]]:
    """By product code: (name, visits in range with interest in it, orders not cancelled, quantity)."""
    products = dict(sql(session, "SELECT code, name FROM product WHERE deleted = :no"))
    orders = {code: (n, int(quantity)) for code, n, quantity in sql(session, """
        SELECT o.product_code, COUNT(*), SUM(o.quantity) FROM "order" o
        JOIN household h ON h.id = o.household_id
        WHERE h.community_id = :community AND h.deleted = :no AND o.deleted = :no
          AND o.status <> 'cancelled' AND o.created_at >= :since AND o.created_at < :until
        GROUP BY o.product_code""", **period.bounds)}
    interest = Counter()
    for (wanted,) in sql(session, """
        SELECT v.products_interest FROM visit v JOIN household h ON h.id = v.household_id
        WHERE h.community_id = :community AND h.deleted = :no AND v.deleted = :no
          AND v.visited_at >= :since AND v.visited_at < :until""", **period.bounds):
        interest.update(set(json.loads(wanted) if isinstance(wanted, str) else wanted))
    return {code: (name, interest[code], *orders.get(code, (0, 0))) for code, name in products.items()}


# ---- the tests ---------------------------------------------------------------------------------------

def test_the_dashboard_shows_the_figures_sql_finds_and_its_csv_parses(desk, seeded, period):
    response = log_in(desk, "supervisor1")
    assert response.status == 302
    desk.wait_for_url("**/console/")
    desk.goto(f"/console/?start={period.start.isoformat()}&end={period.end.isoformat()}")
    assert desk.locator("[data-testid=section]").count() == 12  # with the back office's scorecard and custody

    # Visit coverage by grid and by building (as of today).
    grids, buildings = coverage_sql(seeded, period.today)
    header, rows = html_table(desk, "coverage_by_grid")
    assert header == ["网格", "管家", "户数", "周期内已走访", "覆盖率 %"]
    assert rows_by_first(rows) == {grid: [butler, str(n), str(c), percent(c, n)]
                                   for grid, (butler, n, c) in grids.items()}
    assert sum(int(row[2]) for row in rows) == 600
    assert 0 < sum(int(row[3]) for row in rows) < 600  # the demo has both covered and overdue households
    _, rows = html_table(desk, "coverage_by_building")
    assert rows_by_first(rows) == {building: [str(n), str(c), percent(c, n)] for building, (n, c) in buildings.items()}

    # Requests raised in the range, by status: every status has a row, zero or not.
    _, rows = html_table(desk, "tickets_by_status")
    by_status = tickets_by_status_sql(seeded, period)
    assert sum(by_status.values()) > 0
    assert rows_by_first(rows) == {zh: [str(by_status[status])] for status, (zh, _en) in TICKET_STATES.items()}

    # The butlers' ratings of the back office, on requests resolved in the range.
    _, rows = html_table(desk, "backoffice_by_category")
    assert rows_by_first(rows) == {CATEGORY_ZH[category]: [str(n), f"{average:.2f}"]
                                   for category, (n, average) in backoffice_sql(seeded, period).items()}

    # Service products: interest recorded on visits in the range, and orders placed in it.
    _, rows = html_table(desk, "products")
    expected = products_sql(seeded, period)
    assert sum(orders for _name, _interest, orders, _quantity in expected.values()) > 0
    assert {row[0]: [row[1], *row[3:]] for row in rows} == {
        code: [name, str(interest), str(orders), str(quantity)]
        for code, (name, interest, orders, quantity) in expected.items()}

    # The CSV export of coverage by grid, through the page's link: UTF-8 with a BOM, the table's rows.
    link = section(desk, "coverage_by_grid").locator("[data-testid=csv]")
    assert f"start={period.start.isoformat()}" in link.get_attribute("href")
    with desk.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"coverage_by_grid_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, rows = html_table(desk, "coverage_by_grid")
    assert parsed[0] == header
    # The page writes a percentage as "33.3%", the CSV as the bare number.
    assert [[*row[:4], f"{float(row[4]):.1f}%"] for row in parsed[1:]] == rows

    # And one fetched with the page's own cookies: requests by status, the same rows as the table.
    got = desk.request.get(section(desk, "tickets_by_status").locator("[data-testid=csv]").get_attribute("href"))
    assert got.status == 200 and got.headers["content-type"].startswith("text/csv")
    parsed = list(csv.reader(io.StringIO(got.body().decode("utf-8-sig"), newline="")))
    assert [parsed[0], parsed[1:]] == html_table(desk, "tickets_by_status")


def test_a_resident_is_refused_at_the_console(desk, seeded):
    response = log_in(desk, "resident1")
    assert response.status == 403
    assert "主管控制台仅供主管和管理员使用" in desk.locator("[data-testid=refused]").inner_text()
    desk.goto("/console/")  # no session was kept: back to the login form
    desk.wait_for_url("**/console/login")
