"""Photos in the console: their bytes, a page of one photo at full size, and how pages show them.

A photo's bytes (its 320 px thumbnail or the original) are served only here and by the API, through
the scope of the record the photo hangs on (server/attachments/service.read_content): a supervisor
sees their community's, an admin every one. Each read is written to the audit trail as a read of
the household's file, by the console; nothing is kept by a browser or proxy (no-store), and no URL
reaches the bytes without a console login.

A photo whose bytes have not arrived (uploaded_at is None) is shown as 照片上传中, never as a
thumbnail, so that a record is not taken for complete while its photo is missing. Enlarging is a
plain link to the photo's own page: the console runs no script.
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Response, abort, g, url_for

from server.attachments import service as attachments
from server.attachments.models import Attachment
from server.audit import service as audit
from server.community.models import DEFAULT_TIMEZONE, Household
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import address, bp, community_query, error_page, language, render_page, t
from server.errors import Forbidden, NotFound
from server.extensions import db
from server.operations.models import InspectionPhoto
from server.resources import service
from server.visits import service as visits


@dataclass(frozen=True)
class Shown:
    """A photo as a page shows it: the record (a record's Attachment, or an InspectionPhoto), and the
    words that name it (its alt text)."""

    photo: Attachment | InspectionPhoto
    alt: str


def of_records(rtype: str, record_ids: list[str]) -> dict[str, list[Attachment]]:
    """The photos the logged-in user sees of those records, oldest first, by record id."""
    return attachments.of_records(db.session, user=g.user, rtype=rtype, record_ids=record_ids)


def ticket_groups(photos: list[Attachment]) -> list[tuple[str, list[Shown]]]:
    """A ticket's photos by role, as its page shows them: the fault (before), the repair (after),
    then any other; each group with its heading, each photo with its alt text."""
    groups = []
    for role in ("before", "after", "photo"):
        mine = [photo for photo in photos if photo.role == role]
        if mine:
            heading = t(f"ph_role_{role}")
            groups.append((heading, [Shown(photo, t("ph_alt_ticket", n=n, role=heading))
                                     for n, photo in enumerate(mine, 1)]))
    return groups


def item_names(community_id: str | None) -> dict[str, str]:
    """The community's visit checklist items by key, in the page's language."""
    template = visits.checklist_template(db.session, user=g.user, community_id=community_id)
    english = language() == "en"
    return {item["key"]: item.get("en" if english else "zh") or item["key"] for item in template["items"]}


def visit_photos(photos: list[Attachment], items: dict[str, str]) -> list[Shown]:
    """A visit's photos, each named by the checklist item it was taken for."""
    return [Shown(photo, t("ph_alt_visit", n=n, item=items.get(photo.item, photo.item) if photo.item
                           else t("ph_visit_general")))
            for n, photo in enumerate(photos, 1)]


def touchpoint_photos(photos: list[Attachment]) -> list[Shown]:
    return [Shown(photo, t("ph_alt_touchpoint", n=n)) for n, photo in enumerate(photos, 1)]


def _photo(attachment_id: str) -> Attachment:
    """The photo record, through its record's scope (403 / 404 as the console answers them)."""
    try:
        return service.get(db.session, user=g.user, rtype="attachment", record_id=attachment_id)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)


@bp.get("/photos/<attachment_id>/<size>")
@console_login_required
def photo_content(attachment_id: str, size: str):
    """A photo's bytes: `thumb` (a 320 px JPEG) or `full`. Each read is in the audit trail."""
    if size not in attachments.SIZES:
        abort(404)
    try:
        content = attachments.read_content(db.session, user=g.user, attachment_id=attachment_id, size=size,
                                           via=audit.Via("console", g.device.id))
    except Forbidden:
        abort(403)
    except attachments.Pending:
        return error_page(404, "ph_uploading")
    except NotFound:
        abort(404)
    db.session.commit()
    return photo_response(content.data, content.content_type)


def photo_response(data: bytes, content_type: str) -> Response:
    """A photo's bytes as the console answers them: never kept by a browser or proxy, never sniffed."""
    return Response(data, mimetype=content_type, headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"})


@bp.get("/photos/<attachment_id>")
@console_login_required
def photo_view(attachment_id: str):
    """One photo at full size, with what it belongs to and a way back (the thumbnails link here)."""
    photo = _photo(attachment_id)
    household = db.session.get(Household, photo.household_id)
    if household is None:
        abort(404)
    if photo.record_type == "ticket":
        back, back_args, back_word = "console.ticket_detail", {"ticket_id": photo.record_id}, "ph_back_ticket"
        heading = t("ph_heading_ticket", role=t(f"ph_role_{photo.role}"))
    else:
        back, back_args, back_word = "console.household", {"household_id": household.id}, "ph_back_household"
        if photo.record_type == "visit":
            item = item_names(household.community_id).get(photo.item, photo.item) if photo.item else ""
            heading = t("ph_heading_visit", item=item or t("ph_visit_general"))
        else:
            heading = t("ph_heading_touchpoint")
    zone = ZoneInfo(queries.community_timezone(db.session, household.community_id) or DEFAULT_TIMEZONE)
    author = queries.users_by_id(db.session, [photo.author_id]).get(photo.author_id)
    return render_page("console/photo.html", heading=heading, subject=address(household),
                       full=url_for("console.photo_content", attachment_id=photo.id, size="full"),
                       ready=photo.uploaded_at is not None, width=photo.width, height=photo.height,
                       back=url_for(back, **back_args, **community_query()), back_word=back_word,
                       author=author.name if author else "",
                       taken=photo.taken_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if photo.taken_at else "")
