"""The resident's app in real Chromium, against a live server on SQLite and PostgreSQL: raising a request
with no signal, following and rating it, ordering a service, reading the community's notices."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.notices.models import Notice
from server.products.models import Order
from server.tickets.models import Ticket
from tests.browser.conftest import log_in, synced, work_requests
from tests.factories import (PASSWORD, _save, make_community, make_grid, make_household, make_ticket,
                             make_user)

pytestmark = pytest.mark.browser

NOW = datetime.now(timezone.utc)


@pytest.fixture
def estate(session):
    """Demo-like: one community, 李管家's grid with 刘女士's home and her neighbour's; a notice for the
    community, one for later and one of another community; tickets of both homes."""
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    grid = make_grid(community, butler)
    home = make_household(community, grid, building="1栋", unit="1单元", room="101")  # notes "内部备注"
    neighbour = make_household(community, grid, building="1栋", unit="1单元", room="102")
    resident = make_user("resident", username="liu", name="刘女士", community_id=community.id, household_id=home.id)
    resolved = make_ticket(home, status="resolved", assignee_id=butler.id, raised_by=resident.id,
                           description="卫生间下水道堵塞", resolution_note="已疏通下水道",
                           backoffice_rating=2, created_at=NOW - timedelta(days=3),
                           accepted_at=NOW - timedelta(days=3), resolved_at=NOW - timedelta(days=2))
    theirs = make_ticket(neighbour, status="dispatched", assignee_id=butler.id, description="邻居家的报修")
    elsewhere = make_community(name="别的小区")
    notices = {
        "water": _save(Notice(community_id=community.id, title="停水通知", body="明天上午 9:00 至下午 3:00 停水，请提前储水。",
                              published_at=NOW - timedelta(hours=2))),
        "pests": _save(Notice(community_id=community.id, title="秋季消杀安排", body="本月 20 日消杀。",
                              published_at=NOW - timedelta(days=5))),
        "later": _save(Notice(community_id=community.id, title="下周的公告", body="还没到发布时间。",
                              published_at=NOW + timedelta(days=7))),
        "other": _save(Notice(community_id=elsewhere.id, title="别的小区的公告", body="不是您小区的。",
                              published_at=NOW - timedelta(hours=1))),
    }
    return {"community": community, "butler": butler, "home": home, "neighbour": neighbour, "resident": resident,
            "resolved": resolved, "theirs": theirs, "notices": notices}


def open_tab(page, name: str) -> None:
    page.click(f"#nav a[href='#/{name}']")


def controlled(page) -> None:
    """The service worker controls the page, so the app opens with no network. (Not waiting for the
    network to go idle: the app keeps a long poll open for live news while online.)"""
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def fresh(session):
    session.rollback()  # a fresh snapshot: the server wrote from its own connections
    return session


def test_the_resident_gets_the_residents_tabs_and_home(phone, estate):
    log_in(phone, "liu", PASSWORD)
    expect(phone.locator("[data-testid=resident-home]")).to_be_visible()
    expect(phone.locator("#nav a")).to_have_text(["我的报修", "服务", "公告", "投票活动", "我的"])
    expect(phone.locator("[data-testid=my-address]")).to_have_text("1栋 1单元 101")
    expect(phone.locator("[data-testid=report-button]")).to_have_text("报事报修")
    phone.goto("/#/grid")  # a butler's screen leads a resident home
    expect(phone.locator("[data-testid=resident-home]")).to_be_visible()
    expect(phone.locator("#nav a.current")).to_have_text("我的报修")
    open_tab(phone, "sync")
    expect(phone.locator("[data-testid=sync-status]")).to_be_visible()
    expect(phone.locator("#nav a.current")).to_have_text("我的")


def test_a_request_raised_offline_reaches_the_server_once_and_the_butlers_tickets(phone, new_phone, served, estate,
                                                                                   session):
    log_in(phone, "liu", PASSWORD)
    controlled(phone)
    synced(phone)
    phone.context.set_offline(True)
    served.requests.clear()
    phone.click("[data-testid=report-button]")
    phone.click("[data-testid=report-submit]")  # no kind chosen: the screen asks for one
    missing = phone.locator("[data-testid=report-category-error]")
    expect(missing).to_have_text("请先选择是什么事。")
    expect(missing).to_be_in_viewport()  # where the choice is, not below the fold
    expect(phone.locator("[data-testid=report-category-box]")).to_have_class("card invalid")
    expect(phone.locator("[data-testid=report-category]").first).to_be_focused()
    phone.click("[data-testid=report-category][data-value=repair]")
    phone.fill("[data-testid=report-description]", "厨房水龙头一直滴水")
    phone.click("[data-testid=report-submit]")
    banner = phone.locator("[data-testid=confirmation]")
    expect(banner).to_contain_text("您的报修")
    expect(banner).to_contain_text("已保存，联网后自动提交")
    assert banner.inner_text().count("已保存") == 1  # said once, not twice
    tid = phone.locator("[data-testid=request]").get_attribute("data-id")
    expect(phone.locator("[data-testid=request] [data-testid=request-status]")).to_have_text("待受理")

    phone.reload()  # still offline: the app and the request come from the phone itself
    phone.wait_for_function("window.guanjia && window.guanjia.store.unsentCount() === 1")
    phone.goto("/#/mine")
    row = phone.locator(f"[data-testid=request-row][data-id='{tid}']")
    expect(row).to_contain_text("报修")
    expect(row).to_contain_text("待受理")
    expect(row).to_contain_text("已保存，联网后自动提交")
    assert phone.locator("[data-testid=request-row]").first.get_attribute("data-id") == tid  # newest first
    assert work_requests(served.requests) == []
    assert fresh(session).get(Ticket, tid) is None

    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    stored = fresh(session).get(Ticket, tid)
    assert (stored.household_id, stored.category, stored.description) == (estate["home"].id, "repair", "厨房水龙头一直滴水")
    assert (stored.status, stored.assignee_id, stored.raised_by) == ("dispatched", estate["butler"].id,
                                                                     estate["resident"].id)
    synced(phone)  # a second round sends nothing again
    count = sa.select(sa.func.count()).select_from(Ticket).where(Ticket.description == "厨房水龙头一直滴水")
    assert fresh(session).scalar(count) == 1
    expect(row).to_contain_text("已派单")
    row.click()
    expect(phone.locator("[data-testid=request-progress] li.current")).to_contain_text("已派单")
    expect(phone.locator("[data-testid=request-progress] li[data-step=new]")).to_have_attribute("data-state", "done")

    butler = new_phone()
    log_in(butler, "li", PASSWORD)
    butler.click("#nav a[href='#/tickets']")
    mine = butler.locator(f"[data-testid=tickets-new] [data-testid=ticket-row][data-id='{tid}']")
    expect(mine).to_contain_text("报修")
    expect(mine).to_contain_text("1栋 1单元 101")
    expect(mine).to_contain_text("派给我")


def test_an_urgent_request_is_marked_on_both_phones_and_comes_first_in_the_butlers_list(phone, new_phone, estate,
                                                                                        session):
    log_in(phone, "liu", PASSWORD)
    synced(phone)
    phone.click("[data-testid=report-button]")
    phone.click("[data-testid=report-category][data-value=repair]")
    phone.fill("[data-testid=report-description]", "楼上漏水，水流到邻居家")
    phone.check("[data-testid=report-urgent]")
    phone.click("[data-testid=report-submit]")
    tid = phone.locator("[data-testid=request]").get_attribute("data-id")
    synced(phone)
    assert fresh(session).get(Ticket, tid).priority == "urgent"
    phone.goto("/#/mine")
    expect(phone.locator(f"[data-testid=request-row][data-id='{tid}'] [data-testid=request-urgent]")).to_have_text("紧急")

    butler = new_phone()
    log_in(butler, "li", PASSWORD)
    butler.click("#nav a[href='#/tickets']")
    rows = butler.locator("[data-testid=tickets-new] [data-testid=ticket-row]")
    expect(rows.first).to_have_attribute("data-id", tid)  # before the neighbour's older, normal one
    expect(rows.first.locator("[data-testid=ticket-urgent]")).to_have_text("紧急")
    assert rows.nth(1).locator("[data-testid=ticket-urgent]").count() == 0


def test_the_resident_sees_only_their_own_households_requests_and_nothing_internal(phone, estate):
    log_in(phone, "liu", PASSWORD)
    rows = phone.locator("[data-testid=request-row]")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-id") == estate["resolved"].id
    held = phone.evaluate("window.guanjia.store.all('ticket').map(t => t.id)")
    assert held == [estate["resolved"].id]
    assert estate["theirs"].id not in phone.content()
    assert "邻居家的报修" not in phone.content()
    ticket = phone.evaluate("([id]) => window.guanjia.store.get('ticket', id)", [estate["resolved"].id])
    assert "backoffice_rating" not in ticket
    home = phone.evaluate("([id]) => window.guanjia.store.get('household', id)", [estate["home"].id])
    assert "notes" not in home and "tags" not in home
    assert phone.evaluate("window.guanjia.store.all('household').length") == 1
    rows.first.click()
    expect(phone.locator("[data-testid=request]")).to_be_visible()
    assert "内部备注" not in phone.content()


def test_a_resolved_request_is_rated_and_confirmed_done(phone, estate, session):
    tid = estate["resolved"].id
    log_in(phone, "liu", PASSWORD)
    phone.click(f"[data-testid=request-row][data-id='{tid}']")
    expect(phone.locator("[data-testid=request-resolution]")).to_contain_text("已疏通下水道")
    expect(phone.locator("[data-testid=request-progress] li.current")).to_contain_text("已解决")
    expect(phone.locator("[data-testid=request-cancel]")).to_have_count(0)  # taken: no longer cancellable
    phone.click("[data-testid=rating-submit]")  # no stars yet: the screen asks for them
    expect(phone.locator("[data-testid=request-rating] .error")).to_be_visible()
    phone.click("[data-testid=rating-star][data-rating='4']")
    phone.fill("[data-testid=rating-comment]", "师傅很耐心")
    phone.click("[data-testid=rating-submit]")
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("谢谢您的评价！")
    expect(phone.locator("[data-testid=my-rating]")).to_contain_text("4 星")
    synced(phone)
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("已提交成功")
    stored = fresh(session).get(Ticket, tid)
    assert (stored.rating, stored.rating_comment, stored.status) == (4, "师傅很耐心", "resolved")
    assert stored.backoffice_rating == 2  # the butler's rating of the back office is not the resident's

    phone.click("[data-testid=request-close]")
    phone.click("[data-testid=request-close-yes]")
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("已确认完成。")
    expect(phone.locator("[data-testid=request] [data-testid=request-status]")).to_have_text("已关闭")
    synced(phone)
    stored = fresh(session).get(Ticket, tid)
    assert stored.status == "closed" and stored.closed_at is not None
    assert phone.evaluate("window.guanjia.store.rejected()") == []


def test_a_new_request_is_cancelled_before_anyone_takes_it(phone, estate, session):
    log_in(phone, "liu", PASSWORD)
    phone.click("[data-testid=report-button]")
    phone.click("[data-testid=report-category][data-value=water]")
    phone.click("[data-testid=report-submit]")
    tid = phone.locator("[data-testid=request]").get_attribute("data-id")
    synced(phone)
    phone.click("[data-testid=request-cancel]")
    phone.click("[data-testid=request-cancel-no]")  # changed her mind: nothing happens
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 0
    phone.click("[data-testid=request-cancel]")
    phone.click("[data-testid=request-cancel-yes]")
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("报修已取消。")
    synced(phone)
    assert fresh(session).get(Ticket, tid).status == "cancelled"
    expect(phone.locator("[data-testid=request-progress] li.current")).to_contain_text("已取消")


def test_a_service_is_ordered_for_the_own_household(phone, estate, session):
    log_in(phone, "liu", PASSWORD)
    open_tab(phone, "services")
    expect(phone.locator("[data-testid=product]")).to_have_count(5)  # the catalogue the migrations stock
    water = phone.locator("[data-testid=product][data-value=water]")
    water.locator("[data-testid=product-book]").click()
    water.locator("[data-testid=order-more]").click()
    expect(water.locator("[data-testid=order-total]")).to_have_text("合计 ¥36.00")
    water.locator("[data-testid=order-note]").fill("下午在家")
    water.locator("[data-testid=order-place]").click()
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("已下单：桶装水 × 2。")
    synced(phone)
    expect(phone.locator("[data-testid=confirmation]")).to_contain_text("已提交成功")
    orders = fresh(session).scalars(sa.select(Order)).all()
    assert [(o.household_id, o.product_code, o.quantity, o.note, o.ordered_by, o.status) for o in orders] == [
        (estate["home"].id, "water", 2, "下午在家", estate["resident"].id, "placed")]
    row = phone.locator(f"[data-testid=my-order][data-id='{orders[0].id}']")
    expect(row).to_contain_text("桶装水 × 2")
    expect(row.locator("[data-testid=order-status]")).to_have_text("已下单")


def test_the_notices_screen_shows_the_communitys_notices_newest_first(phone, estate):
    notices = estate["notices"]
    log_in(phone, "liu", PASSWORD)
    expect(phone.locator("[data-testid=notice-teaser]")).to_contain_text("停水通知")
    open_tab(phone, "notices")
    rows = phone.locator("[data-testid=notice-row]")
    expect(rows).to_have_count(2)  # not the one for later, nor another community's
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.id)") == [notices["water"].id, notices["pests"].id]
    expect(rows.first).to_contain_text("未读")
    rows.first.click()
    expect(phone.locator("[data-testid=notice] h2")).to_have_text("停水通知")
    expect(phone.locator("[data-testid=notice]")).to_contain_text("明天上午 9:00 至下午 3:00 停水，请提前储水。")
    expect(phone.locator("#nav a.current")).to_have_text("公告")
    phone.click("text=‹ 返回公告")
    expect(rows.first).not_to_contain_text("未读")
    assert phone.evaluate("window.guanjia.store.all('notice').length") == 3  # the later one waits on the phone
    assert notices["other"].id not in phone.content()
