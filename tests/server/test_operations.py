"""Operations: the monthly work plan and quality inspections — the rules in
server/operations/service.py, and the console pages /console/plan and /console/inspections."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from server import months
from server.community.models import DEFAULT_TIMEZONE
from server.community.service import today_in  # the console's days are the community's
from server.errors import Forbidden, NotFound, ValidationFailed
from server.operations import checklists, service
from server.operations.models import Inspection, WorkPlanItem
from tests.factories import make_community, make_inspection, make_plan_item, make_user
from tests.support.console import csrf_of, log_in, text

NOV = date(2026, 11, 1)


def today() -> date:
    """The community's today, taken when a test runs (a run may cross its midnight after the import)."""
    return today_in(DEFAULT_TIMEZONE)


def this_month() -> date:
    return today().replace(day=1)


def all_passed(category: str = "cleaning", **overrides) -> dict:
    answers = {entry["key"]: {"passed": True, "note": ""} for entry in checklists.checklist(category)}
    answers.update(overrides)
    return answers


def codes(error: ValidationFailed) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in error.errors}


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    butler = make_user("butler", name="李管家", community_id=community.id)
    other = make_community(name="别的小区")
    outsider = make_user("supervisor", name="外主管", community_id=other.id)
    return {"community": community, "supervisor": supervisor, "butler": butler, "other": other,
            "outsider": outsider}


def add(session, world, **overrides):
    values = {"actor": world["supervisor"], "community_id": world["community"].id, "month": NOV,
              "category": "cleaning", "title": "1–3栋楼道保洁", "due_date": date(2026, 11, 20), **overrides}
    return service.add_plan_item(session, **values)


# ---- the plan: adding ---------------------------------------------------------------------------

def test_a_plan_item_is_added_to_its_month(session, world):
    item = add(session, world, contractor="洁美保洁公司", assignee_id=world["butler"].id, title="  楼道保洁 ")
    session.commit()
    assert (item.month, item.title, item.contractor, item.assignee_id) == (NOV, "楼道保洁", "洁美保洁公司",
                                                                             world["butler"].id)
    assert item.created_by == world["supervisor"].id and item.done_at is None and not item.deleted


def test_a_plan_item_needs_a_title_a_known_category_and_a_due_date_in_its_month(session, world):
    with pytest.raises(ValidationFailed) as refused:
        add(session, world, title=" ", category="security", due_date=date(2026, 12, 1))
    assert codes(refused.value) == {("title", "required"), ("category", "invalid_choice"),
                                    ("due_date", "outside_month")}
    with pytest.raises(ValidationFailed) as refused:
        add(session, world, due_date=None, title="x" * 101)
    assert codes(refused.value) == {("due_date", "required"), ("title", "too_long")}
    assert session.scalar(sa.select(sa.func.count()).select_from(WorkPlanItem)) == 0


def test_the_assignee_must_be_staff_of_the_community(session, world):
    for wrong in (world["outsider"].id, make_user("resident", community_id=world["community"].id).id, "nobody"):
        with pytest.raises(ValidationFailed) as refused:
            add(session, world, assignee_id=wrong)
        assert codes(refused.value) == {("assignee_id", "invalid")}


def test_a_supervisor_cannot_plan_another_community_s_month(session, world):
    with pytest.raises(Forbidden):
        add(session, world, community_id=world["other"].id)


# ---- the plan: done, reopen, delete -------------------------------------------------------------

def test_an_item_is_marked_done_with_a_note_and_reopened(session, world):
    item = add(session, world)
    service.mark_done(session, actor=world["supervisor"], community_id=world["community"].id, item_id=item.id,
                      note="已验收")
    assert item.done_at is not None and item.done_by == world["supervisor"].id and item.done_note == "已验收"
    with pytest.raises(ValidationFailed) as refused:
        service.mark_done(session, actor=world["supervisor"], community_id=world["community"].id, item_id=item.id)
    assert codes(refused.value) == {("done_at", "already_done")}
    service.reopen(session, actor=world["supervisor"], community_id=world["community"].id, item_id=item.id)
    assert (item.done_at, item.done_by, item.done_note) == (None, None, "")
    with pytest.raises(ValidationFailed):
        service.reopen(session, actor=world["supervisor"], community_id=world["community"].id, item_id=item.id)


def test_a_deleted_item_leaves_the_month_and_cannot_be_found(session, world):
    item = add(session, world)
    service.delete_plan_item(session, actor=world["supervisor"], community_id=world["community"].id, item_id=item.id)
    assert service.list_month(session, community_id=world["community"].id, month=NOV, today=NOV).entries == []
    with pytest.raises(NotFound):
        service.mark_done(session, actor=world["supervisor"], community_id=world["community"].id, item_id=item.id)


def test_another_community_s_item_is_not_found(session, world):
    theirs = make_plan_item(world["other"], world["outsider"])
    for action in (service.mark_done, service.reopen, service.delete_plan_item):
        with pytest.raises(NotFound):
            action(session, actor=world["supervisor"], community_id=world["community"].id, item_id=theirs.id)


# ---- the plan: the month's list and copying last month's ---------------------------------------

def test_an_item_is_overdue_when_not_done_and_due_before_today(session, world):
    community = world["community"]
    make_plan_item(community, world["supervisor"], title="过期", due_date=date(2026, 11, 9))
    make_plan_item(community, world["supervisor"], title="今天到期", due_date=date(2026, 11, 10))
    make_plan_item(community, world["supervisor"], title="已完成", due_date=date(2026, 11, 2),
                   done_at=service.utcnow(), done_by=world["supervisor"].id)
    plan = service.list_month(session, community_id=community.id, month=NOV, today=date(2026, 11, 10))
    assert [(e.item.title, e.state) for e in plan.entries] == [("已完成", "done"), ("过期", "overdue"),
                                                               ("今天到期", "open")]
    assert plan.counts == {"cleaning": (1, 3)}


def test_counts_are_per_category(session, world):
    community = world["community"]
    make_plan_item(community, world["supervisor"], category="pest_control", done_at=service.utcnow())
    make_plan_item(community, world["supervisor"], category="pest_control")
    make_plan_item(community, world["supervisor"], category="septic")
    make_plan_item(world["other"], world["outsider"], category="septic")
    plan = service.list_month(session, community_id=community.id, month=NOV, today=NOV)
    assert plan.counts == {"pest_control": (1, 2), "septic": (0, 1)}


def test_copying_last_month_moves_due_dates_a_month_and_clamps_to_the_month_s_end(session, world):
    community, supervisor = world["community"], world["supervisor"]
    jan = date(2027, 1, 1)
    make_plan_item(community, supervisor, month=jan, title="化粪池清掏", category="septic",
                   due_date=date(2027, 1, 31), contractor="通达环卫", assignee_id=world["butler"].id,
                   done_at=service.utcnow())
    make_plan_item(community, supervisor, month=jan, title="草坪修剪", category="greening",
                   due_date=date(2027, 1, 10))
    made = service.copy_previous_month(session, actor=supervisor, community_id=community.id, month=date(2027, 2, 1))
    session.commit()
    assert [(i.title, i.category, i.due_date, i.contractor, i.assignee_id, i.done_at) for i in made] == [
        ("草坪修剪", "greening", date(2027, 2, 10), "", None, None),
        ("化粪池清掏", "septic", date(2027, 2, 28), "通达环卫", world["butler"].id, None)]


def test_copying_last_month_twice_adds_nothing_the_second_time(session, world):
    make_plan_item(world["community"], world["supervisor"], month=date(2026, 10, 1), due_date=date(2026, 10, 5))
    first = service.copy_previous_month(session, actor=world["supervisor"], community_id=world["community"].id,
                                        month=NOV)
    session.commit()
    again = service.copy_previous_month(session, actor=world["supervisor"], community_id=world["community"].id,
                                        month=NOV)
    assert len(first) == 1 and again == []
    assert len(service.month_items(session, community_id=world["community"].id, month=NOV)) == 1


def test_copying_skips_a_deleted_copy_and_a_title_the_month_already_has(session, world):
    community, supervisor = world["community"], world["supervisor"]
    october = date(2026, 10, 1)
    make_plan_item(community, supervisor, month=october, title="消杀", category="pest_control",
                   due_date=date(2026, 10, 20))
    make_plan_item(community, supervisor, month=october, title="楼道保洁", due_date=date(2026, 10, 3))
    make_plan_item(community, supervisor, title="楼道保洁", due_date=date(2026, 11, 4))  # typed in by hand
    copy = service.copy_previous_month(session, actor=supervisor, community_id=community.id, month=NOV)
    assert [item.title for item in copy] == ["消杀"]
    service.delete_plan_item(session, actor=supervisor, community_id=community.id, item_id=copy[0].id)
    assert service.copy_previous_month(session, actor=supervisor, community_id=community.id, month=NOV) == []


def test_a_month_is_read_as_yyyy_mm_only():
    assert months.parse_month("2026-02") == date(2026, 2, 1)
    for bad in ("2026-13", "2026-2", "202602", "", "2026-02-01", "abcd-ef"):
        with pytest.raises(ValidationFailed):
            months.parse_month(bad)


# ---- inspections --------------------------------------------------------------------------------

def inspect(session, world, **overrides):
    values = {"actor": world["supervisor"], "community_id": world["community"].id, "category": "cleaning",
              "place": "3栋大堂", "inspected_on": date(2026, 11, 10), "answers": all_passed(),
              "today": date(2026, 11, 27), **overrides}
    return service.record_inspection(session, **values)


def test_an_inspection_scores_its_answers_and_keeps_each_with_its_key(session, world):
    inspection = inspect(session, world, answers=all_passed(lift_car_clean={"passed": False, "note": "轿厢有污渍"}))
    session.commit()
    assert (inspection.passed, inspection.total) == (4, 5)
    failed = [item for item in inspection.items if not item["passed"]]
    assert failed == [{"key": "lift_car_clean", "zh": "电梯轿厢清洁", "en": "Lift cars clean", "passed": False,
                       "note": "轿厢有污渍"}]
    assert inspection.inspector_id == world["supervisor"].id


def test_every_checklist_item_must_be_answered_pass_or_fail(session, world):
    answers = all_passed()
    del answers["bins_emptied"]
    answers["walls_clean"] = {"passed": None, "note": ""}
    with pytest.raises(ValidationFailed) as refused:
        inspect(session, world, answers=answers)
    assert codes(refused.value) == {("items.bins_emptied", "unanswered"), ("items.walls_clean", "unanswered")}
    assert session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_an_unknown_category_an_unknown_item_and_a_future_date_are_refused(session, world):
    with pytest.raises(ValidationFailed) as refused:
        inspect(session, world, category="security", answers={})
    assert ("category", "invalid_choice") in codes(refused.value)
    with pytest.raises(ValidationFailed) as refused:
        inspect(session, world, answers=all_passed(made_up={"passed": True}), inspected_on=date(2026, 11, 28),
                place="")
    assert codes(refused.value) == {("items.made_up", "unknown_item"), ("inspected_on", "in_future"),
                                    ("place", "required")}


def test_only_the_community_s_plan_item_of_the_same_category_is_linked(session, world):
    ours = make_plan_item(world["community"], world["supervisor"])
    theirs = make_plan_item(world["other"], world["outsider"])
    greening = make_plan_item(world["community"], world["supervisor"], category="greening")
    for wrong in (theirs.id, greening.id, "nothing"):
        with pytest.raises(ValidationFailed) as refused:
            inspect(session, world, plan_item_id=wrong)
        assert codes(refused.value) == {("plan_item_id", "invalid")}
    assert inspect(session, world, plan_item_id=ours.id).plan_item_id == ours.id


def test_inspections_are_listed_by_date_range_with_pass_rates_by_category(session, world):
    community = world["community"]
    make_inspection(community, world["supervisor"], inspected_on=date(2026, 11, 3))
    failed = [{**e, "passed": e["key"] != "no_odour", "note": ""} for e in checklists.checklist("pest_control")]
    make_inspection(community, world["supervisor"], category="pest_control", items=failed,
                    inspected_on=date(2026, 11, 20))
    make_inspection(community, world["supervisor"], inspected_on=date(2026, 10, 31))
    make_inspection(world["other"], world["outsider"], inspected_on=date(2026, 11, 4))
    found = service.list_inspections(session, community_id=community.id, start=NOV, end=date(2026, 11, 30))
    assert [i.inspected_on for i in found] == [date(2026, 11, 20), date(2026, 11, 3)]
    rates = service.pass_rates(session, community_id=community.id, start=NOV, end=date(2026, 11, 30))
    assert [(r.category, r.inspections, r.passed, r.total, r.rate) for r in rates] == [
        ("cleaning", 1, 5, 5, 1.0), ("pest_control", 1, 3, 4, 0.75)]


# ---- the console pages --------------------------------------------------------------------------

@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def post(client, path, data, page="/console/plan"):
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})


def this_month_item(world, **overrides):
    return make_plan_item(world["community"], world["supervisor"], month=this_month(),
                          due_date=overrides.pop("due_date", this_month()), **overrides)


def test_the_pages_render_for_a_supervisor_and_are_in_the_nav(console, world):
    ours = this_month_item(world, title="地下车库消杀", category="pest_control", contractor="绿盾消杀")
    make_plan_item(world["other"], world["outsider"], month=this_month(), title="外小区事项")
    page = console.get("/console/plan")
    html = text(page)
    assert page.status_code == 200
    assert 'data-testid="nav-plan"' in html and 'data-testid="nav-inspections"' in html
    assert f"{this_month():%Y-%m} 工作计划" in html and "地下车库消杀" in html and "绿盾消杀" in html
    assert "外小区事项" not in html and ours.id in html
    page = console.get("/console/inspections")
    assert page.status_code == 200 and "新增检查" in text(page)
    assert "Work plan for" in text(console.get("/console/plan?lang=en"))


@pytest.mark.parametrize("role", ["butler", "resident"])
def test_butlers_and_residents_are_refused(client, session, world, role):
    user = world["butler"] if role == "butler" else make_user("resident")
    assert log_in(client, user.username).status_code == 403
    for path in ("/console/plan", "/console/inspections"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")


def test_a_supervisor_turned_butler_is_refused_at_the_next_page(console, session, world):
    world["supervisor"].role = "butler"
    session.commit()
    assert console.get("/console/plan").status_code == 403
    assert console.get("/console/inspections").status_code == 403


def test_an_item_is_added_done_reopened_and_deleted_from_the_console(console, session, world):
    due = this_month().replace(day=20)
    r = post(console, "/console/plan", {"month": f"{this_month():%Y-%m}", "category": "greening", "title": "草坪修剪",
                                        "due_date": due.isoformat(), "contractor": "青青园林",
                                        "assignee_id": world["butler"].id, "note": ""})
    assert r.status_code == 302, text(r)
    assert f"已添加计划事项“草坪修剪”（截止 {due.isoformat()}）。" in text(console.get(r.headers["Location"]))
    item = session.scalar(sa.select(WorkPlanItem).where(WorkPlanItem.title == "草坪修剪"))
    assert (item.category, item.contractor, item.assignee_id) == ("greening", "青青园林", world["butler"].id)

    r = post(console, f"/console/plan/{item.id}/done", {"done_note": "已验收", "month": f"{this_month():%Y-%m}"})
    html = text(console.get(r.headers["Location"]))
    assert "已将“草坪修剪”标记为完成。" in html and "✓ 已完成" in html and "已验收" in html
    r = post(console, f"/console/plan/{item.id}/reopen", {})
    assert "已重新打开“草坪修剪”。" in text(console.get(r.headers["Location"]))
    r = post(console, f"/console/plan/{item.id}/delete", {})
    assert "已删除“草坪修剪”。" in text(console.get(r.headers["Location"]))
    session.expire_all()
    assert item.deleted and item.done_at is None


def test_an_overdue_item_is_marked(console, world):
    last = months.add_months(this_month(), -1)  # its first day is before today, whatever today is
    late = make_plan_item(world["community"], world["supervisor"], month=last, due_date=last)
    html = text(console.get(f"/console/plan?month={last:%Y-%m}"))
    assert f'data-id="{late.id}" data-state="overdue"' in html and "已逾期" in html


def test_a_refused_item_keeps_what_was_typed(console, session, world):
    r = post(console, "/console/plan", {"month": "2026-11", "category": "cleaning", "title": "门岗保洁",
                                        "due_date": "2026-12-02", "contractor": "洁美", "assignee_id": ""})
    assert r.status_code == 422
    html = text(r)
    assert "截止日期必须在 2026-11 内。" in html
    assert 'value="门岗保洁"' in html and 'value="2026-12-02"' in html and 'value="洁美"' in html
    assert '<option value="cleaning" selected>' in html
    r = post(console, "/console/plan", {"month": "2026-11", "category": "", "title": "", "due_date": "2026-11-31"})
    assert r.status_code == 422 and "截止日期格式不正确" in text(r)
    assert session.scalar(sa.select(sa.func.count()).select_from(WorkPlanItem)) == 0


def test_a_bad_month_gets_a_message(console):
    r = console.get("/console/plan?month=2026-13")
    assert r.status_code == 400 and "月份格式不正确" in text(r)
    r = console.get("/console/inspections?month=11-2026&lang=en")
    assert r.status_code == 400 and "The month is not valid" in text(r)


def test_another_community_s_items_are_unreachable(console, session, world):
    theirs = make_plan_item(world["other"], world["outsider"], title="外小区事项")
    for action in ("done", "reopen", "delete"):
        r = post(console, f"/console/plan/{theirs.id}/{action}", {"done_note": "x"})
        assert r.status_code == 404 and "找不到该内容。" in text(r)
    session.expire_all()
    assert theirs.done_at is None and not theirs.deleted
    assert "外小区事项" not in text(console.get("/console/plan?month=2026-11"))


def test_copying_last_month_from_the_console_twice(console, session, world):
    last = months.add_months(this_month(), -1)
    make_plan_item(world["community"], world["supervisor"], month=last, due_date=last, title="水箱清洗",
                   category="facility")
    r = post(console, "/console/plan/copy", {"month": f"{this_month():%Y-%m}"})
    assert f"已从 {last:%Y-%m} 复制 1 项计划。" in text(console.get(r.headers["Location"]))
    r = post(console, "/console/plan/copy", {"month": f"{this_month():%Y-%m}"})
    assert "没有需要复制的事项" in text(console.get(r.headers["Location"]))
    assert len(service.month_items(session, community_id=world["community"].id, month=this_month())) == 1


def test_the_plan_forms_need_the_csrf_token(console, session, world):
    item = this_month_item(world)
    for path in ("/console/plan", f"/console/plan/{item.id}/done", f"/console/plan/{item.id}/delete",
                 "/console/plan/copy", "/console/inspections"):
        r = console.post(path, data={"month": f"{this_month():%Y-%m}", "title": "x", "category": "cleaning"})
        assert r.status_code == 400 and "页面已过期" in text(r)
    session.expire_all()
    assert item.done_at is None and not item.deleted


def test_a_category_shows_its_checklist_and_that_month_s_items_to_link(console, world):
    item = this_month_item(world, title="四害消杀", category="pest_control")
    this_month_item(world, title="楼道保洁", category="cleaning")
    html = text(console.get("/console/inspections?category=pest_control"))
    for words in ("四害密度达标", "毒饵站完好有效", "消杀记录完整", "无异味残留"):
        assert words in html
    assert 'name="result_pest_density_ok" value="fail"' in html
    assert f'<option value="{item.id}"' in html and "楼道保洁" not in html
    r = console.get("/console/inspections?category=security")
    assert r.status_code == 400 and "未知的检查类别" in text(r)


def inspection_form(world, **overrides) -> dict:
    data = {"category": "cleaning", "place": "3栋大堂", "inspected_on": today().isoformat(), "plan_item_id": "",
            "notes": ""}
    data.update({f"result_{entry['key']}": "pass" for entry in checklists.checklist("cleaning")})
    data.update(overrides)
    return data


def test_an_inspection_is_recorded_and_listed_with_its_failed_item(console, session, world):
    item = this_month_item(world, title="楼道保洁")
    r = post(console, "/console/inspections", inspection_form(world, result_lift_car_clean="fail",
                                                              note_lift_car_clean="轿厢地面有污渍",
                                                              plan_item_id=item.id), "/console/inspections")
    assert r.status_code == 302, text(r)
    html = text(console.get(r.headers["Location"]))
    assert "已记录3栋大堂的保洁检查：4/5 项合格。" in html
    assert '<td class="num" data-testid="inspection-score">4/5</td>' in html
    assert "电梯轿厢清洁（轿厢地面有污渍）" in html and "80.0%" in html
    stored = session.scalar(sa.select(Inspection))
    assert stored.plan_item_id == item.id and stored.inspector_id == world["supervisor"].id


def test_missing_answers_are_named_and_what_was_chosen_is_kept(console, session, world):
    data = inspection_form(world, result_lift_car_clean="fail", note_lift_car_clean="污渍")
    del data["result_bins_emptied"], data["result_floor_clear"]
    r = post(console, "/console/inspections", data, "/console/inspections")
    assert r.status_code == 422
    html = text(r)
    assert "请为以下检查项选择合格或不合格：地面无垃圾杂物、垃圾桶清理及时。" in html
    assert 'name="result_lift_car_clean" value="fail" aria-describedby="item-lift_car_clean" checked' in html
    assert 'value="污渍"' in html and 'value="3栋大堂"' in html
    assert session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_a_plan_item_of_another_community_is_not_linked(console, session, world):
    theirs = make_plan_item(world["other"], world["outsider"])
    r = post(console, "/console/inspections", inspection_form(world, plan_item_id=theirs.id), "/console/inspections")
    assert r.status_code == 422 and "关联计划事项无效。" in text(r)
    assert session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_inspections_of_a_date_range_and_only_the_community_s(console, world):
    make_inspection(world["community"], world["supervisor"], place="5栋电梯厅", inspected_on=date(2026, 10, 3))
    make_inspection(world["other"], world["outsider"], place="外小区大堂", inspected_on=date(2026, 10, 3))
    html = text(console.get("/console/inspections?start=2026-10-01&end=2026-10-31"))
    assert "5栋电梯厅" in html and "外小区大堂" not in html and "5/5" in html
    assert "5栋电梯厅" not in text(console.get("/console/inspections?month=2026-09"))
    r = console.get("/console/inspections?start=2026-10-31&end=2026-10-01")
    assert r.status_code == 400 and "开始日期不能晚于结束日期" in text(r)


def test_a_later_checklist_change_does_not_change_an_old_inspection(console, world, monkeypatch):
    answers = [{**entry, "passed": entry["key"] != "bins_emptied", "note": ""}
               for entry in checklists.checklist("cleaning")]
    make_inspection(world["community"], world["supervisor"], items=answers, inspected_on=today())
    monkeypatch.setitem(checklists.CHECKLISTS, "cleaning",
                        ({"key": "bins_emptied", "zh": "垃圾桶无满溢", "en": "Bins not overflowing"},))
    html = text(console.get("/console/inspections"))
    assert "垃圾桶清理及时" in html and "垃圾桶无满溢" not in html
    assert '<td class="num" data-testid="inspection-score">4/5</td>' in html


def test_an_admin_plans_the_community_chosen_on_the_page(client, session, world):
    admin = make_user("admin")
    assert log_in(client, admin.username).status_code == 302
    other = world["other"].id
    html = text(client.get(f"/console/plan?month=2026-11&community={other}"))
    assert f'name="community" value="{other}"' in html  # carried by every form
    r = client.post("/console/plan", data={"month": "2026-11", "category": "septic", "title": "化粪池清掏",
                                           "due_date": "2026-11-12", "community": other,
                                           "csrf_token": csrf_of(client, "/console/plan")})
    assert r.status_code == 302 and f"community={other}" in r.headers["Location"]
    item = session.scalar(sa.select(WorkPlanItem).where(WorkPlanItem.title == "化粪池清掏"))
    assert item.community_id == other and item.created_by == admin.id
