"""Real Web Push end to end in stock firefox-esr: subscribe, push with pywebpush, decrypt, `push` event.

Only the public push service is a stand-in (tests/support/autopush.py, Mozilla's autopush protocol);
Firefox's own push client, its RFC 8291 decryption and its service worker do the rest.
"""
from __future__ import annotations

import pytest
from pywebpush import WebPushException, webpush

from tests.support.pushservice import VapidKey
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
