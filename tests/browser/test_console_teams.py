"""The console's 班组 page in real Chromium: a supervisor creates a team and a technician account in
it, reads the one-time initial password off the page, and the technician logs in with it on the
phone, sets their own, and sees their tabs and the team's pool."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import set_own_password
from tests.factories import make_community, make_grid, make_household, make_ticket, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="5栋", unit="1单元", room="302")
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    return {"community": community, "household": household}


def test_a_supervisor_makes_a_team_and_a_technician_who_logs_in_on_the_phone(new_desk, phone, community, session):
    desk = new_desk("wang")
    desk.click("[data-testid=nav-teams]")
    form = desk.locator("[data-testid=create-team] form")
    form.locator("input[name=name]").fill("工程部")
    form.locator("select[name=kind]").select_option("engineering")
    form.locator("button[type=submit]").click()
    expect(desk.locator("[data-testid=done]")).to_contain_text("已新建班组“工程部”")
    team_id = desk.locator("[data-testid=team][data-name=工程部]").get_attribute("data-id")

    form = desk.locator("[data-testid=create-technician] form")
    form.locator("select[name=team_id]").select_option(team_id)
    form.locator("input[name=username]").fill("zhou")
    form.locator("input[name=name]").fill("周师傅")
    form.locator("button[type=submit]").click()
    expect(desk.locator("[data-testid=technician-created]")).to_contain_text("周师傅")
    password = desk.locator("[data-testid=initial-password]").inner_text().strip()
    assert len(password) >= 8
    expect(desk.locator(f"[data-testid=team][data-id='{team_id}'] [data-testid=member]")).to_have_count(1)
    assert "周师傅" in desk.locator(f"[data-testid=team][data-id='{team_id}']").inner_text()

    # A job waits in the new team's pool; the technician sees it after logging in.
    make_ticket(community["household"], status="dispatched", team_id=team_id, description="楼道灯不亮",
                address="5栋-1单元-302")
    phone.goto("/")
    phone.fill("input[name=username]", "zhou")
    phone.fill("input[name=password]", password)
    phone.click("button[type=submit]")
    set_own_password(phone, password, "zhou's own password")  # the supervisor saw the one-time one
    phone.wait_for_function("window.guanjia.store.meta.lastSync")
    expect(phone.locator("#nav a")).to_have_text(["我的工单", "抢单", "同步"])
    phone.click("#nav a:has-text('抢单')")
    expect(phone.locator("[data-testid=ticket-row]")).to_have_count(1)
    expect(phone.locator("[data-testid=ticket-row]")).to_contain_text("5栋-1单元-302")

    # Back at the desk, the password is not shown again.
    desk.click("[data-testid=nav-teams]")
    expect(desk.locator("[data-testid=technician]")).to_contain_text(["周师傅"])
    assert password not in desk.content()
