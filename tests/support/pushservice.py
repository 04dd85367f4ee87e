"""A local stand-in for a public Web Push service, speaking the real protocols.

What an application server (pywebpush) sends is checked the way a push service checks it:

- RFC 8030 (Generic Event Delivery Using HTTP Push): ``POST /push/<name>`` with a ``TTL`` header
  (required), optional ``Urgency`` (very-low|low|normal|high) and ``Topic`` (≤ 32 base64url
  characters); the answer is ``201 Created`` with a ``Location`` of the message. 404 for an unknown
  subscription, 410 for one that was unsubscribed, 413 for a body over 4,096 bytes.
- RFC 8291 (Message Encryption for Web Push): the body must be ``Content-Encoding: aes128gcm``;
  :class:`PushService` decrypts it with the subscriber's private key and auth secret, as the
  browser would.
- RFC 8292 (VAPID): ``Authorization: vapid t=<JWT>, k=<public key>``. The JWT must be ES256 and
  signed by ``k``; ``aud`` must equal the origin of the endpoint; ``exp`` must be in the future and
  at most 24 hours ahead; ``sub`` must be present. A subscription made with an
  ``applicationServerKey`` accepts only that key. An absent header is answered 401, an invalid one
  403 (RFC 8292 §4.2); the refusal is recorded (``failures``) so a test can assert on it.

Each subscription can be scripted (:class:`Script`) to answer something else — 410, 404, 429 with
``Retry-After``, 400/403, 503 — or to hang, so that the error paths of a sender are exercised
against a real HTTP exchange. Everything runs in threads on 127.0.0.1 on a free port.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from py_vapid import jwt as vapid_jwt

MAX_BODY = 4096                 # RFC 8030 §7.2: push services must accept at least this; we accept no more
VAPID_MAX_LIFETIME = 24 * 3600  # RFC 8292 §2: exp no more than 24 hours from the time of the request
URGENCIES = ("very-low", "low", "normal", "high")
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
HANG_LIMIT = 60.0               # a hung request is let go after this long, or when the server closes


def b64url(data: bytes) -> str:
    """base64url without padding, as Web Push keys are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding (raises ValueError on garbage)."""
    text = text.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"not base64url: {text[:40]!r}") from error


def raw_public_key(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed P-256 point (the form of p256dh and of VAPID's k)."""
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


# ---- VAPID (RFC 8292) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class VapidKey:
    """An application server's VAPID key pair.

    ``vapid`` can be passed to pywebpush as ``vapid_private_key``; ``private_key`` is the raw
    32-byte key in base64url (pywebpush also accepts that string); ``public_key`` is what a page
    passes to ``pushManager.subscribe({applicationServerKey})``.
    """

    vapid: Vapid02
    private_key: str
    public_key: str

    @classmethod
    def generate(cls) -> "VapidKey":
        vapid = Vapid02()
        vapid.generate_keys()
        number = vapid.private_key.private_numbers().private_value
        return cls(vapid=vapid, private_key=b64url(number.to_bytes(32, "big")),
                   public_key=b64url(raw_public_key(vapid.public_key)))

    @property
    def public_bytes(self) -> bytes:
        return unb64url(self.public_key)


class PushRefused(Exception):
    """A push request the service refuses: ``status`` is the HTTP answer, ``reason`` says why."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class VapidError(PushRefused):
    """The VAPID Authorization header is absent (401) or invalid (403)."""


@dataclass(frozen=True)
class VapidToken:
    """A VAPID header that passed every check: its JWT claims and its public key (``k``)."""

    claims: dict
    public_key: str


def check_vapid(authorization: str | None, audience: str, *,
                application_server_key: bytes | None = None, now: float | None = None) -> VapidToken:
    """Check an ``Authorization`` header as a push service does (RFC 8292); raise VapidError if not valid.

    ``audience`` is the origin of the endpoint (``http://127.0.0.1:1234``); ``application_server_key``
    the raw 65-byte key the subscription was made with, if any.
    """
    now = time.time() if now is None else now
    if not authorization or not authorization.strip():
        raise VapidError(401, "no Authorization header (RFC 8292 requires 'vapid t=…, k=…')")
    scheme, _, params = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(401, f"Authorization scheme {scheme!r} is not 'vapid' (RFC 8292)")
    values: dict[str, str] = {}
    for part in params.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            values[name.strip().lower()] = value.strip()
    if "t" not in values or "k" not in values:
        raise VapidError(403, "vapid Authorization lacks t= or k=")
    token, key_text = values["t"], values["k"]
    try:
        key = unb64url(key_text)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        raise VapidError(403, "k= is not an uncompressed P-256 public key") from None
    if application_server_key is not None and key != application_server_key:
        raise VapidError(403, "k= is not the applicationServerKey this subscription was made with")
    parts = token.split(".")
    if len(parts) != 3:
        raise VapidError(403, "t= is not a JWT (header.claims.signature)")
    try:
        header = json.loads(unb64url(parts[0]))
    except ValueError:
        raise VapidError(403, "the JWT header is not base64url JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise VapidError(403, f"the JWT is not signed with ES256: {header!r}")
    try:
        claims = vapid_jwt.decode(token, b64url(key))
    except InvalidSignature:
        raise VapidError(403, "the JWT signature does not verify with k=") from None
    except ValueError:
        raise VapidError(403, "the JWT claims are not base64url JSON") from None
    if not isinstance(claims, dict):
        raise VapidError(403, "the JWT claims are not an object")
    if claims.get("aud") != audience:
        raise VapidError(403, f"JWT aud {claims.get('aud')!r} is not the push service's origin {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise VapidError(403, f"JWT exp {exp!r} is not an integer")
    if exp <= now:
        raise VapidError(403, f"JWT expired {now - exp:.0f} s ago")
    if exp > now + VAPID_MAX_LIFETIME:
        raise VapidError(403, f"JWT exp is {exp - now:.0f} s ahead, more than 24 h")
    if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
        raise VapidError(403, "JWT has no sub (a mailto: or https: contact)")
    return VapidToken(claims=claims, public_key=b64url(key))


# ---- what arrives -------------------------------------------------------------------------------

@dataclass
class PushRequest:
    """One request that reached a push endpoint, and what the stand-in answered.

    ``status`` is None while a request hangs (and stays None if it was never answered).
    ``problem`` says why a request was refused by the protocol checks (or, with status 201, why its
    body would not decrypt); it is empty for accepted requests and for scripted answers.
    """

    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    monotonic: float
    time: float
    status: int | None = None
    problem: str = ""
    scripted: bool = False
    vapid: VapidToken | None = None

    @property
    def ttl(self) -> int | None:
        value = (self.headers.get("ttl") or "").strip()
        return int(value) if value.isdigit() else None

    @property
    def urgency(self) -> str | None:
        return self.headers.get("urgency")

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")


@dataclass
class PushMessage:
    """A push message the service accepted and decrypted (what the browser's service worker would get)."""

    subscription: str
    data: bytes
    headers: dict[str, str]
    ttl: int
    urgency: str | None
    topic: str | None
    vapid: VapidToken
    monotonic: float
    time: float

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @property
    def json(self) -> Any:
        """The payload parsed as JSON (None if it is not JSON)."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


@dataclass
class _Step:
    status: int | None          # None: hang
    retry_after: str | None
    times: int | None           # None: until the script changes


class Script:
    """What one subscription's endpoint answers next; by default 201 (after the protocol checks).

    Steps run in order; a step without ``times`` stays until :meth:`normal`::

        script.answer(429, times=2, retry_after=1)   # two 429s, then normal again
        script.answer(503, times=1).answer(410)      # one 503, then gone for good
        script.hang(times=1)                         # the next request gets no answer
    """

    def __init__(self) -> None:
        self._steps: deque[_Step] = deque()
        self._lock = threading.Lock()

    def answer(self, status: int, *, times: int | None = None, retry_after: int | str | None = None) -> "Script":
        with self._lock:
            self._steps.append(_Step(status, None if retry_after is None else str(retry_after), times))
        return self

    def hang(self, *, times: int | None = None) -> "Script":
        """Accept the request and never answer (until the server closes or release_hung())."""
        with self._lock:
            self._steps.append(_Step(None, None, times))
        return self

    def normal(self) -> "Script":
        """Forget every scripted step: answer as a healthy push service again."""
        with self._lock:
            self._steps.clear()
        return self

    def take(self) -> _Step | None:
        with self._lock:
            if not self._steps:
                return None
            step = self._steps[0]
            if step.times is not None:
                step.times -= 1
                if step.times <= 0:
                    self._steps.popleft()
            return step


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 410: "Gone", 413: "Payload Too Large", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class _Handler(BaseHTTPRequestHandler):
    server_version = "push-standin/1"
    # Keeps connections open between requests, as the real services do (every answer has a length):
    # a sender pays for a connection once, not per message.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.standin._handle(self)

    def do_GET(self) -> None:  # noqa: N802
        self.server.standin._handle(self)

    def do_PUT(self) -> None:  # noqa: N802
        self.server.standin._handle(self)

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.standin._handle(self)

    def log_message(self, format: str, *args) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    # A real push service takes many connections at once; socketserver's backlog of 5 would drop the
    # SYNs of a worker's 8 (or two workers' 16) concurrent sends, which then wait 1–3 s to retransmit.
    request_queue_size = 128


class PushEndpoints:
    """The HTTP side of a push service (RFC 8030 §5): receives ``POST <prefix><name>``, checks it.

    Subclasses say which names exist (:meth:`_subscription_key`) and what happens to an accepted
    message (:meth:`_accept`); this class does the checks, the scripting and the bookkeeping.
    """

    prefix = "/push/"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[PushRequest] = []
        self._scripts: dict[str, Script] = {}
        self._changed = threading.Condition()
        self._release = threading.Event()
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.standin = self
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._httpd.server_port}"

    # -- lifecycle
    def start(self):
        # A short poll interval: shutdown() waits for it (0.5 s by default, per test).
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()
        if self._thread:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the test's side
    def endpoint(self, name: str) -> str:
        return f"{self.url}{self.prefix}{name}"

    def script(self, name_or_endpoint: str) -> Script:
        """The script of one subscription, by name or by its endpoint URL."""
        name = name_or_endpoint
        if name.startswith(self.url + self.prefix):
            name = name[len(self.url + self.prefix):]
        with self._changed:
            return self._scripts.setdefault(name, Script())

    def release_hung(self) -> None:
        """Let every hung request go (their connections close without an answer)."""
        self._release.set()
        self._release = threading.Event()

    @property
    def failures(self) -> list[PushRequest]:
        """Requests the protocol checks found fault with (bad VAPID, no TTL, …), in arrival order."""
        with self._changed:
            return [r for r in self.requests if r.problem]

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0) -> list[PushRequest]:
        """Wait until at least ``count`` requests arrived (answered or hanging); return them all."""
        return self._wait(lambda: self.requests, count, timeout, "push requests")

    def _wait(self, items, count: int, timeout: float, what: str) -> list:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(items()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"waited {timeout} s for {count} {what}, got {len(items())}; "
                        f"requests: {[(r.name, r.status, r.problem) for r in self.requests]}")
                self._changed.wait(left)
            return list(items())

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- hooks for subclasses
    def _subscription_key(self, name: str) -> bytes | None:
        """The applicationServerKey of subscription ``name`` (None if unrestricted); PushRefused if none."""
        raise PushRefused(404, "no such subscription")

    def _accept(self, request: PushRequest) -> str:
        """Take an accepted message; return its message id. May record a problem or raise PushRefused."""
        raise NotImplementedError

    def _get(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes] | None:
        """Answer a GET outside the push API (None: 404)."""
        return None

    # -- the protocol
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.command == "GET" and not parts.path.startswith(self.prefix):
            page = self._get(parts.path, parse_qs(parts.query))
            if page is None:
                return self._respond(handler, 404, {}, b"")
            status, content_type, content = page
            return self._respond(handler, status, {"Content-Type": content_type, "Cache-Control": "no-store"},
                                 content)
        if not parts.path.startswith(self.prefix):
            return self._respond(handler, 404, {}, b"")
        request = PushRequest(name=parts.path[len(self.prefix):], method=handler.command, path=parts.path,
                              headers={k.lower(): v for k, v in handler.headers.items()}, body=body,
                              monotonic=time.monotonic(), time=time.time())
        with self._changed:
            self.requests.append(request)
        step = self.script(request.name).take()
        if step is not None and step.status is None:
            self._notify()
            self._release.wait(HANG_LIMIT)
            handler.close_connection = True
            return
        if step is not None:
            request.status, request.scripted = step.status, True
            self._notify()
            headers = {"Retry-After": step.retry_after} if step.retry_after is not None else {}
            return self._respond(handler, step.status, headers, _error_body(step.status, "scripted answer"))
        try:
            message_id = self._check_and_accept(request)
        except PushRefused as refused:
            request.status, request.problem = refused.status, refused.reason
            self._notify()
            return self._respond(handler, refused.status, {}, _error_body(refused.status, refused.reason))
        request.status = 201
        self._notify()
        self._respond(handler, 201, {"Location": f"{self.url}/m/{message_id}", "TTL": str(request.ttl)}, b"")

    def _check_and_accept(self, request: PushRequest) -> str:
        if request.method != "POST":
            raise PushRefused(405, "push messages are sent with POST (RFC 8030 §5)")
        key = self._subscription_key(request.name)
        request.vapid = check_vapid(request.headers.get("authorization"), self.url, application_server_key=key)
        ttl = request.headers.get("ttl")
        if ttl is None:
            raise PushRefused(400, "no TTL header (RFC 8030 §5.2 requires one)")
        if not ttl.strip().isdigit():
            raise PushRefused(400, f"TTL {ttl!r} is not a non-negative integer")
        if request.urgency is not None and request.urgency not in URGENCIES:
            raise PushRefused(400, f"Urgency {request.urgency!r} is not one of {URGENCIES} (RFC 8030 §5.3)")
        if request.topic is not None and not TOPIC.match(request.topic):
            raise PushRefused(400, f"Topic {request.topic!r} is not ≤ 32 base64url characters (RFC 8030 §5.4)")
        if len(request.body) > MAX_BODY:
            raise PushRefused(413, f"body of {len(request.body)} bytes exceeds {MAX_BODY} (RFC 8030 §7.2)")
        if request.body:
            encoding = request.headers.get("content-encoding")
            if encoding != "aes128gcm":
                raise PushRefused(400, f"Content-Encoding {encoding!r} is not aes128gcm (RFC 8291)")
        return self._accept(request)

    @staticmethod
    def _respond(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            handler.send_response(status, _REASONS.get(status))
            for name, value in headers.items():
                handler.send_header(name, value)
            if body:
                handler.send_header("Content-Type", headers.get("Content-Type", "application/json"))
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if body:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the sender gave up (timeout)
            pass


def _error_body(status: int, reason: str) -> bytes:
    """An error body shaped like autopush's: {code, errno, error, message}."""
    return json.dumps({"code": status, "errno": 999, "error": _REASONS.get(status, "Error"),
                       "message": reason}).encode()


# ---- the push service with subscribers the test holds -------------------------------------------

@dataclass
class Subscriber:
    """A browser's side of one subscription: a P-256 key pair and a 16-byte auth secret (RFC 8291).

    ``subscription_info`` is the dict pywebpush takes (and that a browser's ``toJSON()`` gives, less
    ``expirationTime``); ``to_json()`` is exactly what a browser's ``PushSubscription.toJSON()`` gives.
    """

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: bytes | None = None
    service: "PushService | None" = field(default=None, repr=False)

    @classmethod
    def new(cls, endpoint: str, name: str = "", application_server_key: bytes | str | None = None,
            service: "PushService | None" = None) -> "Subscriber":
        if isinstance(application_server_key, str):
            application_server_key = unb64url(application_server_key)
        return cls(name=name, endpoint=endpoint, private_key=ec.generate_private_key(ec.SECP256R1()),
                   auth_secret=os.urandom(16), application_server_key=application_server_key, service=service)

    @property
    def p256dh(self) -> str:
        return b64url(raw_public_key(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    @property
    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def to_json(self) -> dict:
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def decrypt(self, body: bytes) -> bytes:
        """Decrypt an aes128gcm body (RFC 8291) as the browser would."""
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                version="aes128gcm")

    # shortcuts to this subscription's script
    @property
    def script(self) -> Script:
        assert self.service is not None, "this subscriber belongs to no PushService"
        return self.service.script(self.name)

    def answer(self, status: int, *, times: int | None = None, retry_after: int | str | None = None) -> Script:
        return self.script.answer(status, times=times, retry_after=retry_after)

    def hang(self, *, times: int | None = None) -> Script:
        return self.script.hang(times=times)

    def normal(self) -> Script:
        return self.script.normal()


class PushService(PushEndpoints):
    """A push service on 127.0.0.1 that decrypts and records every message it accepts.

    ::

        with PushService() as service:
            alice = service.subscribe(application_server_key=vapid.public_key)
            webpush(alice.subscription_info, "hi", vapid_private_key=vapid.vapid,
                    vapid_claims={"sub": "mailto:ops@example.com"}, ttl=60, timeout=5)
            [message] = service.wait_for_messages(1)
            assert message.text == "hi"
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.subscribers: dict[str, Subscriber] = {}
        self.unsubscribed: set[str] = set()
        self.messages: list[PushMessage] = []

    def subscribe(self, name: str | None = None, application_server_key: bytes | str | None = None) -> Subscriber:
        """A new subscription (as ``pushManager.subscribe`` makes one); restricted to a VAPID key if given."""
        name = name or uuid.uuid4().hex
        subscriber = Subscriber.new(self.endpoint(name), name, application_server_key, self)
        with self._changed:
            self.subscribers[name] = subscriber
            self.unsubscribed.discard(name)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber | str) -> None:
        """The user unsubscribed: from now on the endpoint answers 410 Gone."""
        name = subscriber if isinstance(subscriber, str) else subscriber.name
        with self._changed:
            self.subscribers.pop(name, None)
            self.unsubscribed.add(name)

    def messages_for(self, subscriber: Subscriber | str) -> list[PushMessage]:
        name = subscriber if isinstance(subscriber, str) else subscriber.name
        with self._changed:
            return [m for m in self.messages if m.subscription == name]

    def wait_for_messages(self, count: int = 1, timeout: float = 10.0) -> list[PushMessage]:
        """Wait until at least ``count`` messages were accepted; return them all, in arrival order."""
        return self._wait(lambda: self.messages, count, timeout, "push messages")

    def _subscription_key(self, name: str) -> bytes | None:
        with self._changed:
            if name in self.unsubscribed:
                raise PushRefused(410, "the subscription was unsubscribed")
            if name not in self.subscribers:
                raise PushRefused(404, "no such subscription")
            return self.subscribers[name].application_server_key

    def _accept(self, request: PushRequest) -> str:
        with self._changed:
            subscriber = self.subscribers.get(request.name)
        if subscriber is None:  # unsubscribed while this request was on its way
            raise PushRefused(410, "the subscription was unsubscribed")
        try:
            data = subscriber.decrypt(request.body) if request.body else b""
        except Exception as error:  # noqa: BLE001 - a real service cannot tell; it answers 201
            request.problem = f"the body does not decrypt with the subscriber's keys: {error!r}"
            return uuid.uuid4().hex
        message = PushMessage(subscription=request.name, data=data, headers=request.headers,
                              ttl=request.ttl, urgency=request.urgency, topic=request.topic,
                              vapid=request.vapid, monotonic=request.monotonic, time=request.time)
        with self._changed:
            self.messages.append(message)
        return uuid.uuid4().hex
