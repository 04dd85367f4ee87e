"""The app shell in real Chromium: Chinese first, and a login that reaches the API."""
from __future__ import annotations

from tests.factories import PASSWORD, make_user

import pytest

pytestmark = pytest.mark.browser


def test_shell_speaks_chinese_first(page):
    page.goto("/")
    assert page.title() == "睿管家"
    assert page.locator("#login h2").inner_text() == "登录"


def test_butler_logs_in_and_reaches_their_grid(page):
    make_user("butler", name="李管家", username="li")
    page.goto("/")
    page.fill("input[name=username]", "li")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=households]", state="attached")
    assert page.evaluate("window.guanjia.store.meta.user.name") == "李管家"


def test_wrong_password_shows_the_server_s_message(page):
    make_user("butler", username="li")
    page.goto("/")
    page.fill("input[name=username]", "li")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    error = page.locator("#login .error")
    error.wait_for(state="visible")
    assert error.inner_text() == "用户名或密码不正确。"


def test_english_can_be_chosen(page):
    page.goto("/")
    page.click("#lang")
    assert page.locator("#login h2").inner_text() == "Log in"
