"""The phone side of notifications in real Chromium: the service worker's push and click handlers,
turning push on where no push service answers, and the open app's long poll (live.js).

Headless Chromium cannot subscribe for real (docs/platform-facts.md, "Web Push"): a push message is
delivered with CDP ServiceWorker.deliverPushMessage. No CDP command, Playwright call or browser flag
clicks a notification, so the click is a NotificationEvent made inside the worker, with the real
notification, and handed to the worker's own listener.
"""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.notify.models import PushSubscription
from tests.browser.conftest import log_in, synced
from tests.factories import PASSWORD, auth, make_community, make_grid, make_household, make_ticket, make_user
from tests.server.test_notify_outbox import AUTH, P256DH
from tests.support.app import database_url  # noqa: F401 - both databases: the live channel's NOTIFY

pytestmark = pytest.mark.browser

NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data, icon: n.icon }))"""

# In the worker: the shown notification's click, handed to the worker's listener. A script-made
# event cannot extend its own life (waitUntil throws), so the test keeps the promise and awaits it.
CLICK = """async (tag) => {
    const [notification] = await self.registration.getNotifications({ tag });
    if (!notification) throw new Error("no notification " + tag);
    const event = new NotificationEvent("notificationclick", { notification });
    let done = Promise.resolve();
    event.waitUntil = (promise) => { done = promise; };
    self.dispatchEvent(event);
    await done;
}"""


@pytest.fixture
def keyed(vapid_key):
    """The server has a VAPID key, so the app gets as far as asking the push service."""
    return vapid_key


@pytest.fixture
def grid(session):
    community = make_community()
    butler = make_user("butler", username="li", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    mine = make_grid(community, butler)
    household = make_household(community, mine, building="3", unit="1", room="101")
    return SimpleNamespace(community=community, butler=butler, supervisor=supervisor, grid=mine, household=household)


def logged_in(phone, *, notifications: bool = True):
    """Log in as the butler and wait until the service worker controls the page."""
    if notifications:
        phone.context.grant_permissions(["notifications"])
    log_in(phone, "li", PASSWORD)
    phone.wait_for_function("navigator.serviceWorker.controller !== null")
    synced(phone)
    return phone


# The pushes the worker passed on to the page, kept by a listener the test adds; returns how many.
PAGE_PUSHES = """() => {
    if (!window.pushes) {
        window.pushes = [];
        navigator.serviceWorker.addEventListener("message", (event) => {
            if (event.data && event.data.type === "push") window.pushes.push(event.data.payload);
        });
    }
    return window.pushes.length;
}"""


def deliver_push(phone, origin: str, data: str) -> None:
    """A push message to the app's service worker, as the push service would hand it to Chromium;
    returns once the worker has shown its notification and told the page (in that order).

    Chromium may drop a notification whose showing overlaps a getNotifications() call, so the test
    reads them only after the page has heard of the push."""
    seen = phone.evaluate(PAGE_PUSHES)
    cdp = phone.context.new_cdp_session(phone)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(r for r in event["registrations"] if not r["isDeleted"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        phone.wait_for_timeout(50)
    assert registrations, "no service worker registration reported"
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": origin, "registrationId": registrations[0]["registrationId"], "data": data})
    phone.wait_for_function("(seen) => window.pushes.length > seen", arg=seen)
    cdp.detach()


def shown(phone, count: int = 1, timeout: float = 10) -> list[dict]:
    """The notifications the app shows, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        notes = phone.evaluate(NOTIFICATIONS)
        if len(notes) >= count or time.monotonic() > deadline:
            return notes
        phone.wait_for_timeout(100)


def sync_posts(served) -> int:
    return served.requests.count("POST /api/v1/sync")


def live_running(phone) -> bool:
    return phone.evaluate("import('/js/live.js').then((live) => live.running())")


def polls(served) -> int:
    return sum(1 for r in served.requests if r.startswith("GET /api/v1/notifications"))


def wait_for(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ---- the service worker: push ---------------------------------------------------------------------

def test_a_push_shows_a_chinese_notification_and_makes_the_open_app_sync(phone, grid, served):
    ticket = make_ticket(grid.household, status="dispatched", assignee_id=grid.butler.id)
    logged_in(phone)
    before = sync_posts(served)
    payload = {"event": "ticket.created", "id": ticket.id, "title": "报修 · 3栋 1单元 101"}
    deliver_push(phone, served.url, json.dumps(payload))
    [note] = shown(phone)
    assert (note["title"], note["body"], note["tag"]) == ("新工单", "报修 · 3栋 1单元 101", f"ticket-{ticket.id}")
    assert note["data"] == {"id": ticket.id, "event": "ticket.created"}
    assert note["icon"].endswith("/icons/icon-192.png")
    assert phone.evaluate("window.pushes") == [payload]  # passed on to the open page
    assert wait_for(lambda: sync_posts(served) > before), "the open app did not sync after the push"


def test_pushes_about_one_ticket_replace_each_other_and_each_event_has_its_title(phone, grid, served):
    logged_in(phone)
    for event in ("ticket.created", "ticket.updated", "ticket.escalated"):
        deliver_push(phone, served.url, json.dumps({"event": event, "id": "t-1", "title": "报修 · 3栋"}))
        expected = {"ticket.created": "新工单", "ticket.updated": "工单有更新", "ticket.escalated": "工单已超时"}[event]
        # One per ticket: the newest replaces the last (Chromium swaps them, not atomically).
        assert wait_for(lambda: [n["title"] for n in phone.evaluate(NOTIFICATIONS)] == [expected]), (
            event, phone.evaluate(NOTIFICATIONS))


def test_a_push_with_garbage_or_no_data_still_shows_a_notification(phone, grid, served):
    logged_in(phone)
    deliver_push(phone, served.url, "not json {")
    [note] = shown(phone)
    assert note["title"] == "睿管家 通知"
    deliver_push(phone, served.url, json.dumps({"event": "something.else", "id": "x9", "title": "其他"}))
    notes = shown(phone, 2)
    assert {(n["title"], n["body"]) for n in notes} == {("睿管家 通知", ""), ("睿管家 通知", "其他")}


# ---- the service worker: a tapped notification ------------------------------------------------------

def test_tapping_the_notification_opens_the_ticket_in_the_open_app_and_syncs(phone, grid, served):
    ticket = make_ticket(grid.household, status="dispatched", assignee_id=grid.butler.id, description="厨房水龙头漏水")
    logged_in(phone)
    phone.goto("/#/grid")
    phone.wait_for_function("window.guanjia && window.guanjia.store.meta.token")
    deliver_push(phone, served.url, json.dumps({"event": "ticket.created", "id": ticket.id, "title": "报修"}))
    [note] = shown(phone)
    [worker] = phone.context.service_workers
    before = sync_posts(served)
    worker.evaluate(CLICK, note["tag"])
    phone.wait_for_function(f"location.hash === {json.dumps('#/ticket/' + ticket.id)}")
    expect(phone.locator("[data-testid=ticket-description]")).to_have_text("厨房水龙头漏水")
    assert phone.evaluate(NOTIFICATIONS) == []  # closed when tapped
    assert wait_for(lambda: sync_posts(served) > before), "the app did not sync after the tap"


# ---- turning push on where no push service answers --------------------------------------------------

def test_turning_on_push_where_chromium_has_no_push_service_says_unavailable(phone, grid, served, keyed):
    """Headless Chromium has no push service: subscribe() fails, or never settles (as where Google's
    service is blocked). Either way the screen says so, soon, and the in-app channel carries on."""
    logs = []
    phone.on("console", lambda message: logs.append(message.text))
    logged_in(phone)
    phone.click("#nav a[href='#/sync']")
    state = phone.locator("[data-testid=push-state]")
    expect(state).to_have_attribute("data-state", "off")
    expect(state).to_have_text("未开启")
    assert "null" not in phone.locator("[data-testid=push]").inner_text()
    started = time.monotonic()
    phone.click("[data-testid=push-toggle]")
    expect(state).to_have_attribute("data-state", "unavailable", timeout=20_000)
    assert time.monotonic() - started < 20
    expect(state).to_have_text("推送服务不可用（如网络屏蔽），已改用应用内提醒")
    assert state.get_attribute("data-reason") in ("push_service", "timeout"), logs
    assert "GET /api/v1/push/key" in served.requests  # the key came; the push service failed
    assert "POST /api/v1/push/subscriptions" not in served.requests
    expect(phone.locator("[data-testid=push-toggle]")).to_have_text("开启推送")  # may be tried again
    assert live_running(phone)  # the other channel runs
    synced(phone)
    phone.reload()
    phone.click("#nav a[href='#/sync']")
    expect(phone.locator("[data-testid=push-state]")).to_have_attribute("data-state", "unavailable")


def test_a_subscription_that_never_settles_is_given_up_after_ten_seconds(phone, grid, served, keyed):
    # The push service out of reach: subscribe() neither resolves nor fails (docs/platform-facts.md).
    phone.context.add_init_script("PushManager.prototype.subscribe = () => new Promise(() => {});")
    logged_in(phone)
    phone.click("#nav a[href='#/sync']")
    started = time.monotonic()
    phone.click("[data-testid=push-toggle]")
    toggle = phone.locator("[data-testid=push-toggle]")
    expect(toggle).to_be_disabled()
    expect(toggle).to_have_text("请稍候…")
    state = phone.locator("[data-testid=push-state]")
    expect(state).to_have_attribute("data-state", "unavailable", timeout=20_000)
    assert 9 < time.monotonic() - started < 20
    assert state.get_attribute("data-reason") == "timeout"
    expect(state).to_have_text("推送服务不可用（如网络屏蔽），已改用应用内提醒")
    expect(toggle).to_be_enabled()
    assert live_running(phone)
    synced(phone)  # nothing else waited for it


# A push service that answers (the browser's side only): subscribe() gives a subscription to an allowed
# host with real-looking keys; the server stores it as it would any other.
FAKE_PUSH_SERVICE = """(() => {
    let current = null;
    PushManager.prototype.getSubscription = async () => current;
    PushManager.prototype.subscribe = async (options) => {
        current = {
            endpoint: "https://fcm.googleapis.com/fcm/send/test-phone",
            options: { applicationServerKey: options.applicationServerKey.buffer },
            toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: "%s", auth: "%s" } }; },
            async unsubscribe() { current = null; return true; },
        };
        return current;
    };
})();""" % (P256DH, AUTH)


def test_push_is_turned_on_and_off_from_the_sync_screen_and_the_server_follows(phone, grid, served, keyed, session):
    phone.context.add_init_script(FAKE_PUSH_SERVICE)
    logged_in(phone)
    phone.click("#nav a[href='#/sync']")
    toggle, state = phone.locator("[data-testid=push-toggle]"), phone.locator("[data-testid=push-state]")
    toggle.click()
    expect(state).to_have_attribute("data-state", "on")
    expect(state).to_have_text("已开启")
    expect(toggle).to_have_text("关闭推送")
    session.rollback()
    [stored] = session.scalars(sa.select(PushSubscription)).all()
    assert (stored.user_id, stored.endpoint) == (grid.butler.id, "https://fcm.googleapis.com/fcm/send/test-phone")
    assert phone.evaluate("window.guanjia.store.meta.push") == {
        "state": "on", "id": stored.id, "endpoint": "https://fcm.googleapis.com/fcm/send/test-phone"}
    toggle.click()
    expect(state).to_have_attribute("data-state", "off")
    expect(toggle).to_have_text("开启推送")
    assert f"DELETE /api/v1/push/subscriptions/{stored.id}" in served.requests
    session.rollback()
    assert session.scalars(sa.select(PushSubscription)).all() == []


def test_without_a_server_key_push_is_unavailable_at_once(phone, grid, served):
    logged_in(phone)
    phone.click("#nav a[href='#/sync']")
    phone.click("[data-testid=push-toggle]")
    state = phone.locator("[data-testid=push-state]")
    expect(state).to_have_attribute("data-state", "unavailable")
    assert state.get_attribute("data-reason") == "no_key"


def test_refused_notifications_say_how_to_allow_them(phone, grid):
    logged_in(phone, notifications=False)
    phone.evaluate("""() => Object.defineProperty(Notification, "permission", { get: () => "denied" })""")
    phone.click("#nav a[href='#/sync']")
    state = phone.locator("[data-testid=push-state]")
    expect(state).to_have_attribute("data-state", "denied")
    expect(state).to_have_text("已被拒绝，请在系统设置中允许")
    expect(phone.locator("[data-testid=push-toggle]")).to_have_count(0)


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def test_an_iphone_outside_the_home_screen_is_told_to_add_the_app_there(chromium, served, grid):
    context = chromium.new_context(base_url=served.url, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                   service_workers="allow", user_agent=IPHONE)
    try:
        phone = context.new_page()
        log_in(phone, "li", PASSWORD)
        phone.click("#nav a[href='#/sync']")
        state = phone.locator("[data-testid=push-state]")
        expect(state).to_have_attribute("data-state", "unsupported")
        expect(state).to_have_text("此设备不支持推送，已改用应用内提醒")
        expect(phone.locator("[data-testid=push]")).to_contain_text("添加到主屏幕")
        expect(phone.locator("[data-testid=push-toggle]")).to_have_count(0)
    finally:
        context.close()


# ---- the open app's channel: the long poll --------------------------------------------------------

def test_a_new_ticket_for_the_butler_shows_in_the_open_app_within_seconds(phone, grid, served, client):
    logged_in(phone)
    phone.click("#nav a[href='#/tickets']")
    assert wait_for(lambda: live_running(phone))
    # The loop has its starting point once it waits with `after`.
    assert wait_for(lambda: any(r.startswith("GET /api/v1/notifications") for r in served.requests))
    phone.evaluate("window.notReloaded = true")
    phone.wait_for_timeout(500)
    answer = client.post("/api/v1/tickets", json={"household_id": grid.household.id, "category": "repair",
                                                  "description": "楼道灯不亮", "assignee_id": grid.butler.id},
                         headers=auth(grid.supervisor))
    assert answer.status_code in (200, 201), answer.get_json()
    tid = answer.get_json()["id"]
    toast = phone.locator("[data-testid=live-toast]")
    expect(toast).to_contain_text("新工单：", timeout=8000)
    expect(phone.locator(f"[data-testid=ticket-row][data-id='{tid}']")).to_have_count(1, timeout=8000)
    assert phone.evaluate("window.notReloaded === true")  # no reload
    toast.click()
    phone.wait_for_function(f"location.hash === {json.dumps('#/ticket/' + tid)}")
    expect(phone.locator("[data-testid=ticket-description]")).to_have_text("楼道灯不亮")


def test_the_long_poll_never_runs_twice_stops_offline_and_after_logout_and_restarts_online(phone, grid, served):
    logged_in(phone)
    assert wait_for(lambda: polls(served) >= 2)  # the starting point, then the long poll in flight
    # Starts and visibility changes while a poll waits start no second one.
    phone.evaluate("""async () => {
        const live = await import('/js/live.js');
        for (let i = 0; i < 5; i++) { live.start(); document.dispatchEvent(new Event('visibilitychange')); }
    }""")
    before = polls(served)
    phone.wait_for_timeout(1500)
    assert polls(served) == before
    # Offline: the poll fails and the loop ends; back online, it starts again.
    phone.context.set_offline(True)
    assert wait_for(lambda: not live_running(phone))
    before = polls(served)
    phone.context.set_offline(False)
    assert wait_for(lambda: polls(served) > before)
    assert live_running(phone)
    # Logged out (offline, so that the waiting poll ends at once): no poll afterwards.
    phone.context.set_offline(True)
    assert wait_for(lambda: not live_running(phone))
    phone.click("#nav a[href='#/sync']")
    phone.click("[data-testid=logout]")
    expect(phone.locator("#login")).to_be_visible()
    phone.context.set_offline(False)
    before = polls(served)
    phone.wait_for_timeout(2000)
    assert polls(served) == before
    assert not live_running(phone)
