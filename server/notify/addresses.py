"""Which addresses the server may POST to: push endpoints (handed over by a browser) and webhooks
(configured for a community) follow the same rules, so that neither can make the server call an
arbitrary address (SSRF):

- https, on a listed host: the name itself or a subdomain of it (PUSH_ALLOWED_HOSTS,
  WEBHOOK_ALLOWED_HOSTS);
- on https's default port (443), so that a listed name cannot reach another service on the same
  machine (`https://fcm.googleapis.com:6379/…`);
- no user or password in the address;
- plain http, and any port, only to a loopback host that is listed (tests' stand-ins, a relay on the
  same machine).

The senders (channels.py) check again before each send (the lists may have changed) and never
follow a redirect: a 3xx is a failed delivery, since its Location could be anywhere.
"""
from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
DEFAULT_PORTS = {"https": 443, "http": 80}


def host_list(raw: str | None, default: str) -> tuple[str, ...]:
    """A comma-separated list of host names, lower case, without a trailing dot."""
    return tuple(name.strip().lower().rstrip(".") for name in (raw or default).split(",") if name.strip())


def problem(url: str, hosts: tuple[str, ...]) -> str | None:
    """Why the server may not POST to url, or None when it may: "invalid", "host_not_allowed",
    "https_required" or "port_not_allowed"."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port  # raises on a malformed port
    except ValueError:
        return "invalid"
    if parts.scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
        return "invalid"
    if not any(host == name or host.endswith("." + name) for name in hosts):
        return "host_not_allowed"
    if host in LOOPBACK:
        return None
    if parts.scheme != "https":
        return "https_required"
    if port not in (None, DEFAULT_PORTS["https"]):
        return "port_not_allowed"
    return None


def field_error(url: str, hosts: tuple[str, ...], channel: str) -> str | None:
    """problem() as the field error code of a channel ("push", "webhook"): push_port_not_allowed …"""
    found = problem(url, hosts)
    return None if found is None else "invalid_type" if found == "invalid" else f"{channel}_{found}"
