"""The headers every answer carries: what a browser may load, frame or send a referrer to, and what
may be kept by a browser or a proxy. One hook for the whole app (`register`), so no page can be
left out; an answer that set a header itself (a photo's own caching) keeps its own.

- Content-Security-Policy by area: the app shell (scripts, styles, its service worker and manifest
  from this server only; photos as blob: and data: images), the console (no script at all), the
  API reference (Swagger UI: scripts and styles from this server, "try it out" to this server), and
  for everything else (JSON, errors) nothing at all. Every policy forbids framing.
- X-Frame-Options for browsers that predate frame-ancestors; nosniff; a referrer only to this server.
- Strict-Transport-Security when the request came over HTTPS (behind a balancer, as its
  X-Forwarded-Proto says: TRUSTED_PROXIES), never over plain http, which `make run` serves.
- Cache-Control: no-store on every API and console answer that did not choose its caching: they
  carry names, addresses and phone numbers. The app shell's files choose no-cache (server/pwa.py:
  the service worker's versioned cache keeps the app), as do the console's and the reference's
  style sheets and scripts.
"""
from __future__ import annotations

from flask import Flask, Response, request

FRAMING = "frame-ancestors 'none'; base-uri 'none'"
POLICIES = {
    # The app shell and its service worker (whose own fetches the policy of sw.js governs).
    "pwa": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; worker-src 'self'; manifest-src 'self'; form-action 'self'; " + FRAMING),
    # Forms, tables and inline SVG: no script at all.
    "console": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " + FRAMING,
    # The owner's custody report, opened by its link: a page, its style sheet and its thumbnails.
    "custody_report": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; " + FRAMING,
    # Swagger UI sets styles through the DOM (which style-src 'self' allows); its icons are data: URLs.
    "api.openapi": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    "connect-src 'self'; form-action 'none'; " + FRAMING),
}
NOTHING = "default-src 'none'; form-action 'none'; " + FRAMING  # JSON, errors, anything else
HSTS_SECONDS = 365 * 24 * 3600
# Where answers are personal (names, addresses, phone numbers) unless they say otherwise.
PERSONAL = ("/api/", "/console/")


def policy() -> str:
    """The Content-Security-Policy of this request's area: its innermost blueprint that has one."""
    for name in request.blueprints:
        if name in POLICIES:
            return POLICIES[name]
    return NOTHING


def secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy())
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    if request.path.startswith(PERSONAL) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.after_request(secure)
