"""The operations pages in real Chromium: a supervisor adds a plan item, marks it done, and records
an inspection with one failed item, which the list then shows with its score."""
from __future__ import annotations

import pytest

from server.community.models import DEFAULT_TIMEZONE
from server.community.service import today_in  # the console's days are the community's
from tests.factories import make_community, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")
    make_user("butler", username="li", name="李管家", community_id=community.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    return community


def test_a_supervisor_plans_marks_done_and_records_an_inspection(new_desk, community):
    today = today_in(DEFAULT_TIMEZONE)
    desk = new_desk("wang")

    desk.click("[data-testid=nav-plan]")
    desk.wait_for_url("**/console/plan")
    form = desk.locator("[data-testid=add-plan-item] form")
    form.locator("select[name=category]").select_option("cleaning")
    form.locator("input[name=title]").fill("3栋大堂深度保洁")
    form.locator("input[name=due_date]").fill(today.isoformat())
    form.locator("input[name=contractor]").fill("洁美保洁")
    form.locator("select[name=assignee_id]").select_option(label="李管家")
    form.locator("button[type=submit]").click()
    desk.locator("[data-testid=done]").wait_for()
    assert desk.locator("[data-testid=done]").inner_text() == f"已添加计划事项“3栋大堂深度保洁”（截止 {today.isoformat()}）。"
    row = desk.locator("[data-testid=plan-row]", has_text="3栋大堂深度保洁")
    assert row.get_attribute("data-state") == "open"
    assert "洁美保洁" in row.inner_text() and "李管家" in row.inner_text()

    row.locator("input[name=done_note]").fill("已验收，地面光洁")
    row.locator("[data-testid=mark-done] button").click()
    desk.wait_for_selector("[data-testid=plan-row][data-state=done]")
    assert desk.locator("[data-testid=done]").inner_text() == "已将“3栋大堂深度保洁”标记为完成。"
    state = desk.locator("[data-testid=plan-row]", has_text="3栋大堂深度保洁").locator("[data-testid=plan-state]")
    assert "✓ 已完成" in state.inner_text() and "王主管" in state.inner_text() and "已验收，地面光洁" in state.inner_text()
    assert desk.locator("[data-testid=count-row][data-category=cleaning] td.num").inner_text() == "1 / 1"

    desk.click("[data-testid=nav-inspections]")
    desk.wait_for_url("**/console/inspections")
    desk.locator("[data-testid=choose-category] select[name=category]").select_option("cleaning")
    desk.locator("[data-testid=choose-category] button").click()
    form = desk.locator("[data-testid=inspection-form]")
    form.wait_for()
    form.locator("input[name=place]").fill("3栋大堂")
    form.locator("select[name=plan_item_id]").select_option(label=f"{today.isoformat()} 3栋大堂深度保洁")
    items = form.locator("[data-testid=checklist-item]")
    assert items.count() == 5
    for i in range(items.count()):
        item = items.nth(i)
        verdict = "fail" if item.get_attribute("data-key") == "lift_car_clean" else "pass"
        item.locator(f"input[type=radio][value={verdict}]").check()
    form.locator("input[name=note_lift_car_clean]").fill("轿厢地面有污渍")
    form.locator("button[type=submit]").click()

    desk.locator("[data-testid=done]").wait_for()
    assert desk.locator("[data-testid=done]").inner_text() == "已记录3栋大堂的保洁检查：4/5 项合格。"
    listed = desk.locator("[data-testid=inspection-row]")
    assert listed.count() == 1
    assert listed.locator("[data-testid=inspection-place]").inner_text() == "3栋大堂"
    assert listed.locator("[data-testid=inspection-score]").inner_text() == "4/5"
    assert listed.locator("[data-testid=failed-item]").all_inner_texts() == ["电梯轿厢清洁（轿厢地面有污渍）"]
    assert "3栋大堂深度保洁" in listed.inner_text()
    assert desk.locator("[data-testid=rate-row][data-category=cleaning] [data-testid=rate]").inner_text() == "80.0%"
