"""The device cookie: how a login shows it comes from a browser or phone that has logged in as
this user before, so that failures elsewhere never keep the owner out (docs/logins.md).

Set by every successful login (API and console) and signed with the secret key: a random id of
the device, and the keyed hashes of the usernames it logged in as (never a username readably).
HttpOnly, SameSite=Strict, a year long; Secure by the same rule as the console's session cookie
(SESSION_COOKIE_SECURE, on unless `make run` serves plain http on loopback), and always over HTTPS.
"""
from __future__ import annotations

import secrets

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeSerializer

from server.auth.service import KnownDevice, LoginPolicy

COOKIE = "guanjia_device"
SALT = "guanjia-known-device"
MAX_USERS = 5  # a shared family tablet may log in as several residents
MAX_AGE = 365 * 24 * 3600


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def _read(request: Request, secret_key: str) -> tuple[str | None, list[str]]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None, []
    try:
        found = _serializer(secret_key).loads(raw)
        device, users = found["d"], found["u"]
    except (BadSignature, KeyError, TypeError):
        return None, []
    if not isinstance(device, str) or not isinstance(users, list):
        return None, []
    return device, [u for u in users if isinstance(u, str)]


def of_request(request: Request, policy: LoginPolicy, token: str | None = None) -> KnownDevice:
    """What this login request shows of where it comes from (the cookie, and a token it holds)."""
    device, users = _read(request, policy.secret_key)
    return KnownDevice(subject=device, users=frozenset(users), token=token)


def remember(response: Response, request: Request, policy: LoginPolicy, username: str) -> Response:
    """After a successful login: this device has now logged in as `username`."""
    device, users = _read(request, policy.secret_key)
    subject = policy.user_subject(username)
    users = ([u for u in users if u != subject] + [subject])[-MAX_USERS:]
    value = _serializer(policy.secret_key).dumps({"d": device or secrets.token_urlsafe(16), "u": users})
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="Strict",
                        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]) or request.is_secure)
    return response
