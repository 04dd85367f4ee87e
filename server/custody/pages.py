"""The owner's report, opened by its link (server/custody/report.py): a printable page, its PDF and
its photos' thumbnails. No account: the token in the link is the only key, and a refused one
(forged, unknown, expired, revoked) is a plain 404. The answers are never cached, never framed,
and send no referrer, so the token does not travel on."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template

from server.attachments import service as attachments
from server.custody import report as reports
from server.custody.words import REPORT_WORDS, SERVICE_WORDS, word
from server.errors import NotFound, caller_language
from server.extensions import db

bp = Blueprint("custody_report", __name__, url_prefix="/custody-report", template_folder="templates",
               static_folder="static")


def _link(token: str):
    try:
        return reports.open_link(db.session, token=token, secret=current_app.config["SECRET_KEY"])
    except NotFound:
        abort(404)


def _address(household) -> str:
    return "-".join(part for part in (household.building, household.unit, household.room) if part)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/<token>")
def report_page(token: str):
    """The month's report as a page the owner can print."""
    link = _link(token)
    report = reports.monthly_report(db.session, household_id=link.household_id, month=link.month)
    language = caller_language()
    return _private(Response(render_template(
        "custody/report.html", report=report, token=token, address=_address(report.household), lang=language,
        t=lambda key: word(REPORT_WORDS, key, language), service=lambda key: word(SERVICE_WORDS, key, language))))


@bp.get("/<token>/report.pdf")
def report_pdf(token: str):
    """The same report as a PDF."""
    from server.custody import pdf

    link = _link(token)
    report = reports.monthly_report(db.session, household_id=link.household_id, month=link.month)
    store = attachments.store()
    data = pdf.render(report, address=_address(report.household), language=caller_language(),
                      thumbnail=lambda sha: store.get(f"thumb/{sha}"))
    return _private(Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="custody-{link.month:%Y-%m}.pdf"'}))


@bp.get("/<token>/photos/<attachment_id>")
def report_photo(token: str, attachment_id: str):
    """A thumbnail of a photo of the report's month."""
    link = _link(token)
    try:
        photo = reports.photo_of(db.session, link=link, attachment_id=attachment_id)
    except NotFound:
        abort(404)
    data = attachments.store().get(f"thumb/{photo.sha256}")
    if data is None:
        abort(404)
    return _private(Response(data, mimetype="image/jpeg"))
