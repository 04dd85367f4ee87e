"""Configuration: defaults, then GUANJIA_* environment variables, then test_config."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from server import jsonio

PREFIX = "GUANJIA_"


def flag(raw: str) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off (any case)."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


# Keys read from the environment (without the prefix) and how to parse them.
_ENV_KEYS: dict[str, type | Callable[[str], object]] = {
    "DATABASE_URL": str,
    "LIVE_DATABASE_URL": str,
    "SECRET_KEY": str,
    "DATA_KEY": str,
    "SESSION_COOKIE_SECURE": flag,
    "MAX_CONTENT_LENGTH": int,
    "JSON_MAX_BYTES": int,
    "LOGIN_MAX_FAILURES": int,
    "LOGIN_FAILURE_WINDOW_SECONDS": int,
    "LOGIN_BACKOFF_SECONDS": float,
    "LOGIN_MAX_PER_USER": int,
    "LOGIN_MAX_PER_ADDRESS": int,
    "MAX_DEVICES_PER_USER": int,
    "LONG_POLLS_PER_USER": int,
    "DEFAULT_LANGUAGE": str,
    "SYNC_MAX_MUTATIONS": int,
    "SYNC_MAX_BYTES": int,
    "SYNC_MAX_LIMIT": int,
    "SYNC_GRACE_DAYS": int,
    "SLA_ACCEPT_MINUTES": int,
    "SLA_RESOLVE_HOURS": str,
    "SLA_URGENT_ACCEPT_MINUTES": int,
    "SLA_URGENT_RESOLVE_HOURS": int,
    "VAPID_PRIVATE_KEY": str,
    "VAPID_SUBJECT": str,
    "PUSH_ALLOWED_HOSTS": str,
    "WEBHOOK_ALLOWED_HOSTS": str,
    "PUSH_TTL_SECONDS": int,
    "PUSH_TIMEOUT_SECONDS": float,
    "NOTIFY_POLL_SECONDS": float,
    "NOTIFY_LEASE_SECONDS": float,
    "NOTIFY_BATCH": int,
    "NOTIFY_THREADS": int,
    "NOTIFY_MAX_ATTEMPTS": int,
    "ESCALATE_EVERY_SECONDS": float,
    "LONG_POLL_SECONDS": float,
    "TRUSTED_PROXIES": int,
    "ATTACHMENT_STORE": str,
}


def defaults(instance_path: str) -> dict:
    """The configuration a fresh checkout runs with."""
    return {
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "guanjia.sqlite3"),
        "SECRET_KEY": None,  # read from instance/secret.key when not set
        "DATA_KEY": None,  # read from instance/data.key when not set
        # The console's session cookie is sent over HTTPS only. `make run` turns this off while it
        # serves plain http on a loopback address; anywhere else the console is served over HTTPS.
        "SESSION_COOKIE_SECURE": True,
        # A sync batch may carry up to 4 MB; a little headroom for the envelope.
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # Any other JSON body (one record, a login, a subscription) is far smaller: 413 past this.
        "JSON_MAX_BYTES": 1024 * 1024,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
        # Past the free failures (above; four times as many per address), each further attempt waits
        # this long after the last, doubling each time (docs/logins.md).
        "LOGIN_BACKOFF_SECONDS": 1.0,
        # Successful logins per user and per address within the window, and live devices per user
        # (a login past it logs out the longest idle one).
        "LOGIN_MAX_PER_USER": 10,
        "LOGIN_MAX_PER_ADDRESS": 100,
        "MAX_DEVICES_PER_USER": 10,
        "DEFAULT_LANGUAGE": "zh-CN",
        # Sync (the contract's limits): mutations and bytes per request, changes per answer, and
        # how long after losing a household a butler's offline visits to it are still accepted.
        "SYNC_MAX_MUTATIONS": 500,
        "SYNC_MAX_BYTES": 4 * 1024 * 1024,
        "SYNC_MAX_LIMIT": 1000,
        "SYNC_GRACE_DAYS": 7,
        # Compare every kept wire form a pull sends with its record's columns (server/resources/
        # kept_wire.py): on in the test suite, where it costs a query per type and page.
        "SYNC_CHECK_KEPT_WIRE": False,
        # Sync answers above a packet are compressed for a client that accepts it (a first sync is
        # mostly repeated field names: a tenth of the bytes on a weak signal). zstd and Brotli cost
        # well under a millisecond per page of 1,000 records; gzip, which every client takes, more,
        # hence level 5 rather than 6. Only the sync view (server/syncing/api.py): its answers
        # carry no secret an attacker could make a page reflect beside text of their own, and a
        # cross-site page cannot send its bearer token.
        "COMPRESS_REGISTER": False,
        "COMPRESS_MIMETYPES": ["application/json"],
        "COMPRESS_ALGORITHM": ["zstd", "br", "gzip"],
        "COMPRESS_LEVEL": 5,
        "COMPRESS_MIN_SIZE": 1400,
        # Tickets' service levels (server/tickets/sla.py): minutes to accept; hours to resolve per
        # category, as "repair=24,complaint=72" (categories left out keep their default).
        "SLA_ACCEPT_MINUTES": 15,
        "SLA_RESOLVE_HOURS": "",
        "SLA_URGENT_ACCEPT_MINUTES": 5,  # an urgent ticket (紧急)
        "SLA_URGENT_RESOLVE_HOURS": 4,
        # Notifications (docs/notifications.md). The VAPID key: a PEM here, else instance/vapid_private.pem
        # (made by `flask --app server vapid-keys`). The subject is the contact push services see:
        # set a real mailto: or https: address in production (Apple refuses placeholders).
        "VAPID_PRIVATE_KEY": None,
        "VAPID_SUBJECT": "mailto:admin@guanjia.example.com",
        # Hosts push endpoints may be on (and their subdomains); None: the public push services.
        "PUSH_ALLOWED_HOSTS": None,
        # Hosts webhooks may be on, the same way; None: WeCom's group robots (qyapi.weixin.qq.com).
        "WEBHOOK_ALLOWED_HOSTS": None,
        "PUSH_TTL_SECONDS": 24 * 3600,
        "PUSH_TIMEOUT_SECONDS": 10.0,
        # The worker: how often it looks for due deliveries, how long a claim holds, how many at once.
        "NOTIFY_POLL_SECONDS": 0.25,
        "NOTIFY_LEASE_SECONDS": 60.0,
        "NOTIFY_BATCH": 100,
        "NOTIFY_THREADS": 8,
        "NOTIFY_MAX_ATTEMPTS": 10,
        "ESCALATE_EVERY_SECONDS": 30.0,
        # How long an open app's GET /notifications waits for news at most.
        "LONG_POLL_SECONDS": 25.0,
        # Long polls one user may hold open on one app server: a new one ends the oldest.
        "LONG_POLLS_PER_USER": 4,
        # Load balancers in front of the app servers whose X-Forwarded-For/-Proto to believe (0: none,
        # the client is the peer). Behind one balancer, 1: else every login shares its address.
        "TRUSTED_PROXIES": 0,
        "JSON_AS_ASCII": False,
        # Where photos' bytes are kept: "" for <instance>/attachments, file:///… for another folder,
        # s3://bucket/prefix?endpoint=… for an S3-compatible store (server/attachments/storage.py).
        "ATTACHMENT_STORE": "",
    }


def from_environment(environ: os._Environ | dict | None = None) -> dict:
    """The GUANJIA_* variables that are set, parsed, without their prefix."""
    environ = os.environ if environ is None else environ
    found = {}
    for key, kind in _ENV_KEYS.items():
        raw = environ.get(PREFIX + key)
        if raw is None or raw == "":
            continue
        found[key] = kind(raw) if kind is not str else raw
    return found


def resolve(instance_path: str, test_config: dict | None, environ=None) -> dict:
    """Defaults < environment < test_config."""
    config = defaults(instance_path)
    config.update(from_environment(environ))
    if test_config:
        config.update(test_config)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["DATABASE_URL"])
    # The live channel's watcher LISTENs: behind a transaction-pooling PgBouncer it needs a direct
    # (or session-pooled) address of the same database.
    config["LIVE_DATABASE_URI"] = normalise_database_url(config.get("LIVE_DATABASE_URL") or config["DATABASE_URL"])
    # JSON columns are read and written with orjson (server/jsonio.py): pulls read tens of thousands
    # of them, pushes write thousands.
    options = config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("json_deserializer", jsonio.loads)
    options.setdefault("json_serializer", jsonio.column_dumps)
    return config


def normalise_database_url(url: str) -> str:
    """Let people write postgres:// or postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
