"""A custody inspection in real Chromium against a live server: the butler's phone lists the home
whose inspection is overdue, goes offline, answers every contracted service with a photo, comes back
online and syncs; the owner's report link then shows the inspection and its photo, and the
resident's home screen its findings."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import current_app

from server.custody import report as reports
from server.custody.models import CustodyContract, CustodyInspection
from server.extensions import db
from tests.browser.conftest import log_in, synced, wait_until_controlled
from tests.browser.test_photos import as_file, camera_jpeg
from tests.factories import PASSWORD, _save, make_user

pytestmark = pytest.mark.browser


def test_a_butler_inspects_a_home_in_custody_offline_and_the_owner_s_report_shows_it(phone, new_phone, estate, session):
    home = estate["home"]
    _save(CustodyContract(household_id=home.id, owner_name="陈业主", start_date=date.today() - timedelta(days=30),
                          end_date=None, services=["airing", "leak_check"], inspection_every_days=14))
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    row = phone.locator(f"[data-testid=custody-due-row][data-id='{home.id}']")
    row.wait_for()
    assert row.get_attribute("data-state") == "overdue"

    phone.context.set_offline(True)
    row.click()
    phone.locator("[data-testid=custody-form]").wait_for()
    phone.locator("[data-testid=custody-item][data-key=airing] [data-testid=custody-ok]").click()
    assert phone.locator("[data-testid=save-custody]").is_disabled()  # the leak check is not answered yet
    leak = phone.locator("[data-testid=custody-item][data-key=leak_check]")
    leak.locator("[data-testid=custody-problem]").click()
    leak.locator("[data-testid=custody-note]").fill("卫生间天花板渗水")
    phone.locator("[data-testid=custody-photo-gallery]").set_input_files(as_file(camera_jpeg(seed=3), "ceiling.jpg"))
    phone.locator("[data-testid=custody-photos] [data-testid=form-photo]").wait_for()
    phone.fill("[data-testid=custody-done]", "关闭总水阀，通知业主")
    phone.click("[data-testid=save-custody]")
    phone.wait_for_function("location.hash.startsWith('#/household/')")
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 2  # the inspection, then its photo
    assert session.scalar(sa.select(sa.func.count()).select_from(CustodyInspection)) == 0

    phone.context.set_offline(False)
    synced(phone)
    phone.wait_for_function("(() => { const p = window.guanjia.photos.progress(); return p.count === 1 && p.done === 1; })()",
                            timeout=30000)
    session.rollback()
    inspection = session.scalar(sa.select(CustodyInspection))
    assert inspection.checklist["leak_check"] == {"ok": False, "note": "卫生间天花板渗水"}
    assert inspection.butler_id == estate["butler"].id

    supervisor = make_user("supervisor", community_id=estate["community"].id)
    _, token = reports.create_link(db.session, user=supervisor, household_id=home.id,
                                   month=inspection.inspected_at.astimezone(ZoneInfo("Asia/Shanghai")).date(),
                                   secret=current_app.config["SECRET_KEY"])
    db.session.commit()
    owner = new_phone()
    owner.goto(f"/custody-report/{token}")
    owner.locator("[data-testid=report-inspection]").wait_for()
    assert "关闭总水阀，通知业主" in owner.locator("[data-testid=report-done]").inner_text()
    assert "卫生间天花板渗水" in owner.locator("[data-testid=report-problems]").inner_text()
    photo = owner.locator("[data-testid=report-photo]")
    photo.wait_for()
    owner.wait_for_function("document.querySelector('[data-testid=report-photo]').naturalWidth > 0")
    # The owner, as the household's resident in the app, reads the same on their home screen.
    resident = new_phone()
    log_in(resident, "liu", PASSWORD)
    resident.locator("[data-testid=custody-owner-last]").wait_for()
    assert "卫生间天花板渗水" in resident.locator("[data-testid=custody-owner-last]").inner_text()
