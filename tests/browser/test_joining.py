"""Joining a household on phones in real Chromium (360×640): the butler issues an invite and shows
its code and QR code; a new resident opens the link, chooses a username and password, and lands on
the resident home of that household. Offline, the butler's phone says it cannot issue one."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.auth.models import User
from server.extensions import db
from server.joining.models import Invite
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_community, make_grid, make_household, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def estate(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    grid = make_grid(community, butler)
    home = make_household(community, grid, building="3栋", unit="2单元", room="1201")
    return {"butler": butler, "home": home, "home_id": home.id}


def test_butler_invites_and_a_new_resident_joins_through_the_link(new_phone, served, estate):
    butler_phone = new_phone()
    log_in(butler_phone, "li", PASSWORD)
    butler_phone.goto(f"/#/household/{estate['home'].id}")
    butler_phone.click("[data-testid=do-invite]")
    butler_phone.check("input[name=household_role][value=family]")
    butler_phone.click("[data-testid=issue-invite]")
    code_text = butler_phone.locator("[data-testid=invite-code]")
    expect(code_text).to_have_text(re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$"))
    qr = butler_phone.locator("[data-testid=invite-qr]")
    expect(qr).to_be_visible()
    qr.evaluate("img => img.decode()")  # the SVG drew (a broken image refuses)
    assert qr.evaluate("img => img.naturalWidth > 0")
    box = qr.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # fits the phone's width
    code = code_text.inner_text().replace("-", "")
    # The link in the QR code is the join screen with the code; the code is kept only as a hash.
    db.session.rollback()  # a fresh read: the test's own session may hold an older snapshot
    assert db.session.scalars(sa.select(Invite.code_hash)).one() != code
    db.session.rollback()

    newcomer = new_phone()
    newcomer.goto(f"/#/join?code={code}")
    expect(newcomer.locator("[data-testid=join-code]")).to_have_value(f"{code[:4]}-{code[4:]}")
    newcomer.fill("input[name=name]", "张小明")
    newcomer.fill("input[name=username]", "zhangxm")
    newcomer.fill("input[name=new-password]", "a good password")
    newcomer.click("[data-testid=join-submit]")
    expect(newcomer.locator("[data-testid=resident-home]")).to_be_visible()
    expect(newcomer.locator("[data-testid=my-address]")).to_contain_text("1201")
    db.session.rollback()
    joined = db.session.scalars(sa.select(User).where(User.username == "zhangxm")).one()
    assert (joined.household_id, joined.household_role) == (estate["home"].id, "family")


def test_the_login_screen_leads_to_typing_a_code(phone, served, estate):
    phone.goto("/")
    phone.click("[data-testid=link-join]")
    expect(phone.locator("#join")).to_be_visible()
    phone.fill("[data-testid=join-code]", "ABCD-EFGH")
    phone.fill("input[name=name]", "王")
    phone.fill("input[name=username]", "wang")
    phone.fill("input[name=new-password]", "a good password")
    phone.click("[data-testid=join-submit]")
    expect(phone.locator("[data-testid=join-error]")).to_contain_text("邀请码无效")


def test_offline_the_butler_is_told_an_invite_needs_the_network_and_keeps_the_choice(new_phone, served, estate):
    page = new_phone()
    log_in(page, "li", PASSWORD)
    page.goto(f"/#/household/{estate['home'].id}")
    page.click("[data-testid=do-invite]")
    page.check("input[name=household_role][value=tenant]")
    page.context.set_offline(True)
    page.click("[data-testid=issue-invite]")
    expect(page.locator("[data-testid=invite-error]")).to_contain_text("没有网络，无法生成邀请码")
    expect(page.locator("input[name=household_role][value=tenant]")).to_be_checked()
    page.context.set_offline(False)
    page.click("[data-testid=issue-invite]")
    expect(page.locator("[data-testid=invite-code]")).to_be_visible()
    db.session.rollback()
    assert db.session.scalars(sa.select(Invite.household_role)).one() == "tenant"
    db.session.rollback()
