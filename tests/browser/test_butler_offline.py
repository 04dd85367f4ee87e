"""A butler's day with no signal, through the app's own storage and sync (real Chromium, real server)."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.community.models import Person
from server.visits.models import Touchpoint, Visit
from tests.browser.conftest import log_in, synced, wait_until_controlled, work_requests
from tests.factories import PASSWORD, complete_visit, make_community, make_grid, make_household, make_person, make_user
from tests.support.app import database_url  # noqa: F401 - both databases: the day's fast push

pytestmark = pytest.mark.browser


@pytest.fixture
def grid(session):
    community = make_community()
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    grid = make_grid(community, butler)
    households = [make_household(community, grid, building="3", unit="1", room=f"{i}01") for i in range(1, 4)]
    person = make_person(households[0], name="王奶奶")
    return {"butler": butler, "households": households, "person": person}


def test_work_recorded_offline_survives_reloads_and_reaches_the_server_once(phone, served, grid, session):
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    hid, pid = grid["households"][0].id, grid["person"].id
    phone.context.set_offline(True)
    served.requests.clear()
    phone.reload()
    phone.wait_for_function("window.guanjia && window.guanjia.store.all('household').length === 3")
    vid, tid = str(uuid.uuid4()), str(uuid.uuid4())
    phone.evaluate("""async ([hid, pid, vid, tid, answered]) => {
        const s = window.guanjia.store;
        await s.save("visit", vid, {...answered, household_id: hid, visited_at: new Date().toISOString(),
                                     kind: "routine", satisfaction: 5, notes: "离线记录的入户"});
        await s.save("person", pid, {notes: "腿脚不便"});
        await s.save("touchpoint", tid, {household_id: hid, at: new Date().toISOString(), channel: "visit"});
    }""", [hid, pid, vid, tid, complete_visit()])
    phone.reload()
    phone.wait_for_function("window.guanjia && window.guanjia.store.unsentCount() === 3")
    assert phone.evaluate("([pid]) => window.guanjia.store.get('person', pid).notes", [pid]) == "腿脚不便"
    assert work_requests(served.requests) == []
    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    session.rollback()  # a fresh snapshot: the server wrote from its own connections
    assert session.get(Visit, vid).notes == "离线记录的入户"
    assert session.get(Person, pid).notes == "腿脚不便"
    assert session.scalar(sa.select(sa.func.count()).select_from(Touchpoint).where(Touchpoint.id == tid)) == 1
    synced(phone)  # a second round sends nothing again
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.id == vid)) == 1


def test_background_sync_from_the_service_worker_makes_the_page_sync(phone, served, grid):
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    cdp = phone.context.new_cdp_session(phone)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    phone.wait_for_timeout(300)
    served.requests.clear()
    cdp.send("ServiceWorker.dispatchSyncEvent", {"origin": served.url, "registrationId": registrations[0]["registrationId"],
                                                  "tag": "guanjia-sync", "lastChance": False})
    phone.wait_for_function("!window.guanjia.sync.getStatus().running")
    phone.wait_for_timeout(500)
    assert "POST /api/v1/sync" in served.requests


def test_a_reset_rebuilds_the_phone_and_work_saved_before_it_still_arrives(phone, served, grid, session, client, runner):
    from datetime import datetime, timezone

    from tests.factories import auth

    log_in(phone, "li", PASSWORD)
    synced(phone)
    gone, kept = grid["person"].id, grid["households"][1].id
    assert client.delete(f"/api/v1/persons/{gone}", headers=auth(grid["butler"])).status_code in (200, 204)
    session.execute(sa.text("UPDATE person SET updated_at = :old"), {"old": datetime(2020, 1, 1, tzinfo=timezone.utc)})
    session.commit()
    assert runner.invoke(args=["sync-purge", "--days", "30"]).exit_code == 0  # the phone's cursor is now too old
    phone.context.set_offline(True)
    vid = str(uuid.uuid4())
    phone.evaluate("""([hid, vid, answered]) => window.guanjia.store.save("visit", vid, {...answered, household_id: hid,
        visited_at: new Date().toISOString(), notes: "重置前记录"})""", [kept, vid, complete_visit()])
    phone.context.set_offline(False)
    synced(phone)
    assert phone.evaluate("([pid]) => window.guanjia.store.get('person', pid)", [gone]) is None
    assert phone.evaluate("window.guanjia.store.all('household').length") == 3
    session.rollback()
    assert session.get(Visit, vid).notes == "重置前记录"
    phone.reload()  # and IndexedDB holds the same
    phone.wait_for_function("window.guanjia && window.guanjia.store.all('household').length === 3")
    assert phone.evaluate("([pid]) => window.guanjia.store.get('person', pid)", [gone]) is None
