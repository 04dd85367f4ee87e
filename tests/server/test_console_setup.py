"""Setting a community up in the console (server/console/setup.py, server/community/importing.py): grids
and households by hand, a file imported through its preview, and the export that imports again.

Every write goes through the scope rules and the bookkeeping, so butlers' phones pull it; an import
writes everything or (any row wrong) nothing; a supervisor sets up their own community only.
"""
from __future__ import annotations

import io
import re
import time

import openpyxl
import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.community.models import Grid, Household, Person
from server.resources.registry import household_children
from server.syncing import bookkeeping
from server.syncing.changes import apply_scope_change, audience
from server.syncing.models import SyncEviction
from tests.factories import (make_community, make_grid, make_household, make_order, make_person, make_ticket,
                             make_user, make_visit)
from tests.support.console import csrf_of, log_in, text
from tests.support.phone import Phone, ids

HEADER = "楼栋,单元,房号,状态,面积,网格,姓名,关系,手机号码,同意保存信息"
ROWS = [
    "1栋,1单元,101,自住,88.5,一号网格,张三,业主,13800000001,是",
    "1栋,1单元,101,,,,李四,家属,,",
    "1栋,1单元,102,出租,70,一号网格,王五,租户,,否",
    "2栋,1单元,301,空置,,二号网格,,,,",
]
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    b1 = make_user("butler", name="李管家", community_id=community.id)
    b2 = make_user("butler", name="张管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    g1, g2 = make_grid(community, b1, name="一号网格"), make_grid(community, b2, name="二号网格")
    other = make_community(name="别的小区")
    og = make_grid(other, None, name="一号网格")
    oh = make_household(other, og, building="9栋", unit="", room="901")
    other_supervisor = make_user("supervisor", name="外主管", community_id=other.id)
    admin = make_user("admin", name="管理员")
    return {"community": community, "b1": b1, "b2": b2, "supervisor": supervisor, "g1": g1, "g2": g2,
            "other": other, "og": og, "oh": oh, "other_supervisor": other_supervisor, "admin": admin}


@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def post(client, path, data, page="/console/setup"):
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})


def upload(client, data: bytes, name="住户.csv", extra=None, lang=None):
    page = "/console/setup" + (f"?lang={lang}" if lang else "")
    return client.post("/console/setup/import", content_type="multipart/form-data",
                       data={"csrf_token": csrf_of(client, page), "file": (io.BytesIO(data), name), **(extra or {})})


def confirm(client, preview, extra=None):
    token = TOKEN.search(text(preview)).group(1)
    return client.post("/console/setup/import/confirm",
                       data={"csrf_token": csrf_of(client, "/console/setup"), "token": token, **(extra or {})})


def csv_of(lines, encoding="utf-8-sig") -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding)


def households(session, community) -> dict[tuple, Household]:
    session.expire_all()
    return {(h.building, h.unit, h.room): h for h in session.scalars(
        sa.select(Household).where(Household.community_id == community.id))}


def people(session, community) -> dict[str, Person]:
    return {p.name: p for p in session.scalars(sa.select(Person).join(Household).where(
        Household.community_id == community.id))}


def counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return (session.scalar(sa.select(sa.func.count()).select_from(Household)),
            session.scalar(sa.select(sa.func.count()).select_from(Person)),
            session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))


# ---- the page and single records ----------------------------------------------------------------

def test_the_page_is_in_the_nav_and_shows_the_community_only(console, world, session):
    make_household(world["community"], world["g1"], building="1栋", unit="1单元", room="101")
    html = text(console.get("/console/setup"))
    assert 'href="/console/setup"' in html and "小区建档" in html
    assert "一号网格" in html and "二号网格" in html and "1栋-1单元-101" in html and "9栋" not in html
    assert "Community set-up" in text(console.get("/console/setup?lang=en"))


def test_a_grid_is_added_and_renamed_and_phones_pull_it(console, world, session):
    phone = Phone(console, world["b1"])
    phone.pull_all()
    r = post(console, "/console/setup/grids", {"name": "三号网格", "butler_id": world["b1"].id})
    assert r.status_code == 302
    assert "已新建网格“三号网格”。" in text(console.get(r.headers["Location"]))
    grid = session.scalar(sa.select(Grid).where(Grid.name == "三号网格"))
    assert grid.community_id == world["community"].id and grid.butler_id == world["b1"].id
    r = post(console, f"/console/setup/grids/{grid.id}", {"name": "三号网格（东）", "butler_id": ""})
    assert r.status_code == 302
    session.expire_all()
    assert (grid.name, grid.butler_id, grid.version) == ("三号网格（东）", None, 2)


def test_a_grid_of_another_community_or_a_butler_from_there_is_refused(console, world, session):
    r = post(console, f"/console/setup/grids/{world['og'].id}", {"name": "被改名", "butler_id": ""})
    assert r.status_code == 403
    outsider = make_user("butler", community_id=world["other"].id)
    r = post(console, "/console/setup/grids", {"name": "新网格", "butler_id": outsider.id})
    assert r.status_code == 422 and "新网格" in text(r)
    session.expire_all()
    assert world["og"].name == "一号网格"
    assert session.scalar(sa.select(Grid).where(Grid.name == "新网格")) is None


def test_a_form_without_the_csrf_token_is_refused(console, world, session):
    r = console.post("/console/setup/grids", data={"name": "无令牌"})
    assert r.status_code == 400
    assert session.scalar(sa.select(Grid).where(Grid.name == "无令牌")) is None


def test_a_household_is_added_and_edited_with_its_bookkeeping_and_the_butler_pulls_it(console, world, session):
    phone = Phone(console, world["b1"])
    phone.pull_all()
    r = post(console, "/console/setup/households",
             {"building": "5栋", "unit": "2单元", "room": "1601", "status": "rented", "area_m2": "96.5",
              "grid_id": world["g1"].id, "visit_cycle_days": "60", "tags": "独居老人，重点", "notes": "养狗"})
    assert r.status_code == 302
    assert "已新建住户 5栋-2单元-1601。" in text(console.get(r.headers["Location"]))
    household = households(session, world["community"])[("5栋", "2单元", "1601")]
    assert (household.status, household.area_m2, household.visit_cycle_days, household.tags) == \
        ("rented", 96.5, 60, ["独居老人", "重点"])
    assert household.id in ids(phone.pull_all(), rtype="household")
    page = text(console.get(f"/console/setup/households/{household.id}"))
    assert 'value="1601"' in page and "编辑住户 5栋-2单元-1601" in page
    r = post(console, f"/console/setup/households/{household.id}",
             {"building": "5栋", "unit": "2单元", "room": "1601", "status": "vacant", "area_m2": "",
              "grid_id": world["g1"].id, "visit_cycle_days": "60", "tags": "", "notes": ""},
             f"/console/setup/households/{household.id}")
    assert r.status_code == 302
    session.expire_all()
    assert (household.status, household.area_m2, household.tags, household.version) == ("vacant", None, [], 2)
    changes = phone.pull_all()
    assert household.id in ids(changes, rtype="household")
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.record_id == household.id, AuditEvent.channel == "console")) == 2


def test_a_bad_household_form_is_refused_in_chinese_and_the_values_kept(console, world, session):
    r = post(console, "/console/setup/households",
             {"building": "5栋", "unit": "", "room": "1601", "status": "self_occupied", "area_m2": "很大",
              "grid_id": "", "visit_cycle_days": "90", "tags": "", "notes": ""})
    assert r.status_code == 422 and "面积" in text(r) and 'value="很大"' in text(r)
    assert households(session, world["community"]) == {}


def test_a_household_of_another_community_cannot_be_seen_or_changed(console, world, session):
    assert console.get(f"/console/setup/households/{world['oh'].id}").status_code == 403
    r = post(console, f"/console/setup/households/{world['oh'].id}",
             {"building": "9栋", "unit": "", "room": "999", "status": "vacant", "area_m2": "", "grid_id": "",
              "visit_cycle_days": "90", "tags": "", "notes": ""})
    assert r.status_code == 403
    session.expire_all()
    assert world["oh"].room == "901"


# ---- import ---------------------------------------------------------------------------------------

def test_a_preview_writes_nothing_and_the_confirmation_imports_everything(console, world, session):
    phone = Phone(console, world["b1"])
    phone.pull_all()
    before = counts(session)
    preview = upload(console, csv_of(ROWS))
    html = text(preview)
    assert preview.status_code == 200, html
    assert "共 4 行数据" in html
    assert re.search(r'data-testid="count-new-households">3<', html)
    assert re.search(r'data-testid="count-new-people">3<', html)
    assert counts(session) == before  # a preview only reads
    r = confirm(console, preview)
    assert r.status_code == 302
    assert "导入完成：新增住户 3 户，修改 0 户；新增人员 3 人，修改 0 人。" in text(console.get(r.headers["Location"]))
    found = households(session, world["community"])
    assert set(found) == {("1栋", "1单元", "101"), ("1栋", "1单元", "102"), ("2栋", "1单元", "301")}
    first = found[("1栋", "1单元", "101")]
    assert (first.status, first.area_m2, first.grid_id, first.version) == ("self_occupied", 88.5, world["g1"].id, 1)
    assert first.seq > 0 and first.field_meta["building"][2] == world["supervisor"].id
    named = people(session, world["community"])
    assert (named["张三"].phone, named["张三"].consent, named["张三"].consent_at is not None) == \
        ("13800000001", True, True)
    assert named["李四"].relation == "family" and named["李四"].household_id == first.id
    raw = session.execute(sa.text("SELECT phone FROM person WHERE name = '张三'")).scalar_one()
    assert "13800000001" not in raw  # encrypted at rest, bulk insert or not
    assert counts(session)[2] - before[2] == 6  # one audit event per record, from the console
    # The butler of 一号网格 pulls its two households and their people; the other grid's is not theirs.
    changes = phone.pull_all()
    assert ids(changes, rtype="household") == {first.id, found[("1栋", "1单元", "102")].id}
    assert ids(changes, rtype="person") == {named["张三"].id, named["李四"].id, named["王五"].id}


def test_a_wrong_row_shows_its_error_in_chinese_and_nothing_is_written(console, world, session):
    before = counts(session)
    bad = [*ROWS, "3栋,1单元,101,自住,,不存在的网格,,,,", "=1+1,1单元,101,,,,,,,"]
    preview = upload(console, csv_of(bad))
    html = text(preview)
    assert preview.status_code == 422
    assert "发现 2 处错误，未导入任何数据" in html
    assert re.search(r'data-row="6">\s*<td class="num">6</td>\s*<td>网格</td>\s*<td>没有名为“不存在的网格”的网格', html)
    assert re.search(r'data-row="7">\s*<td class="num">7</td>\s*<td>楼栋</td>', html)
    assert 'name="token"' not in html and counts(session) == before
    english = text(upload(console, csv_of(bad), lang="en"))
    assert "There is no grid named 不存在的网格" in english and "2 errors found" in english


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_csv_as_chinese_excel_saves_it_imports(console, world, session, encoding):
    r = confirm(console, upload(console, csv_of(ROWS, encoding)))
    assert r.status_code == 302
    assert len(households(session, world["community"])) == 3


def test_a_whole_file_refusal_is_shown(console, world, session):
    r = upload(console, b"\xd0\xcf\x11\xe0" + b"\0" * 100, name="住户.xls")
    assert r.status_code == 422 and "不支持旧版 Excel（.xls）文件" in text(r) and "整个文件" in text(r)
    r = upload(console, "楼栋,单元\r\n1栋,1\r\n".encode(), name="a.csv")
    assert r.status_code == 422 and "缺少必填列：房号" in text(r)


def test_importing_the_same_file_again_changes_nothing(console, world, session):
    assert confirm(console, upload(console, csv_of(ROWS))).status_code == 302
    snapshot = {key: (h.version, h.seq) for key, h in households(session, world["community"]).items()}
    before = counts(session)
    preview = upload(console, csv_of(ROWS))
    html = text(preview)
    assert preview.status_code == 200 and "文件与现有数据一致，无需导入。" in html and 'name="token"' not in html
    assert re.search(r'data-testid="count-same-households">3<', html)
    assert {key: (h.version, h.seq) for key, h in households(session, world["community"]).items()} == snapshot
    assert counts(session) == before


def test_a_changed_file_updates_through_the_service_and_moves_phones(console, world, session):
    assert confirm(console, upload(console, csv_of(ROWS))).status_code == 302
    phone = Phone(console, world["b2"])
    phone.pull_all()
    changed = [ROWS[0].replace("一号网格", "二号网格"), ROWS[1].replace("家属,,", "家属,13900000002,是"),
               *ROWS[2:]]
    preview = upload(console, csv_of(changed))
    assert re.search(r'data-testid="count-changed-households">1<', text(preview))
    assert re.search(r'data-testid="count-changed-people">1<', text(preview))
    assert confirm(console, preview).status_code == 302
    found = households(session, world["community"])[("1栋", "1单元", "101")]
    assert found.grid_id == world["g2"].id and found.version == 2
    assert people(session, world["community"])["李四"].phone == "13900000002"
    pulled = phone.pull_all()
    assert found.id in ids(pulled, rtype="household")  # the new grid's butler gets it, and its people
    assert people(session, world["community"])["张三"].id in ids(pulled, rtype="person")


def test_the_rows_are_checked_again_at_confirmation(console, world, session):
    preview = upload(console, csv_of(ROWS))
    world["g2"].name = "改名的网格"  # the grid the file names is renamed meanwhile (by hand: no phone sees it)
    from server.syncing import bookkeeping
    bookkeeping.changed(session, "grid", world["g2"])
    session.commit()
    before = counts(session)
    r = confirm(console, preview)
    assert r.status_code == 422 and "没有名为“二号网格”的网格" in text(r)
    assert counts(session) == before


def test_a_preview_is_for_its_own_user_and_community_and_used_once(client, world, session):
    assert log_in(client, world["supervisor"].username).status_code == 302
    preview = upload(client, csv_of(ROWS))
    token = TOKEN.search(text(preview)).group(1)
    client.post("/console/logout", data={"csrf_token": csrf_of(client, "/console/setup")})
    assert log_in(client, world["other_supervisor"].username).status_code == 302
    r = client.post("/console/setup/import/confirm",
                    data={"csrf_token": csrf_of(client, "/console/setup"), "token": token})
    assert r.status_code == 410 and "预览已过期" in text(r)
    assert households(session, world["community"]) == {}
    client.post("/console/logout", data={"csrf_token": csrf_of(client, "/console/setup")})
    assert log_in(client, world["supervisor"].username).status_code == 302
    assert client.post("/console/setup/import/confirm",
                       data={"csrf_token": csrf_of(client, "/console/setup"), "token": token}).status_code == 302
    assert client.post("/console/setup/import/confirm",
                       data={"csrf_token": csrf_of(client, "/console/setup"), "token": token}).status_code == 410


def test_a_preview_expires_and_a_made_up_token_is_refused(console, world, session, monkeypatch, app):
    from pathlib import Path

    from server.console import setup

    preview = upload(console, csv_of(ROWS))
    kept = list((Path(app.instance_path) / "console-imports").glob("*.json"))
    assert len(kept) == 1 and "张三" not in kept[0].read_text() and "13800000001" not in kept[0].read_text()
    r = console.post("/console/setup/import/confirm", data={"csrf_token": csrf_of(console, "/console/setup"),
                                                            "token": "made-up"})
    assert r.status_code == 410
    monkeypatch.setattr(setup, "PENDING_MINUTES", 0)
    assert confirm(console, preview).status_code == 410
    assert households(session, world["community"]) == {}


def test_a_supervisor_cannot_import_into_another_community(console, world, session):
    before = counts(session)
    preview = upload(console, csv_of(ROWS), extra={"community": world["other"].id})
    r = confirm(console, preview, extra={"community": world["other"].id})
    assert r.status_code == 302
    # The community asked for is ignored: a supervisor's is always their own.
    assert households(session, world["other"]) == {("9栋", "", "901"): world["oh"]}
    assert len(households(session, world["community"])) == 3
    assert counts(session)[0] == before[0] + 3


def test_an_admin_imports_into_the_community_chosen(client, world, session):
    assert log_in(client, world["admin"].username).status_code == 302
    chosen = {"community": world["other"].id}
    preview = upload(client, csv_of(["9栋,,901,出租,,一号网格,,,,", "9栋,,902,,,,,,,"]), extra=chosen)
    assert re.search(r'data-testid="count-new-households">1<', text(preview))
    assert confirm(client, preview, extra=chosen).status_code == 302
    found = households(session, world["other"])
    assert set(found) == {("9栋", "", "901"), ("9栋", "", "902")}
    assert found[("9栋", "", "901")].grid_id == world["og"].id and found[("9栋", "", "901")].status == "rented"


# ---- export ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_export_imports_again_unchanged_and_edited(console, world, session, kind):
    h = make_household(world["community"], world["g1"], building="1栋", unit="1单元", room="101",
                       tags=["独居老人"], notes="=HYPERLINK(\"http://x\")", area_m2=88.0)
    make_person(h, name="王芳", phone="13800138000")
    make_household(world["community"], None, building="10栋", unit="", room="0101", tags=[], notes="")
    r = console.get(f"/console/setup/export.{kind}")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    data = r.data
    if kind == "csv":
        assert data.startswith(b"\xef\xbb\xbf") and "'=HYPERLINK" in data.decode("utf-8-sig")
        assert "13800138000" in data.decode("utf-8-sig")
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        assert sheet["A1"].value == "楼栋" and sheet["I2"].data_type == "s"
    preview = upload(console, data, name=f"导出.{kind}")
    assert preview.status_code == 200 and "文件与现有数据一致" in text(preview), text(preview)
    if kind == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        workbook.worksheets[0]["D2"] = "出租"
        buffer = io.BytesIO()
        workbook.save(buffer)
        data = buffer.getvalue()
    else:
        data = data.decode("utf-8-sig").replace("1栋,1单元,101,自住", "1栋,1单元,101,出租").encode("gbk")
    preview = upload(console, data, name=f"导出.{kind}")
    assert re.search(r'data-testid="count-changed-households">1<', text(preview))
    assert confirm(console, preview).status_code == 302
    assert households(session, world["community"])[("1栋", "1单元", "101")].status == "rented"
    assert households(session, world["community"])[("1栋", "1单元", "101")].notes == "=HYPERLINK(\"http://x\")"


def test_the_export_holds_the_community_only(console, world):
    make_household(world["community"], world["g1"], building="1栋", unit="1单元", room="101")
    body = console.get("/console/setup/export.csv").data.decode("utf-8-sig")
    assert "1栋,1单元,101" in body and "9栋" not in body


def test_the_export_is_in_the_audit_trail_as_reads(console, world, session):
    h = make_household(world["community"], world["g1"], building="1栋", unit="1单元", room="101")
    person = make_person(h, name="王芳", phone="13800138000")
    assert console.get("/console/setup/export.xlsx").status_code == 200
    session.expire_all()
    events = {e.record_id: e for e in session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "read"))}
    assert set(events) == {h.id, person.id}
    assert events[person.id].channel == "console" and "phone" in events[person.id].fields
    assert events[h.id].community_id == world["community"].id and events[h.id].user_id == world["supervisor"].id


# ---- a whole community --------------------------------------------------------------------------------

def test_a_community_of_two_thousand_households_imports_in_seconds(console, world, session):
    lines = []
    for building in range(1, 21):
        for unit in (1, 2):
            for room in range(1, 51):
                grid = "一号网格" if building <= 10 else "二号网格"
                lines.append(f"{building}栋,{unit}单元,{room // 10 + 1}{room % 10:02d},自住,{80 + room},{grid},"
                             f"业主{building}-{unit}-{room},业主,138{building:02d}{unit}{room:05d},是")
    assert len(lines) == 2000
    started = time.perf_counter()
    preview = upload(console, csv_of(lines))
    assert re.search(r'data-testid="count-new-households">2000<', text(preview)), text(preview)[:3000]
    r = confirm(console, preview)
    took = time.perf_counter() - started
    assert r.status_code == 302
    assert len(households(session, world["community"])) == 2000
    assert len(people(session, world["community"])) == 2000
    assert took < 60, took
    started = time.perf_counter()
    assert "文件与现有数据一致" in text(upload(console, csv_of(lines)))
    assert time.perf_counter() - started < 30


def test_changing_every_household_of_two_thousand_by_import_moves_them_all_at_once(console, world, session):
    lines = [f"{b}栋,{u}单元,{r:03d},自住,,一号网格,业主{b}-{u}-{r},业主,,"
             for b in range(1, 21) for u in (1, 2) for r in range(101, 151)]
    assert confirm(console, upload(console, csv_of(lines))).status_code == 302
    phone = Phone(console, world["b2"])
    phone.pull_all()
    moved = [line.replace("一号网格", "二号网格").replace(",业主,", ",家属,") for line in lines]
    started = time.perf_counter()
    preview = upload(console, csv_of(moved))
    assert re.search(r'data-testid="count-changed-households">2000<', text(preview))
    assert re.search(r'data-testid="count-changed-people">2000<', text(preview))
    assert confirm(console, preview).status_code == 302
    assert time.perf_counter() - started < 90  # each household leaves one phone and reaches another
    found = households(session, world["community"])
    assert {h.grid_id for h in found.values()} == {world["g2"].id} and {h.version for h in found.values()} == {2}
    assert {p.relation for p in people(session, world["community"]).values()} == {"family"}
    assert len(ids(phone.pull_all(), rtype="household")) == 2000  # the new grid's butler gets them all


def test_a_file_that_moves_many_households_evicts_each_record_once_and_sends_it_once(console, world, session):
    lines = [f"{b}栋,1单元,{r},自住,,一号网格,业主{b}-{r},业主,," for b in range(1, 4) for r in range(101, 141)]
    assert confirm(console, upload(console, csv_of(lines))).status_code == 302
    found = households(session, world["community"])
    moving = [found[(f"{b}栋", "1单元", str(r))] for b in range(1, 4) for r in range(101, 141) if r <= 130]
    for household in moving[::3]:  # records of every kind that hangs on a household go and come with it
        make_visit(household, world["b1"])
        make_ticket(household, assignee_id=None)
        make_order(household)
    on_moving = {("household", h.id) for h in moving}
    for rtype, model in household_children().items():
        on_moving |= {(rtype, rid) for rid in session.scalars(sa.select(model.id).where(
            model.household_id.in_([h.id for h in moving])))}
    old_phone, new_phone = Phone(console, world["b1"]), Phone(console, world["b2"])
    old_phone.pull_all()
    new_phone.pull_all()
    moved = [line.replace("一号网格", "二号网格") if int(line.split(",")[2]) <= 130 else line for line in lines]
    preview = upload(console, csv_of(moved))
    assert re.search(r'data-testid="count-changed-households">90<', text(preview))
    assert confirm(console, preview).status_code == 302

    evicted = [(c["type"], c["id"]) for c in old_phone.pull_all() if c["op"] == "evict"]
    assert sorted(evicted) == sorted(on_moving)  # every record on the households moved, each once
    pulled = [(c["type"], c["id"]) for c in new_phone.pull_all() if c["op"] == "put"]
    assert sorted(pulled) == sorted(on_moving)  # and the new grid's butler gets each of them, once
    assert {rtype for rtype, _ in on_moving} >= {"household", "person", "visit", "ticket", "order"}
    assert old_phone.pull_all() == [] and new_phone.pull_all() == []  # nothing twice


def test_a_scope_change_costs_the_same_statements_for_few_households_or_many(world, session):
    """Evictions and re-sends are set-based: the statements do not grow with the households moved."""
    sent = {}
    for count in (5, 50):
        moving = [make_household(world["community"], world["g1"]) for _ in range(count)]
        for household in moving:
            make_person(household)
            make_visit(household, world["b1"])
        watched = [h.id for h in moving]
        before = audience(session, watched)
        for household in moving:
            household.grid_id = world["g2"].id
            bookkeeping.changed(session, "household", household)
        session.flush()
        after = audience(session, watched)
        statements = sent[count] = []
        engine = session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731 (the statement)
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            apply_scope_change(session, before, after)
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        evicted = session.scalars(sa.select(SyncEviction.record_id).where(
            SyncEviction.user_id == world["b1"].id, SyncEviction.household_id.in_(watched))).all()
        assert len(evicted) == len(set(evicted)) == 3 * count  # each household, its person, its visit: once
        renumbered = session.scalars(sa.select(Household.seq).where(Household.id.in_(watched))).all()
        assert min(renumbered) >= max(h.seq for h in moving)  # not before the move: the new butler pulls it
        session.commit()
    assert len(sent[50]) == len(sent[5]) <= 2 * len(household_children()) + 6, sent[50]
