"""修改密码 on a phone (360×640, real Chromium): a technician logs in with the one-time password a
supervisor handed over, is asked to set their own before anything else, does so, and lands on their
jobs; and anyone may change theirs later from the account card, online only."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.auth.models import User
from server.teams import people
from tests.browser.conftest import log_in, synced
from tests.factories import (PASSWORD, make_community, make_grid, make_household, make_team, make_ticket,
                             make_user)

pytestmark = pytest.mark.browser

OWN = "zhou's own words"


@pytest.fixture
def technician(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="5栋", unit="1单元", room="302")
    team = make_team(community, "engineering", name="工程部")
    supervisor = make_user("supervisor", community_id=community.id)
    user, one_time = people.create_technician(session, actor=supervisor, team_id=team.id, username="zhou",
                                              name="周师傅")
    session.commit()
    job = make_ticket(household, status="accepted", assignee_id=user.id, team_id=team.id,
                      description="厨房水管漏水", address="5栋-1单元-302")
    return {"user": user, "one_time": one_time, "job": job}


def test_a_technician_sets_their_own_password_at_first_login_and_lands_on_their_jobs(phone, technician, session):
    assert phone.viewport_size == {"width": 360, "height": 640}
    phone.goto("/")
    phone.fill("input[name=username]", "zhou")
    phone.fill("input[name=password]", technician["one_time"])
    phone.click("button[type=submit]")

    screen = phone.locator("[data-testid=password-screen]")
    expect(screen).to_have_attribute("data-forced", "true")
    expect(screen.locator("h2")).to_have_text("请先修改密码")
    expect(phone.locator("#nav a")).to_have_count(0)  # nothing else to go to yet
    assert phone.evaluate("window.guanjia.store.meta.lastSync ?? null") is None  # and nothing synced

    # A wrong current password is said beside its field, in Chinese.
    phone.fill("[data-testid=current-password]", "not the one")
    phone.fill("[data-testid=new-password]", OWN)
    phone.click("[data-testid=save-password]")
    expect(phone.locator("[data-testid=error-current_password]")).to_have_text("当前密码不正确。")
    expect(phone.locator("[data-testid=current-password]")).to_have_attribute("aria-invalid", "true")

    # The show-password box shows what is typed, for old eyes and small keyboards.
    phone.fill("[data-testid=current-password]", technician["one_time"])
    phone.check("[data-testid=show-password]")
    expect(phone.locator("[data-testid=new-password]")).to_have_attribute("type", "text")
    button = phone.locator("[data-testid=save-password]")
    box = button.bounding_box()
    assert box["height"] >= 48 and box["x"] >= 0 and box["x"] + box["width"] <= 360  # big, and on the screen
    button.click()

    # Home: their jobs, synced.
    phone.wait_for_function("window.guanjia.store.meta.lastSync")
    expect(phone.locator("#nav a")).to_have_text(["我的工单", "抢单", "同步"])
    assert phone.evaluate("location.hash") in ("#/", "#/jobs", "")
    expect(phone.locator("[data-testid=jobs-mine] [data-testid=ticket-row]")).to_have_count(1)
    expect(phone.locator("[data-testid=jobs-mine]")).to_contain_text("5栋-1单元-302")
    session.expire_all()
    assert session.scalar(sa.select(User.must_change_password).where(User.username == "zhou")) is False


def test_a_butler_changes_their_password_from_the_account_card_and_offline_is_said_plainly(phone, technician):
    log_in(phone, "li", PASSWORD)
    synced(phone)
    phone.click("#nav a:has-text('同步')")
    phone.click("[data-testid=change-password]")
    screen = phone.locator("[data-testid=password-screen]")
    expect(screen).to_have_attribute("data-forced", "false")
    expect(screen.locator("h2")).to_have_text("修改密码")

    phone.context.set_offline(True)
    expect(phone.locator("[data-testid=password-offline]")).to_be_visible()
    expect(phone.locator("[data-testid=password-offline]")).to_contain_text("现在没有网络")
    expect(phone.locator("[data-testid=save-password]")).to_be_disabled()
    phone.fill("[data-testid=current-password]", PASSWORD)
    phone.fill("[data-testid=new-password]", "li's better password")
    phone.context.set_offline(False)
    expect(phone.locator("[data-testid=password-offline]")).to_be_hidden()
    expect(phone.locator("[data-testid=current-password]")).to_have_value(PASSWORD)  # what was typed stays
    phone.click("[data-testid=save-password]")
    expect(phone.locator("[data-testid=password-done]")).to_be_visible()  # the server has answered
    expect(phone.locator("[data-testid=password-done]")).to_contain_text("密码已修改")
    expect(phone.locator("[data-testid=current-password]")).to_have_value("")

    # English is one tap away (a screen holding a form keeps what is typed and speaks English when next opened).
    phone.click("#lang")
    phone.click("#nav a:has-text('Sync')")
    phone.click("[data-testid=change-password]")
    expect(screen.locator("h2")).to_have_text("Change password")
    expect(phone.locator("[data-testid=save-password]")).to_have_text("Save the new password")
