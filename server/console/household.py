"""The console's page of one household's visits and touchpoints with their photos (the grids page
links each household here).

It lists when each was made, by whom and of what kind, and the photos taken; not the notes, so
opening the page reads nothing of what was said in the home. Each thumbnail is read through its
photo's scope and written to the audit trail as the browser fetches it (server/console/photos.py).
A supervisor sees only their community's households.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, g

from server.community.models import DEFAULT_TIMEZONE, Household
from server.console import photos, queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, render_page, t
from server.errors import Forbidden, NotFound
from server.extensions import db
from server.resources import service

LATEST = 20  # visits, and touchpoints, shown


@bp.get("/households/<household_id>")
@console_login_required
def household(household_id: str):
    """A household's latest visits and touchpoints, each with its photos."""
    try:
        found: Household = service.get(db.session, user=g.user, rtype="household", record_id=household_id)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    visits = queries.latest_visits(db.session, g.user, found.id, LATEST)
    touchpoints = queries.latest_touchpoints(db.session, g.user, found.id, LATEST)
    items = photos.item_names(found.community_id)
    of_visits = photos.of_records("visit", [visit.id for visit in visits])
    of_touchpoints = photos.of_records("touchpoint", [touchpoint.id for touchpoint in touchpoints])
    zone = ZoneInfo(queries.community_timezone(db.session, found.community_id) or DEFAULT_TIMEZONE)
    butlers = queries.users_by_id(db.session, {v.butler_id for v in visits} | {p.butler_id for p in touchpoints})
    return render_page(
        "console/household.html", household=found, title=t("hh_title", address=address(found)), latest=LATEST,
        visits=[(visit, photos.visit_photos(of_visits.get(visit.id, []), items)) for visit in visits],
        touchpoints=[(touchpoint, photos.touchpoint_photos(of_touchpoints.get(touchpoint.id, [])))
                     for touchpoint in touchpoints],
        butlers=butlers, local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
