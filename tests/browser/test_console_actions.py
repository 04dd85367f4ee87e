"""The console's actions in real Chromium: a supervisor moves a household to another grid, and the
butler's phone no longer shows it after its next sync."""
from __future__ import annotations

import pytest

from tests.browser.conftest import log_in as phone_log_in, synced
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_user

pytestmark = pytest.mark.browser

ROWS = "[data-testid=household-row]"


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")
    li = make_user("butler", username="li", name="李管家", community_id=community.id)
    zhang = make_user("butler", username="zhang", name="张管家", community_id=community.id)
    supervisor = make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    g1, g2 = make_grid(community, li, name="一号网格"), make_grid(community, zhang, name="二号网格")
    moved = make_household(community, g1, building="1栋", unit="1单元", room="301")
    kept = make_household(community, g1, building="1栋", unit="1单元", room="302")
    return {"supervisor": supervisor, "g2": g2, "moved": moved, "kept": kept}


def test_a_household_moved_in_the_console_leaves_the_butler_s_phone(chromium, served, phone, community):
    phone_log_in(phone, "li", PASSWORD)
    synced(phone)
    moved, kept = community["moved"].id, community["kept"].id
    phone.locator(f"{ROWS}[data-id='{moved}']").wait_for()
    assert phone.locator(ROWS).count() == 2

    context = chromium.new_context(base_url=served.url, viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        desk = context.new_page()
        desk.goto("/console/")
        desk.wait_for_url("**/console/login")
        desk.fill("input[name=username]", "wang")
        desk.fill("input[name=password]", PASSWORD)
        desk.click("button[type=submit]")
        desk.wait_for_url("**/console/")
        desk.click("[data-testid=nav-grids]")
        desk.wait_for_url("**/console/grids")
        row = desk.locator(f"[data-testid=households] {ROWS}[data-id='{moved}']")
        assert row.locator("[data-testid=household-grid]").inner_text() == "一号网格"
        row.locator("select[name=grid_id]").select_option(community["g2"].id)
        row.locator("button[type=submit]").click()
        desk.locator("[data-testid=done]").wait_for()
        assert desk.locator("[data-testid=done]").inner_text() == "已将 1栋-1单元-301 移至网格“二号网格”。"
        row = desk.locator(f"[data-testid=households] {ROWS}[data-id='{moved}']")
        assert row.locator("[data-testid=household-grid]").inner_text() == "二号网格"
    finally:
        context.close()

    synced(phone)
    phone.wait_for_function("([id]) => window.guanjia.store.get('household', id) == null", arg=[moved])
    phone.locator(f"{ROWS}[data-id='{moved}']").wait_for(state="detached")
    assert phone.locator(f"{ROWS}[data-id='{kept}']").count() == 1
    assert phone.evaluate("window.guanjia.store.all('household').length") == 1
