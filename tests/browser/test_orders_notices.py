"""Orders fulfilled and notices, in real Chromium against a live server on SQLite and PostgreSQL: the
butler confirms and delivers an order on the phone (360×640) and the resident sees the step; a notice
written in the console shows on the butler's 公告 tab."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.products.models import Order
from tests.browser.conftest import log_in, synced
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_order, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def estate(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    home = make_household(community, make_grid(community, butler), building="1", unit="1", room="101")
    resident = make_user("resident", username="liu", name="刘女士", community_id=community.id, household_id=home.id)
    supervisor = make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    order = make_order(home, product_code="water", quantity=2, ordered_by=resident.id, note="下午在家")
    return {"community": community, "butler": butler, "home": home, "resident": resident,
            "supervisor": supervisor, "order": order}


def test_the_butler_confirms_and_delivers_and_the_resident_sees_the_step(new_phone, estate, session):
    butler = new_phone()
    log_in(butler, "li", PASSWORD)
    butler.click("#nav a[href='#/orders']")
    card = butler.locator(f"[data-testid=butler-order][data-id='{estate['order'].id}']")
    expect(card).to_be_visible()
    expect(card.locator("[data-testid=order-status]")).to_have_text("已下单")
    card.locator("[data-testid=order-confirm]").click()
    synced(butler)
    card = butler.locator(f"[data-testid=butler-order][data-id='{estate['order'].id}']")
    expect(card.locator("[data-testid=order-status]")).to_have_text("已确认")

    resident = new_phone()
    log_in(resident, "liu", PASSWORD)
    resident.click("#nav a[href='#/services']")
    mine = resident.locator(f"[data-testid=my-order][data-id='{estate['order'].id}']")
    expect(mine.locator("[data-testid=order-status]")).to_have_text("已确认")
    expect(mine.locator("[data-testid=order-timeline] li[data-step=confirmed]")).to_have_attribute("data-state", "current")

    card.locator("[data-testid=order-deliver]").click()
    synced(butler)
    session.rollback()
    assert session.get(Order, estate["order"].id).status == "delivered"
    synced(resident)
    expect(mine.locator("[data-testid=order-status]")).to_have_text("已送达")
    expect(mine.locator("[data-testid=order-timeline] li[data-step=delivered]")).to_have_attribute("data-state", "current")
    assert butler.viewport_size == {"width": 360, "height": 640}


def test_a_notice_written_in_the_console_shows_on_the_butlers_notices_tab(new_phone, new_desk, estate):
    desk = new_desk("wang")
    desk.goto("/console/notices")
    desk.fill("[data-testid=notice-title]", "停水通知")
    desk.fill("[data-testid=notice-body]", "明天上午 9 点到 12 点停水，请提前储水。")
    desk.click("[data-testid=notice-submit]")
    expect(desk.locator("[data-testid=done]")).to_contain_text("停水通知")

    butler = new_phone()
    log_in(butler, "li", PASSWORD)
    butler.click("#nav a[href='#/notices']")
    row = butler.locator("[data-testid=notice-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("停水通知")
    row.click()
    expect(butler.locator("[data-testid=notice]")).to_contain_text("明天上午 9 点到 12 点停水")


def test_a_resident_says_not_fixed_with_one_star_and_the_ticket_goes_back_to_the_butler(phone, estate, session):
    from datetime import datetime, timedelta, timezone

    from server.tickets.models import Ticket
    from tests.factories import make_ticket

    now = datetime.now(timezone.utc)
    ticket = make_ticket(estate["home"], status="resolved", assignee_id=estate["butler"].id,
                         raised_by=estate["resident"].id, description="水龙头漏水", created_at=now - timedelta(days=2),
                         accepted_at=now - timedelta(days=2), resolved_at=now - timedelta(days=1))
    log_in(phone, "liu", PASSWORD)
    phone.click(f"[data-testid=request-row][data-id='{ticket.id}']")
    expect(phone.locator("[data-testid=rating-not-fixed]")).to_be_hidden()  # only with 1–2 stars
    phone.click("[data-testid=rating-star][data-rating='1']")
    phone.check("[data-testid=rating-not-fixed]")
    phone.click("[data-testid=rating-submit]")
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("工单已退回管家")
    synced(phone)
    session.rollback()
    stored = session.get(Ticket, ticket.id)
    assert (stored.status, stored.assignee_id, stored.rating, stored.not_fixed) == ("accepted", estate["butler"].id, 1, True)
    assert stored.reopened_at is not None
