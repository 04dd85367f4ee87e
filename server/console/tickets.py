"""The console's tickets (工单): the community's tickets filtered by state, category, grid, holder,
priority and lateness, sorted, and a page at a time (server/tickets/listing.py); each row says how old
the ticket is, when it is due or how late it is, and the start of what was asked, and opens the ticket's
own page (server/console/ticket.py), where it is reassigned or escalated. Tickets ticked on the page are
reassigned together: all of them, or, if any one is refused, none.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import current_app, g, request, url_for

from server import i18n
from server.auth.models import User
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import (CATEGORIES, address, bp, community_query, current_community, done, failed, language,
                                  render_page, t)
from server.console.ticket import HOLDERS
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.records import utcnow
from server.resources import service
from server.tickets import listing
from server.tickets.models import PRIORITIES, STATUSES
from server.tickets.sla import Sla

PREVIEW = 40  # characters of the description shown in a row
MAX_TICKED = listing.PAGE  # a bulk reassignment is at most one page's tickets


def _query(args) -> listing.TicketQuery:
    """The list's filters and order from the query string; a value it does not know counts as none."""
    def known(name: str, values) -> str | None:
        value = args.get(name, "")
        return value if value in values else None

    status = args.get("status", "open")
    return listing.TicketQuery(
        status=status if status in ("open", "all", *STATUSES) else "open",
        category=known("category", CATEGORIES), priority=known("priority", PRIORITIES),
        grid_id=args.get("grid", "").strip()[:36] or None, assignee=args.get("assignee", "").strip()[:36] or None,
        overdue=args.get("overdue") == "1", sort=known("sort", listing.SORTS) or "priority",
        after=args.get("after", "").strip()[:400] or None, before=args.get("before", "").strip()[:400] or None)


def _query_args(query: listing.TicketQuery) -> dict:
    """The query string that gives `query` again (without its page)."""
    found = {"status": query.status if query.status != "open" else "", "category": query.category or "",
             "priority": query.priority or "", "grid": query.grid_id or "", "assignee": query.assignee or "",
             "overdue": "1" if query.overdue else "", "sort": query.sort if query.sort != "priority" else ""}
    return {k: v for k, v in found.items() if v}


def _span(seconds: float) -> str:
    """A length of time as a supervisor reads it at a glance: 3天5小时, 2小时10分, 25分."""
    minutes = int(seconds // 60)
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return t("span_days", d=days, h=hours)
    if hours:
        return t("span_hours", h=hours, m=minutes)
    return t("span_minutes", m=minutes)


def _due(sla: Sla, ticket, now: datetime) -> tuple[str, str] | None:
    """("late" | "due", words) for an open ticket: how late it is, or how long is left."""
    found = sla.deadline(ticket)
    if found is None:
        return None
    _stage, at = found
    if at <= now:
        return "late", t("tk_late_by", span=_span((now - at).total_seconds()))
    return "due", t("tk_due_in", span=_span((at - now).total_seconds()))


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW else text[:PREVIEW] + "…"


def tickets_page(refused: dict | None = None, ticked: frozenset[str] = frozenset()):
    community = current_community()
    lang, now, sla = language(), utcnow(), Sla.from_config(current_app.config)
    query = _query(request.args)
    bad = None
    try:
        page = listing.ticket_page(db.session, community, query, sla=sla, now=now)
    except listing.BadPageToken:
        bad = t("bad_page_link")
        page = listing.ticket_page(db.session, community, replace(query, after=None, before=None), sla=sla, now=now)
    rows = page.rows
    marks = queries.photo_marks(db.session, g.user, "ticket", [ticket.id for ticket, _ in rows])  # one query
    staff = queries.active_users(db.session, community, HOLDERS)
    args = _query_args(query) | community_query()
    return render_page(
        "console/tickets.html", refused, rows=rows, total=page.total, photo_marks=marks, query=query, bad=bad,
        # the back office's technicians too: the ticket goes to their team (tickets/handoff.py)
        staff=staff, users=queries.users_of(db.session, community), ticked=ticked,
        statuses=[("all", t("all"))] + [(code, i18n.pick(i18n.TICKET_STATES[code], lang)) for code in STATUSES],
        categories=[(code, i18n.pick(CATEGORIES[code], lang)) for code in CATEGORIES],
        priorities=[(code, t(code)) for code in PRIORITIES],
        grids=[(grid.id, grid.name) for grid in queries.grids(db.session, community)],
        holders=[(listing.NOBODY, t("nobody"))] + [(person.id, person.name) for person in staff],
        sorts=[(code, t("tk_sort_" + code)) for code in listing.SORTS],
        next_url=url_for("console.tickets", **args, after=page.next_after) if page.next_after else None,
        first_url=url_for("console.tickets", **args) if query.after or query.before else None,
        prev_url=url_for("console.tickets", **args, before=page.prev_before) if page.prev_before else None,
        age=lambda ticket: _span((now - ticket.created_at).total_seconds()),
        due=lambda ticket: _due(sla, ticket, now), preview=_preview,
        status_name=lambda code: i18n.pick(i18n.TICKET_STATES[code], lang),
        category_name=lambda code: i18n.pick(CATEGORIES[code], lang), address=address)


@bp.get("/tickets")
@console_login_required
def tickets():
    """The community's tickets: open ones, urgent first and then oldest first, unless asked otherwise."""
    return tickets_page()


@bp.post("/tickets/assign")
@console_login_required
def tickets_assign():
    """Give every ticked ticket to one butler, supervisor or back-office technician, in one transaction."""
    assignee_id = request.form.get("assignee_id", "")
    ticked = [value[:36] for value in dict.fromkeys(request.form.getlist("ticket_id")) if value]
    failing = None
    try:
        if not ticked:
            raise ValidationFailed([FieldError("ticket_id", "required")])
        if len(ticked) > MAX_TICKED:
            raise ValidationFailed([FieldError("ticket_id", "out_of_range", {"max": MAX_TICKED})])
        if not assignee_id:
            raise ValidationFailed([FieldError("assignee_id", "required")])
        for failing in ticked:  # the one named if it is refused
            service.update(db.session, user=g.user, rtype="ticket", record_id=failing,
                           data={"assignee_id": assignee_id})
        failing = None
        assignee = db.session.get(User, assignee_id)
        db.session.commit()
    except ApiError as error:
        return tickets_page(failed(error, "bulk-assign", failing, {"assignee_id": assignee_id}), frozenset(ticked))
    return done(t("done_bulk_reassign", n=len(ticked), user=assignee.name if assignee else ""), "console.tickets",
                **_query_args(_query(request.args)))  # back to the same filters
