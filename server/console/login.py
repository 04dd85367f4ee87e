"""The console's login and logout, with the app's own accounts (server.auth.service), and the
logged-in user's own password (which they must set first when a supervisor chose it)."""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for

from server import i18n
from server.audit import service as audit
from server.auth import known, service
from server.console.auth import CONSOLE_ROLES, check_csrf, console_login_required, current_login, end_session, start_session
from server.console.pages import bp, done, error_text, language, render_page, t
from server.errors import TooManyRequests, Unauthorized, ValidationFailed
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
    policy = service.LoginPolicy.of(current_app.config)
    try:
        token, user = service.login(
            db.session, username=username, password=password, device_name="console",
            remote_addr=request.remote_addr, policy=policy, known=known.of_request(request, policy))
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
    return known.remember(redirect(url_for("console.dashboard")), request, policy, username)


@bp.post("/logout")
@console_login_required
def logout():
    """End this browser's device and session."""
    service.logout(db.session, g.device)
    end_session()
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
@console_login_required
def own_password():
    """Change one's own password; while someone else's choice is still the password, every other page
    leads here (console_login_required)."""
    if request.method == "GET":
        return render_page("console/password.html", errors={})
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if new != request.form.get("repeat_password", ""):
        return render_page("console/password.html", errors={"repeat_password": t("err_repeat_differs")},
                           status=422)
    try:
        service.change_password(
            db.session, user=g.user, device=g.device, current_password=current, new_password=new,
            remote_addr=request.remote_addr, policy=service.LoginPolicy.of(current_app.config),
            via=audit.Via("console", g.device.id))
    except TooManyRequests as refused:
        db.session.rollback()
        message = i18n.error_message(refused.code, language(), **refused.params)
        return (render_page("console/password.html", errors={"current_password": message}, status=429)[0], 429,
                {"Retry-After": str(refused.params.get("retry_after", 1))})
    except ValidationFailed as refused:
        db.session.rollback()
        errors = {}
        for problem in refused.errors:
            one = ValidationFailed([problem])
            errors[problem.field] = error_text(one)
        return render_page("console/password.html", errors=errors, status=422)
    return done(t("done_own_password"), "console.own_password")  # the nav of pages is open again there
