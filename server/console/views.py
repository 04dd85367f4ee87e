"""The supervisors' console: login, logout, the dashboard and its CSV exports, under /console/.

Server-rendered with Flask's Jinja (autoescaped templates in templates/console/), for a desktop
browser; Simplified Chinese first, English by ?lang=en (kept in the session). The figures come from
server.console.figures; charts are drawn by server.console.charts as inline SVG.
"""
from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

import sqlalchemy as sa
from flask import (Blueprint, Response, current_app, g, redirect, render_template, request, session,
                   url_for)
from werkzeug.exceptions import HTTPException

from server import i18n
from server.auth import service
from server.console import charts, figures
from server.console.auth import (CONSOLE_ROLES, CSRF_FIELD, check_csrf, console_login_required, csrf_token,
                                 current_login, end_session, start_session)
from server.errors import TooManyRequests, Unauthorized
from server.extensions import db
from server.tickets.sla import Sla

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # a longer range is refused rather than left to run for minutes
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TABLE_NAMES = ("coverage_by_grid", "coverage_by_building", "coverage_heatmap", "overdue_households",
               "tickets_by_status", "ticket_times_by_category", "ticket_times_by_butler",
               "satisfaction_over_time", "backoffice_by_category", "products")

# The console's words: key -> (zh-CN, en).
TEXT: dict[str, tuple[str, str]] = {
    "app": ("睿管家 · 主管控制台", "Guanjia · Supervisors' console"),
    "login_title": ("登录主管控制台", "Log in to the console"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "log_in": ("登录", "Log in"),
    "log_out": ("退出登录", "Log out"),
    "switch": ("English", "中文"),
    "dashboard": ("总览", "Dashboard"),
    "start": ("开始日期", "From"),
    "end": ("结束日期", "To"),
    "community": ("小区", "Community"),
    "show": ("查看", "Show"),
    "month": ("月份", "Month"),
    "prev_month": ("‹ 上个月", "‹ Previous month"),
    "next_month": ("下个月 ›", "Next month ›"),
    "this_month": ("本月", "This month"),
    "export": ("导出 CSV", "Export CSV"),
    "no_rows": ("该时段没有数据。", "Nothing in this period."),
    "more_rows": ("图中只显示前 {shown} 项，表格列出全部 {total} 项。",
                  "The chart shows the first {shown}; the table lists all {total}."),
    "refused_title": ("无权进入主管控制台", "The console is for supervisors"),
    "refused": ("主管控制台仅供主管和管理员使用。管家和住户请使用手机应用。",
                "Only supervisors and administrators may use the console. Butlers and residents use the phone app."),
    "to_app": ("打开手机应用", "Open the phone app"),
    "to_login": ("用其他账号登录", "Log in with another account"),
    "bad_date": ("日期格式不正确，请使用 YYYY-MM-DD（例如 2026-01-31）。",
                 "The dates are not valid; use YYYY-MM-DD (for example 2026-01-31)."),
    "bad_range": ("开始日期不能晚于结束日期。", "The start date may not be after the end date."),
    "long_range": ("日期范围最长为 {days} 天。", "The range may be at most {days} days."),
    "no_community": ("您的账号没有所属小区，请联系管理员。",
                     "Your account belongs to no community; ask an administrator."),
    "csrf": ("页面已过期，请刷新后重试。", "This page has expired; reload it and try again."),
    "not_found": ("找不到该页面。", "Not found."),
    "forbidden": ("您无权访问此内容。", "You are not allowed to access this."),
    "error": ("出错了。", "Something went wrong."),
    "error_title": ("出错了", "Error"),
    "chart_of": ("图表：", "Chart: "),
}


def language() -> str:
    chosen = session.get("lang")
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def t(key: str, **params) -> str:
    text = i18n.pick(TEXT[key], language())
    return text.format(**params) if params else text


def pick(item) -> str:
    """A Table's or Column's name in the page's language."""
    return item.en if language() == "en" else item.zh


@bp.record_once
def _cookie_defaults(state) -> None:
    # The console's session cookie carries a device token: not readable by scripts (Flask's default),
    # and not sent on cross-site requests. Secure is left to the deployment (SESSION_COOKIE_SECURE).
    config = state.app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    if not config.get("SESSION_COOKIE_SAMESITE"):
        config["SESSION_COOKIE_SAMESITE"] = "Lax"


@bp.before_request
def _choose_language():
    chosen = request.args.get("lang")
    if chosen in i18n.LANGUAGES:
        session["lang"] = chosen


@bp.after_request
def _headers(response: Response) -> Response:
    # No script at all: the console is forms, tables and inline SVG.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers["Cache-Control"] = "no-store"  # household names and addresses: never kept by a proxy
    return response


@bp.app_template_global("switch_language_url")
def switch_language_url() -> str:
    other = "zh-CN" if language() == "en" else "en"
    args = {**request.args.to_dict(), "lang": other}
    return url_for(request.endpoint or "console.dashboard", **(request.view_args or {}), **args)


@bp.context_processor
def _template_helpers() -> dict:
    return {"t": t, "pick": pick, "lang": language(), "html_lang": "en" if language() == "en" else "zh-CN",
            "csrf_token": csrf_token, "csrf_field": CSRF_FIELD, "format_value": charts.format_value,
            "user": g.get("user")}


# ---- errors as pages --------------------------------------------------------------------------

def _error_page(status: int, message_key: str):
    return render_template("console/error.html", message=t(message_key)), status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.code == 403:
        return render_template("console/refused.html"), 403
    if error.code == 400 and error.description == "csrf":
        return _error_page(400, "csrf")
    return _error_page(error.code or 500, {404: "not_found"}.get(error.code or 500, "error"))


# ---- login and logout -------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
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
    service.logout(db.session, g.device)
    end_session()
    return redirect(url_for("console.login"))


# ---- the dashboard ----------------------------------------------------------------------------

class BadDates(ValueError):
    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


def zone_name() -> str:
    """The time zone of the community the page shows (its days are the console's days)."""
    if "console_zone" not in g:
        from server.community.models import DEFAULT_TIMEZONE, Community

        community = community_for(g.user)[0] if g.get("user") is not None else None
        name = db.session.scalar(sa.select(Community.timezone).where(Community.id == community)) if community else None
        g.console_zone = name or DEFAULT_TIMEZONE
    return g.console_zone


def _today() -> date:
    """Today in the shown community's time zone."""
    from server.community.service import today_in

    return today_in(zone_name())


def date_range(args) -> tuple[date, date]:
    """?start=&end= (YYYY-MM-DD); by default the last 30 days up to today."""
    today = _today()
    raw_start, raw_end = (args.get("start") or "").strip(), (args.get("end") or "").strip()
    try:
        end = date.fromisoformat(raw_end) if raw_end else today
        start = date.fromisoformat(raw_start) if raw_start else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise BadDates("bad_date") from None
    if (raw_start and not DATE.fullmatch(raw_start)) or (raw_end and not DATE.fullmatch(raw_end)):
        raise BadDates("bad_date")
    if start > end:
        raise BadDates("bad_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadDates("long_range", days=MAX_DAYS)
    return start, end


def _communities():
    from server.community.models import Community

    return db.session.execute(sa.select(Community.id, Community.name).order_by(Community.name)).all()


def community_for(user) -> tuple[str | None, list]:
    """The community shown: a supervisor's own; an admin's choice (?community=), else the first."""
    if user.role != "admin":
        return user.community_id, []
    choices = _communities()
    ids = [row.id for row in choices]
    wanted = request.values.get("community")  # a link's ?community=, or a form's hidden field
    if wanted in ids:
        return wanted, choices
    return (user.community_id if user.community_id in ids else (ids[0] if ids else None)), choices


# The pages, in groups: (group's word or None, ((endpoint, word, endpoints it stands for by prefix), ...)).
NAV: tuple = (
    (None, (("console.dashboard", "dashboard", ("console.dashboard", "console.export")),)),
    ("nav_daily", (("console.grids", "grids", ("console.grid", "console.household")),
                   ("console.tickets", "tickets", ("console.ticket",)),
                   ("console.conflicts", "conflicts", ("console.conflict",)))),
    ("nav_operations", (("console.plan", "plan", ("console.plan",)),
                        ("console.inspections", "inspections", ("console.inspection",)),
                        ("console.attendance", "attendance", ("console.attendance",)))),
    ("nav_settings", (("console.butlers", "butlers", ("console.butler", "console.device")),
                      ("console.catalogue", "catalogue", ("console.catalogue", "console.product")),
                      ("console.checklist", "checklist", ("console.checklist",)))),
    ("nav_records", (("console.audit_trail", "audit", ("console.audit",)),)),
)
TEXT.update({
    "nav_daily": ("日常", "Daily"), "nav_operations": ("运营", "Operations"),
    "nav_settings": ("团队与设置", "Team & settings"), "nav_records": ("记录", "Records"),
})


@bp.app_template_global("console_nav")
def console_nav() -> list[dict]:
    """The nav's groups and links for this page: each link carries an admin's chosen community."""
    endpoint, query = request.endpoint or "", community_query()
    return [{"title": t(group) if group else None,
             "links": [{"href": url_for(target, **query), "text": t(word),
                        "testid": f"nav-{word}",
                        "current": endpoint.startswith(prefixes)} for target, word, prefixes in links]}
            for group, links in NAV]


@bp.app_template_global("community_choices")
def community_choices() -> tuple[list, str | None]:
    """An admin's communities to choose from and the one shown (nothing to choose for a supervisor)."""
    user = g.get("user")
    if user is None or user.role != "admin":
        return [], None
    community, choices = community_for(user)
    return choices, community


@bp.app_template_global("community_query")
def community_query() -> dict:
    """An admin's chosen community, to carry through links, forms and redirects ({} for a supervisor,
    whose community is always their own)."""
    user = g.get("user")
    if user is None or user.role != "admin":
        return {}
    community, _ = community_for(user)
    return {"community": community} if community else {}


def _tables(community: str, start: date, end: date) -> dict:
    return figures.dashboard(db.session, community_id=community, start=start, end=end, today=_today(),
                             sla=Sla.from_config(current_app.config), tz=zone_name())


# Codes the figures keep as codes (figures.py), as people read them; the same words as the PWA's.
CATEGORIES: dict[str, tuple[str, str]] = {
    "repair": ("报修", "Repair"), "complaint": ("投诉", "Complaint"), "cleaning": ("保洁", "Cleaning"),
    "water": ("桶装水", "Bottled water"), "custody": ("房屋托管", "Property custody"), "other": ("其他", "Other"),
}
CODES = {"status": i18n.TICKET_STATES, "category": CATEGORIES}


def translated(table):
    """The table with its status and category codes in the page's language (pages, charts and CSV)."""
    lang = language()
    columns = [(i, CODES[column.key]) for i, column in enumerate(table.columns)
               if column.key in CODES and column.kind == "text"]
    if not columns:
        return table
    rows = []
    for row in table.rows:
        row = list(row)
        for i, names in columns:
            if row[i] in names:
                row[i] = i18n.pick(names[row[i]], lang)
        rows.append(tuple(row))
    return dataclasses.replace(table, rows=tuple(rows))


def _sections(tables: dict, start: date, end: date, community: str | None) -> list[dict]:
    lang = language()
    sections = []
    for name, table in tables.items():
        table = translated(table)
        rows = [[charts.format_value(value, column.kind) for column, value in zip(table.columns, row)]
                for row in table.rows]
        query = {"start": start.isoformat(), "end": end.isoformat()}
        if community and g.user.role == "admin":
            query["community"] = community
        sections.append({"name": name, "title": pick(table), "columns": table.columns, "rows": rows,
                         "numeric": [column.kind not in ("text", "date") for column in table.columns],
                         "chart": charts.chart_for(table, lang),
                         "csv": url_for("console.export", name=name, **query)})
    return sections


@bp.get("/")
@console_login_required
def dashboard():
    community, _ = community_for(g.user)
    context = {"community": community, "sections": [], "message": None,
               "start": request.args.get("start", ""), "end": request.args.get("end", "")}
    try:
        start, end = date_range(request.args)
    except BadDates as bad:
        context["message"] = t(bad.key, **bad.params)
        return render_template("console/dashboard.html", **context), 400
    context.update(start=start.isoformat(), end=end.isoformat())
    if community is None:
        context["message"] = t("no_community")
        return render_template("console/dashboard.html", **context)
    context["sections"] = _sections(_tables(community, start, end), start, end, community)
    return render_template("console/dashboard.html", **context)


@bp.get("/export/<name>.csv")
@console_login_required
def export(name: str):
    if name not in TABLE_NAMES:
        return _error_page(404, "not_found")
    community, _ = community_for(g.user)
    try:
        start, end = date_range(request.args)
    except BadDates as bad:
        return Response(t(bad.key, **bad.params), status=400, mimetype="text/plain")
    if community is None:
        return _error_page(404, "not_found")
    tables = _tables(community, start, end)
    if name not in tables:
        return _error_page(404, "not_found")
    filename = f"{name}_{start.isoformat()}_{end.isoformat()}.csv"
    return Response(figures.to_csv(translated(tables[name]), language()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# Each imports this module and puts its routes on bp.
from server.console import actions, attendance, audit, catalogue, conflicts, operations  # noqa: E402,F401
