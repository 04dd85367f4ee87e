"""Sending one delivery: Web Push and webhooks. No database here.

Web Push is on the path of an emergency broadcast to every home of a community, so each message costs
as little as it can: pywebpush encrypts it (RFC 8291, aes128gcm), the VAPID token (RFC 8292) of each
push service is signed once and reused until an hour before it expires, and the POST goes through
urllib3's connection pools (shared by the sending threads) rather than requests, whose per-request
machinery cost twice the encryption. Webhooks, a few per event, use requests.

Each send returns an Outcome; the worker records it. What a push service's answers mean
(RFC 8030, and docs/platform-facts.md):
- 201/202: sent.  404/410: the subscription is gone: delete it.
- 429/503 (and other 5xx, timeouts, refused connections): retry later, after Retry-After if given.
- 400/401/403/413: our request or VAPID key is wrong: retrying the same bytes will not help.
- 3xx: failed, never followed: the addresses were checked against the allowed hosts
  (addresses.py), and a Location could point anywhere, this machine's own services included.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
import urllib3
from py_vapid import Vapid
from pywebpush import WebPusher

from server.notify.subscriptions import endpoint_problem
from server.notify.webhooks import url_problem


@dataclass(frozen=True)
class Outcome:
    state: str  # "sent" | "gone" | "retry" | "failed"
    error: str | None = None
    retry_after: float | None = None  # seconds, when the service named a time


SENT = Outcome("sent")
# Connecting gets less time than answering: a push service blocked by a firewall (Google's, in
# mainland China) never answers a SYN, and a send waiting on it holds a sending thread.
CONNECT_TIMEOUT = 3.05
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# A push service's VAPID token: valid this long (RFC 8292: at most 24 h), signed again this long
# before it runs out, so that no request carries a token about to expire.
TOKEN_LIFETIME = 12 * 3600
TOKEN_RENEWED_BEFORE = 3600
ENCODING = "aes128gcm"  # RFC 8188, as RFC 8291 requires

# The event names a webhook's text uses.
EVENT_WORDS = {"ticket.created": "新工单", "ticket.updated": "工单有更新", "ticket.escalated": "工单已超时",
               "incident.raised": "突发事件", "incident.closed": "突发事件解除"}


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def outcome_of_status(status: int, retry_after_header: str | None, location: str | None = None) -> Outcome:
    if status in (200, 201, 202, 204):
        return SENT
    if 300 <= status < 400:
        where = _host(location)
        return Outcome("failed", (f"redirect {status} not followed" + (f" (to {where})" if where else ""))[:200])
    if status in (404, 410):
        return Outcome("gone", f"http {status}")
    if status in RETRY_STATUSES or status >= 500:
        return Outcome("retry", f"http {status}", retry_after(retry_after_header))
    return Outcome("failed", f"http {status}")


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def answered(response: requests.Response) -> Outcome:
    """The outcome of a push service's or webhook's answer."""
    return outcome_of_status(response.status_code, response.headers.get("Retry-After"),
                             response.headers.get("Location"))


class NoRedirects(requests.Session):
    """A session that answers a redirect with the 3xx itself instead of following it. pywebpush
    posts through the session it is given and has no option of its own for redirects."""

    def request(self, method, url, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(method, url, **kwargs)


class Sessions(threading.local):
    """One HTTP connection pool per sending thread: a push service is called many times in a row."""

    def __init__(self):
        self.session = NoRedirects()


def _failure(exc: urllib3.exceptions.HTTPError) -> str:
    """A send that got no answer, named as the delivery's last error."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return "ReadTimeout"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "ConnectTimeout"
    return "ConnectionError"


@dataclass
class WebPush:
    vapid: Vapid
    subject: str
    ttl: int
    timeout: float
    hosts: tuple[str, ...]
    connections: int = 8  # kept open per push service: one per sending thread
    _tokens: dict = field(default_factory=dict, init=False, repr=False)  # origin -> (exp, headers)

    def __post_init__(self):
        # urllib3 neither retries nor follows a redirect here: the worker decides (module docstring).
        self._http = urllib3.PoolManager(num_pools=64, maxsize=self.connections, retries=False)
        self._lock = threading.Lock()

    def authorization(self, endpoint: str) -> dict[str, str]:
        """The VAPID header for the push service of `endpoint` (its origin is the token's audience)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            held = self._tokens.get(audience)
        if held and held[0] - now > TOKEN_RENEWED_BEFORE:
            return held[1]
        exp = int(now) + TOKEN_LIFETIME
        headers = self.vapid.sign({"sub": self.subject, "aud": audience, "exp": exp})
        with self._lock:
            self._tokens[audience] = (exp, headers)
        return headers

    def send(self, subscription: dict, payload: dict, *, urgent: bool, topic: str) -> Outcome:
        endpoint = subscription["endpoint"]
        if problem := endpoint_problem(endpoint, self.hosts):  # the rules or hosts changed
            return Outcome("gone", problem)
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        body = WebPusher(subscription).encode(data, ENCODING)["body"]
        headers = {**self.authorization(endpoint), "TTL": str(self.ttl), "Content-Encoding": ENCODING,
                   "Urgency": "high" if urgent else "normal", "Topic": topic}
        try:
            response = self._http.request(
                "POST", endpoint, body=body, headers=headers, redirect=False, retries=False,
                timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT, self.timeout), read=self.timeout))
        except urllib3.exceptions.HTTPError as exc:  # timeout, refused, reset
            return Outcome("retry", _failure(exc))
        return outcome_of_status(response.status, response.headers.get("Retry-After"), response.headers.get("Location"))


@dataclass
class Webhooks:
    """A community's webhook: WeCom 企业微信 group robots take {"msgtype": "text", ...} and answer
    {"errcode": 0} (45009: too often, retry); any other URL gets the poke as JSON."""

    timeout: float
    hosts: tuple[str, ...]

    def __post_init__(self):
        self._sessions = Sessions()

    def send(self, kind: str, url: str, payload: dict) -> Outcome:
        if problem := url_problem(url, self.hosts):  # added before the rules, or the list changed
            return Outcome("failed", problem)
        if kind == "wecom":
            body = {"msgtype": "text", "text": {"content": f"【睿管家】{EVENT_WORDS.get(payload['event'], '通知')}：{payload['title']}"}}
        else:
            body = payload
        try:
            response = self._sessions.session.post(url, json=body,
                                                   timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
        except requests.RequestException as exc:
            return Outcome("retry", type(exc).__name__)
        outcome = answered(response)
        if outcome.state == "gone":
            outcome = Outcome("failed", outcome.error)  # a webhook is configured, not subscribed: keep it
        if outcome is SENT and kind == "wecom":
            try:
                errcode = response.json().get("errcode", 0)
            except ValueError:
                errcode = -1
            if errcode == 45009:
                return Outcome("retry", "wecom 45009", 60.0)
            if errcode:
                return Outcome("failed", f"wecom {errcode}")
        return outcome
