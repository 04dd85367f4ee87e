"""The butler's phone in real Chromium: the link to 入住申请 on the grid screen shows how many requests
wait, and the number rises while the app is open when a resident asks to join (the live channel),
with no reload; a tap opens the list with the new request."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def estate(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    home = make_household(community, make_grid(community, butler), building="3栋", unit="2单元", room="1201")
    return {"community": community, "home": home}


def test_the_count_of_waiting_requests_follows_a_new_request(phone, served, estate):
    log_in(phone, "li", PASSWORD)
    link = phone.locator("[data-testid=join-requests-link]")
    expect(link).to_have_attribute("data-count", "0")
    phone.wait_for_timeout(500)  # the live channel has its starting cursor
    r = requests.post(f"{served.url}/api/v1/join/requests", timeout=10, json={
        "community_id": estate["community"].id, "building": "3栋", "unit": "2单元", "room": "1201",
        "owner_name": "王芳", "household_role": "tenant", "username": "asker", "password": "new resident pw",
        "name": "孙女士"})
    assert r.status_code == 201, r.text
    expect(link).to_have_attribute("data-count", "1", timeout=15000)
    expect(link).to_contain_text("1")
    expect(phone.locator("[data-testid=live-toast]")).to_contain_text("入住申请 · 3栋2单元")
    link.click()
    expect(phone.locator("[data-testid=join-requests]")).to_contain_text("孙女士")
