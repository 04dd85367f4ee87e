"""A butler checks in (签到) with no signal; back online it syncs, and the supervisor's attendance page
shows that day's time (real Chromium, real server)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
import sqlalchemy as sa

from server.attendance.models import Checkin
from tests.browser.conftest import log_in, synced, wait_until_controlled, work_requests
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_user

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "[data-testid=checkin-card]"


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")  # Asia/Shanghai, the default
    li = make_user("butler", username="li", name="李管家", community_id=community.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    make_household(community, make_grid(community, li), building="1栋", unit="1单元", room="301")
    return community


def test_a_check_in_made_offline_syncs_and_shows_on_the_supervisor_s_attendance_page(chromium, served, new_desk, community,
                                                                                         session):
    # The phone lives in the community's zone, as a butler's phone in Hangzhou does.
    phone_context = chromium.new_context(base_url=served.url, viewport={"width": 360, "height": 640}, locale="zh-CN",
                                         timezone_id="Asia/Shanghai", service_workers="allow")
    try:
        phone = phone_context.new_page()
        log_in(phone, "li", PASSWORD)
        wait_until_controlled(phone)
        synced(phone)
        phone.locator(f"{CARD} [data-testid=checkin-none]").wait_for()
        assert phone.locator(f"{CARD} [data-testid=checkin-none]").inner_text() == "今日尚未签到"

        phone_context.set_offline(True)
        served.requests.clear()
        phone.locator("[data-testid=checkin-in-button]").click()
        line = phone.locator(f"{CARD} [data-testid=checkin-in]")
        line.wait_for()
        assert re.fullmatch(r"\d\d:\d\d 已签到 · 待同步", line.inner_text()), line.inner_text()
        assert line.get_attribute("data-state") == "pending"
        assert phone.locator(CARD).get_attribute("data-next") == "out"
        # Done is said in words; the one button is the tap that comes next.
        expect(phone.locator("[data-testid=checkin-in-button]")).to_be_hidden()
        expect(phone.locator("[data-testid=checkin-out-button]")).to_be_visible()
        assert work_requests(served.requests) == []  # nothing left the phone
        session.rollback()
        assert session.scalar(sa.select(sa.func.count()).select_from(Checkin)) == 0

        phone_context.set_offline(False)
        synced(phone)
        phone.wait_for_function("document.querySelector('[data-testid=checkin-in]')?.dataset.state === 'synced'")
        shown = phone.locator(f"{CARD} [data-testid=checkin-in]").inner_text()
        assert re.fullmatch(r"\d\d:\d\d 已签到 · 已同步", shown), shown
        assert phone.evaluate("window.guanjia.store.rejected()") == []
    finally:
        phone_context.close()

    session.rollback()  # a fresh snapshot: the server wrote from its own connection
    (checkin,) = session.scalars(sa.select(Checkin)).all()
    local = checkin.at.astimezone(SHANGHAI)
    time_text = local.strftime("%H:%M")
    assert shown == f"{time_text} 已签到 · 已同步"

    desk = new_desk("wang")
    desk.click("[data-testid=nav-attendance]")
    desk.wait_for_url("**/console/attendance")
    assert desk.locator("h1").inner_text() == f"{local:%Y-%m} 考勤"
    row = desk.locator(f"[data-testid=attendance-row][data-id='{checkin.butler_id}']")
    cell = row.locator(f"[data-testid=day][data-day='{local.date().isoformat()}']")
    assert cell.get_attribute("data-state") in ("present", "late")
    assert cell.locator("[data-testid=first-in]").inner_text() == time_text
    assert row.locator("[data-testid=present]").inner_text() == "1"
