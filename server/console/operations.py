"""The console's operations pages: the monthly work plan and quality inspections.

/console/plan?month=YYYY-MM lists the month's plan items (清洁, 消杀, 绿化, 化粪池…) with forms to
add, mark done, reopen, delete and copy last month's plan; /console/inspections?month=YYYY-MM (or
?start=&end=) lists inspections with their scores and pass rates by category, and records a new one
against its category's checklist (?category= picks the checklist). As in actions.py: writes go
through server.operations.service; success redirects with a message, a refusal renders the page
again with the message beside the form and what was sent kept.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, g, get_flashed_messages, redirect, render_template, request, url_for

from server import i18n, months
from server.auth.models import User
from server.console import views
from server.console.auth import console_login_required
from server.console.views import TEXT, BadDates, bp, community_for, community_query, date_range, language, t
from server.errors import ApiError
from server.extensions import db
from server.operations import service
from server.operations.checklists import CATEGORIES, checklist
from server.operations.models import WorkPlanItem

TEXT.update({
    "plan": ("月度计划", "Work plan"),
    "inspections": ("品质检查", "Inspections"),
    "op_plan_of": ("{month} 工作计划", "Work plan for {month}"),
    "op_inspections_of": ("品质检查：{start} 至 {end}", "Inspections from {start} to {end}"),
    "op_this_month": ("本月", "This month"),
    "op_due": ("截止日期", "Due"),
    "op_category": ("类别", "Category"),
    "op_title": ("事项", "Item"),
    "op_contractor": ("外委单位", "Contractor"),
    "op_assignee": ("负责人", "Assignee"),
    "op_note": ("备注", "Note"),
    "op_state": ("状态", "State"),
    "op_actions": ("操作", "Actions"),
    "op_state_done": ("✓ 已完成", "✓ Done"),
    "op_state_overdue": ("已逾期", "Overdue"),
    "op_state_open": ("进行中", "Open"),
    "op_done_by": ("{name}，{at}", "{name}, {at}"),
    "op_done_note": ("完成说明", "Note on completion"),
    "op_mark_done": ("标记完成", "Mark done"),
    "op_reopen": ("重新打开", "Reopen"),
    "op_delete": ("删除", "Delete"),
    "op_nobody": ("（未指定）", "(nobody)"),
    "op_no_items": ("本月还没有计划事项。可以新增，或复制上月计划。",
                    "No plan items this month yet: add some, or copy last month's plan."),
    "op_counts": ("各类完成情况", "Done by category"),
    "op_done_total": ("已完成 / 总数", "Done / total"),
    "op_add_item": ("新增计划事项", "Add a plan item"),
    "op_add": ("添加", "Add"),
    "op_copy": ("复制上月计划", "Copy last month's plan"),
    "op_copy_hint": ("把 {source} 的事项复制到本月，截止日期顺延一个月；已复制过的事项会跳过。",
                     "Copies {source}'s items into this month, each due a month later; items already copied are skipped."),
    "op_choose": ("—", "—"),
    "op_inspected_on": ("检查日期", "Date"),
    "op_place": ("检查地点", "Place"),
    "op_inspector": ("检查人", "Inspector"),
    "op_score": ("得分（合格 / 总项）", "Score (passed / items)"),
    "op_failed_items": ("不合格项", "Failed items"),
    "op_all_passed": ("全部合格", "All passed"),
    "op_linked": ("关联计划", "Plan item"),
    "op_no_inspections": ("该时段没有检查记录。", "No inspections in this period."),
    "op_rates": ("各类合格率", "Pass rate by category"),
    "op_inspection_count": ("检查次数", "Inspections"),
    "op_items_passed": ("合格项 / 检查项", "Items passed / checked"),
    "op_pass_rate": ("合格率", "Pass rate"),
    "op_new_inspection": ("新增检查", "New inspection"),
    "op_choose_category": ("检查类别", "Category"),
    "op_show_checklist": ("显示检查表", "Show the checklist"),
    "op_pick_category": ("先选择检查类别，再逐项填写检查表。", "Choose a category first, then fill in its checklist."),
    "op_checklist": ("检查项", "Checklist item"),
    "op_result": ("结果", "Result"),
    "op_pass": ("合格", "Passed"),
    "op_fail": ("不合格", "Failed"),
    "op_item_note": ("说明", "Note"),
    "op_link_plan": ("关联计划事项（可选）", "Plan item checked (optional)"),
    "op_no_link": ("（不关联）", "(none)"),
    "op_notes": ("备注", "Notes"),
    "op_save_inspection": ("保存检查记录", "Save the inspection"),
    "op_bad_month": ("月份格式不正确，请使用 YYYY-MM（例如 2026-11）。",
                     "The month is not valid; use YYYY-MM (for example 2026-11)."),
    "op_bad_category": ("未知的检查类别，请从列表中选择。", "Unknown category; choose one from the list."),
    "op_done_add": ("已添加计划事项“{title}”（截止 {due}）。", "Plan item {title} added (due {due})."),
    "op_done_done": ("已将“{title}”标记为完成。", "{title} is marked done."),
    "op_done_reopen": ("已重新打开“{title}”。", "{title} is open again."),
    "op_done_delete": ("已删除“{title}”。", "{title} is deleted."),
    "op_done_copy": ("已从 {source} 复制 {count} 项计划。", "{count} items copied from {source}."),
    "op_done_copy_none": ("{source} 没有需要复制的事项（已复制过的会跳过）。",
                          "Nothing to copy from {source} (items already copied are skipped)."),
    "op_done_inspection": ("已记录{place}的{category}检查：{passed}/{total} 项合格。",
                           "Inspection of {place} ({category}) recorded: {passed}/{total} passed."),
    # Field names and refusals of these pages (the API's own words are in server/i18n.py).
    "op_label_title": ("事项名称", "Title"),
    "op_label_category": ("类别", "Category"),
    "op_label_due_date": ("截止日期", "Due date"),
    "op_label_month": ("月份", "Month"),
    "op_label_contractor": ("外委单位", "Contractor"),
    "op_label_assignee_id": ("负责人", "Assignee"),
    "op_label_note": ("备注", "Note"),
    "op_label_done_note": ("完成说明", "Note on completion"),
    "op_label_place": ("检查地点", "Place"),
    "op_label_inspected_on": ("检查日期", "Date"),
    "op_label_plan_item_id": ("关联计划事项", "Plan item"),
    "op_label_notes": ("备注", "Notes"),
    "op_err_invalid_month": ("月份格式不正确，请使用 YYYY-MM（例如 2026-11）。",
                             "The month is not valid; use YYYY-MM (for example 2026-11)."),
    "op_err_invalid_type": ("{label}格式不正确，请使用 YYYY-MM-DD。", "{label} is not valid; use YYYY-MM-DD."),
    "op_err_invalid_choice": ("请从列表中选择{label}。", "Choose the {label} from the list."),
    "op_err_outside_month": ("{label}必须在 {month} 内。", "{label} must fall within {month}."),
    "op_err_in_future": ("{label}不能晚于今天。", "{label} cannot be later than today."),
    "op_err_unanswered": ("请为以下检查项选择合格或不合格：{items}。",
                          "Mark each of these items passed or failed: {items}."),
    "op_err_unknown_item": ("提交了检查表以外的检查项：{items}。", "Answers were sent for items not on the checklist: {items}."),
    "op_err_already_done": ("该事项已标记完成。", "This item is already marked done."),
    "op_err_not_done": ("该事项尚未完成，无需重新打开。", "This item is not done; there is nothing to reopen."),
})

RESULTS = {"pass": True, "fail": False}


# ---- shared helpers ---------------------------------------------------------------------------

def _community() -> str | None:
    community, _ = community_for(g.user)
    return community


def _messages() -> list[str]:
    return get_flashed_messages()


def category_name(code: str) -> str:
    return i18n.pick(CATEGORIES[code], language()) if code in CATEGORIES else code


def item_name(item: dict) -> str:
    """A checklist item's words in the page's language, as stored with the answer (else its key)."""
    return item.get("en" if language() == "en" else "zh") or item.get("key", "")


def _label(field: str) -> str:
    own = TEXT.get(f"op_label_{field}")
    return i18n.pick(own, language()) if own else i18n.label(field, language())


def _error_text(error: ApiError, category: str | None = None) -> str:
    """The refusal in the page's language; unanswered checklist items named together in one sentence."""
    lang = language()
    if not error.errors:
        return i18n.error_message(error.code, lang, **error.params)
    names = {entry["key"]: item_name(entry) for entry in checklist(category or "")}
    texts, by_code = [], {}
    for field_error in error.errors:
        if field_error.field.startswith("items.") and field_error.code in ("unanswered", "unknown_item"):
            key = field_error.field.split(".", 1)[1]
            by_code.setdefault(field_error.code, []).append(names.get(key, key))
            continue
        template = TEXT.get(f"op_err_{field_error.code}") or i18n.FIELD_ERRORS.get(field_error.code) \
            or i18n.FIELD_ERRORS["invalid"]
        texts.append(i18n._format(i18n.pick(template, lang), {"label": _label(field_error.field),
                                                               "field": field_error.field, **field_error.params}))
    separator = "、" if lang != "en" else ", "
    for code, items in by_code.items():
        texts.append(i18n.pick(TEXT[f"op_err_{code}"], lang).format(items=separator.join(items)))
    return " ".join(texts)


def _failed(error: ApiError, form: str, record_id: str | None, values: dict, category: str | None = None) -> dict:
    db.session.rollback()
    return {"form": form, "id": record_id, "sent": values, "message": _error_text(error, category),
            "status": error.status}


def _staff(community: str | None) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(
        User.community_id == community, User.role.in_(service.STAFF_ROLES), User.active.is_(True))
        .order_by(User.role, User.name, User.username)))


def _users(community: str | None) -> dict[str, User]:
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.community_id == community))}


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC" if moment else ""


# ---- the monthly plan -------------------------------------------------------------------------

def _month_arg() -> tuple[date, str | None]:
    """?month= (YYYY-MM), by default this month; a bad one gives this month and a message."""
    this_month = views._today().replace(day=1)
    raw = request.args.get("month", "").strip()
    if not raw:
        return this_month, None
    try:
        return months.parse_month(raw), None
    except ApiError:
        return this_month, t("op_bad_month")


def _plan_page(month: date, failed: dict | None = None, bad: str | None = None):
    community = _community()
    context = {"month": month, "month_text": months.month_text(month), "failed": failed, "messages": _messages(),
               "bad": bad, "plan": None, "category_name": category_name, "categories": CATEGORIES, "when": _when,
               "prev_month": months.month_text(months.add_months(month, -1)),
               "next_month": months.month_text(months.add_months(month, 1)),
               "month_first": month.isoformat(), "month_last": months.month_end(month).isoformat()}
    if community is None:
        context["bad"] = t("no_community")
        return render_template("console/plan.html", **context), 200
    context.update(plan=service.list_month(db.session, community_id=community, month=month, today=views._today()),
                   users=_users(community), staff=_staff(community))
    status = failed["status"] if failed else (400 if bad else 200)
    return render_template("console/plan.html", **context), status


def _form_month() -> date:
    """The month a plan form was on (its hidden field), else this month."""
    try:
        return months.parse_month(request.form.get("month"))
    except ApiError:
        return views._today().replace(day=1)


def _to_plan(month: date):
    return redirect(url_for("console.plan", month=months.month_text(month), **community_query()))


@bp.get("/plan")
@console_login_required
def plan():
    """The month's work plan."""
    month, bad = _month_arg()
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
        item = service.add_plan_item(db.session, actor=g.user, community_id=_community(), month=month,
                                     category=values["category"], title=values["title"],
                                     due_date=months.parse_date(values["due_date"], "due_date"),
                                     contractor=values["contractor"], assignee_id=values["assignee_id"] or None,
                                     note=values["note"])
        db.session.commit()
    except ApiError as error:
        return _plan_page(_form_month(), _failed(error, "add", None, values))
    flash(t("op_done_add", title=item.title, due=item.due_date.isoformat()))
    return _to_plan(item.month)


def _plan_item_action(item_id: str, form: str, act, done_key: str, sent: dict | None = None, **arguments):
    """One service action on a plan item: back to its month with a message, or the page with the refusal."""
    try:
        item = act(db.session, actor=g.user, community_id=_community(), item_id=item_id, **arguments)
        db.session.commit()
    except ApiError as error:
        return _plan_page(_form_month(), _failed(error, form, item_id, sent or {}))
    flash(t(done_key, title=item.title))
    return _to_plan(item.month)


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
        made = service.copy_previous_month(db.session, actor=g.user, community_id=_community(), month=month)
        db.session.commit()
    except ApiError as error:
        return _plan_page(_form_month(), _failed(error, "copy", None, {}))
    source = months.month_text(months.add_months(month, -1))
    flash(t("op_done_copy", source=source, count=len(made)) if made else t("op_done_copy_none", source=source))
    return _to_plan(month)


# ---- quality inspections ----------------------------------------------------------------------

def _period() -> tuple[date, date, date | None, str | None]:
    """(start, end, month or None, message): ?start=&end= when given, else ?month= (this month by default)."""
    if request.args.get("start") or request.args.get("end"):
        try:
            start, end = date_range(request.args)
            return start, end, None, None
        except BadDates as bad:
            message = t(bad.key, **bad.params)
            month = views._today().replace(day=1)
            return month, months.month_end(month), month, message
    month, message = _month_arg()
    return month, months.month_end(month), month, message


def _inspections_page(failed: dict | None = None, category: str | None = None):
    start, end, month, bad = _period()
    community = _community()
    if category is None:
        category = request.args.get("category", "")
    if category and category not in CATEGORIES:
        bad, category = bad or t("op_bad_category"), ""
    today = views._today()
    default_day = min(max(today, start), end)
    link_month = month or end.replace(day=1)
    query = {"month": months.month_text(month)} if month else {"start": start.isoformat(), "end": end.isoformat()}
    context = {"start": start, "end": end, "month": month, "month_text": months.month_text(month or start),
               "query": query,
               "prev_month": months.month_text(months.add_months(month or start, -1)),
               "next_month": months.month_text(months.add_months(month or start, 1)),
               "failed": failed, "messages": _messages(), "bad": bad, "categories": CATEGORIES,
               "category": category, "checklist": checklist(category), "category_name": category_name,
               "item_name": item_name, "default_day": default_day.isoformat(), "inspections": [], "rates": [],
               "users": {}, "plan_items": [], "plan_titles": {}}
    if community is None:
        context["bad"] = t("no_community")
        return render_template("console/inspections.html", **context), 200
    inspections = service.list_inspections(db.session, community_id=community, start=start, end=end)
    linked = {i.plan_item_id for i in inspections if i.plan_item_id}
    titles = dict(db.session.execute(sa.select(WorkPlanItem.id, WorkPlanItem.title)
                                     .where(WorkPlanItem.id.in_(linked))).all()) if linked else {}
    context.update(inspections=inspections, plan_titles=titles, users=_users(community),
                   rates=service.pass_rates(db.session, community_id=community, start=start, end=end),
                   plan_items=service.month_items(db.session, community_id=community, month=link_month,
                                                  category=category) if category else [])
    status = failed["status"] if failed else (400 if bad else 200)
    return render_template("console/inspections.html", **context), status


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


@bp.post("/inspections")
@console_login_required
def inspection_add():
    """Record an inspection against its category's checklist."""
    form = request.form
    answers, sent_answers = _answers(form)
    values = {name: form.get(name, "") for name in ("category", "place", "inspected_on", "plan_item_id", "notes")}
    values["answers"] = sent_answers
    try:
        inspection = service.record_inspection(
            db.session, actor=g.user, community_id=_community(), category=values["category"],
            place=values["place"], inspected_on=months.parse_date(values["inspected_on"], "inspected_on"),
            answers=answers, today=views._today(), plan_item_id=values["plan_item_id"] or None,
            notes=values["notes"])
        db.session.commit()
    except ApiError as error:
        category = values["category"] if values["category"] in CATEGORIES else ""
        return _inspections_page(_failed(error, "inspection", None, values, category), category=category)
    flash(t("op_done_inspection", place=inspection.place, category=category_name(inspection.category),
            passed=inspection.passed, total=inspection.total))
    return redirect(url_for("console.inspections", month=months.month_text(inspection.inspected_on),
                            **community_query()))
