"""The console's actions in real Chromium: a supervisor moves a household to another grid, and the
butler's phone no longer shows it after its next sync; a supervisor revokes a lost phone, and its next
contact wipes it; a password reset only logs the phone out, and its unsent work survives."""
from __future__ import annotations

import uuid

import pytest

from server.visits.models import Visit
from tests.browser.conftest import log_in as phone_log_in, set_own_password, synced
from tests.factories import PASSWORD, complete_visit, make_community, make_grid, make_household, make_user

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


def record_visit_offline(phone, household_id: str) -> str:
    """A visit typed with no signal: it waits in the phone's outbox."""
    visit_id = str(uuid.uuid4())
    phone.context.set_offline(True)
    phone.evaluate("""async ([vid, hid, answered]) => {
        await window.guanjia.store.save("visit", vid, {...answered, household_id: hid, visited_at: new Date().toISOString(),
                                                       kind: "routine", satisfaction: 4, notes: "离线入户"});
    }""", [visit_id, household_id, complete_visit()])
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 1
    return visit_id


def test_a_device_revoked_in_the_console_is_wiped_at_its_next_contact(new_desk, phone, community, session):
    phone_log_in(phone, "li", PASSWORD)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.all('household').length") == 2
    visit_id = record_visit_offline(phone, community["kept"].id)  # lost in a taxi before it synced

    desk = new_desk("wang")
    desk.click("[data-testid=nav-butlers]")
    device = desk.locator("[data-testid=butler-row] [data-testid=device]").filter(has_not_text="console")
    assert device.count() == 1
    device.locator("button[type=submit]").click()
    desk.locator("[data-testid=done]").wait_for()
    assert "下次联网时将清除本机数据" in desk.locator("[data-testid=done]").inner_text()

    phone.context.set_offline(False)
    phone.evaluate("window.guanjia.sync.syncNow()")
    phone.locator("[data-testid=ended-device_revoked]").wait_for()
    assert "已清除" in phone.locator("[data-testid=ended-device_revoked]").inner_text()
    assert phone.evaluate("window.guanjia.store.all('household').length") == 0
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 0
    assert phone.evaluate("window.guanjia.store.meta.token ?? null") is None
    # Not only the copy in memory: the database on the phone holds nothing either.
    stored = phone.evaluate("""async () => {
        const names = (await indexedDB.databases()).map((d) => d.name);
        let rows = 0;
        for (const name of names) {
            const db = await new Promise((ok, no) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = no; });
            for (const store of db.objectStoreNames) {
                rows += await new Promise((ok) => { const r = db.transaction(store).objectStore(store).count(); r.onsuccess = () => ok(r.result); });
            }
            db.close();
        }
        return rows;
    }""")
    assert stored == 0
    phone.reload()
    phone.locator("input[name=username]").wait_for()
    assert phone.evaluate("window.guanjia.store.all('household').length") == 0
    session.rollback()
    assert session.get(Visit, visit_id) is None  # the phone's holder could not send it either


def test_a_password_reset_logs_the_phone_out_and_keeps_its_unsent_work(new_desk, phone, community, session):
    phone_log_in(phone, "li", PASSWORD)
    synced(phone)
    visit_id = record_visit_offline(phone, community["kept"].id)

    desk = new_desk("wang")
    desk.click("[data-testid=nav-butlers]")
    row = desk.locator("[data-testid=butler-row]").filter(has_text="李管家")
    row.locator("input[name=password]").fill("a-new-password")
    row.locator("form", has=desk.locator("input[name=password]")).locator("button[type=submit]").click()
    desk.locator("[data-testid=done]").wait_for()

    phone.context.set_offline(False)
    phone.evaluate("window.guanjia.sync.syncNow()")
    phone.locator("[data-testid=ended-signed_out]").wait_for()
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 1
    phone.fill("input[name=username]", "li")
    phone.fill("input[name=password]", "a-new-password")
    phone.click("button[type=submit]")
    # The supervisor knows that one: the butler sets their own first, and the visit waits meanwhile.
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 1
    set_own_password(phone, "a-new-password", "li's own password")
    synced(phone)
    session.rollback()
    assert session.get(Visit, visit_id).notes == "离线入户"


def test_a_household_moved_in_the_console_leaves_the_butler_s_phone(new_desk, phone, community):
    phone_log_in(phone, "li", PASSWORD)
    synced(phone)
    moved, kept = community["moved"].id, community["kept"].id
    phone.locator(f"{ROWS}[data-id='{moved}']").wait_for()
    assert phone.locator(ROWS).count() == 2

    desk = new_desk("wang")
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

    synced(phone)
    phone.wait_for_function("([id]) => window.guanjia.store.get('household', id) == null", arg=[moved])
    phone.locator(f"{ROWS}[data-id='{moved}']").wait_for(state="detached")
    assert phone.locator(f"{ROWS}[data-id='{kept}']").count() == 1
    assert phone.evaluate("window.guanjia.store.all('household').length") == 1
