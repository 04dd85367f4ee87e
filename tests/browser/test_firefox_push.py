"""Real Web Push end to end in stock firefox-esr: subscribe, push with pywebpush, decrypt, `push` event.

Only the public push service is a stand-in (tests/support/autopush.py, Mozilla's autopush protocol);
Firefox's own push client, its RFC 8291 decryption and its service worker do the rest.

The first test is the browser alone, with a probe service worker. The second is the real thing: the
app (its API, its sw.js, its outbox) on a fresh database, the real `flask notify-worker` command,
and a resident's new ticket arriving in the butler's Firefox.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from types import SimpleNamespace
from urllib.parse import quote, quote_plus, urlencode

import pytest
import requests
from flask import request
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from server import ROOT, create_app
from server.extensions import db
from server.headers import POLICIES
from server.notify import vapid as vapid_keys
from tests.support.app import TEST_DATA_KEY, base_config, dispose, serving
from tests.factories import PASSWORD, auth, make_community, make_grid, make_household, make_user
from tests.support.pushservice import VapidKey, unb64url
from tests.support.site import ReportingSite

pytestmark = pytest.mark.browser

SUB = "mailto:ops@guanjia.example.cn"

PAGE = """<!doctype html><meta charset="utf-8"><title>push probe</title>
<script type="module">
const report = (kind, body) => fetch('/report/' + kind, {method: 'POST', body: JSON.stringify(body)});
try {
  const key = new URLSearchParams(location.search).get('key');
  const registration = await navigator.serviceWorker.register('/sw.js');
  await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key});
  await report('subscription', subscription.toJSON());
} catch (error) {
  await report('error', {where: 'page', error: String(error)});
}
</script>
"""

WORKER = """
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', event => event.waitUntil(self.clients.claim()));
self.addEventListener('push', event => {
  const text = event.data ? event.data.text() : null;
  event.waitUntil((async () => {
    let shown;
    try {
      await self.registration.showNotification('push probe', {body: text, tag: 'probe'});
      shown = (await self.registration.getNotifications({tag: 'probe'})).length;
    } catch (error) {
      shown = String(error);
    }
    await fetch('/report/push', {method: 'POST', body: JSON.stringify({text, shown})});
  })());
});
"""


@pytest.fixture
def probe(tmp_path):
    """A test-only page and service worker that subscribe and report back (ReportingSite)."""
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    (folder / "sw.js").write_text(WORKER, encoding="utf-8")
    with ReportingSite(folder) as site:
        yield site


def test_firefox_subscribes_and_its_service_worker_gets_the_decrypted_push(firefox, autopush_server, probe):
    vapid = VapidKey.generate()
    browser = firefox(f"{probe.url}/index.html?key={vapid.public_key}")

    subscription = probe.wait_for("subscription", explain=browser.explain)
    channel = autopush_server.wait_for_registration()
    assert subscription["endpoint"] == channel.endpoint
    assert channel.key == vapid.public_bytes            # Firefox passed on the applicationServerKey

    # A push signed with another key is refused by the push service and never reaches Firefox.
    with pytest.raises(WebPushException) as refused:
        webpush(subscription, "not for you", vapid_private_key=VapidKey.generate().vapid,
                vapid_claims={"sub": SUB}, ttl=60, timeout=5)
    assert refused.value.status_code == 403

    text = "李管家: 3 号楼 2 单元 501 的工单已完成 ✓"
    response = webpush(subscription, text, vapid_private_key=vapid.vapid, vapid_claims={"sub": SUB},
                       ttl=60, timeout=5, headers={"Urgency": "high", "Topic": "ticket-501"})
    assert response.status_code == 201

    pushed = probe.wait_for("push", explain=lambda: f"{autopush_server.describe()}\n{browser.explain()}")
    assert pushed["text"] == text
    assert pushed["shown"] == 1                          # showNotification works headless
    notification = autopush_server.wait_for_ack()
    assert notification.ack_code == 100                 # Firefox: delivered (not 101, decryption error)
    assert [r.status for r in autopush_server.endpoints.requests] == [403, 201]


# ---- the real app, the real worker command, the real sw.js ---------------------------------------

# A test-only page, added to a copy of pwa/ so that it is same-origin with the app and inside the
# real service worker's scope. Everything it needs comes in the URL's fragment (never sent to a
# server); it wipes the fragment at once. It reports to the test's ReportingSite, another origin:
# "no-cors" POSTs, whose bodies arrive (text/plain) though the page cannot read the answers.
E2E_HTML = """<!doctype html><meta charset="utf-8"><title>e2e: the butler's push</title>
<script type="module" src="/e2e.js"></script>
"""

E2E_JS = r"""
const params = new URLSearchParams(location.hash.slice(1));
history.replaceState(null, "", location.pathname);
const reportTo = params.get("report");
const report = (kind, body) => fetch(`${reportTo}/report/${kind}`,
  { method: "POST", mode: "no-cors", body: JSON.stringify(body) }).catch(() => {});
const fail = (where, error) => report("error", { where, error: String(error && error.stack || error) });
addEventListener("error", (event) => fail("page", event.message));
addEventListener("unhandledrejection", (event) => fail("page", event.reason));

// What the real sw.js posts to its pages on a push: report the payload, then the notification it showed.
navigator.serviceWorker.addEventListener("message", (event) => {
  if (event.data && event.data.type === "push") {
    report("push", event.data.payload);
    notificationOf(event.data.payload).catch((error) => fail("getNotifications", error));
  }
});
navigator.serviceWorker.startMessages();

async function notificationOf(payload) {
  // The worker shows its notification and posts to the pages at the same time: wait for it a little.
  const registration = await navigator.serviceWorker.ready;
  const tag = `ticket-${payload.id}`;
  let shown = [];
  for (let tries = 0; tries < 50 && shown.length === 0; tries++) {
    shown = await registration.getNotifications({ tag });
    if (shown.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await report("notification", shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })));
}

async function api(path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const post = body !== undefined;
  const response = await fetch(`/api/v1${path}`,
    { method: post ? "POST" : "GET", headers, body: post ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(data)}`);
  return { status: response.status, data };
}

try {
  const login = await api("/auth/login", { body: { username: params.get("username"),
    password: params.get("password"), device_name: "firefox-esr e2e" } });
  await navigator.serviceWorker.register("/sw.js");
  const registration = await navigator.serviceWorker.ready;  // the real worker, active
  const { data: { key } } = await api("/push/key");
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const answer = await api("/push/subscriptions", { token: login.data.token, body: subscription.toJSON() });
  await report("subscribed", { status: answer.status, answer: answer.data, endpoint: subscription.endpoint,
    key, worker: registration.active && registration.active.scriptURL });
} catch (error) {
  await fail("subscribe", error);
}
"""

WORKER_COMMAND = [sys.executable, "-m", "flask", "--app", "server", "notify-worker"]


class RealApp(SimpleNamespace):
    """The served app, its database file, its people, and the notify-worker process beside it."""

    def deliveries(self) -> list[tuple]:
        """(status, attempts, last_error) of every notification_delivery row, read from the file."""
        with contextlib.closing(sqlite3.connect(self.database, timeout=10)) as connection:
            return connection.execute("SELECT status, attempts, last_error FROM notification_delivery "
                                      "ORDER BY id").fetchall()

    def worker_log(self) -> str:
        text = self.worker_log_path.read_text("utf-8", "replace") if self.worker_log_path.exists() else ""
        return "--- notify-worker:\n" + ("\n".join(text.splitlines()[-40:]) or "(nothing)")

    def stop_worker(self, timeout: float = 20.0) -> int:
        """SIGTERM, as a service manager stops it; the worker finishes its round and exits 0."""
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(timeout)
        return self.worker.returncode


@pytest.fixture
def real_app(tmp_path, sqlite_template, pwa_dir):
    """The app on a fresh migrated SQLite file, serving a pwa/ copy with the e2e page; the real
    `flask notify-worker` running against the same file; a community with a butler and a resident."""
    (pwa_dir / "e2e.html").write_text(E2E_HTML, encoding="utf-8")
    (pwa_dir / "e2e.js").write_text(E2E_JS, encoding="utf-8")
    database = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, database)
    key = Vapid()
    key.generate_keys()
    pem = key.private_pem().decode()
    app = create_app({**base_config(tmp_path, f"sqlite:///{database}"), "PWA_DIR": str(pwa_dir),
                      "VAPID_PRIVATE_KEY": pem, "PUSH_ALLOWED_HOSTS": "127.0.0.1"})

    @app.after_request
    def _report_to_the_test(response):
        # The test's own page reports to the test, on another loopback port: its policy (and only
        # its) lets it. Set before the app's hook (server/headers.py), which keeps a policy set.
        if request.path == "/e2e.html":
            response.headers["Content-Security-Policy"] = POLICIES["pwa"].replace(
                "connect-src 'self'", "connect-src 'self' http://127.0.0.1:*")
        return response

    with app.app_context():
        community = make_community()
        butler = make_user("butler", community_id=community.id)
        household = make_household(community, make_grid(community, butler), building="3栋", unit="2单元")
        resident = make_user("resident", community_id=community.id, household_id=household.id, name="刘女士")
        people = SimpleNamespace(butler=butler.username, resident_name=resident.name,
                                 resident_headers=auth(resident))
        public_key = vapid_keys.public_key(vapid_keys.current())
        db.session.remove()
    # The real command, started now so that its start-up overlaps Firefox's. ESCALATE_EVERY_SECONDS=0:
    # only deliveries; a short poll so the test does not wait for it.
    env = {**os.environ, "GUANJIA_DATABASE_URL": f"sqlite:///{database}", "GUANJIA_DATA_KEY": TEST_DATA_KEY,
           "GUANJIA_SECRET_KEY": "test-secret", "GUANJIA_INSTANCE_PATH": str(tmp_path / "worker-instance"),
           "GUANJIA_VAPID_PRIVATE_KEY": pem, "GUANJIA_PUSH_ALLOWED_HOSTS": "127.0.0.1",
           "GUANJIA_NOTIFY_POLL_SECONDS": "0.1", "GUANJIA_ESCALATE_EVERY_SECONDS": "0",
           "GUANJIA_PUSH_TIMEOUT_SECONDS": "10"}
    worker_log_path = tmp_path / "notify-worker.log"
    with open(worker_log_path, "wb") as log:
        worker = subprocess.Popen(WORKER_COMMAND, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
    real = RealApp(app=app, database=database, people=people, public_key=public_key, worker=worker,
                   worker_log_path=worker_log_path, url="", requests=[])

    def logged(environ, start_response):  # every request line the app saw, query included
        real.requests.append(f"{environ['REQUEST_METHOD']} {environ.get('REQUEST_URI') or environ['PATH_INFO']}")
        return app(environ, start_response)

    logged.flask_apps = [app]
    try:
        with serving(logged) as real.url:
            yield real
    finally:
        real.stop_worker()
        dispose(app)


def test_a_resident_s_ticket_reaches_the_butler_s_firefox_through_the_real_app_and_worker(
        firefox, autopush_server, real_app, tmp_path):
    reports_folder = tmp_path / "reports"
    reports_folder.mkdir()
    with ReportingSite(reports_folder) as reports:
        fragment = urlencode({"username": real_app.people.butler, "password": PASSWORD, "report": reports.url})
        browser = firefox(f"{real_app.url}/e2e.html#{fragment}")

        def explain() -> str:
            pushes = [(r.status, r.problem) for r in autopush_server.endpoints.requests]
            return (f"push requests (status, problem): {pushes}; deliveries: {real_app.deliveries()}\n"
                    f"{autopush_server.describe()}\n{browser.explain()}\n{real_app.worker_log()}")

        # The butler's Firefox logged in, installed the real sw.js and subscribed through the API.
        subscribed = reports.wait_for("subscribed", timeout=30, explain=explain)
        channel = autopush_server.wait_for_registration()
        assert subscribed["status"] == 201, subscribed
        assert subscribed["answer"]["endpoint"] == subscribed["endpoint"] == channel.endpoint
        assert subscribed["worker"] == f"{real_app.url}/sw.js"
        assert channel.key == unb64url(real_app.public_key)   # bound to the app's VAPID key
        # The credentials came in the fragment: no server saw them (the app logs its request lines).
        assert "GET /e2e.html" in real_app.requests and "POST /api/v1/auth/login" in real_app.requests
        private = (PASSWORD, quote(PASSWORD), quote_plus(PASSWORD), real_app.people.butler)
        assert not [line for line in real_app.requests + reports.requests if any(p in line for p in private)]

        # The resident raises a ticket; the notify-worker process sends the poke; Firefox decrypts it
        # and the real service worker posts it to the page.
        description = "厨房水管爆了，请联系刘女士 13800138000"
        answer = requests.post(f"{real_app.url}/api/v1/tickets", timeout=30, headers=real_app.people.resident_headers,
                               json={"category": "repair", "description": description})
        assert answer.status_code == 201, answer.text
        ticket_id = answer.json()["id"]

        payload = reports.wait_for("push", timeout=30, explain=explain)
        assert payload == {"event": "ticket.created", "id": ticket_id, "title": "报修 · 3栋2单元"}
        text = json.dumps(payload, ensure_ascii=False)
        for personal in (real_app.people.resident_name, "13800138000", description, "厨房"):
            assert personal not in text

        # The real push handler also showed the notification (headless Firefox, alerts.useSystemBackend=false).
        shown = reports.wait_for("notification", timeout=10, explain=explain)
        assert [(n["title"], n["body"], n["tag"]) for n in shown] == [
            ("新工单", "报修 · 3栋2单元", f"ticket-{ticket_id}")]

    # What reached the push service: one request, VAPID-checked, urgent, with the ticket as Topic; acked.
    notification = autopush_server.wait_for_ack()
    assert notification.ack_code == 100, explain()         # delivered (not 101, a decryption error)
    request = notification.request
    assert autopush_server.failures == []
    assert [r.status for r in autopush_server.endpoints.requests] == [201]
    assert request.urgency == "high"
    assert request.topic == ticket_id.replace("-", "")
    assert request.ttl == 24 * 3600
    assert request.vapid.claims["aud"] == autopush_server.url
    assert request.vapid.public_key == real_app.public_key

    # The worker recorded it as sent, once; and it stops cleanly.
    deadline = time.monotonic() + 10
    while (rows := real_app.deliveries()) != [("sent", 1, None)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows == [("sent", 1, None)], real_app.worker_log()
    assert real_app.stop_worker() == 0, real_app.worker_log()
