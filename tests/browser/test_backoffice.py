"""A technician of the back office on the same PWA (real Chromium, real server): their tabs, a job
taken from the team's pool, and a job finished with a note while offline that reaches the server."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.tickets.models import Ticket
from tests.browser.conftest import log_in, synced, wait_until_controlled, work_requests
from tests.factories import (PASSWORD, make_community, make_grid, make_household, make_team, make_technician,
                             make_ticket, make_user)

pytestmark = pytest.mark.browser


@pytest.fixture
def job(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="5栋", unit="1单元", room="302")
    team = make_team(community, "engineering", name="工程部")
    tech = make_technician(team, username="zhou", name="周师傅")
    mine = make_ticket(household, status="accepted", assignee_id=tech.id, team_id=team.id,
                       description="厨房水管漏水", address="5栋-1单元-302")
    pooled = make_ticket(household, status="dispatched", team_id=team.id, description="楼道灯不亮",
                         address="5栋-1单元-302")
    return {"tech": tech, "mine": mine, "pooled": pooled}


def test_a_technician_finishes_a_job_offline_and_the_server_has_it_resolved_with_the_note(phone, served, job,
                                                                                           session):
    log_in(phone, "zhou", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    nav = phone.locator("#nav a")
    expect(nav).to_have_text(["我的工单", "抢单", "同步"])
    expect(phone.locator("[data-testid=jobs-mine] [data-testid=ticket-row]")).to_have_count(1)
    expect(phone.locator("[data-testid=jobs-mine]")).to_contain_text("5栋-1单元-302")

    phone.context.set_offline(True)
    served.requests.clear()
    phone.click(f"[data-testid=ticket-row][data-id='{job['mine'].id}']")
    expect(phone.locator("[data-testid=ticket-address]")).to_have_text("5栋-1单元-302")
    phone.click("[data-testid=ticket-start]")
    expect(phone.locator("[data-testid=ticket-status]")).to_have_text("处理中")
    phone.fill("[data-testid=ticket-note]", "更换了厨房水管接头")
    phone.click("[data-testid=ticket-resolve]")
    expect(phone.locator("[data-testid=ticket-pending]")).to_be_visible()
    phone.wait_for_function("window.guanjia.store.unsentCount() === 2")  # start, and finish with the note
    assert work_requests(served.requests) == []

    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    session.rollback()  # a fresh snapshot: the server wrote from its own connections
    ticket = session.get(Ticket, job["mine"].id)
    assert (ticket.status, ticket.resolution_note) == ("resolved", "更换了厨房水管接头")
    assert ticket.resolved_at is not None


def test_a_technician_grabs_a_job_from_the_pool(phone, served, job, session):
    log_in(phone, "zhou", PASSWORD)
    synced(phone)
    phone.click("#nav a:has-text('抢单')")
    row = phone.locator(f"[data-testid=jobs-pool] [data-testid=ticket-row][data-id='{job['pooled'].id}']")
    expect(row).to_be_visible()
    row.click()
    phone.click("[data-testid=ticket-grab]")
    synced(phone)
    session.rollback()
    ticket = session.get(Ticket, job["pooled"].id)
    assert (ticket.status, ticket.assignee_id) == ("accepted", job["tech"].id)
    assert ticket.handoffs[-1]["kind"] == "grabbed"
