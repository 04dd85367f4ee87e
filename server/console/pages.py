"""What every console page shares: the blueprint, its words, the shown community and period, and how a
page answers a form (a message and a redirect, or the page again with the refusal).

Server-rendered with Flask's Jinja (autoescaped templates in templates/console/), for a desktop
browser; Simplified Chinese first, English by ?lang=en (kept in the session). The routes are in the
page modules that server.console imports (login, dashboard, actions, ...); the SQL they need is in
server.console.queries and server.console.figures.
"""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from flask import (Blueprint, flash, g, get_flashed_messages, redirect, render_template, request,
                   session, url_for)
from werkzeug.exceptions import HTTPException

from server import i18n, months
from server.community.models import DEFAULT_TIMEZONE
from server.community.service import today_in
from server.console import charts, queries
from server.console.auth import CSRF_FIELD, csrf_token
from server.console.words import TEXT
from server.errors import ApiError, ValidationFailed
from server.extensions import db
from server.tickets import categories as ticket_categories

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # a longer range is refused rather than left to run for minutes


# ---- words --------------------------------------------------------------------------------------

def language() -> str:
    """The page's language: the session's choice, else the default."""
    chosen = session.get("lang")
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def t(key: str, **params) -> str:
    """The word `key` in the page's language, its {params} filled in."""
    text = i18n.pick(TEXT[key], language())
    return text.format(**params) if params else text


def pick(item) -> str:
    """A Table's or Column's name in the page's language."""
    return item.en if language() == "en" else item.zh


# Codes the figures keep as codes (figures.py), as people read them; the same words as the PWA's.
CATEGORIES: dict[str, tuple[str, str]] = ticket_categories.NAMES
CODES = {"status": i18n.TICKET_STATES, "category": CATEGORIES, "team_kind": i18n.TEAM_KINDS}


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


def address(household) -> str:
    """A household as people write it: building-unit-room."""
    return "-".join(part for part in (household.building, household.unit, household.room) if part)


# ---- the blueprint's frame ----------------------------------------------------------------------

@bp.record_once
def _cookie_defaults(state) -> None:
    # The console's session cookie carries a device token: not readable by scripts (Flask's default),
    # and not sent on cross-site requests; over HTTPS only unless SESSION_COOKIE_SECURE is off
    # (server/config.py: `make run` on a loopback address).
    config = state.app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    if not config.get("SESSION_COOKIE_SAMESITE"):
        config["SESSION_COOKIE_SAMESITE"] = "Lax"


@bp.before_request
def _choose_language():
    chosen = request.args.get("lang")
    if chosen in i18n.LANGUAGES:
        session["lang"] = chosen


@bp.app_template_global("switch_language_url")
def switch_language_url() -> str:
    """This page in the other language."""
    other = "zh-CN" if language() == "en" else "en"
    args = {**request.args.to_dict(), "lang": other}
    return url_for(request.endpoint or "console.dashboard", **(request.view_args or {}), **args)


@bp.context_processor
def _template_helpers() -> dict:
    return {"t": t, "pick": pick, "lang": language(), "html_lang": "en" if language() == "en" else "zh-CN",
            "csrf_token": csrf_token, "csrf_field": CSRF_FIELD, "format_value": charts.format_value,
            "user": g.get("user")}


def error_page(status: int, message_key: str):
    """The error page with the word `message_key`, as a (page, status) answer."""
    return render_template("console/error.html", message=t(message_key)), status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.code == 403:
        return render_template("console/refused.html"), 403
    if error.code == 400 and error.description == "csrf":
        return error_page(400, "csrf")
    return error_page(error.code or 500, {404: "not_found"}.get(error.code or 500, "error"))


# ---- the community shown ------------------------------------------------------------------------

def community_for(user) -> tuple[str | None, list]:
    """The community shown: a supervisor's own; an admin's choice (?community=), else the first."""
    if user.role != "admin":
        return user.community_id, []
    choices = queries.communities(db.session)
    ids = [row.id for row in choices]
    wanted = request.values.get("community")  # a link's ?community=, or a form's hidden field
    if wanted in ids:
        return wanted, choices
    return (user.community_id if user.community_id in ids else (ids[0] if ids else None)), choices


def current_community() -> str | None:
    """The id of the community the logged-in user's page shows."""
    community, _ = community_for(g.user)
    return community


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


def zone_name() -> str:
    """The time zone of the community the page shows (its days are the console's days)."""
    if "console_zone" not in g:
        community = community_for(g.user)[0] if g.get("user") is not None else None
        name = queries.community_timezone(db.session, community) if community else None
        g.console_zone = name or DEFAULT_TIMEZONE
    return g.console_zone


def today() -> date:
    """Today in the shown community's time zone."""
    return today_in(zone_name())


# ---- the period shown ---------------------------------------------------------------------------

class BadDates(ValueError):
    """A ?start=&end= that cannot be shown: `key` is the word that says why."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


def date_range(args) -> tuple[date, date]:
    """?start=&end= (YYYY-MM-DD); by default the last 30 days up to today; BadDates otherwise."""
    try:
        end = months.parse_date(args.get("end"), "end") or today()
        start = months.parse_date(args.get("start"), "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    except ValidationFailed:
        raise BadDates("bad_date") from None
    if start > end:
        raise BadDates("bad_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadDates("long_range", days=MAX_DAYS)
    return start, end


def month_arg(bad_key: str) -> tuple[date, str | None]:
    """?month= (YYYY-MM) as its first day, by default this month on the community's calendar; a bad one
    gives this month and the word `bad_key`."""
    this_month = today().replace(day=1)
    raw = request.args.get("month", "").strip()
    if not raw:
        return this_month, None
    try:
        return months.parse_month(raw), None
    except ValidationFailed:
        return this_month, t(bad_key)


# ---- answering a form -----------------------------------------------------------------------------

def error_text(error: ApiError) -> str:
    """The domain's refusal in the page's language: its field errors (the console's own err_ words
    first), else its code."""
    lang = language()
    if error.errors:
        texts = []
        for field_error in error.errors:
            own = TEXT.get(f"err_{field_error.code}")
            if own:
                texts.append(i18n.fill_in(i18n.pick(own, lang),
                                          {"label": i18n.label(field_error.field, lang), **field_error.params}))
            else:
                texts.append(field_error.as_dict(lang)["message"])
        return " ".join(texts)
    return i18n.error_message(error.code, lang, **error.params)


def failed(error: ApiError, form: str, record_id: str | None, values: dict, message: str | None = None) -> dict:
    """A refused form, for its page to show again: the write is rolled back; the form, the record and
    the values sent are kept with the refusal's message (error_text's unless given) and status."""
    db.session.rollback()
    return {"form": form, "id": record_id, "sent": values, "message": message or error_text(error),
            "status": error.status}


def render_page(template: str, refused: dict | None = None, status: int = 200, **context):
    """A page with its flashed messages and any refused form (see `failed`), answered with the
    refusal's status, else `status`."""
    page = render_template(template, failed=refused, messages=get_flashed_messages(), **context)
    return page, (refused["status"] if refused else status)


def done(message: str, endpoint: str, **args):
    """A write that worked: flash its message and go back to the page (post/redirect/get), keeping an
    admin's chosen community."""
    flash(message)
    return redirect(url_for(endpoint, **args, **community_query()))


# ---- the nav ----------------------------------------------------------------------------------------

# The pages, in groups: (group's word or None, ((endpoint, word, endpoints it stands for by prefix), ...)).
NAV: tuple = (
    (None, (("console.dashboard", "dashboard", ("console.dashboard", "console.export")),)),
    ("nav_daily", (("console.grids", "grids", ("console.grid", "console.household")),
                   ("console.tickets", "tickets", ("console.ticket",)),
                   ("console.orders", "orders", ("console.order",)),
                   ("console.notices", "notices", ("console.notice",)),
                   ("console.incidents_list", "incidents", ("console.incident",)),
                   ("console.polls", "polls", ("console.poll",)),
                   ("console.activities", "activities", ("console.activit",)),
                   ("console.follow_ups", "follow_ups", ("console.follow_up",)),
                   ("console.custody", "custody", ("console.custody",)),
                   ("console.conflicts", "conflicts", ("console.conflict",)))),
    ("nav_operations", (("console.plan", "plan", ("console.plan",)),
                        ("console.inspections", "inspections", ("console.inspection",)),
                        ("console.attendance", "attendance", ("console.attendance",)))),
    ("nav_settings", (("console.setup", "setup", ("console.setup",)),
                      ("console.butlers", "butlers", ("console.butler", "console.device")),
                      ("console.teams", "teams", ("console.team", "console.technician")),
                      ("console.joining_requests", "joining", ("console.joining",)),
                      ("console.catalogue", "catalogue", ("console.catalogue", "console.product")),
                      ("console.checklist", "checklist", ("console.checklist",)))),
    ("nav_records", (("console.audit_trail", "audit", ("console.audit",)),)),
)


@bp.app_template_global("console_nav")
def console_nav() -> list[dict]:
    """The nav's groups and links for this page: each link carries an admin's chosen community."""
    endpoint, query = request.endpoint or "", community_query()
    return [{"title": t(group) if group else None,
             "links": [{"href": url_for(target, **query), "text": t(word),
                        "testid": f"nav-{word}",
                        "current": endpoint.startswith(prefixes)} for target, word, prefixes in links]}
            for group, links in NAV]
