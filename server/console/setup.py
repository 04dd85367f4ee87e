"""Setting a community up (小区建档): its grids and households one by one, and its whole file of
households and people imported from a spreadsheet and exported in the same shape.

Every write goes through the domain: single grids and households through the resource service (scope,
bookkeeping, audit, as the REST API), an import through server.community.importing (parsing, checks,
the plan and its bulk write). A supervisor sets up their own community, an admin the one chosen.

An import is two requests: the upload answers a preview (what would be created and changed, or every
row's error) and keeps the rows it read on the server, encrypted with the data key, under a random
token that only its hash names on disk; the confirmation names the token, and is refused for another
user or community, or after PENDING_MINUTES. The rows are checked against the records again at
confirmation: nothing is trusted from the preview, and nothing is written while any row is wrong.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag
from flask import Response, abort, current_app, g, request, url_for
from sqlalchemy.exc import IntegrityError

from server import i18n, keyset
from server.audit import service as audit
from server.audit.service import Via
from server.community import importing, listing
from server.community.models import HOUSEHOLD_STATUSES, Household
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import (address, bp, community_query, current_community, done, error_page, failed,
                                  language, render_page, t, zone_name)
from server.crypto import DataKeyError, current_cipher
from server.errors import AlreadyExists, ApiError, FieldError, Forbidden, NotFound, ValidationFailed
from server.extensions import db
from server.resources import service

PENDING_MINUTES = 30
MAX_LISTED_ERRORS = 200
MAX_LISTED_CHANGES = 50
HOUSEHOLD_FORM = ("building", "unit", "room", "status", "area_m2", "grid_id", "visit_cycle_days", "tags", "notes")


def _community() -> str:
    community = current_community()
    if community is None or not importing.manages(g.user, community):
        abort(403)
    return community


def _via() -> Via:
    return Via("console", g.device.id)


# ---- the page -----------------------------------------------------------------------------------

def _household_query(args, grids: list, buildings: list) -> tuple[listing.HouseholdQuery, list[str]]:
    """The household list's filters, order and page from the query string, and what the page says of
    those it did not understand or may not use (left out: the list shows without them)."""
    ignored, notes = [], []

    def known(name: str, values, label: str) -> str | None:
        value = args.get(name, "")
        if value and value not in values:
            ignored.append(label)
            return None
        return value or None

    search = args.get("q", "").strip()
    if not listing.searchable(search):
        search = ""
        notes.append(t("hh_search_refused"))
    query = listing.HouseholdQuery(
        grid_id=known("grid", {grid.id for grid in grids} | {listing.NO_GRID}, t("grid")),
        building=known("building", set(buildings), t("building")),
        status=known("status", HOUSEHOLD_STATUSES, t("setup_status")), search=search,
        sort=known("sort", listing.SORTS, t("sort")) or "address",
        after=args.get("after", "").strip()[:1000] or None, before=args.get("before", "").strip()[:1000] or None)
    if ignored:
        notes.insert(0, t("filters_ignored", names="、".join(ignored)))
    return query, notes


def _household_args(query: listing.HouseholdQuery) -> dict:
    """The query string that gives `query` again (without its page)."""
    found = {"grid": query.grid_id or "", "building": query.building or "", "status": query.status or "",
             "q": query.search, "sort": query.sort if query.sort != "address" else ""}
    return {k: v for k, v in found.items() if v} | community_query()


def _day(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(zone_name())).strftime("%Y-%m-%d") if moment else ""


def _setup_page(refused: dict | None = None, status: int = 200):
    community = _community()
    grids = queries.grids(db.session, community)
    buildings = queries.buildings(db.session, community)
    query, notes = _household_query(request.args, grids, buildings)
    bad = None
    try:
        page = listing.household_page(db.session, community, query)
    except keyset.BadPageToken:
        bad = t("bad_page_link")
        page = listing.household_page(db.session, community, replace(query, after=None, before=None))
    args = _household_args(query)
    lang = language()
    optional = [column for column in importing.COLUMNS if column.key not in importing.REQUIRED]
    return render_page("console/setup.html", refused, status=status, grids=grids,
                       users=queries.users_of(db.session, community),
                       butlers=queries.active_users(db.session, community, ("butler",)),
                       counts=queries.household_counts(db.session, community), buildings=buildings,
                       query=query, page=page, bad=bad, search_pattern=listing.SEARCH_PATTERN,
                       search_max=listing.SEARCH_MAX,
                       notes=notes,
                       grid_choices=[(grid.id, grid.name) for grid in grids] + [(listing.NO_GRID, t("no_grid"))],
                       building_choices=[(name, name) for name in buildings],
                       status_choices=[(code, i18n.pick(importing.STATUS_NAMES[code], lang)) for code in HOUSEHOLD_STATUSES],
                       sorts=[(code, t("hh_sort_" + code)) for code in listing.SORTS],
                       first_url=url_for("console.setup", **args) if query.after or query.before else None,
                       next_url=url_for("console.setup", **args, after=page.next_after) if page.next_after else None,
                       prev_url=url_for("console.setup", **args, before=page.prev_before) if page.prev_before else None,
                       grid_names={grid.id: grid.name for grid in grids}, address=address, day=_day,
                       statuses=HOUSEHOLD_STATUSES,
                       status_name=lambda code: i18n.pick(importing.STATUS_NAMES[code], lang),
                       import_help=t("setup_import_help", rows=importing.MAX_ROWS,
                                     mb=importing.MAX_BYTES // (1024 * 1024),
                                     columns="、".join(i18n.pick((c.zh, c.en), lang) for c in optional)))


@bp.get("/setup")
@console_login_required
def setup():
    """The community's grids, its households a page at a time (filtered and sorted: server/community/listing.py),
    the forms to add and change them, and the import."""
    return _setup_page()


# ---- grids ----------------------------------------------------------------------------------------

@bp.post("/setup/grids")
@console_login_required
def setup_grid_create():
    """A new grid, with its butler (or none)."""
    values = {"name": request.form.get("name", "").strip(), "butler_id": request.form.get("butler_id", "")}
    try:
        grid = service.create(db.session, user=g.user, rtype="grid", via=_via(),
                              data={"community_id": _community(), "name": values["name"],
                                    "butler_id": values["butler_id"] or None})
        db.session.commit()
    except ApiError as error:
        return _setup_page(failed(error, "grid-new", None, values))
    return done(t("done_grid_added", grid=grid.name), "console.setup")


@bp.post("/setup/grids/<grid_id>")
@console_login_required
def setup_grid_save(grid_id: str):
    """Rename a grid, or give it to another butler."""
    values = {"name": request.form.get("name", "").strip(), "butler_id": request.form.get("butler_id", "")}
    try:
        grid = service.update(db.session, user=g.user, rtype="grid", record_id=grid_id, via=_via(),
                              data={"name": values["name"], "butler_id": values["butler_id"] or None})
        db.session.commit()
    except ApiError as error:
        return _setup_page(failed(error, "grid", grid_id, values))
    return done(t("done_grid_saved", grid=grid.name), "console.setup")


# ---- households ---------------------------------------------------------------------------------

def _household_form() -> dict:
    return {name: request.form.get(name, "").strip() for name in HOUSEHOLD_FORM}


def household_data(values: dict) -> dict:
    """The form's strings as the household schema reads them: numbers as numbers (text that is not a
    number is left for the schema to refuse, in the page's language), tags split at commas, an empty
    area or grid as none."""
    data = {name: values[name] for name in ("building", "unit", "room", "notes", "status")}
    if not data["status"]:
        data.pop("status")
    data["grid_id"] = values["grid_id"] or None
    for name, kind in (("area_m2", float), ("visit_cycle_days", int)):
        text = values[name]
        if not text:
            if name == "area_m2":
                data[name] = None
            continue
        try:
            data[name] = kind(text)
        except ValueError:
            data[name] = text
    data["tags"] = [tag.strip() for tag in values["tags"].replace("，", ",").split(",") if tag.strip()]
    return data


@bp.post("/setup/households")
@console_login_required
def setup_household_create():
    """A new household in the community."""
    values = _household_form()
    try:
        household = service.create(db.session, user=g.user, rtype="household", via=_via(),
                                   data={"community_id": _community(), **household_data(values)})
        db.session.commit()
    except ApiError as error:
        return _setup_page(failed(error, "household-new", None, values))
    return done(t("done_household_added", address=address(household)), "console.setup",
                building=household.building)


def _household_or_refuse(household_id: str) -> Household:
    try:
        return service.get(db.session, user=g.user, rtype="household", record_id=household_id)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)


def _household_page(household: Household, refused: dict | None = None):
    lang = language()
    community = household.community_id
    return render_page("console/setup_household.html", refused, household=household,
                       grids=queries.grids(db.session, community), statuses=HOUSEHOLD_STATUSES,
                       status_name=lambda code: i18n.pick(importing.STATUS_NAMES[code], lang),
                       title=t("setup_edit_household", address=address(household)))


@bp.get("/setup/households/<household_id>")
@console_login_required
def setup_household(household_id: str):
    """One household's form."""
    return _household_page(_household_or_refuse(household_id))


@bp.post("/setup/households/<household_id>")
@console_login_required
def setup_household_save(household_id: str):
    """Change a household's address, status, area, grid, visit cycle, tags or notes."""
    household = _household_or_refuse(household_id)
    values = _household_form()
    try:
        household = service.update(db.session, user=g.user, rtype="household", record_id=household.id,
                                   via=_via(), data=household_data(values))
        db.session.commit()
    except ApiError as error:
        refused = failed(error, "household", household_id, values)
        return _household_page(db.session.get(Household, household_id), refused)
    return done(t("done_household_saved", address=address(household)), "console.setup",
                building=household.building)


# ---- import -------------------------------------------------------------------------------------

def _pending_dir() -> Path:
    folder = Path(current_app.instance_path) / "console-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _pending_path(token: str) -> Path:
    return _pending_dir() / (hashlib.sha256(token.encode()).hexdigest() + ".json")


def _sweep() -> None:
    """Forget the previews nobody confirmed."""
    limit = time.time() - PENDING_MINUTES * 60
    for path in _pending_dir().glob("*.json"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def keep_pending(*, user_id: str, community_id: str, filename: str, rows: list) -> str:
    """Keep an upload's rows for its confirmation: encrypted, named by the hash of a fresh token."""
    _sweep()
    token = secrets.token_urlsafe(24)
    kept = json.dumps({"user": user_id, "community": community_id, "at": time.time(), "filename": filename,
                       "rows": rows}, ensure_ascii=False)
    _pending_path(token).write_text(current_cipher().encrypt(kept, context=b"console-import"))
    return token


def take_pending(token: str, *, user_id: str, community_id: str) -> dict | None:
    """The rows kept under the token, if it is this user's for this community and not expired."""
    if not token or len(token) > 64:
        return None
    path = _pending_path(token)
    try:
        kept = json.loads(current_cipher().decrypt(path.read_text(), context=b"console-import"))
    except (OSError, ValueError, DataKeyError, InvalidTag):  # gone, or not what this server wrote
        return None
    if kept["user"] != user_id or kept["community"] != community_id or \
            time.time() - kept["at"] > PENDING_MINUTES * 60:
        return None
    return kept


def drop_pending(token: str) -> None:
    _pending_path(token).unlink(missing_ok=True)


def error_message(error: importing.RowError) -> str:
    """A row's error in the page's language."""
    lang = language()
    params = dict(error.params)
    if error.code == "bad_choice":
        names = importing.STATUS_NAMES if params.get("choices") == "status" else importing.RELATION_NAMES
        params["choices"] = "、".join(i18n.pick(pair, lang) for pair in names.values())
    if error.code == "missing_columns":
        params["names"] = "、".join(column_label(key) for key in params.pop("keys", []))
    own = f"imp_err_{error.code}"
    from server.console.words import TEXT
    if own in TEXT:
        return i18n.fill_in(i18n.pick(TEXT[own], lang), params)
    return i18n.field_error_message(error.code, error.column or "_schema", lang, **params)


def column_label(key: str | None) -> str:
    if key is None or key not in importing.BY_KEY:
        return ""
    column = importing.BY_KEY[key]
    return i18n.pick((column.zh, column.en), language())


def _change_text(changes: dict) -> str:
    names = {"grid_id": "grid"}
    return "、".join(column_label(names.get(name, name)) or name for name in changes)


def _preview(planned: importing.Plan, filename: str, token: str | None, status: int = 200):
    errors = planned.errors
    return render_page("console/setup_preview.html", status=status, plan=planned, filename=filename,
                       token=token, errors=errors[:MAX_LISTED_ERRORS],
                       more_errors=max(0, len(errors) - MAX_LISTED_ERRORS),
                       changed=planned.changed_households[:MAX_LISTED_CHANGES],
                       more_changed=max(0, len(planned.changed_households) - MAX_LISTED_CHANGES),
                       error_message=error_message, column_label=column_label, change_text=_change_text,
                       address=address)


@bp.post("/setup/import")
@console_login_required
def setup_import():
    """Read an uploaded file and show what importing it would do (nothing is written yet)."""
    community = _community()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        error = ValidationFailed([FieldError("file", "required")])
        return _setup_page(failed(error, "import", None, {}, t("setup_no_file")))
    filename = upload.filename[:200]
    data = upload.stream.read(importing.MAX_BYTES + 1)
    try:
        parsed = importing.parse(filename, data)
    except importing.FileRefused as refused:
        return _preview(importing.Plan(errors=[refused.error]), filename, None, status=422)
    planned = importing.plan(db.session, community, parsed.rows)
    db.session.rollback()  # the plan only read: nothing of it is kept in the session
    if planned.errors:
        return _preview(planned, filename, None, status=422)
    token = None
    if planned.changes:
        token = keep_pending(user_id=g.user.id, community_id=community, filename=filename,
                             rows=[[row, cells] for row, cells in parsed.rows])
    return _preview(planned, filename, token)


@bp.post("/setup/import/confirm")
@console_login_required
def setup_import_confirm():
    """Import the rows of the preview: all of them, or (any row wrong now) none."""
    community = _community()
    token = request.form.get("token", "")
    kept = take_pending(token, user_id=g.user.id, community_id=community)
    if kept is None:
        return error_page(410, "setup_expired")
    rows = [(row, cells) for row, cells in kept["rows"]]
    planned = importing.plan(db.session, community, rows)
    if planned.errors:
        db.session.rollback()
        drop_pending(token)
        return _preview(planned, kept["filename"], None, status=422)
    counts = {"new_h": len(planned.new_households), "changed_h": len(planned.changed_households),
              "new_p": len(planned.new_people), "changed_p": len(planned.changed_people)}
    try:
        try:
            importing.apply(db.session, user=g.user, community_id=community, planned=planned, via=_via())
            db.session.commit()
        except IntegrityError:  # an address added by someone else since the plan was made
            raise AlreadyExists() from None
    except ApiError as error:
        db.session.rollback()
        return _setup_page(failed(error, "import", None, {}), status=error.status)
    drop_pending(token)
    return done(t("done_setup_import", **counts), "console.setup")


# ---- export -------------------------------------------------------------------------------------

def _export(kind: str) -> Response:
    community = _community()
    reads: list = []
    rows = importing.export_rows(db.session, community, language(), reads)
    # The file holds the community's whole household file: its reading is in the audit trail, as a sync's.
    audit.record_reads(db.session, user=g.user, via=_via(), reads=reads)
    db.session.commit()
    if kind == "csv":
        body, mimetype = importing.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = importing.to_xlsx(rows), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="households.{kind}"'
    return response


@bp.get("/setup/export.csv")
@console_login_required
def setup_export_csv():
    """The community's households and people as CSV, in the import's shape."""
    return _export("csv")


@bp.get("/setup/export.xlsx")
@console_login_required
def setup_export_xlsx():
    """The same as an Excel workbook."""
    return _export("xlsx")
