"""The console's 回访 (follow-up) tasks: a resident rated a ticket 1–2★; a supervisor calls them back,
notes the outcome and marks the task done. Filtered by state, whether the resident was reached, and the
rating. Written through server/tickets/followups.py, as the REST API does.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import g, request

from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, community_query, current_community, done, failed, render_page, t, zone_name
from server.errors import ApiError
from server.extensions import db
from server.tickets import followups as tasks
from server.tickets.models import FOLLOW_UP_STATES, Ticket

PAGE = 50


def _filters(args) -> dict:
    status, called, rating = args.get("status", "open"), args.get("called", ""), args.get("rating", "")
    return {"status": status if status in FOLLOW_UP_STATES else "",
            "called": called if called in ("yes", "no") else "",
            "rating": rating if rating in ("1", "2") else ""}


def _follow_ups_page(refused: dict | None = None):
    community = current_community()
    filters = _filters(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = tasks.list_follow_ups(db.session, user=g.user, status=filters["status"] or None, community_id=community,
                                  called={"yes": True, "no": False}.get(filters["called"]),
                                  rating=int(filters["rating"]) if filters["rating"] else None,
                                  limit=PAGE + 1, offset=(page - 1) * PAGE)
    rows, more = found[:PAGE], len(found) > PAGE
    tickets = {tk.id: tk for tk in db.session.query(Ticket).filter(Ticket.id.in_({f.ticket_id for f in rows}))} \
        if rows else {}
    homes = queries.households_by_id(db.session, {tk.household_id for tk in tickets.values()})
    zone = ZoneInfo(zone_name())
    return render_page("console/follow_ups.html", refused, rows=rows, tickets=tickets, homes=homes, address=address,
                       filters=filters, page=page, more=more,
                       states=[(code, t("fu_state_" + code)) for code in FOLLOW_UP_STATES],
                       users=queries.users_by_id(db.session, {f.done_by for f in rows if f.done_by}),
                       local=lambda m: m.astimezone(zone).strftime("%Y-%m-%d %H:%M") if m else "",
                       query={k: v for k, v in filters.items() if v} | community_query())


@bp.get("/follow-ups")
@console_login_required
def follow_ups():
    """The community's 回访 tasks, open ones by default."""
    return _follow_ups_page()


@bp.post("/follow-ups/<follow_up_id>")
@console_login_required
def follow_up_settle(follow_up_id: str):
    """Record a call: reached or not (`called`), the outcome (`note`), and whether it is done (`done`)."""
    values = {"called": request.form.get("called") == "on", "note": request.form.get("note", "").strip()[:2000],
              "done": request.form.get("done") == "on"}
    try:
        tasks.settle(db.session, user=g.user, follow_up_id=follow_up_id, status="done" if values["done"] else "open",
                     note=values["note"], called=values["called"])
        db.session.commit()
    except ApiError as error:
        return _follow_ups_page(failed(error, "settle", follow_up_id, values))
    return done(t("fu_done_saved"), "console.follow_ups")
