"""A local stand-in for Mozilla's autopush server, which Firefox's push client talks to.

Two sides, one object, both plain (unencrypted) on 127.0.0.1:

- The WebSocket side (``ws_url``; Firefox's ``dom.push.serverURL``) speaks the protocol of Firefox's
  ``PushServiceWebSocket.sys.mjs`` (checked against firefox-esr 153's own copy and autopush-rs's
  ``autoconnect-common/src/protocol.rs``), subprotocol ``push-notification``, JSON text frames:

  ====================================================  ==============================================
  client → server                                       server → client
  ====================================================  ==============================================
  ``{messageType: hello, uaid?, use_webpush, broad…}``  ``{messageType: hello, uaid, status: 200,
                                                        use_webpush: true, broadcasts: {}}``
  ``{messageType: register, channelID, key?}``          ``{messageType: register, channelID,
  (key: the applicationServerKey, padded base64url)     status: 200, pushEndpoint}``
  ``{messageType: unregister, channelID, code}``        ``{messageType: unregister, channelID, status}``
  ``{messageType: ack, updates: [{channelID,            —
  version, code}]}`` (code 100 delivered, 101
  decryption error, 102 not delivered)
  ``{messageType: nack, version, code}``                —
  ``{}`` (ping)                                         ``{}``
  —                                                     ``{messageType: notification, channelID,
                                                        version, data, headers: {encoding}}``
  ====================================================  ==============================================

  ``data`` is the still-encrypted body in base64url; Firefox decrypts it (RFC 8291) with the keys it
  made at register time and fires ``push`` in the service worker, then acks.

- The HTTP side (``endpoints``; the ``pushEndpoint`` URLs ``/wpush/v2/<channelID>``) is a
  :class:`~tests.support.pushservice.PushEndpoints`: it checks what pywebpush POSTs exactly as the
  plain push-service stand-in does (VAPID with the channel's applicationServerKey, TTL, Urgency,
  Topic, aes128gcm, size), can be scripted the same way, answers 201 and forwards the body to the
  Firefox that registered the channel. A message with a TTL waits for a disconnected Firefox; a
  TTL of 0 is dropped if Firefox is not connected (as autopush does).

It also serves ``/launch?next=<url>``: a page that waits until a new Firefox said hello, then goes
to ``next`` (a subscription made before the push connection is up is silently lost). A fragment of
``next`` rides on the launch page's own fragment, so that it is never sent to any server.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.support.pushservice import PushEndpoints, PushRefused, PushRequest, b64url, unb64url

SUBPROTOCOL = "push-notification"
ACK_DELIVERED, ACK_DECRYPTION_ERROR, ACK_NOT_DELIVERED = 100, 101, 102


@dataclass
class Hello:
    """One ``hello`` handshake: the uaid the client sent (None for a fresh one) and the one it got."""

    uaid: str
    sent_uaid: str | None
    subprotocol: str | None
    message: dict
    monotonic: float
    time: float


@dataclass
class Channel:
    """One push subscription of one Firefox (its ``channelID``) and the endpoint it was given."""

    channel_id: str
    uaid: str
    key: bytes | None
    endpoint: str
    monotonic: float
    unregistered: int | None = None     # the unregister code (200 manual, 201 quota, 202 permission)


@dataclass
class Notification:
    """A push message forwarded (or to be forwarded) to Firefox, and what Firefox said about it."""

    channel_id: str
    uaid: str
    version: str
    data: str | None
    headers: dict | None
    ttl: int
    request: PushRequest
    sent: list[float] = field(default_factory=list)   # monotonic times it went out on a WebSocket
    ack_code: int | None = None
    acked: float | None = None
    nack_code: int | None = None
    dropped: str = ""                                 # why it was never delivered

    def message(self) -> dict:
        body = {"messageType": "notification", "channelID": self.channel_id, "version": self.version}
        if self.data is not None:
            body["data"], body["headers"] = self.data, self.headers
        return body


class _Connection:
    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.uaid: str | None = None
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        with self._lock:
            self.ws.send(json.dumps(message))


class _Endpoints(PushEndpoints):
    """autopush's HTTP side: /wpush/v2/<channelID>, plus the /launch page."""

    prefix = "/wpush/v2/"

    def __init__(self, owner: "AutopushServer", host: str) -> None:
        super().__init__(host)
        self.owner = owner

    def _subscription_key(self, name: str) -> bytes | None:
        return self.owner._channel_key(name)

    def _accept(self, request: PushRequest) -> str:
        return self.owner._forward(request)

    def _get(self, path: str, query: dict[str, list[str]]):
        if path == "/launch":
            return 200, "text/html; charset=utf-8", _LAUNCH_PAGE.encode()
        if path == "/launch/ready":
            after = int((query.get("after") or ["0"])[0])
            return 200, "application/json", json.dumps({"ready": self.owner._ready(after)}).encode()
        return None


_LAUNCH_PAGE = """<!doctype html><meta charset="utf-8"><title>waiting for the push connection</title>
<script>
(async () => {
  const query = new URLSearchParams(location.search);
  for (;;) {
    try {
      const answer = await fetch('/launch/ready?after=' + query.get('after'), {cache: 'no-store'});
      if ((await answer.json()).ready) break;
    } catch (e) { /* not yet */ }
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  location.replace(query.get('next') + location.hash);  // the fragment never went to a server
})();
</script>
"""


class AutopushServer:
    """Mozilla's autopush, locally: Firefox connects to ``ws_url``; app servers push to ``endpoints``.

    ::

        with AutopushServer() as autopush:
            # Firefox with dom.push.serverURL = autopush.ws_url (see tests/support/firefox.py)
            channel = autopush.wait_for_registration()      # the page called pushManager.subscribe()
            webpush({"endpoint": channel.endpoint, "keys": …}, …)
            notification = autopush.wait_for_ack()          # Firefox decrypted it and acked (code 100)
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.endpoints = _Endpoints(self, host)
        self.hellos: list[Hello] = []
        self.channels: dict[str, Channel] = {}
        self.notifications: list[Notification] = []
        self.log: list[tuple[float, str, object]] = []    # (monotonic, "in"/"out"/"event", message)
        self._connections: dict[str, _Connection] = {}
        self._changed = threading.Condition()
        self._ws = serve(self._serve_connection, host, 0, subprotocols=[SUBPROTOCOL], compression=None)
        self.ws_url = f"ws://{host}:{self._ws.socket.getsockname()[1]}/"
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> "AutopushServer":
        self.endpoints.start()
        self._thread = threading.Thread(target=self._ws.serve_forever, name="autopush-ws", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread:
            self._ws.shutdown()
            self._thread.join(10)
            self._thread = None
        self.endpoints.close()

    def __enter__(self) -> "AutopushServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the test's side
    @property
    def url(self) -> str:
        """The HTTP side's origin (the ``aud`` a VAPID JWT must carry for these endpoints)."""
        return self.endpoints.url

    @property
    def failures(self) -> list[PushRequest]:
        return self.endpoints.failures

    def script(self, channel_or_endpoint: "Channel | str"):
        """The :class:`~tests.support.pushservice.Script` of one channel (answer 410, 429, hang…)."""
        name = channel_or_endpoint.channel_id if isinstance(channel_or_endpoint, Channel) else channel_or_endpoint
        return self.endpoints.script(name)

    def launch_url(self, next_url: str, after_hellos: int | None = None) -> str:
        """A page that waits for a hello beyond the first ``after_hellos`` (default: the current count).

        A fragment of ``next_url`` (e.g. a test page's credentials) is kept out of the launch page's
        query: it becomes the launch page's own fragment, which the page hands on to ``next_url``.
        """
        after = len(self.hellos) if after_hellos is None else after_hellos
        target, hash_, fragment = next_url.partition("#")
        return f"{self.url}/launch?after={after}&next={quote(target, safe='')}{hash_}{fragment}"

    def connected(self, uaid: str) -> bool:
        with self._changed:
            return uaid in self._connections

    def wait_for_hello(self, count: int = 1, timeout: float = 30.0) -> Hello:
        """Wait for the ``count``-th hello (counting from the server's start); return it."""
        return self._wait(lambda: self.hellos, count, timeout, "hello")[count - 1]

    def wait_for_registration(self, count: int = 1, timeout: float = 15.0) -> Channel:
        """Wait for the ``count``-th registered channel (a ``pushManager.subscribe()``); return it."""
        return self._wait(lambda: list(self.channels.values()), count, timeout, "register")[count - 1]

    def wait_for_ack(self, count: int = 1, timeout: float = 15.0) -> Notification:
        """Wait until ``count`` notifications were acked (or nacked); return the ``count``-th."""
        answered = lambda: [n for n in self.notifications if n.ack_code is not None or n.nack_code is not None]  # noqa: E731
        return self._wait(answered, count, timeout, "ack")[count - 1]

    def describe(self) -> str:
        """The protocol log, for failure messages."""
        with self._changed:
            lines = [f"{at:.3f} {direction} {json.dumps(message, ensure_ascii=False)[:300]}"
                     for at, direction, message in self.log]
        return "\n".join(lines[-60:]) or "(nothing on the WebSocket)"

    def _wait(self, items, count: int, timeout: float, what: str) -> list:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(items()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"autopush stand-in: waited {timeout} s for {count} {what}, "
                                         f"got {len(items())}; protocol log:\n{self.describe()}")
                self._changed.wait(left)
            return list(items())

    def _event(self, direction: str, message: object) -> None:
        with self._changed:
            self.log.append((time.monotonic(), direction, message))
            self._changed.notify_all()

    # -- the WebSocket side
    def _serve_connection(self, ws: ServerConnection) -> None:
        connection = _Connection(ws)
        self._event("event", {"connected": str(ws.remote_address), "subprotocol": ws.subprotocol})
        try:
            for frame in ws:
                try:
                    message = json.loads(frame)
                except (TypeError, ValueError):
                    self._event("in", {"unparsable": repr(frame)[:200]})
                    continue
                self._event("in", message)
                if not isinstance(message, dict):
                    continue
                self._on_message(connection, message)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if connection.uaid and self._connections.get(connection.uaid) is connection:
                    del self._connections[connection.uaid]
            self._event("event", {"disconnected": connection.uaid})

    def _send(self, connection: _Connection, message: dict) -> None:
        self._event("out", message)
        connection.send(message)

    def _on_message(self, connection: _Connection, message: dict) -> None:
        kind = message.get("messageType")
        if not message or kind == "ping":
            self._send(connection, {})
        elif kind == "hello":
            self._on_hello(connection, message)
        elif connection.uaid is None:
            connection.ws.close(1002, "hello first")  # autopush drops a client that skips the handshake
        elif kind == "register":
            self._on_register(connection, message)
        elif kind == "unregister":
            channel_id = str(message.get("channelID", ""))
            with self._changed:
                channel = self.channels.get(channel_id)
                if channel and channel.uaid == connection.uaid:
                    channel.unregistered = int(message.get("code") or 200)
            self._send(connection, {"messageType": "unregister", "channelID": channel_id, "status": 200})
        elif kind == "ack":
            for update in message.get("updates") or []:
                self._on_ack(update.get("channelID"), update.get("version"), ack_code=update.get("code", 100))
        elif kind == "nack":
            self._on_ack(None, message.get("version"), nack_code=message.get("code"))
        # broadcast_subscribe and anything else: nothing to answer

    def _on_hello(self, connection: _Connection, message: dict) -> None:
        sent = message.get("uaid")
        uaid = sent if isinstance(sent, str) and 0 < len(sent) <= 128 else uuid.uuid4().hex
        with self._changed:
            connection.uaid = uaid
            previous = self._connections.get(uaid)
            self._connections[uaid] = connection
            self.hellos.append(Hello(uaid=uaid, sent_uaid=sent if isinstance(sent, str) else None,
                                     subprotocol=connection.ws.subprotocol, message=message,
                                     monotonic=time.monotonic(), time=time.time()))
            waiting = [n for n in self.notifications if n.uaid == uaid and n.ack_code is None and not n.dropped]
        if previous is not None:
            previous.ws.close(1000, "superseded by a new connection for this uaid")
        self._send(connection, {"messageType": "hello", "uaid": uaid, "status": 200, "use_webpush": True,
                                "broadcasts": {}})
        for notification in waiting:
            self._deliver(notification, connection)

    def _on_register(self, connection: _Connection, message: dict) -> None:
        channel_id = str(message.get("channelID") or uuid.uuid4())
        try:
            channel_id = str(uuid.UUID(channel_id))
            key = unb64url(message["key"]) if message.get("key") else None
        except ValueError as error:
            self._event("event", {"register refused": str(error)})
            self._send(connection, {"messageType": "register", "channelID": channel_id, "status": 400})
            return
        channel = Channel(channel_id=channel_id, uaid=connection.uaid, key=key,
                          endpoint=self.endpoints.endpoint(channel_id), monotonic=time.monotonic())
        with self._changed:
            self.channels[channel_id] = channel
        self._send(connection, {"messageType": "register", "channelID": channel_id, "status": 200,
                                "pushEndpoint": channel.endpoint})

    def _on_ack(self, channel_id, version, *, ack_code=None, nack_code=None) -> None:
        with self._changed:
            for notification in self.notifications:
                if notification.version == version and (channel_id is None or notification.channel_id == channel_id):
                    notification.acked = time.monotonic()
                    if nack_code is not None:
                        notification.nack_code = int(nack_code)
                    else:
                        notification.ack_code = int(ack_code if ack_code is not None else ACK_DELIVERED)
            self._changed.notify_all()

    # -- the HTTP side's hooks
    def _ready(self, after: int) -> bool:
        with self._changed:
            return len(self.hellos) > after and self.hellos[-1].uaid in self._connections

    def _channel_key(self, name: str) -> bytes | None:
        with self._changed:
            channel = self.channels.get(name)
        if channel is None:
            raise PushRefused(404, "no such channel")
        if channel.unregistered is not None:
            raise PushRefused(410, "the channel was unregistered")
        return channel.key

    def _forward(self, request: PushRequest) -> str:
        channel = self.channels[request.name]
        body = request.body
        notification = Notification(
            channel_id=channel.channel_id, uaid=channel.uaid, version=uuid.uuid4().hex,
            data=b64url(body) if body else None,
            headers={"encoding": request.headers.get("content-encoding", "aes128gcm")} if body else None,
            ttl=request.ttl or 0, request=request)
        with self._changed:
            self.notifications.append(notification)
            connection = self._connections.get(channel.uaid)
        if connection is not None:
            self._deliver(notification, connection)
        elif notification.ttl == 0:
            notification.dropped = "TTL 0 and Firefox was not connected"
        return notification.version

    def _deliver(self, notification: Notification, connection: _Connection) -> None:
        age = time.monotonic() - notification.request.monotonic
        if (notification.sent and notification.ttl == 0) or age > max(notification.ttl, 1):
            notification.dropped = f"expired (TTL {notification.ttl} s, {age:.0f} s old)"
            return
        try:
            self._send(connection, notification.message())
            notification.sent.append(time.monotonic())
        except ConnectionClosed:
            if notification.ttl == 0:
                notification.dropped = "TTL 0 and the connection closed"
