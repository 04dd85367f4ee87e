"""Who may use the console, and how a browser stays logged in to it.

The console logs in with the same accounts as the app (server.auth.service): a login makes a Device
whose token is kept only in Flask's signed session cookie (HttpOnly, SameSite=Lax; never in a URL),
so a supervisor can see and revoke the browser like any phone. Every page checks the token again
(server.auth.service.authenticate), so a revoked device or a deactivated user is out at once.

CSRF: each session holds a random token; every POST form carries it in a hidden field and
`check_csrf` compares it in constant time (secrets.compare_digest). Written by hand rather than with
Flask-WTF: the console has three forms, and this avoids a dependency that would also need WTForms.
"""
from __future__ import annotations

import functools
import secrets

from flask import abort, g, redirect, request, session, url_for

from server.auth import service
from server.errors import Unauthorized
from server.extensions import db

CONSOLE_ROLES = ("supervisor", "admin")
TOKEN_KEY = "console_token"
CSRF_KEY = "console_csrf"
CSRF_FIELD = "csrf_token"
# The pages a user whose password a supervisor chose may still open.
WHILE_PASSWORD_MUST_CHANGE = frozenset({"console.own_password", "console.logout"})


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_KEY)
    if not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """400 unless the form carries this session's CSRF token."""
    expected = session.get(CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not sent or not secrets.compare_digest(expected.encode(), sent.encode()):
        abort(400, description="csrf")


def current_login():
    """The (user, device) of this browser's console token, or None when it has none or it is dead."""
    token = session.get(TOKEN_KEY)
    if not token:
        return None
    try:
        return service.authenticate(db.session, token)
    except Unauthorized:
        session.pop(TOKEN_KEY, None)
        return None


def start_session(token: str) -> None:
    """A fresh session for a new login (no fixation): the token, a new CSRF token, the language kept."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session[TOKEN_KEY] = token
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def end_session() -> None:
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def console_login_required(view):
    """A live token of an active supervisor or admin; else to the login form (or 403 for other roles)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        found = current_login()
        if found is None:
            return redirect(url_for("console.login"))
        g.user, g.device = found
        if g.user.role not in CONSOLE_ROLES:
            abort(403)
        if g.user.must_change_password and request.endpoint not in WHILE_PASSWORD_MUST_CHANGE:
            # Someone else chose this password: no page until the user has set their own.
            return redirect(url_for("console.own_password"))
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)

    return wrapped
