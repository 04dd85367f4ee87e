"""The local push stand-ins, against pywebpush: what they accept, refuse and can be scripted to do.

No browser: the push service stand-in decrypts with the subscriber's keys (RFC 8291) and checks VAPID
(RFC 8292); the autopush stand-in is driven by a fake of Firefox's push client.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from py_vapid import jwt as vapid_jwt
from pywebpush import WebPusher, WebPushException, webpush
from websockets.sync.client import connect

from tests.support.autopush import AutopushServer
from tests.support.pushservice import (PushService, Subscriber, VapidError, VapidKey, b64url, check_vapid,
                                       unb64url)

SUB = "mailto:ops@guanjia.example.cn"


@pytest.fixture
def service():
    with PushService() as service:
        yield service


@pytest.fixture(scope="module")
def vapid() -> VapidKey:
    return VapidKey.generate()


def send(subscriber, data, vapid: VapidKey, **kwargs):
    """pywebpush as the app must call it: a fresh claims dict, a TTL and a timeout every time."""
    kwargs.setdefault("ttl", 60)
    kwargs.setdefault("timeout", 5)
    return webpush(subscriber.subscription_info, data, vapid_private_key=vapid.vapid,
                   vapid_claims={"sub": SUB}, **kwargs)


def test_a_message_round_trips_decrypted_with_its_headers(service, vapid):
    alice = service.subscribe(application_server_key=vapid.public_key)
    payload = {"title": "工单已完成", "url": "/tickets/42", "n": 1}
    before = time.time()

    response = send(alice, json.dumps(payload, ensure_ascii=False), vapid, ttl=3600,
                    headers={"Urgency": "high", "Topic": "ticket-42"})

    assert response.status_code == 201
    assert response.headers["Location"].startswith(service.url + "/m/")
    [message] = service.wait_for_messages(1)
    assert message.json == payload
    assert (message.subscription, message.ttl, message.urgency, message.topic) == (alice.name, 3600, "high", "ticket-42")
    assert message.vapid.claims["aud"] == service.url and message.vapid.claims["sub"] == SUB
    assert message.vapid.public_key == vapid.public_key
    assert before <= message.time <= time.time()
    assert service.failures == []


def test_the_raw_private_key_string_works_too(service, vapid):
    alice = service.subscribe(application_server_key=vapid.public_key)
    webpush(alice.subscription_info, "hi", vapid_private_key=vapid.private_key, vapid_claims={"sub": SUB},
            ttl=0, timeout=5)
    assert service.wait_for_messages(1)[0].text == "hi"


def test_the_largest_payload_fits_and_one_byte_more_is_refused(service, vapid):
    alice = service.subscribe(application_server_key=vapid.public_key)
    send(alice, "x" * 3993, vapid)
    with pytest.raises(WebPushException) as refused:
        send(alice, "x" * 3994, vapid)
    assert refused.value.status_code == 413
    assert service.wait_for_messages(1)[0].data == b"x" * 3993


def test_a_different_vapid_key_is_refused_and_recorded(service, vapid):
    alice = service.subscribe(application_server_key=vapid.public_key)
    with pytest.raises(WebPushException) as refused:
        send(alice, "hi", VapidKey.generate())
    assert refused.value.status_code == 403
    [failure] = service.failures
    assert failure.status == 403 and "applicationServerKey" in failure.problem
    assert service.messages == []


def test_reusing_one_claims_dict_across_push_services_is_refused(vapid):
    """pywebpush writes aud into the dict it is given: the second service sees the first one's origin."""
    claims = {"sub": SUB}
    with PushService() as first, PushService() as second:
        a, b = first.subscribe(), second.subscribe()
        webpush(a.subscription_info, "1", vapid_private_key=vapid.vapid, vapid_claims=claims, ttl=60, timeout=5)
        with pytest.raises(WebPushException) as refused:
            webpush(b.subscription_info, "2", vapid_private_key=vapid.vapid, vapid_claims=claims, ttl=60, timeout=5)
        assert refused.value.status_code == 403
        assert "aud" in second.failures[0].problem


def test_gone_and_unknown_subscriptions(service, vapid):
    alice, bob = service.subscribe(), service.subscribe()
    service.unsubscribe(alice)
    bob.answer(404)
    for subscriber, status in ((alice, 410), (bob, 404)):
        with pytest.raises(WebPushException) as refused:
            send(subscriber, "hi", vapid)
        assert refused.value.status_code == status
    assert [r.status for r in service.requests] == [410, 404]


def test_429_carries_retry_after_then_the_service_recovers(service, vapid):
    alice = service.subscribe()
    alice.answer(429, times=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(WebPushException) as refused:
            send(alice, "hi", vapid)
        assert (refused.value.status_code, refused.value.retry_after) == (429, "7")
    send(alice, "hi", vapid)
    assert [r.status for r in service.requests] == [429, 429, 201]
    assert [r.scripted for r in service.requests] == [True, True, False]


def test_scripted_steps_run_in_order(service, vapid):
    alice = service.subscribe()
    alice.answer(503, times=1, retry_after=1).answer(410)
    statuses = []
    for _ in range(3):
        with pytest.raises(WebPushException) as refused:
            send(alice, "hi", vapid)
        statuses.append(refused.value.status_code)
    assert statuses == [503, 410, 410]
    alice.normal()
    assert send(alice, "hi", vapid).status_code == 201


def test_a_hung_service_needs_a_timeout(service, vapid):
    alice = service.subscribe()
    alice.hang(times=1)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        send(alice, "hi", vapid, timeout=0.3)
    assert time.monotonic() - started < 3
    [hung] = service.wait_for_requests(1)
    assert hung.status is None
    assert send(alice, "hi", vapid).status_code == 201


def test_a_missing_ttl_is_refused(service, vapid):
    alice = service.subscribe()
    params = WebPusher(alice.subscription_info)._prepare_send_data(b"hi", ttl=60)
    headers = {k: v for k, v in params["headers"].items() if k.lower() != "ttl"}
    headers.update(vapid.vapid.sign({"sub": SUB, "aud": service.url}))
    response = requests.post(alice.endpoint, data=params["data"], headers=headers, timeout=5)
    assert response.status_code == 400
    assert "TTL" in service.failures[0].problem


def test_a_body_encrypted_for_other_keys_is_accepted_but_recorded(service, vapid):
    """A real service cannot tell (it answers 201); the browser would drop it. The stand-in records it."""
    alice = service.subscribe()
    stranger = service.subscribe()
    info = {**alice.subscription_info, "keys": stranger.subscription_info["keys"]}
    webpush(info, "hi", vapid_private_key=vapid.vapid, vapid_claims={"sub": SUB}, ttl=60, timeout=5)
    assert service.messages == []
    assert "decrypt" in service.failures[0].problem


# ---- the VAPID check on its own -----------------------------------------------------------------

AUD = "http://127.0.0.1:8080"


def header(vapid: VapidKey, claims: dict, *, key: VapidKey | None = None) -> str:
    token = vapid_jwt.sign(claims, vapid.vapid.private_key)
    return f"vapid t={token}, k={(key or vapid).public_key}"


# `exp` as seconds from when the test runs (a time taken at collection is stale by the time a long
# suite reaches the test); a str offset stays a string in the claims.
@pytest.mark.parametrize("claims, status, words", [
    ({"aud": AUD, "exp": 600, "sub": SUB}, None, ""),
    ({"aud": AUD + "/", "exp": 600, "sub": SUB}, 403, "aud"),
    ({"aud": "https://push.example.com", "exp": 600, "sub": SUB}, 403, "aud"),
    ({"aud": AUD, "exp": -1, "sub": SUB}, 403, "expired"),
    ({"aud": AUD, "exp": 25 * 3600, "sub": SUB}, 403, "24 h"),
    ({"aud": AUD, "exp": "600", "sub": SUB}, 403, "integer"),
    ({"aud": AUD, "exp": 600}, 403, "sub"),
])
def test_vapid_claims(vapid, claims, status, words):
    now, offset = int(time.time()), claims["exp"]
    claims = {**claims, "exp": str(now + int(offset)) if isinstance(offset, str) else now + offset}
    if status is None:
        assert check_vapid(header(vapid, claims), AUD).claims == claims
        return
    with pytest.raises(VapidError) as refused:
        check_vapid(header(vapid, claims), AUD)
    assert refused.value.status == status and words in refused.value.reason


def test_vapid_signature_must_match_k(vapid):
    claims = {"aud": AUD, "exp": int(time.time()) + 600, "sub": SUB}
    with pytest.raises(VapidError) as refused:
        check_vapid(header(VapidKey.generate(), claims, key=vapid), AUD)
    assert refused.value.status == 403 and "signature" in refused.value.reason


@pytest.mark.parametrize("authorization, status", [
    (None, 401), ("", 401), ("Bearer abc", 401), ("WebPush abc.def.ghi", 401),
    ("vapid t=abc", 403), ("vapid t=a.b.c, k=" + b64url(b"\x04" + b"\x00" * 64), 403),
])
def test_vapid_header_shape(authorization, status):
    with pytest.raises(VapidError) as refused:
        check_vapid(authorization, AUD)
    assert refused.value.status == status


# ---- the autopush stand-in, with the test playing Firefox's push client -------------------------

class FakeFirefox:
    """The client side of Mozilla's push WebSocket protocol, as PushServiceWebSocket.sys.mjs speaks it."""

    def __init__(self, autopush: AutopushServer, uaid: str | None = None):
        self.autopush, self.uaid = autopush, uaid

    def __enter__(self) -> "FakeFirefox":
        self.ws = connect(self.autopush.ws_url, subprotocols=["push-notification"], open_timeout=5).__enter__()
        hello = {"messageType": "hello", "broadcasts": {}, "use_webpush": True}
        self.uaid = self.call({**hello, "uaid": self.uaid} if self.uaid else hello)["uaid"]
        return self

    def __exit__(self, *exc) -> None:
        self.ws.__exit__(*exc)

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def receive(self) -> dict:
        return json.loads(self.ws.recv(timeout=5))

    def call(self, message: dict) -> dict:
        self.send(message)
        return self.receive()

    def register(self, key: VapidKey) -> dict:
        padded = key.public_key + "=" * (-len(key.public_key) % 4)     # Firefox pads the key
        answer = self.call({"messageType": "register", "channelID": str(uuid.uuid4()), "key": padded})
        assert answer["status"] == 200
        return answer


@pytest.fixture
def autopush():
    with AutopushServer() as server:
        yield server


def some_keys() -> dict:
    """Valid subscriber keys, for pushes that the fake Firefox need not decrypt."""
    return Subscriber.new("unused").subscription_info["keys"]


def test_autopush_forwards_the_encrypted_body_and_records_the_ack(autopush, vapid):
    with FakeFirefox(autopush) as firefox:
        assert firefox.call({}) == {}                                 # ping, pong
        registered = firefox.register(vapid)
        keys = Subscriber.new(registered["pushEndpoint"])             # the keys Firefox would make
        webpush(keys.subscription_info, "你好", vapid_private_key=vapid.vapid, vapid_claims={"sub": SUB},
                ttl=60, timeout=5)

        notification = firefox.receive()
        assert notification["messageType"] == "notification"
        assert notification["channelID"] == registered["channelID"]
        assert notification["headers"] == {"encoding": "aes128gcm"}
        assert keys.decrypt(unb64url(notification["data"])).decode() == "你好"
        firefox.send({"messageType": "ack", "updates": [
            {"channelID": notification["channelID"], "version": notification["version"], "code": 100}]})
        assert autopush.wait_for_ack().ack_code == 100
    assert autopush.hellos[0].subprotocol == "push-notification"


def test_autopush_checks_vapid_against_the_registered_key_and_unregister_means_gone(autopush, vapid):
    with FakeFirefox(autopush) as firefox:
        registered = firefox.register(vapid)
        info = {"endpoint": registered["pushEndpoint"], "keys": some_keys()}
        with pytest.raises(WebPushException) as refused:
            webpush(info, "x", vapid_private_key=VapidKey.generate().vapid, vapid_claims={"sub": SUB},
                    ttl=60, timeout=5)
        assert refused.value.status_code == 403

        unregister = {"messageType": "unregister", "channelID": registered["channelID"], "code": 200}
        assert firefox.call(unregister)["status"] == 200
        with pytest.raises(WebPushException) as gone:
            webpush(info, "x", vapid_private_key=vapid.vapid, vapid_claims={"sub": SUB}, ttl=60, timeout=5)
        assert gone.value.status_code == 410


def test_autopush_keeps_a_message_with_a_ttl_for_a_disconnected_firefox(autopush, vapid):
    with FakeFirefox(autopush) as firefox:
        registered = firefox.register(vapid)
    info = {"endpoint": registered["pushEndpoint"], "keys": some_keys()}
    deadline = time.monotonic() + 5
    while autopush.connected(firefox.uaid) and time.monotonic() < deadline:
        time.sleep(0.01)
    webpush(info, "kept", vapid_private_key=vapid.vapid, vapid_claims={"sub": SUB}, ttl=60, timeout=5)
    webpush(info, "dropped", vapid_private_key=vapid.vapid, vapid_claims={"sub": SUB}, ttl=0, timeout=5)

    with FakeFirefox(autopush, uaid=firefox.uaid) as again:
        assert again.uaid == firefox.uaid
        assert again.receive()["channelID"] == registered["channelID"]
    assert [n.dropped for n in autopush.notifications] == ["", "TTL 0 and Firefox was not connected"]
