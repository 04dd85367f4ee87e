"""Emergencies in the console, in real Chromium against a live server on SQLite and PostgreSQL: a
supervisor raises one for the buildings ticked, its page counts each building's answers live (the
page reloads itself: the console has no script) with the homes that need help first, and closing it
sends the all-clear."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.incidents.models import Incident, check_id
from server.notify.models import Notification
from tests.factories import auth, make_community, make_grid, make_household, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def estate(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    grid = make_grid(community, butler)
    homes = [make_household(community, grid, building="3栋", unit="1单元", room="301"),
             make_household(community, grid, building="3栋", unit="2单元", room="302"),
             make_household(community, grid, building="5栋", unit="1单元", room="501")]
    residents = [make_user("resident", community_id=community.id, household_id=home.id, name="刘女士")
                 for home in homes]
    supervisor = make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    return {"community": community, "butler": butler, "homes": homes, "residents": residents,
            "supervisor": supervisor}


def counts(desk, building: str) -> list[str]:
    row = desk.locator(f"[data-testid=building-row][data-building='{building}']")
    return [row.locator(f"[data-testid={name}]").inner_text() for name in ("homes", "safe", "need_help", "not_home",
                                                                           "unreached")]


def test_a_supervisor_raises_follows_and_closes_an_emergency(new_desk, client, estate, session):
    desk = new_desk("wang")
    desk.click("[data-testid=nav-incidents]")
    expect(desk.locator("h1")).to_have_text("突发事件")
    desk.select_option("[data-testid=incident-kind]", "water_cut")
    desk.select_option("[data-testid=incident-severity]", "critical")
    desk.fill("[data-testid=incident-title]", "3栋主水管爆裂停水")
    desk.check("[data-testid=incident-buildings] input[value='3栋']")
    desk.fill("[data-testid=incident-knock]", "10")
    desk.click("[data-testid=incident-submit]")
    expect(desk.locator("[data-testid=incident-title]")).to_have_text("3栋主水管爆裂停水")
    assert counts(desk, "3栋") == ["2", "0", "0", "0", "2"]
    expect(desk.locator("[data-testid=building-row][data-building='5栋']")).to_have_count(0)
    session.rollback()
    incident = session.scalar(sa.select(Incident))
    assert (incident.buildings, incident.knock_after_minutes) == (["3栋"], 10)
    assert [n.title for n in session.scalars(sa.select(Notification))] == ["紧急 · 停水 · 3栋"]
    assert desk.locator("meta[http-equiv=refresh]").count() == 1
    assert desk.locator("script").count() == 0

    # One home asks for help from the phone: the page shows it at its next reload, listed first.
    home = estate["homes"][1]
    r = client.post("/api/v1/incident-checks", headers=auth(estate["residents"][1]),
                    json={"id": check_id(incident.id, home.id), "incident_id": incident.id, "household_id": home.id,
                          "answer": "need_help"})
    assert r.status_code == 201, r.get_json()
    desk.reload()
    assert counts(desk, "3栋") == ["2", "0", "1", "0", "1"]
    expect(desk.locator("[data-testid=need-help-home]")).to_have_text(["3栋-2单元-302"])
    expect(desk.locator("body")).not_to_contain_text("刘女士")

    desk.fill("[data-testid=incident-all-clear-note]", "已恢复供水")
    desk.click("[data-testid=incident-close-submit]")
    expect(desk.locator("[data-testid=incident-state]")).to_contain_text("已解除")
    expect(desk.locator("[data-testid=incident-all-clear]")).to_contain_text("已恢复供水")
    assert desk.locator("meta[http-equiv=refresh]").count() == 0
    session.rollback()
    assert [n.event for n in session.scalars(sa.select(Notification).order_by(Notification.id))] == [
        "incident.raised", "incident.closed"]
    desk.click("[data-testid=nav-incidents]")
    expect(desk.locator("[data-testid=incident-state]")).to_have_text(re.compile("已解除"))


def test_a_refused_form_keeps_what_was_typed(new_desk, estate, session):
    desk = new_desk("wang")
    desk.goto("/console/incidents?lang=en")
    desk.fill("[data-testid=incident-title]", "Lift stuck in 5")
    desk.check("[data-testid=incident-buildings] input[value='5栋']")
    desk.fill("[data-testid=incident-knock]", "500")
    desk.locator("[data-testid=incident-knock]").evaluate("el => el.removeAttribute('max')")
    desk.click("[data-testid=incident-submit]")
    expect(desk.locator("[data-testid=failed]")).to_be_visible()
    expect(desk.locator("[data-testid=incident-title]")).to_have_value("Lift stuck in 5")
    expect(desk.locator("[data-testid=incident-buildings] input[value='5栋']")).to_be_checked()
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0
