"""Emergencies (突发事件) on the phone, in real Chromium against a live server on SQLite and PostgreSQL:
a supervisor's incident reaches a resident, who answers 我家安全 (offline, then synced) and later sees
the all-clear; a butler's door-knock list works with no signal once the knock time has passed, and the
door marked offline reaches the server; a butler raises one offline."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from server.incidents.models import Incident, IncidentCheck, check_id
from tests.browser.conftest import log_in, synced, wait_until_controlled, work_requests
from tests.factories import (PASSWORD, _save, auth, make_community, make_grid, make_household, make_person,
                             make_user)

pytestmark = pytest.mark.browser


@pytest.fixture
def block(session):
    """李管家's grid: 1栋 with three homes (刘女士's; 王奶奶, 80, alone, who consented to her birth year;
    a home that already answered), and 2栋, which the incident leaves out."""
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", username="zhou", name="周主管", community_id=community.id)
    grid = make_grid(community, butler)
    home = make_household(community, grid, building="1栋", unit="1单元", room="301")
    elderly = make_household(community, grid, building="1栋", unit="1单元", room="1201")
    answered = make_household(community, grid, building="1栋", unit="1单元", room="101")
    elsewhere = make_household(community, grid, building="2栋", unit="1单元", room="101")
    make_person(elderly, name="王奶奶", birth_year=datetime.now().year - 80, consent=True)
    resident = make_user("resident", username="liu", name="刘女士", community_id=community.id, household_id=home.id)
    return {"community": community, "butler": butler, "supervisor": supervisor, "home": home, "elderly": elderly,
            "answered": answered, "elsewhere": elsewhere, "resident": resident}


def fresh(session):
    session.rollback()  # a fresh snapshot: the server wrote from its own connections
    return session


def test_a_supervisors_incident_reaches_the_resident_who_answers_safe(phone, block, client, session):
    log_in(phone, "liu", PASSWORD)
    expect(phone.locator("[data-testid=resident-home]")).to_be_visible()
    expect(phone.locator("[data-testid=incident-banner]")).to_have_count(0)
    answer = client.post("/api/v1/incidents", headers=auth(block["supervisor"]), json={
        "kind": "water_cut", "severity": "critical", "title": "1栋停水", "body": "水管爆裂，正在抢修。", "buildings": ["1栋"]})
    assert answer.status_code == 201, answer.get_json()
    incident_id = answer.get_json()["id"]
    synced(phone)
    banner = phone.locator("[data-testid=incident-banner]")
    expect(banner).to_have_attribute("data-state", "ask")
    expect(banner.locator("[data-testid=incident-flag]")).to_contain_text("紧急")
    expect(banner.locator("[data-testid=incident-title]")).to_have_text("1栋停水")
    safe = banner.locator("[data-testid=incident-safe]")
    expect(safe).to_have_text("我家安全")
    expect(banner.locator("[data-testid=incident-help]")).to_have_text("需要帮助")
    box = safe.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # a target for a finger of seventy
    phone.context.set_offline(True)  # answering needs no signal: it waits, and says so
    safe.click()
    expect(banner.locator("[data-testid=incident-sync]")).to_have_text("待同步：有信号后会自动告诉管家")
    phone.context.set_offline(False)
    synced(phone)
    expect(banner.locator("[data-testid=incident-said]")).to_have_text("您已回复：我家安全")
    expect(banner.locator("[data-testid=incident-sync]")).to_have_text("已告知管家")
    check = fresh(session).get(IncidentCheck, check_id(incident_id, block["home"].id))
    assert (check.incident_id, check.household_id, check.answer, check.source) == (
        incident_id, block["home"].id, "safe", "resident")
    # The all-clear replaces the question with 已解除 and the supervisor's note.
    ended = client.patch(f"/api/v1/incidents/{incident_id}", headers=auth(block["supervisor"]),
                         json={"ended_at": datetime.now(timezone.utc).isoformat(), "all_clear_note": "已恢复供水"})
    assert ended.status_code == 200, ended.get_json()
    synced(phone)
    expect(banner).to_have_attribute("data-state", "all_clear")
    expect(banner.locator("[data-testid=incident-all-clear]")).to_have_text("已恢复供水")


def test_the_door_knock_list_works_offline_and_the_marked_door_reaches_the_server(phone, served, block, session):
    # Knocking starts a few seconds after the phone has synced: the time passes with no signal.
    started = datetime.now(timezone.utc) - timedelta(minutes=15) + timedelta(seconds=12)
    incident = _save(Incident(community_id=block["community"].id, kind="power_cut", severity="serious", title="1栋停电",
                              buildings=["1栋"], started_at=started, knock_after_minutes=15,
                              raised_by=block["supervisor"].id))
    _save(IncidentCheck(id=check_id(incident.id, block["answered"].id), incident_id=incident.id,
                        household_id=block["answered"].id, answer="safe", source="resident"))
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    phone.context.set_offline(True)
    served.requests.clear()
    phone.reload()
    phone.wait_for_function("window.guanjia && window.guanjia.store.all('incident').length === 1")
    phone.click("[data-testid=incident-link]")
    screen = phone.locator("[data-testid=incident-screen]")
    expect(screen).to_be_visible()
    doors = screen.locator("[data-testid=door-list] [data-testid=door]")
    # Before the knock time: the residents may still answer themselves.
    if phone.evaluate("Date.now()") < int(started.timestamp() * 1000) + 15 * 60_000 - 1000:
        expect(screen.locator("[data-testid=incident-phase]")).to_have_attribute("data-phase", "waiting")
        expect(doors.first).to_have_attribute("data-need", "wait")
    # The knock time passes, offline: the silent homes become doors to knock on, 王奶奶 (alone, 80) first,
    # then by floor; the home that said it is safe and 2栋's are not on the list.
    expect(screen.locator("[data-testid=incident-phase]")).to_have_attribute("data-phase", "knock", timeout=20000)
    expect(doors).to_have_count(2)
    assert doors.evaluate_all("(els) => els.map((e) => e.dataset.id)") == [block["elderly"].id, block["home"].id]
    expect(doors.first.locator("[data-testid=door-vulnerable]")).to_have_text("独居老人")
    expect(doors.nth(1).locator("[data-testid=door-mark]")).to_have_text("需上门")
    expect(screen.locator("[data-testid=incident-counts]")).to_contain_text("共 3 户")
    doors.nth(1).locator("[data-testid=door-not_home]").click()
    expect(doors.nth(1)).to_have_attribute("data-answer", "not_home")
    expect(doors.nth(1).locator("[data-testid=door-pending]")).to_have_text("待同步")
    doors.first.locator("[data-testid=door-safe]").click()
    expect(doors).to_have_count(1)  # 王奶奶 is safe: off the list
    assert work_requests(served.requests) == []
    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    fresh(session)
    knocked = session.get(IncidentCheck, check_id(incident.id, block["home"].id))
    assert (knocked.answer, knocked.source, knocked.household_id) == ("not_home", "butler", block["home"].id)
    assert session.get(IncidentCheck, check_id(incident.id, block["elderly"].id)).answer == "safe"


def test_a_butler_raises_an_incident_offline_and_it_reaches_the_server(phone, served, block, session):
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    phone.context.set_offline(True)
    phone.goto("/#/incident-new")
    form = phone.locator("[data-testid=incident-form]")
    form.locator("[data-testid=incident-kind]").select_option("leak")
    form.locator("[data-testid=incident-severity]").select_option("serious")
    form.locator("[data-testid=incident-title-input]").fill("1栋12楼漏水")
    expect(form.locator("[data-testid=incident-building]")).to_have_count(2)  # 1栋 and 2栋 of the grid
    form.locator("[data-testid=incident-building][value='1栋']").check()
    form.locator("[data-testid=incident-submit]").click()
    screen = phone.locator("[data-testid=incident-screen]")
    expect(screen.locator("[data-testid=incident-title]")).to_have_text("1栋12楼漏水")
    expect(screen.locator("[data-testid=incident-phase]")).to_have_attribute("data-phase", "waiting")
    expect(screen.locator("[data-testid=door]")).to_have_count(3)  # 1栋's three homes, waiting
    incident_id = screen.get_attribute("data-id")
    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    incident = fresh(session).get(Incident, incident_id)
    assert (incident.kind, incident.severity, incident.buildings, incident.raised_by) == (
        "leak", "serious", ["1栋"], block["butler"].id)
