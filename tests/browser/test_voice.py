"""The community's voice in real Chromium: a resident answers a vote with no signal, it syncs when the
signal comes back, and the supervisor's console counts it exactly once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.voice.models import Poll, PollAnswer
from tests.browser.conftest import log_in, synced
from tests.factories import PASSWORD, _save, make_community, make_grid, make_household, make_user

pytestmark = pytest.mark.browser

NOW = datetime.now(timezone.utc)


@pytest.fixture
def vote(session):
    """翠湖花园 with 刘女士's home in 李管家's grid, its supervisor, and an open vote on a lift."""
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    home = make_household(community, make_grid(community, butler), building="1栋", unit="1单元", room="101")
    make_user("resident", username="liu", name="刘女士", community_id=community.id, household_id=home.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    return _save(Poll(community_id=community.id, title="加装电梯表决", kind="vote", quorum=1,
                      questions=[{"id": "q1", "text": "是否同意加装电梯？", "type": "single",
                                  "options": [{"id": "yes", "text": "同意"}, {"id": "no", "text": "不同意"}]}],
                      opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(days=7)))


def test_a_vote_answered_offline_syncs_and_is_counted_once(phone, new_desk, vote, session):
    log_in(phone, "liu", PASSWORD)
    phone.wait_for_function("navigator.serviceWorker.controller !== null")
    synced(phone)
    phone.context.set_offline(True)
    phone.click("#nav a[href='#/voice']")
    phone.click(f"[data-testid=poll-row][data-id='{vote.id}']")
    phone.click("[data-testid=poll-choice][data-value=yes]")
    phone.click("[data-testid=poll-submit]")
    state = phone.locator("[data-testid=poll-state]")
    expect(state).to_have_attribute("data-state", "pending")
    expect(state).to_contain_text("待同步")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(PollAnswer)) == 0

    phone.context.set_offline(False)
    synced(phone)
    expect(state).to_have_attribute("data-state", "submitted")
    expect(state).to_contain_text("已提交")
    synced(phone)  # a second round sends nothing again

    desk = new_desk("wang")
    desk.goto(f"/console/polls/{vote.id}")
    expect(desk.locator("[data-testid=poll-count][data-label=同意]")).to_have_attribute("data-count", "1")
    expect(desk.locator("[data-testid=poll-count][data-label=不同意]")).to_have_attribute("data-count", "0")
    expect(desk.locator("[data-testid=poll-participation]")).to_contain_text("参与 1 / 1 户")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(PollAnswer)) == 1
