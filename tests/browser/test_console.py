"""The supervisors' console in real Chromium: a supervisor logs in through the form; a butler is refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import PASSWORD, make_community, make_grid, make_household, make_ticket, make_user, make_visit

pytestmark = pytest.mark.browser


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    grid = make_grid(community, butler, name="一号网格")
    now = datetime.now(timezone.utc)
    for building, room, days in (("1栋", "301", 3), ("1栋", "402", 60), ("2栋", "1203", None)):
        household = make_household(community, grid, building=building, room=room, unit="1单元", visit_cycle_days=30)
        if days is not None:
            make_visit(household, butler, visited_at=now - timedelta(days=days), satisfaction=4)
    make_ticket(household, category="repair")
    return {"supervisor": supervisor, "butler": butler}


def log_in(page, username: str) -> None:
    page.goto("/console/")
    page.wait_for_url("**/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_supervisor_logs_in_and_sees_charts_and_tables(desk, community):
    log_in(desk, community["supervisor"].username)
    desk.wait_for_url("**/console/")
    assert desk.locator("[data-testid=who]").inner_text() == "王主管"
    assert desk.locator("[data-testid=section]").count() == 12  # with the back office's scorecard and overdue custody inspections
    grid = desk.locator("[data-testid=section][data-name=coverage_by_grid]")
    assert grid.locator("svg[data-testid=chart] rect").count() == 1
    assert grid.locator("svg[data-testid=chart] text.value").text_content() == "33.3%"  # coverage, drawn
    assert grid.locator("table tbody tr").first.inner_text().split("\t") == ["一号网格", "李管家", "3", "1", "33.3%"]
    heat = desk.locator("[data-testid=section][data-name=coverage_heatmap] svg rect")
    assert heat.count() == 3  # 1栋 3F and 4F, 2栋 12F
    assert desk.locator("svg[data-testid=chart]").count() >= 5
    assert desk.locator("[data-testid=section][data-name=overdue_households] svg").count() == 0  # chart "none"
    # The document's cookie is not readable by scripts (HttpOnly): the token never reaches the page.
    assert desk.evaluate("document.cookie") == ""

    with desk.expect_download() as download:
        grid.locator("[data-testid=csv]").click()
    assert download.value.suggested_filename.startswith("coverage_by_grid_")

    desk.click("[data-testid=switch-language]")
    desk.wait_for_function("document.documentElement.lang === 'en'")
    assert "Visit coverage by grid" in grid.locator("h2").inner_text()

    desk.click("[data-testid=logout]")
    desk.wait_for_url("**/console/login")
    desk.goto("/console/")
    desk.wait_for_url("**/console/login")


def test_a_butler_is_refused(desk, community):
    log_in(desk, community["butler"].username)
    refused = desk.locator("[data-testid=refused]")
    refused.wait_for()
    assert "主管控制台仅供主管和管理员使用" in refused.inner_text()
    assert desk.context.cookies() == [] or all(c["name"] != "session" or "console_token" not in c["value"]
                                               for c in desk.context.cookies())
    desk.goto("/console/")
    desk.wait_for_url("**/console/login")
