"""The butler's tickets and sync screens in real Chromium: conflicts, evictions, refusals, logout."""
from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.community.models import Household
from server.syncing.models import SyncConflict
from server.tickets.models import Ticket
from server.visits.models import Visit
from tests.browser.conftest import log_in, synced
from tests.factories import (PASSWORD, auth, complete_visit, make_community, make_grid, make_household, make_person, make_ticket,
                             make_user, make_visit)

pytestmark = pytest.mark.browser

# Every value of every object store of the app's IndexedDB database, as one JSON text ("" if none).
DUMP_INDEXEDDB = """async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === "guanjia")) return "";
    const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open("guanjia");
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
    });
    const out = {};
    for (const name of db.objectStoreNames) {
        out[name] = await new Promise((resolve, reject) => {
            const req = db.transaction(name).objectStore(name).getAll();
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
        });
    }
    db.close();
    return JSON.stringify(out);
}"""


@pytest.fixture
def grid(session):
    community = make_community()
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    mine = make_grid(community, butler)
    household = make_household(community, mine, building="3", unit="1", room="101", notes="钥匙在物业前台")
    person = make_person(household, name="王奶奶")
    return SimpleNamespace(community=community, butler=butler, supervisor=supervisor, grid=mine,
                           household=household, person=person)


def open_tab(page, name: str) -> None:
    """Go to a screen through the bottom tabs, as a thumb would."""
    page.click(f"#nav a[href='#/{name}']")


def save(page, rtype: str, rid: str, fields: dict) -> None:
    page.evaluate("([t, id, f]) => window.guanjia.store.save(t, id, f)", [rtype, rid, fields])


# ---- conflicts -------------------------------------------------------------------------------------

def test_a_conflict_with_the_supervisor_is_settled_with_their_value_on_the_sync_screen(phone, grid, client, session):
    log_in(phone, "li", PASSWORD)
    hid = grid.household.id
    phone.context.set_offline(True)
    save(phone, "household", hid, {"notes": "钥匙在邻居家"})
    answer = client.patch(f"/api/v1/households/{hid}", json={"notes": "钥匙在保安室"}, headers=auth(grid.supervisor))
    assert answer.status_code == 200
    phone.context.set_offline(False)
    synced(phone)
    open_tab(phone, "sync")
    card = phone.locator("[data-testid=conflict]")
    expect(card).to_have_count(1)
    expect(card.locator("[data-testid=conflict-field]")).to_have_text("备注")
    expect(card).to_contain_text("3栋 1单元 101")
    expect(card.locator("[data-side=mine] [data-testid=conflict-value]")).to_have_text("钥匙在邻居家")
    expect(card.locator("[data-side=theirs] [data-testid=conflict-value]")).to_have_text("钥匙在保安室")
    phone.context.set_offline(True)
    card.locator("[data-testid=choose-theirs]").click()
    expect(card.locator("[data-testid=conflict-pending]")).to_be_visible()  # chosen, not yet synced
    phone.context.set_offline(False)
    synced(phone)
    expect(phone.locator("[data-testid=conflict]")).to_have_count(0)
    session.rollback()
    assert session.get(Household, hid).notes == "钥匙在保安室"
    conflict = session.scalars(sa.select(SyncConflict).where(SyncConflict.record_id == hid)).one()
    assert (conflict.status, conflict.chosen) == ("settled", "钥匙在保安室")


def test_a_conflict_between_two_of_my_phones_is_told_apart_by_time_and_settled(new_phone, grid, session):
    first, second = new_phone(), new_phone()
    log_in(first, "li", PASSWORD)
    log_in(second, "li", PASSWORD)
    hid = grid.household.id
    for phone, notes in ((first, "先写的备注"), (second, "后写的备注")):
        phone.context.set_offline(True)
        save(phone, "household", hid, {"notes": notes})
    for phone in (first, second):
        phone.context.set_offline(False)
        synced(phone)
    open_tab(second, "sync")
    card = second.locator("[data-testid=conflict]")
    expect(card.locator("[data-side=later]")).to_contain_text("我后同步的")
    expect(card.locator("[data-side=later] [data-testid=conflict-value]")).to_have_text("后写的备注")
    expect(card.locator("[data-side=earlier] [data-testid=conflict-value]")).to_have_text("先写的备注")
    card.locator("[data-testid=choose-earlier]").click()
    synced(second)
    expect(second.locator("[data-testid=conflict]")).to_have_count(0)
    session.rollback()
    assert session.get(Household, hid).notes == "先写的备注"
    assert session.scalars(sa.select(SyncConflict.status).where(SyncConflict.record_id == hid)).one() == "settled"


# ---- a household leaves the grid -------------------------------------------------------------------

def test_a_household_moved_to_another_grid_leaves_the_phone_entirely(phone, grid, client, session):
    hid, pid = grid.household.id, grid.person.id
    visit = make_visit(grid.household, grid.butler, notes="上次入户")
    ticket = make_ticket(grid.household)
    elsewhere = make_grid(grid.community, make_user("butler", community_id=grid.community.id))
    log_in(phone, "li", PASSWORD)
    open_tab(phone, "grid")
    expect(phone.locator(f"[data-testid=households] [data-id='{hid}']")).to_have_count(1)
    assert hid in phone.evaluate(DUMP_INDEXEDDB)
    answer = client.patch(f"/api/v1/households/{hid}", json={"grid_id": elsewhere.id}, headers=auth(grid.supervisor))
    assert answer.status_code == 200
    synced(phone)
    expect(phone.locator(f"[data-testid=households] [data-id='{hid}']")).to_have_count(0)
    stored = phone.evaluate(DUMP_INDEXEDDB)
    assert stored  # the database is still there, with the rest of the butler's data
    for gone in (hid, pid, visit.id, ticket.id):
        assert gone not in stored
    assert phone.evaluate("([hid]) => window.guanjia.store.get('household', hid)", [hid]) is None


# ---- refused changes ------------------------------------------------------------------------------

def _refused_visit(phone, grid) -> str:
    """A visit with a satisfaction the form would never allow, synced and refused."""
    vid = str(uuid.uuid4())
    save(phone, "visit", vid, complete_visit({"household_id": grid.household.id, "visited_at": "2026-11-27T09:15:02+08:00",
                                              "kind": "routine", "satisfaction": 9}))
    synced(phone)
    return vid


def test_a_refused_visit_shows_its_reason_and_is_fixed_and_resent(phone, grid, session):
    log_in(phone, "li", PASSWORD)
    vid = _refused_visit(phone, grid)
    open_tab(phone, "sync")
    card = phone.locator("[data-testid=rejected]")
    expect(card).to_have_count(1)
    expect(card.locator("[data-testid=reason]")).to_contain_text("满意度必须在 1–5 之间。")
    field = card.locator("input[name=satisfaction]")
    expect(field).to_have_value("9")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("4")
    card.locator("[data-testid=resend]").click()
    synced(phone)
    expect(phone.locator("[data-testid=rejected]")).to_have_count(0)
    assert phone.evaluate("window.guanjia.store.rejected().length") == 0
    session.rollback()
    assert session.get(Visit, vid).satisfaction == 4


def test_a_refused_change_is_discarded_only_after_confirming(phone, grid, session):
    log_in(phone, "li", PASSWORD)
    vid = _refused_visit(phone, grid)
    open_tab(phone, "sync")
    card = phone.locator("[data-testid=rejected]")
    card.locator("[data-testid=discard]").click()
    card.locator("[data-testid=discard-cancel]").click()
    expect(card).to_have_count(1)
    card.locator("[data-testid=discard]").click()
    card.locator("[data-testid=discard-confirm]").click()
    expect(phone.locator("[data-testid=rejected]")).to_have_count(0)
    assert phone.evaluate("([vid]) => window.guanjia.store.get('visit', vid)", [vid]) is None
    assert phone.evaluate("window.guanjia.session.unsent()") == 0


# ---- tickets ---------------------------------------------------------------------------------------

def test_a_dispatched_ticket_is_accepted_started_resolved_and_rated_through_the_screens(phone, grid, session):
    ticket = make_ticket(grid.household, status="dispatched", assignee_id=grid.butler.id, description="厨房水龙头漏水")
    log_in(phone, "li", PASSWORD)
    open_tab(phone, "tickets")
    row = phone.locator(f"[data-testid=tickets-new] [data-testid=ticket-row][data-id='{ticket.id}']")
    expect(row).to_contain_text("报修")
    expect(row).to_contain_text("3栋 1单元 101")
    row.click()
    expect(phone.locator("[data-testid=ticket-description]")).to_have_text("厨房水龙头漏水")
    phone.click("[data-testid=ticket-accept]")
    phone.click("[data-testid=ticket-start]")
    expect(phone.locator("[data-testid=ticket] [data-testid=ticket-status]")).to_have_text("处理中")
    phone.click("[data-testid=ticket-resolve]")  # no note: the screen asks for one
    expect(phone.locator("[data-testid=ticket-resolve-form] .error")).to_be_visible()
    phone.fill("[data-testid=ticket-note]", "更换阀芯")
    phone.click("[data-testid=ticket-resolve]")
    phone.click("[data-testid=ticket-rating] [data-rating='4']")
    expect(phone.locator("[data-testid=ticket-rating] [aria-pressed=true]")).to_have_text("4")
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    session.rollback()
    stored = session.get(Ticket, ticket.id)
    assert (stored.status, stored.resolution_note, stored.backoffice_rating) == ("resolved", "更换阀芯", 4)
    assert stored.assignee_id == grid.butler.id


def test_a_ticket_raised_offline_for_a_household_reaches_the_server(phone, grid, session):
    log_in(phone, "li", PASSWORD)
    phone.context.set_offline(True)
    open_tab(phone, "tickets")
    phone.click("[data-testid=ticket-raise]")
    phone.select_option("[data-testid=ticket-form] select[name=household_id]", grid.household.id)
    phone.select_option("[data-testid=ticket-form] select[name=category]", "water")
    phone.fill("[data-testid=ticket-form] textarea[name=description]", "送两桶水")
    phone.click("[data-testid=ticket-create]")
    expect(phone.locator("[data-testid=ticket] h2")).to_contain_text("桶装水")
    tid = phone.locator("[data-testid=ticket]").get_attribute("data-id")
    phone.context.set_offline(False)
    synced(phone)
    session.rollback()
    stored = session.get(Ticket, tid)
    assert (stored.household_id, stored.category, stored.description, stored.status) == (
        grid.household.id, "water", "送两桶水", "dispatched")  # to the grid's butler: the one who raised it
    assert stored.raised_by == stored.assignee_id == grid.butler.id


def _accept_a_ticket_a_colleague_took_first(phone, grid, client):
    """The phone accepts, offline, a ticket that the supervisor has meanwhile given to a colleague."""
    ticket = make_ticket(grid.household, status="new")
    colleague = make_user("butler", community_id=grid.community.id)
    log_in(phone, "li", PASSWORD)
    phone.context.set_offline(True)
    answer = client.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "accepted", "assignee_id": colleague.id},
                          headers=auth(grid.supervisor))
    assert answer.status_code == 200
    open_tab(phone, "tickets")
    phone.click(f"[data-testid=tickets-new] [data-id='{ticket.id}']")
    phone.click("[data-testid=ticket-accept]")
    expect(phone.locator("[data-testid=ticket-pending]")).to_be_visible()
    phone.context.set_offline(False)
    synced(phone)
    return ticket, colleague


def test_accepting_a_ticket_another_butler_took_first_is_refused_as_already_claimed(phone, grid, client, session):
    ticket, colleague = _accept_a_ticket_a_colleague_took_first(phone, grid, client)
    refusal = phone.locator("[data-testid=ticket-rejected] [data-testid=reason]")
    expect(refusal).to_have_text("该工单已被他人接单。")
    expect(refusal).to_have_attribute("data-code", "already_claimed")
    open_tab(phone, "sync")
    claimed = phone.locator("[data-testid=rejected] [data-code=already_claimed]")
    expect(claimed).to_have_text("该工单已被他人接单。")
    session.rollback()
    assert session.get(Ticket, ticket.id).assignee_id == colleague.id


def test_giving_up_a_refused_accept_shows_the_ticket_as_the_server_has_it(phone, grid, client):
    ticket, _colleague = _accept_a_ticket_a_colleague_took_first(phone, grid, client)
    phone.click("[data-testid=ticket-discard]")
    phone.click("[data-testid=ticket-discard-confirm]")
    expect(phone.locator("[data-testid=ticket-rejected]")).to_have_count(0)
    expect(phone.locator("[data-testid=ticket-actions]")).to_contain_text("这张工单已由其他人处理。")
    open_tab(phone, "tickets")
    expect(phone.locator(f"[data-testid=ticket-row][data-id='{ticket.id}']")).to_have_count(0)
    assert phone.evaluate("window.guanjia.session.unsent()") == 0


# ---- logging out ----------------------------------------------------------------------------------

def test_logging_out_with_unsent_work_warns_and_keeps_everything_when_the_user_stays(phone, grid):
    log_in(phone, "li", PASSWORD)
    phone.context.set_offline(True)
    save(phone, "household", grid.household.id, {"notes": "没信号时写的"})
    open_tab(phone, "sync")
    expect(phone.locator("[data-testid=unsent-count]")).to_have_attribute("data-n", "1")
    phone.click("[data-testid=logout]")
    warning = phone.locator("[data-testid=logout-warning]")
    expect(warning).to_contain_text("还有 1 条记录未同步。现在退出，这些记录会丢失。")
    phone.click("[data-testid=logout-cancel]")
    expect(warning).to_be_hidden()
    assert phone.evaluate("Boolean(window.guanjia.store.meta.token)")
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 1
    assert "没信号时写的" in phone.evaluate(DUMP_INDEXEDDB)
    phone.reload()  # still there after the app starts again
    phone.wait_for_function("window.guanjia && window.guanjia.store.unsentCount() === 1")
    expect(phone.locator("#login")).to_have_count(0)


def test_logging_out_anyway_after_the_warning_empties_the_phone(phone, grid):
    log_in(phone, "li", PASSWORD)
    phone.context.set_offline(True)
    save(phone, "household", grid.household.id, {"notes": "没信号时写的"})
    open_tab(phone, "sync")
    phone.click("[data-testid=logout]")
    phone.click("[data-testid=logout-force]")
    expect(phone.locator("#login")).to_be_visible()
    assert phone.evaluate(DUMP_INDEXEDDB) == ""


def test_logging_out_with_nothing_unsent_shows_the_login_and_empties_indexeddb(phone, grid, client):
    log_in(phone, "li", PASSWORD)
    token = phone.evaluate("window.guanjia.store.meta.token")
    open_tab(phone, "sync")
    phone.click("[data-testid=logout]")
    expect(phone.locator("#login")).to_be_visible()
    expect(phone.locator("[data-testid=logout-warning]")).to_have_count(0)
    assert phone.evaluate(DUMP_INDEXEDDB) == ""
    assert client.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_logging_out_while_a_sync_is_answering_leaves_no_record_behind(phone, grid, served, app):
    log_in(phone, "li", PASSWORD)

    def slow_answers(environ, start_response):  # the server has answered; the network is slow
        response = app(environ, start_response)
        try:
            body = list(response)
        finally:
            response.close()
        if environ["PATH_INFO"] == "/api/v1/sync":
            time.sleep(1)
        return body

    served.deploy(slow_answers)
    phone.evaluate("""async () => {
        await window.guanjia.store.setMeta({cursor: null});  // the next pull brings every record again
        window.guanjia.sync.syncNow();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await window.guanjia.session.logout();
    }""")
    phone.wait_for_timeout(1500)  # when a late answer would have been written
    assert phone.evaluate(DUMP_INDEXEDDB) == ""
    assert phone.evaluate("window.guanjia.store.all('household').length") == 0


def test_a_ticket_past_its_time_shows_as_escalated_on_the_phone(phone, grid, session, runner):
    from datetime import datetime, timedelta, timezone

    old = datetime.now(timezone.utc) - timedelta(hours=2)
    ticket = make_ticket(grid.household, status="dispatched", assignee_id=grid.butler.id, created_at=old, updated_at=old)
    assert "escalated=1" in runner.invoke(args=["escalate"]).output
    log_in(phone, "li", PASSWORD)
    open_tab(phone, "tickets")
    row = phone.locator(f"[data-testid=ticket-row][data-id='{ticket.id}']")
    expect(row.locator("[data-testid=ticket-escalated]")).to_have_text("超时未接单")
