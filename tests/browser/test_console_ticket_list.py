"""The console's ticket list in real Chromium at 1280 px: narrowed to the late ones, two ticked and given
to another butler in one go, and the list shows them with their new holder; nothing scrolls sideways."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.records import utcnow
from tests.factories import make_community, make_grid, make_household, make_ticket, make_user

pytestmark = pytest.mark.browser


def test_a_supervisor_narrows_the_list_to_late_tickets_and_reassigns_two_at_once(new_desk, session):
    community = make_community(name="翠湖花园")
    li = make_user("butler", name="李管家", community_id=community.id)
    make_user("butler", name="张管家", community_id=community.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    grid = make_grid(community, li, name="一号网格")
    homes = [make_household(community, grid, building="1栋", unit="1单元", room=f"30{i}") for i in range(1, 4)]
    hour_ago, now = utcnow() - timedelta(hours=1), utcnow()
    late = [make_ticket(home, status="dispatched", assignee_id=li.id, created_at=hour_ago, updated_at=hour_ago,
                        description="楼道灯不亮，晚上回家看不见台阶") for home in homes[:2]]
    fresh = make_ticket(homes[2], status="dispatched", assignee_id=li.id, created_at=now, updated_at=now)

    desk = new_desk("wang")
    desk.set_viewport_size({"width": 1280, "height": 800})
    desk.click("[data-testid=nav-tickets]")
    expect(desk.locator("[data-testid=ticket-row]")).to_have_count(3)
    desk.check("[data-testid=tickets-overdue]")
    desk.click("[data-testid=tickets-filter] button[type=submit]")
    rows = desk.locator("[data-testid=ticket-row]")
    expect(rows).to_have_count(2)
    expect(desk.locator("[data-testid=tickets-total]")).to_have_text("共 2 张工单")
    expect(rows.first.locator("[data-testid=ticket-due]")).to_contain_text("超时")
    expect(rows.first.locator("[data-testid=ticket-preview]")).to_have_text("楼道灯不亮，晚上回家看不见台阶")
    for ticket in late:
        desk.check(f"[data-testid=ticket-row][data-id='{ticket.id}'] [data-testid=ticket-pick]")
    desk.select_option("[data-testid=tickets-bulk-assignee]", label="张管家")
    desk.click("[data-testid=tickets-bulk-submit]")
    expect(desk.locator("[data-testid=done]")).to_have_text("2 张工单已改派给张管家。")
    expect(desk.locator("[data-testid=tickets-overdue]")).to_be_checked()  # the same filters
    expect(desk.locator("[data-testid=ticket-assignee]")).to_have_text(["张管家", "张管家"])
    assert desk.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    desk.click(f"[data-testid=ticket-row][data-id='{late[0].id}'] [data-testid=ticket-open]")
    desk.wait_for_url(f"**/console/tickets/{late[0].id}*")
    expect(desk.locator("[data-testid=ticket-actions]")).to_be_visible()
    assert fresh.assignee_id == li.id
