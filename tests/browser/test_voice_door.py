"""A butler records an answer given at the door (上门征询) for a household of their grid, in real Chromium."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.voice.models import PollAnswer
from tests.browser.conftest import log_in, synced
from tests.browser.test_voice import vote  # noqa: F401 - the fixture
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_butler_records_a_door_answer_for_a_household_of_their_grid(phone, vote, session):  # noqa: F811
    log_in(phone, "li", PASSWORD)
    phone.click("#nav a[href='#/voice']")
    phone.click(f"[data-testid=poll-row][data-id='{vote.id}']")
    phone.select_option("[data-testid=poll-household]", label="1栋 1单元 101")
    phone.click("[data-testid=poll-choice][data-value=no]")
    phone.click("[data-testid=poll-submit]")
    synced(phone)
    expect(phone.locator("[data-testid=poll-state]")).to_have_attribute("data-state", "submitted")
    session.rollback()
    answer = session.scalars(sa.select(PollAnswer)).one()
    assert (answer.source, answer.answers) == ("butler", [{"question_id": "q1", "options": ["no"]}])
