"""The butler's screens in real Chromium: the grid, the household file, the visit form, touchpoints."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
import sqlalchemy as sa

from server.community.models import Person
from server.visits.models import DEFAULT_CHECKLIST, Touchpoint, Visit
from tests.browser.conftest import log_in, synced, wait_until_controlled, work_requests
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_person, make_user, make_visit

pytestmark = pytest.mark.browser

ROWS = "[data-testid=household-row]"


@pytest.fixture
def grid(session):
    """Four households in two buildings: visited lately, overdue (with 王奶奶), never visited, visited lately."""
    community = make_community()
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    grid = make_grid(community, butler)
    now = datetime.now(timezone.utc)

    def household(building, unit, room, **overrides):
        return make_household(community, grid, building=building, unit=unit, room=room,
                              **{"tags": [], "notes": "", **overrides})

    recent = household("3栋", "1单元", "101")
    overdue = household("3栋", "1单元", "301", tags=["独居老人", "爱下棋"], visit_cycle_days=30)
    never = household("3栋", "2单元", "201")
    elsewhere = household("5栋", "1单元", "301")
    visits = {"recent": make_visit(recent, butler, visited_at=now - timedelta(days=10)),
              "overdue": make_visit(overdue, butler, visited_at=now - timedelta(days=45)),
              "elsewhere": make_visit(elsewhere, butler, visited_at=now - timedelta(days=3))}
    person = make_person(overdue, name="王奶奶", phone="13800138000", notes="")
    return {"butler": butler, "recent": recent, "overdue": overdue, "never": never, "elsewhere": elsewhere,
            "visits": visits, "person": person}


def open_grid(phone, count: int) -> None:
    log_in(phone, "li", PASSWORD)
    phone.wait_for_function(f"document.querySelectorAll('{ROWS}').length === {count}")


def row_ids(phone) -> list[str]:
    return phone.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.id)")


def local_day(moment: datetime) -> str:
    return moment.astimezone().date().isoformat()  # Chromium runs in this machine's time zone


def test_grid_lists_households_by_building_and_unit_with_their_last_visit(phone, grid):
    open_grid(phone, 4)
    groups = phone.locator("[data-testid=group]").all_inner_texts()
    assert groups == ["3栋 1单元", "3栋 2单元", "5栋 1单元"]
    assert row_ids(phone) == [grid[k].id for k in ("recent", "overdue", "never", "elsewhere")]
    recent = phone.locator(f"{ROWS}[data-id='{grid['recent'].id}']")
    assert recent.locator("[data-testid=last-visit]").get_attribute("datetime") == local_day(grid["visits"]["recent"].visited_at)
    never = phone.locator(f"{ROWS}[data-id='{grid['never'].id}']")
    assert never.locator("[data-testid=last-visit]").count() == 0
    assert never.locator("[data-testid=due-mark]").inner_text() == "从未走访"
    assert phone.locator("[data-testid=greeting]").inner_text() == "您好，李管家"


def test_searching_a_building_unit_and_room_finds_that_one_household(phone, grid):
    open_grid(phone, 4)
    phone.fill("[data-testid=grid-search]", "3-1-301")
    phone.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 1")
    assert row_ids(phone) == [grid["overdue"].id]


def test_the_due_filter_leaves_only_households_overdue_or_never_visited(phone, grid):
    open_grid(phone, 4)
    phone.click("[data-testid=filter-due]")
    phone.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 2")
    assert row_ids(phone) == [grid["overdue"].id, grid["never"].id]
    assert phone.locator(f"{ROWS} [data-testid=due-mark]").all_inner_texts() == ["逾期", "从未走访"]


def test_a_phone_number_is_masked_until_the_butler_taps_to_reveal_it(phone, grid):
    open_grid(phone, 4)
    phone.click(f"{ROWS}[data-id='{grid['overdue'].id}']")
    number = phone.locator("[data-testid=person] [data-testid=phone]")
    assert number.inner_text() == "138****8000"
    assert "13800138000" not in phone.locator("main").inner_text()
    phone.click("[data-testid=person] [data-testid=reveal-phone]")
    assert number.inner_text() == "13800138000"


def test_the_grid_speaks_english_after_the_switch(phone, grid):
    open_grid(phone, 4)
    phone.click("#lang")
    phone.wait_for_function("document.querySelector('[data-testid=greeting]').textContent === 'Hello, 李管家'")
    assert phone.locator("[data-testid=group]").all_inner_texts() == ["Bldg 3 · Unit 1", "Bldg 3 · Unit 2", "Bldg 5 · Unit 1"]
    assert phone.locator("[data-testid=filter-due]").inner_text().startswith("Due / overdue")
    never = phone.locator(f"{ROWS}[data-id='{grid['never'].id}'] [data-testid=due-mark]")
    assert never.inner_text() == "Never visited"
    # The app's own tags are named in English; one the butler typed shows as typed.
    tags = phone.locator(f"{ROWS}[data-id='{grid['overdue'].id}'] .tagpill")
    assert tags.all_inner_texts() == ["Elderly, living alone", "爱下棋"]
    assert phone.locator("[data-testid=filter-tag]").all_inner_texts() == ["Elderly, living alone 1", "爱下棋 1"]


def test_a_day_recorded_offline_through_the_screens_reaches_the_server_once(phone, served, grid, session):
    hid, pid = grid["overdue"].id, grid["person"].id
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    phone.context.set_offline(True)
    served.requests.clear()
    phone.reload()
    phone.click(f"{ROWS}[data-id='{hid}']")

    # 脱鞋入户: a follow-up visit with a leak found, a 4, an interest in bottled water and notes.
    phone.click("[data-testid=do-visit]")
    phone.click("[data-testid=kind][data-value=follow_up]")
    leaks = phone.locator("[data-testid=check-item][data-key=leaks]")
    leaks.locator("[data-testid=check-problem]").click()
    leaks.locator("[data-testid=check-note]").fill("厨房水管渗水")
    phone.click("[data-testid=satisfaction][data-value='4']")
    phone.click("[data-testid=all-ok]")  # the other items: 正常
    phone.click("[data-testid=product][data-value=water]")
    phone.fill("[data-testid=visit-notes]", "老人身体不错")
    phone.click("[data-testid=save-visit]")
    phone.locator("[data-testid=household]").wait_for()
    # What is true now, where it covers none of the buttons: kept on the phone, waiting for signal.
    toast = phone.locator("[data-testid=toast]")
    expect(toast).to_have_text("已保存在手机上，待同步（离线）")
    below, bar = toast.bounding_box(), phone.locator(".action-bar").bounding_box()
    assert below["y"] + below["height"] <= bar["y"]

    # The household file: a person's notes.
    phone.click("[data-testid=person] [data-testid=edit-person]")
    phone.fill("[data-testid=person-form] textarea[name=notes]", "腿脚不便")
    phone.click("[data-testid=person-form] [data-testid=save]")
    phone.locator("[data-testid=person-form]").wait_for(state="detached")

    # 触点: one tap.
    phone.click("[data-testid=do-touchpoint]")
    phone.click("[data-testid=channel][data-value=lobby]")
    phone.locator("[data-testid=household]").wait_for()

    phone.reload()
    newest = phone.locator("[data-testid=visit]").first
    assert "老人身体不错" in newest.inner_text()
    assert newest.locator("[data-testid=sync-mark]").inner_text() == "未同步"
    assert phone.locator("[data-testid=person-notes]").inner_text() == "腿脚不便"
    assert "大堂" in phone.locator("[data-testid=touchpoint]").first.inner_text()
    assert work_requests(served.requests) == []

    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    session.rollback()  # a fresh snapshot: the server wrote from its own connections
    new_visits = session.scalars(sa.select(Visit).where(Visit.household_id == hid,
                                                        Visit.id != grid["visits"]["overdue"].id)).all()
    assert len(new_visits) == 1
    visit = new_visits[0]
    assert (visit.kind, visit.satisfaction, visit.products_interest, visit.notes) == ("follow_up", 4, ["water"], "老人身体不错")
    assert visit.checklist["leaks"] == {"ok": False, "note": "厨房水管渗水"}
    assert {key: entry["ok"] for key, entry in visit.checklist.items() if key != "leaks"} == {
        item["key"]: True for item in DEFAULT_CHECKLIST if item["key"] != "leaks"}
    assert visit.butler_id == grid["butler"].id
    assert session.get(Person, pid).notes == "腿脚不便"
    touchpoints = session.scalars(sa.select(Touchpoint).where(Touchpoint.household_id == hid)).all()
    assert [(tp.channel, tp.butler_id) for tp in touchpoints] == [("lobby", grid["butler"].id)]


def test_a_visit_half_typed_when_the_app_is_closed_comes_back_and_is_saved_once(phone, served, grid, session):
    hid = grid["never"].id
    log_in(phone, "li", PASSWORD)
    synced(phone)
    phone.goto(f"/#/visit/{hid}")
    phone.click("[data-testid=satisfaction][data-value='5']")
    phone.fill("[data-testid=visit-notes]", "孩子作业多，想要托管")
    phone.wait_for_timeout(600)  # the draft is kept 0.3 s after the last keystroke
    phone.goto("about:blank")  # the app is closed before Save
    phone.goto(f"/#/visit/{hid}")
    phone.locator("[data-testid=draft-restored]").wait_for()
    assert phone.input_value("[data-testid=visit-notes]") == "孩子作业多，想要托管"
    assert phone.get_attribute("[data-testid=satisfaction][data-value='5']", "aria-checked") == "true"
    phone.click("[data-testid=all-ok]")  # restored: the stars; the checklist is answered now
    # A follow-up in two weeks, one tap, said in the app's words whatever the phone's picker shows.
    expect(phone.locator("[data-testid=follow-up-said]")).to_have_text("不安排跟进")
    phone.click("[data-testid=follow-up-in][data-days='14']")
    chosen = phone.input_value("[data-testid=follow-up]")
    year, month, day = (int(part) for part in chosen.split("-"))
    expect(phone.locator("[data-testid=follow-up-said]")).to_contain_text(f"将于 {year}年{month}月{day}日")
    phone.click("[data-testid=save-visit]")
    phone.locator("[data-testid=household]").wait_for()
    expect(phone.locator("[data-testid=toast]")).to_have_text("已同步")  # online: the server has it a moment later
    synced(phone)
    session.rollback()
    visits = session.scalars(sa.select(Visit).where(Visit.household_id == hid)).all()
    assert [(v.notes, v.satisfaction, v.follow_up_at.isoformat()) for v in visits] == [("孩子作业多，想要托管", 5, chosen)]
    phone.goto(f"/#/visit/{hid}")  # saved: a new visit starts empty
    phone.locator("[data-testid=visit-form]").wait_for()
    assert phone.locator("[data-testid=draft-restored]").count() == 0


def test_a_visit_that_records_nothing_is_not_saved_and_the_form_says_what_is_missing_where(phone, grid, session):
    hid = grid["never"].id
    log_in(phone, "li", PASSWORD)
    synced(phone)
    phone.goto(f"/#/visit/{hid}")
    phone.locator("[data-testid=visit-form]").wait_for()
    phone.click("[data-testid=save-visit]")  # nothing answered
    items = phone.locator("[data-testid=visit-items-missing]")
    expect(items).to_contain_text("还有 7 项没有填：水电气、门窗")
    expect(items).to_be_in_viewport()  # scrolled to, in the checklist's own box
    expect(phone.locator("[data-testid=visit-checklist-box]")).to_have_class("card invalid")
    expect(phone.locator("[data-testid=visit-satisfaction-missing]")).to_have_text("请选择满意度；住户不愿评价时选“未评价”。")
    assert phone.evaluate(f"window.guanjia.store.all('visit', '{hid}').length") == 0  # nothing saved

    phone.click("[data-testid=all-ok]")
    expect(items).to_be_hidden()  # answered: the message goes at once
    phone.click("[data-testid=save-visit]")
    satisfaction = phone.locator("[data-testid=visit-satisfaction-missing]")
    expect(satisfaction).to_be_in_viewport()
    phone.click("[data-testid=satisfaction-unrated]")  # the resident would not say
    expect(satisfaction).to_be_hidden()
    phone.click("[data-testid=save-visit]")
    phone.locator("[data-testid=household]").wait_for()
    synced(phone)
    session.rollback()
    (visit,) = session.scalars(sa.select(Visit).where(Visit.household_id == hid)).all()
    assert visit.satisfaction is None and len(visit.checklist) == 7

    # An edit may change an answer, not take one back: tapping the chosen 正常 again clears it, and the form says so.
    phone.goto(f"/#/visit/{hid}/{visit.id}")
    first = phone.locator("[data-testid=check-item][data-key=utilities]")
    first.locator("[data-testid=check-ok]").click()
    phone.click("[data-testid=save-visit]")
    expect(items).to_have_text("还有 1 项没有填：水电气。请逐项选择，或点“其余全部正常”。")
    expect(items).to_be_in_viewport()
    expect(phone.locator("[data-testid=visit-satisfaction-missing]")).to_be_hidden()  # an edit needs no rating
    first.locator("[data-testid=check-problem]").click()  # changed, not taken back
    expect(items).to_be_hidden()
    phone.click("[data-testid=save-visit]")
    phone.locator("[data-testid=household]").wait_for()
    synced(phone)
    session.rollback()
    assert session.get(Visit, visit.id).checklist["utilities"]["ok"] is False
