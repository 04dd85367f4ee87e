"""The console's login and logout, with the app's own accounts (server.auth.service)."""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for

from server import i18n
from server.auth import service
from server.console.auth import CONSOLE_ROLES, check_csrf, console_login_required, current_login, end_session, start_session
from server.console.pages import bp, language
from server.errors import TooManyRequests, Unauthorized
from server.extensions import db


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a supervisor's or admin's right password opens the dashboard."""
    if request.method == "GET":
        found = current_login()
        if found is not None and found[0].role in CONSOLE_ROLES:
            return redirect(url_for("console.dashboard"))
        return render_template("console/login.html", username="", error=None)
    check_csrf()
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    config = current_app.config
    try:
        token, user = service.login(
            db.session, username=username, password=password, device_name="console",
            remote_addr=request.remote_addr, secret_key=config["SECRET_KEY"],
            max_failures=config["LOGIN_MAX_FAILURES"], window=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    except TooManyRequests as refused:
        message = i18n.error_message(refused.code, language(), **refused.params)
        return (render_template("console/login.html", username=username, error=message), 429,
                {"Retry-After": str(refused.params.get("retry_after", 1))})
    except Unauthorized as refused:
        db.session.rollback()
        message = i18n.error_message(refused.code, language())
        return render_template("console/login.html", username=username, error=message), 401
    if user.role not in CONSOLE_ROLES:
        # The password was right but the console is not theirs: the token just made dies at once.
        _, device = service.authenticate(db.session, token)
        service.logout(db.session, device)
        end_session()
        return render_template("console/refused.html"), 403
    start_session(token)
    return redirect(url_for("console.dashboard"))


@bp.post("/logout")
@console_login_required
def logout():
    """End this browser's device and session."""
    service.logout(db.session, g.device)
    end_session()
    return redirect(url_for("console.login"))
