"""The console's orders and 回访 pages in real Chromium, on a 1280×800 screen: a supervisor filters the
community's orders, confirms one and then delivers it from the page, downloads the list as CSV; on the
follow-up page sees the task a 2★ rating opened and records the call's outcome."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.notify.models import Notification, Recipient
from server.products.models import Order
from server.tickets.models import FollowUp
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_order, make_ticket, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def estate(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    grid = make_grid(community, butler, name="一号网格")
    h1 = make_household(community, grid, building="1", unit="1", room="301")
    h2 = make_household(community, grid, building="2", unit="1", room="1203")
    resident = make_user("resident", name="陈阿姨", community_id=community.id, household_id=h1.id)
    return {"community": community, "butler": butler, "resident": resident, "h1": h1, "h2": h2}


@pytest.fixture
def desk(chromium, served, estate):
    """A supervisor's console at 1280×800, logged in through the form."""
    context = chromium.new_context(base_url=served.url, viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                   accept_downloads=True)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    yield page
    context.close()


def fits_the_screen(page) -> bool:
    """Nothing wider than the window: no sideways scrolling at 1280 px."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_supervisor_filters_orders_moves_one_two_steps_and_downloads_the_csv(desk, estate, session):
    water = make_order(estate["h1"], note="放门口")
    cleaning = make_order(estate["h2"], product_code="cleaning", status="delivered")

    desk.click("[data-testid=nav-orders]")
    desk.wait_for_url("**/console/orders")
    assert desk.locator("[data-testid=order-row]").count() == 2
    assert fits_the_screen(desk)

    desk.select_option("[data-testid=orders-status]", "placed")
    desk.locator("[data-testid=orders-filter] button[type=submit]").click()
    desk.wait_for_url("**status=placed**")
    rows = desk.locator("[data-testid=order-row]")
    assert rows.count() == 1 and rows.first.get_attribute("data-id") == water.id
    assert "桶装水" in rows.first.inner_text() and "放门口" in rows.first.inner_text()

    desk.select_option("[data-testid=orders-status]", "")
    desk.select_option("[data-testid=orders-building]", "2")
    desk.locator("[data-testid=orders-filter] button[type=submit]").click()
    desk.wait_for_url("**building=2**")
    rows = desk.locator("[data-testid=order-row]")
    assert rows.count() == 1 and rows.first.get_attribute("data-id") == cleaning.id
    # Delivered: a refund is the only step left.
    assert rows.first.locator("select[name=status] option").all_inner_texts() == ["—", "已退款"]

    desk.select_option("[data-testid=orders-building]", "")
    desk.select_option("[data-testid=orders-product]", "water")
    desk.locator("[data-testid=orders-filter] button[type=submit]").click()
    desk.wait_for_url("**product=water**")
    row = desk.locator(f"[data-testid=order-row][data-id='{water.id}']")
    row.locator("select[name=status]").select_option("confirmed")
    row.locator("button[type=submit]").click()
    desk.wait_for_selector(f"[data-testid=order-row][data-id='{water.id}'][data-status=confirmed]")
    assert "订单已更新为“已确认”，住户会收到通知。" in desk.locator("main").inner_text()

    row = desk.locator(f"[data-testid=order-row][data-id='{water.id}']")
    assert sorted(row.locator("select[name=status] option").all_inner_texts()) == sorted(["—", "已送达", "已取消"])
    row.locator("select[name=status]").select_option("delivered")
    row.locator("button[type=submit]").click()
    desk.wait_for_selector(f"[data-testid=order-row][data-id='{water.id}'][data-status=delivered]")
    assert desk.locator(f"[data-testid=order-row][data-id='{water.id}'] [data-testid=order-status]").inner_text() == "已送达"
    session.commit()  # a fresh read: the test's transaction saw the database before the clicks
    moved = session.get(Order, water.id)
    assert moved.status == "delivered" and moved.confirmed_at and moved.delivered_at
    told = session.scalars(sa.select(Recipient.user_id).join(Notification).where(
        Notification.ticket_id == water.id, Notification.event == "order.updated")).all()
    assert sorted(told) == sorted([estate["resident"].id, estate["butler"].id] * 2)  # each step, to both

    desk.goto("/console/orders")
    with desk.expect_download() as download:
        desk.click("[data-testid=orders-csv]")
    data = download.value.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0][:4] == ["下单时间", "状态", "产品", "数量"]
    assert sorted(line[1] for line in lines[1:]) == ["已送达", "已送达"]
    water_line = next(line for line in lines[1:] if line[2] == "桶装水")
    assert water_line[3] == "2" and water_line[4] == "1-1-301" and water_line[5] == "放门口" and water_line[8]


def test_a_supervisor_sees_a_follow_up_task_and_records_the_call(desk, estate, session):
    ticket = make_ticket(estate["h1"], status="closed", assignee_id=estate["butler"].id, description="门锁坏了",
                         rating=2)
    task = FollowUp(ticket_id=ticket.id, community_id=estate["community"].id, rating=2)
    db.session.add(task)
    db.session.commit()

    desk.click("[data-testid=nav-follow_ups]")
    desk.wait_for_url("**/console/follow-ups")
    assert fits_the_screen(desk)
    row = desk.locator(f"[data-testid=fu-row][data-id='{task.id}']")
    assert row.get_attribute("data-status") == "open"
    assert "门锁坏了" in row.inner_text() and "2★" in row.inner_text() and "1-1-301" in row.inner_text()
    assert row.locator("[data-testid=fu-state]").inner_text().strip() == "待回访"

    row.locator("[data-testid=fu-called-box]").check()
    row.locator("[data-testid=fu-note]").fill("已电话道歉，明天上门换锁")
    row.locator("[data-testid=fu-done-box]").check()
    row.locator("[data-testid=fu-save]").click()
    desk.locator("text=回访记录已保存。").wait_for()
    assert desk.locator(f"[data-testid=fu-row][data-id='{task.id}']").count() == 0  # the open list: done, gone

    desk.select_option("[data-testid=fu-status]", "done")
    desk.locator("[data-testid=follow-ups-filter] button[type=submit]").click()
    desk.wait_for_url("**status=done**")
    row = desk.locator(f"[data-testid=fu-row][data-id='{task.id}']")
    assert row.get_attribute("data-status") == "done"
    state = row.locator("[data-testid=fu-state]").inner_text()
    assert "已完成" in state and "王主管" in state
    assert row.locator("[data-testid=fu-note]").input_value() == "已电话道歉，明天上门换锁"
    session.commit()  # a fresh read: the test's transaction saw the database before the clicks
    saved = session.get(FollowUp, task.id)
    assert saved.status == "done" and saved.called_at is not None and saved.note == "已电话道歉，明天上门换锁"
