"""The console's operations pages: the monthly work plan and quality inspections.

/console/plan?month=YYYY-MM lists the month's plan items (清洁, 消杀, 绿化, 化粪池…) with forms to
add, mark done, reopen, delete and copy last month's plan; /console/inspections?month=YYYY-MM (or
?start=&end=) lists inspections with their scores and pass rates by category, and records a new one
against its category's checklist (?category= picks the checklist), with photos of its items or of
the whole (server/operations/photos.py), shown as thumbnails that open each photo's page at
/console/inspections/<id>/photos/<photo id>. As in actions.py: writes go
through server.operations.service; success redirects with a message, a refusal renders the page
again with the message beside the form and what was sent kept.
"""
from __future__ import annotations

from datetime import date

from flask import abort, g, request, url_for

from server import i18n, months
from server.attachments.models import MAX_BYTES
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import (BadDates, bp, community_query, current_community, date_range, done, failed,
                                  language, month_arg, render_page, t, today)
from server.console.photos import Shown, photo_response
from server.console.words import TEXT
from server.errors import ApiError, NotFound
from server.extensions import db
from server.operations import photos, service
from server.operations.checklists import CATEGORIES, checklist

RESULTS = {"pass": True, "fail": False}


# ---- shared helpers ---------------------------------------------------------------------------

def category_name(code: str) -> str:
    return i18n.pick(CATEGORIES[code], language()) if code in CATEGORIES else code


def item_name(item: dict) -> str:
    """A checklist item's words in the page's language, as stored with the answer (else its key)."""
    return item.get("en" if language() == "en" else "zh") or item.get("key", "")


def _label(field: str) -> str:
    own = TEXT.get(f"op_label_{field}")
    return i18n.pick(own, language()) if own else i18n.label(field, language())


def _photos_label(field: str, names: dict[str, str]) -> str:
    """`photos` (the whole inspection's) or `photos.<key>` (an item's) as people read it."""
    key = field.partition(".")[2]
    return t("op_photos_of_item", item=names.get(key, key)) if key else t("op_photos_whole")


def _error_text(error: ApiError, category: str | None = None) -> str:
    """The refusal in the page's language; unanswered checklist items named together in one sentence."""
    lang = language()
    if not error.errors:
        return i18n.error_message(error.code, lang, **error.params)
    names = {entry["key"]: item_name(entry) for entry in checklist(category or "")}
    texts, by_code = [], {}
    for field_error in error.errors:
        if field_error.field.startswith(("items.", "photos.")) and field_error.code in ("unanswered", "unknown_item"):
            key = field_error.field.split(".", 1)[1]
            by_code.setdefault(field_error.code, []).append(names.get(key, key))
            continue
        template = TEXT.get(f"op_err_{field_error.code}") or i18n.FIELD_ERRORS.get(field_error.code) \
            or i18n.FIELD_ERRORS["invalid"]
        label = _photos_label(field_error.field, names) if field_error.field.split(".")[0] == "photos" \
            else _label(field_error.field)
        texts.append(i18n.fill_in(i18n.pick(template, lang), {"label": label,
                                                               "field": field_error.field, **field_error.params}))
    separator = "、" if lang != "en" else ", "
    for code, items in by_code.items():
        texts.append(i18n.pick(TEXT[f"op_err_{code}"], lang).format(items=separator.join(items)))
    return " ".join(texts)


def _failed(error: ApiError, form: str, record_id: str | None, values: dict, category: str | None = None) -> dict:
    """A refused form of these pages, worded by _error_text (see pages.failed)."""
    return failed(error, form, record_id, values, message=_error_text(error, category))


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC" if moment else ""


# ---- the monthly plan -------------------------------------------------------------------------

def _plan_page(month: date, refused: dict | None = None, bad: str | None = None):
    community = current_community()
    context = {"month": month, "month_text": months.month_text(month), "bad": bad, "plan": None, "category_name": category_name, "categories": CATEGORIES, "when": _when,
               "prev_month": months.month_text(months.add_months(month, -1)),
               "next_month": months.month_text(months.add_months(month, 1)),
               "month_first": month.isoformat(), "month_last": months.month_end(month).isoformat()}
    if community is None:
        context["bad"] = t("no_community")
        return render_page("console/plan.html", refused, **context)[0], 200
    context.update(plan=service.list_month(db.session, community_id=community, month=month, today=today()),
                   users=queries.users_of(db.session, community),
                   staff=queries.active_users(db.session, community, service.STAFF_ROLES, by_role=True))
    return render_page("console/plan.html", refused, 400 if bad else 200, **context)


def _form_month() -> date:
    """The month a plan form was on (its hidden field), else this month."""
    try:
        return months.parse_month(request.form.get("month"))
    except ApiError:
        return today().replace(day=1)


def _to_plan(month: date, message: str):
    """Back to the month's plan with the message."""
    return done(message, "console.plan", month=months.month_text(month))


@bp.get("/plan")
@console_login_required
def plan():
    """The month's work plan."""
    month, bad = month_arg("op_bad_month")
    return _plan_page(month, bad=bad)


@bp.post("/plan")
@console_login_required
def plan_add():
    """Add an item to the month's plan."""
    form = request.form
    values = {name: form.get(name, "") for name in ("month", "category", "title", "due_date", "contractor",
                                                    "assignee_id", "note")}
    try:
        month = months.parse_month(values["month"])
        item = service.add_plan_item(db.session, actor=g.user, community_id=current_community(), month=month,
                                     category=values["category"], title=values["title"],
                                     due_date=months.parse_date(values["due_date"], "due_date"),
                                     contractor=values["contractor"], assignee_id=values["assignee_id"] or None,
                                     note=values["note"])
        db.session.commit()
    except ApiError as error:
        return _plan_page(_form_month(), _failed(error, "add", None, values))
    return _to_plan(item.month, t("op_done_add", title=item.title, due=item.due_date.isoformat()))


def _plan_item_action(item_id: str, form: str, act, done_key: str, sent: dict | None = None, **arguments):
    """One service action on a plan item: back to its month with a message, or the page with the refusal."""
    try:
        item = act(db.session, actor=g.user, community_id=current_community(), item_id=item_id, **arguments)
        db.session.commit()
    except ApiError as error:
        return _plan_page(_form_month(), _failed(error, form, item_id, sent or {}))
    return _to_plan(item.month, t(done_key, title=item.title))


@bp.post("/plan/<item_id>/done")
@console_login_required
def plan_done(item_id: str):
    """Mark an item done, with a note."""
    note = request.form.get("done_note", "")
    return _plan_item_action(item_id, "done", service.mark_done, "op_done_done", {"done_note": note}, note=note)


@bp.post("/plan/<item_id>/reopen")
@console_login_required
def plan_reopen(item_id: str):
    """Take an item's done mark back."""
    return _plan_item_action(item_id, "reopen", service.reopen, "op_done_reopen")


@bp.post("/plan/<item_id>/delete")
@console_login_required
def plan_delete(item_id: str):
    """Take an item off the plan."""
    return _plan_item_action(item_id, "delete", service.delete_plan_item, "op_done_delete")


@bp.post("/plan/copy")
@console_login_required
def plan_copy():
    """Copy last month's plan into this one (idempotent)."""
    try:
        month = months.parse_month(request.form.get("month"))
        made = service.copy_previous_month(db.session, actor=g.user, community_id=current_community(), month=month)
        db.session.commit()
    except ApiError as error:
        return _plan_page(_form_month(), _failed(error, "copy", None, {}))
    source = months.month_text(months.add_months(month, -1))
    return _to_plan(month, t("op_done_copy", source=source, count=len(made)) if made
                    else t("op_done_copy_none", source=source))


# ---- quality inspections ----------------------------------------------------------------------

def _period() -> tuple[date, date, date | None, str | None]:
    """(start, end, month or None, message): ?start=&end= when given, else ?month= (this month by default)."""
    if request.args.get("start") or request.args.get("end"):
        try:
            start, end = date_range(request.args)
            return start, end, None, None
        except BadDates as bad:
            message = t(bad.key, **bad.params)
            month = today().replace(day=1)
            return month, months.month_end(month), month, message
    month, message = month_arg("op_bad_month")
    return month, months.month_end(month), month, message


def _inspections_page(refused: dict | None = None, category: str | None = None):
    start, end, month, bad = _period()
    community = current_community()
    if category is None:
        category = request.args.get("category", "")
    if category and category not in CATEGORIES:
        bad, category = bad or t("op_bad_category"), ""
    default_day = min(max(today(), start), end)
    link_month = month or end.replace(day=1)
    query = {"month": months.month_text(month)} if month else {"start": start.isoformat(), "end": end.isoformat()}
    context = {"start": start, "end": end, "month": month, "month_text": months.month_text(month or start),
               "query": query,
               "prev_month": months.month_text(months.add_months(month or start, -1)),
               "next_month": months.month_text(months.add_months(month or start, 1)),
               "bad": bad, "categories": CATEGORIES,
               "category": category, "checklist": checklist(category), "category_name": category_name,
               "item_name": item_name, "default_day": default_day.isoformat(), "inspections": [], "rates": [],
               "users": {}, "plan_items": [], "plan_titles": {}, "photos": {},
               "photo_hint": t("op_photos_hint", max=photos.MAX_PHOTOS, max_mb=MAX_BYTES // (1024 * 1024))}
    if community is None:
        context["bad"] = t("no_community")
        return render_page("console/inspections.html", refused, **context)[0], 200
    inspections = service.list_inspections(db.session, community_id=community, start=start, end=end)
    linked = {i.plan_item_id for i in inspections if i.plan_item_id}
    context.update(inspections=inspections, photos=_shown_photos(inspections),
                   plan_titles=queries.plan_titles(db.session, linked), users=queries.users_of(db.session, community),
                   rates=service.pass_rates(db.session, community_id=community, start=start, end=end),
                   plan_items=service.month_items(db.session, community_id=community, month=link_month,
                                                  category=category) if category else [])
    return render_page("console/inspections.html", refused, 400 if bad else 200, **context)


def _answers(form) -> tuple[dict, dict]:
    """The checklist answers sent ({key: {"passed", "note"}}) and the same as the form had them."""
    keys = {name[len("result_"):] for name in form if name.startswith("result_")}
    keys |= {entry["key"] for entry in checklist(form.get("category", ""))}
    answers = {key: {"passed": RESULTS.get(form.get(f"result_{key}", "")), "note": form.get(f"note_{key}", "")}
               for key in keys}
    sent = {key: {"result": form.get(f"result_{key}", ""), "note": form.get(f"note_{key}", "")} for key in keys}
    return answers, sent


@bp.get("/inspections")
@console_login_required
def inspections():
    """Inspections of a month (or a date range) with their pass rates, and the form for a new one."""
    return _inspections_page()


# Room for an inspection's photos: MAX_PHOTOS files of MAX_BYTES each, and the form around them.
# Only this form: every other request keeps MAX_CONTENT_LENGTH.
INSPECTION_FORM_BYTES = photos.MAX_PHOTOS * MAX_BYTES + 1024 * 1024


@bp.before_request
def _room_for_photos():
    if request.endpoint == "console.inspection_add":
        request.max_content_length = INSPECTION_FORM_BYTES


def _files(category: str) -> dict[str, list[photos.Upload]]:
    """The photos sent, by checklist key ("" for the whole inspection's); a file input left empty
    sends a part with no name, which is no photo."""
    keys = [photos.WHOLE] + [entry["key"] for entry in checklist(category)]
    return {key: [_read(upload) for upload in request.files.getlist(f"photos_{key}" if key else "photos")
                  if upload.filename]
            for key in keys}


def _read(upload) -> photos.Upload:
    """A file's name and bytes (no more than one past the limit: that is enough to refuse it)."""
    try:
        return photos.Upload(upload.filename[:200], upload.stream.read(MAX_BYTES + 1))
    finally:
        upload.close()


@bp.post("/inspections")
@console_login_required
def inspection_add():
    """Record an inspection against its category's checklist, with its photos."""
    form = request.form
    answers, sent_answers = _answers(form)
    values = {name: form.get(name, "") for name in ("category", "place", "inspected_on", "plan_item_id", "notes")}
    values["answers"] = sent_answers
    files = _files(values["category"])
    try:
        inspection = photos.record_with_photos(
            db.session, actor=g.user, community_id=current_community(), category=values["category"], files=files,
            place=values["place"], inspected_on=months.parse_date(values["inspected_on"], "inspected_on"),
            answers=answers, today=today(), plan_item_id=values["plan_item_id"] or None,
            notes=values["notes"])
        db.session.commit()
    except ApiError as error:
        category = values["category"] if values["category"] in CATEGORIES else ""
        refused = _failed(error, "inspection", None, values, category)
        if any(files.values()):  # a browser cannot be given the files again
            refused["message"] += " " + t("op_photos_again")
        return _inspections_page(refused, category=category)
    return done(t("op_done_inspection", place=inspection.place, category=category_name(inspection.category),
                  passed=inspection.passed, total=inspection.total),
                "console.inspections", month=months.month_text(inspection.inspected_on))


# ---- an inspection's photos -------------------------------------------------------------------

def _photo_item(inspection, item: str) -> str:
    """The checklist item a photo is of, in the page's language (as the inspection stored it)."""
    if not item:
        return t("ph_visit_general")
    answer = next((entry for entry in inspection.items if entry.get("key") == item), {"key": item})
    return item_name(answer)


def _shown_photos(inspections) -> dict[str, dict[str, list[Shown]]]:
    """The inspections' photos as the page shows them: by inspection id, then by item ("" for the whole)."""
    found = photos.of_inspections(db.session, [inspection.id for inspection in inspections])
    shown: dict[str, dict[str, list[Shown]]] = {}
    for inspection in inspections:
        for photo in found.get(inspection.id, []):
            mine = shown.setdefault(inspection.id, {}).setdefault(photo.item, [])  # numbered per item
            mine.append(Shown(photo, t("op_photo_alt", n=len(mine) + 1, item=_photo_item(inspection, photo.item))))
    return shown


def _inspection_photo(inspection_id: str, photo_id: str):
    try:
        return photos.get(db.session, user=g.user, inspection_id=inspection_id, photo_id=photo_id)
    except NotFound:
        abort(404)


@bp.get("/inspections/<inspection_id>/photos/<photo_id>/<size>")
@console_login_required
def inspection_photo_content(inspection_id: str, photo_id: str, size: str):
    """An inspection photo's bytes (`thumb`, a 320 px JPEG, or `full`), for whoever sees its community."""
    try:
        data, content_type = photos.content(db.session, user=g.user, inspection_id=inspection_id,
                                            photo_id=photo_id, size=size)
    except NotFound:
        abort(404)
    return photo_response(data, content_type)


@bp.get("/inspections/<inspection_id>/photos/<photo_id>")
@console_login_required
def inspection_photo_view(inspection_id: str, photo_id: str):
    """One inspection photo at full size, with what it shows and a way back (the thumbnails link here)."""
    inspection, photo = _inspection_photo(inspection_id, photo_id)
    heading = t("op_photo_heading", item=_photo_item(inspection, photo.item))
    users = queries.users_by_id(db.session, [photo.author_id])
    return render_page(
        "console/photo.html", heading=heading, subject=f"{inspection.place} · {inspection.inspected_on.isoformat()}",
        full=url_for("console.inspection_photo_content", inspection_id=inspection.id, photo_id=photo.id, size="full"),
        ready=True, width=photo.width, height=photo.height, taken="",
        author=users[photo.author_id].name if photo.author_id in users else "", back_word="op_photo_back",
        back=url_for("console.inspections", month=months.month_text(inspection.inspected_on),
                     **({"community": inspection.community_id} if community_query() else {})))
