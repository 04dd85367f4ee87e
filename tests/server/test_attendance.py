"""Butlers' daily check-in (签到/签退): made on the phone and synced like every record, read by the butler
and the community's supervisors only, counted per local day of the community in the console's attendance
table. Each community's time zone. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from server.attendance.models import Checkin
from server.attendance.service import ABSENT, BEFORE, FUTURE, LATE, OPEN, PRESENT, attendance
from server.community.service import local_date, today_in
from server.syncing import bookkeeping
from tests.factories import _save, auth, make_community, make_grid, make_household, make_user
from tests.support.console import log_in

PHONE = "cccccccc-0000-4000-8000-00000000c4ec"
UTC = timezone.utc


def make_checkin(butler, at: datetime, kind: str = "in", **overrides) -> Checkin:
    return _save(Checkin(**{"butler_id": butler.id, "community_id": butler.community_id, "kind": kind,
                            "at": at, **overrides}))


HIRED = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(session):
    """Two communities; in A two butlers (one with a resident in his grid) and a supervisor; in B one of each."""
    a, b = make_community(name="翠湖花园"), make_community(name="别的小区")
    li = make_user("butler", name="李管家", community_id=a.id, created_at=HIRED)
    household = make_household(a, make_grid(a, li))
    return {
        "A": a, "B": b, "li": li,
        "zhang": make_user("butler", name="张管家", community_id=a.id, created_at=HIRED),
        "resident": make_user("resident", community_id=a.id, household_id=household.id),
        "supervisor": make_user("supervisor", name="王主管", community_id=a.id),
        "other_butler": make_user("butler", name="外管家", community_id=b.id),
        "other_supervisor": make_user("supervisor", community_id=b.id),
    }


def sync(client, user, *mutations, language=None):
    body = {"client_id": PHONE, "schema": 1, "cursor": None, "mutations": list(mutations)}
    headers = {**auth(user), "Content-Type": "application/json"}
    if language:
        headers["Accept-Language"] = language
    r = client.post("/api/v1/sync", data=json.dumps(body), headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def tap(kind="in", at=None, rid=None, **fields):
    at = at or datetime.now(UTC)
    return {"mid": str(uuid.uuid4()), "type": "checkin", "id": rid or str(uuid.uuid4()), "op": "put", "base": None,
            "fields": {"kind": kind, "at": at.isoformat(), **fields}, "at": at.isoformat()}


def pulled(client, user) -> dict[str, dict]:
    return {c["id"]: c for c in sync(client, user)["changes"] if c["type"] == "checkin"}


def listed(client, user) -> set[str]:
    r = client.get("/api/v1/checkins", headers=auth(user))
    assert r.status_code == 200, r.get_json()
    return {c["id"] for c in r.get_json()["items"]}


# ---- writing through sync -------------------------------------------------------------------------

def test_a_butler_s_check_in_through_sync_is_applied_and_pulled_back(client, world, session):
    mutation = tap("in", at=datetime.now(UTC) - timedelta(hours=2), note=" 早班 ")
    answer = sync(client, world["li"], mutation)
    assert answer["results"] == [{"mid": mutation["mid"], "status": "applied", "version": 1}]
    change = next(c for c in answer["changes"] if c["id"] == mutation["id"])
    assert change["type"] == "checkin" and change["op"] == "put"
    data = change["data"]
    assert (data["butler_id"], data["community_id"]) == (world["li"].id, world["A"].id)  # set by the server
    assert (data["kind"], data["note"]) == ("in", "早班")
    assert datetime.fromisoformat(data["at"]) == datetime.fromisoformat(mutation["fields"]["at"])
    stored = session.get(Checkin, mutation["id"])
    assert stored.butler_id == world["li"].id and not stored.deleted


def test_a_check_in_a_few_minutes_ahead_of_the_server_is_accepted(client, world):
    mutation = tap("in", at=datetime.now(UTC) + timedelta(minutes=5))  # a phone clock running fast
    assert sync(client, world["li"], mutation)["results"][0]["status"] == "applied"


@pytest.mark.parametrize("language, text", [(None, "比服务器时间晚了 10 分钟以上"),
                                            ("en", "more than 10 minutes ahead")])
def test_a_check_in_in_the_future_is_rejected_with_a_message(client, world, session, language, text):
    mutation = tap("in", at=datetime.now(UTC) + timedelta(minutes=30))
    (result,) = sync(client, world["li"], mutation, language=language)["results"]
    assert result["status"] == "rejected"
    (error,) = result["errors"]
    assert (error["field"], error["code"]) == ("at", "in_future")
    assert text in error["message"]
    assert session.get(Checkin, mutation["id"]) is None


def test_a_check_in_older_than_a_week_is_rejected_with_a_message(client, world, session):
    mutation = tap("out", at=datetime.now(UTC) - timedelta(days=7, minutes=5))
    (result,) = sync(client, world["li"], mutation)["results"]
    assert result["status"] == "rejected"
    assert [(e["field"], e["code"], e["message"]) for e in result["errors"]] == [
        ("at", "too_old", "时间早于 7 天前，不能再提交。")]
    assert session.get(Checkin, mutation["id"]) is None


def test_a_butler_cannot_check_in_for_someone_else(client, world, session):
    mutation = tap("in", butler_id=world["zhang"].id)
    (result,) = sync(client, world["li"], mutation)["results"]
    assert result["status"] == "rejected"
    assert session.get(Checkin, mutation["id"]) is None


def test_nobody_changes_a_check_in_but_a_supervisor_may_delete_it(client, world, session):
    checkin = make_checkin(world["li"], datetime.now(UTC) - timedelta(hours=1))
    change = {**tap(), "id": checkin.id, "base": 1, "fields": {"kind": "out"}}
    assert sync(client, world["li"], change)["results"][0]["status"] == "rejected"
    r = client.patch(f"/api/v1/checkins/{checkin.id}", json={"note": "改"}, headers=auth(world["supervisor"]))
    assert r.status_code == 403
    assert client.delete(f"/api/v1/checkins/{checkin.id}", headers=auth(world["li"])).status_code == 403
    assert client.delete(f"/api/v1/checkins/{checkin.id}", headers=auth(world["supervisor"])).status_code in (200, 204)
    session.expire_all()
    assert session.get(Checkin, checkin.id).deleted and session.get(Checkin, checkin.id).kind == "in"


# ---- who reads what ---------------------------------------------------------------------------------

def test_a_resident_can_neither_create_nor_see_a_check_in(client, world, session):
    mine = make_checkin(world["li"], datetime.now(UTC) - timedelta(hours=1))
    mutation = tap("in")
    (result,) = sync(client, world["resident"], mutation)["results"]
    assert result["status"] == "rejected"
    assert session.get(Checkin, mutation["id"]) is None
    assert pulled(client, world["resident"]) == {}
    assert listed(client, world["resident"]) == set()
    assert client.get(f"/api/v1/checkins/{mine.id}", headers=auth(world["resident"])).status_code == 403


def test_another_butler_cannot_see_a_butler_s_check_in(client, world):
    mutation = tap("in")
    sync(client, world["li"], mutation)
    assert mutation["id"] in pulled(client, world["li"])
    assert pulled(client, world["zhang"]) == {}
    assert listed(client, world["zhang"]) == set()
    assert pulled(client, world["other_butler"]) == {}


def test_a_supervisor_sees_the_community_s_check_ins_only(client, world):
    ours = [make_checkin(world["li"], datetime.now(UTC) - timedelta(hours=3)),
            make_checkin(world["zhang"], datetime.now(UTC) - timedelta(hours=2), kind="out")]
    theirs = make_checkin(world["other_butler"], datetime.now(UTC) - timedelta(hours=1))
    assert set(pulled(client, world["supervisor"])) == {c.id for c in ours}
    assert listed(client, world["supervisor"]) == {c.id for c in ours}
    assert set(pulled(client, world["other_supervisor"])) == {theirs.id}


def test_a_deleted_check_in_leaves_the_butler_s_phone(client, world):
    checkin = make_checkin(world["li"], datetime.now(UTC) - timedelta(hours=1))
    body = {"client_id": PHONE, "schema": 1, "cursor": None, "mutations": []}
    first = client.post("/api/v1/sync", json=body, headers=auth(world["li"])).get_json()
    assert checkin.id in {c["id"] for c in first["changes"]}
    client.delete(f"/api/v1/checkins/{checkin.id}", headers=auth(world["supervisor"]))
    later = client.post("/api/v1/sync", json={**body, "cursor": first["cursor"]}, headers=auth(world["li"])).get_json()
    assert [(c["id"], c["op"]) for c in later["changes"]] == [(checkin.id, "delete")]


# ---- the community's time zone ----------------------------------------------------------------------

def test_a_community_is_in_china_s_time_zone_unless_told_otherwise(world):
    assert world["A"].timezone == "Asia/Shanghai"
    moment = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    assert local_date(world["A"], moment) == date(2026, 11, 3)
    assert local_date("Europe/London", moment) == date(2026, 11, 2)
    assert today_in("Asia/Shanghai", now=datetime(2026, 11, 27, 16, 5, tzinfo=UTC)) == date(2026, 11, 28)


def test_a_supervisor_sets_the_community_s_time_zone_and_a_bad_one_is_refused(client, world, session):
    path = f"/api/v1/communities/{world['A'].id}"
    r = client.patch(path, json={"timezone": "Asia/Urumqi"}, headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["timezone"] == "Asia/Urumqi"
    for bad in ("+08:00", "Mars/Olympus", "../../etc/passwd", ""):
        r = client.patch(path, json={"timezone": bad}, headers={**auth(world["supervisor"]), "Accept-Language": "en"})
        assert r.status_code == 422, bad
        (error,) = r.get_json()["details"]["errors"]
        assert (error["field"], error["code"]) == ("timezone", "invalid_timezone")
        assert "IANA" in error["message"]
    assert client.patch(path, json={"timezone": "UTC"}, headers=auth(world["li"])).status_code == 403
    session.expire_all()
    assert world["A"].timezone == "Asia/Urumqi"


# ---- the attendance table ---------------------------------------------------------------------------

NOW = datetime(2026, 11, 6, 3, 0, tzinfo=UTC)  # 11:00 on 6 November in Shanghai


def days_of(month, butler) -> dict[date, object]:
    row = next(b for b in month.butlers if b.butler_id == butler.id)
    return {d.day: d for d in row.days}


def test_attendance_counts_check_ins_on_the_community_s_calendar(session, world):
    li = world["li"]
    make_checkin(li, datetime(2026, 11, 2, 23, 30, tzinfo=UTC))  # 07:30 on the 3rd in Shanghai
    make_checkin(li, datetime(2026, 10, 31, 16, 10, tzinfo=UTC))  # 00:10 on 1 November
    month = attendance(session, community_id=world["A"].id, year=2026, month=11, now=NOW)
    days = days_of(month, li)
    assert (days[date(2026, 11, 3)].first_in, days[date(2026, 11, 3)].state) == ("07:30", PRESENT)
    assert days[date(2026, 11, 2)].state == ABSENT
    assert (days[date(2026, 11, 1)].first_in, days[date(2026, 11, 1)].state) == ("00:10", PRESENT)
    world["A"].timezone = "Europe/London"  # the same taps, counted on another calendar
    bookkeeping.changed(session, "community", world["A"])
    session.commit()
    month = attendance(session, community_id=world["A"].id, year=2026, month=11, now=NOW)
    days = days_of(month, li)
    assert (days[date(2026, 11, 2)].first_in, days[date(2026, 11, 2)].state) == ("23:30", LATE)
    assert days[date(2026, 11, 3)].state == ABSENT
    assert days[date(2026, 11, 1)].state == ABSENT  # 16:10 on 31 October in London


def test_attendance_marks_late_absent_and_future_days_and_adds_them_up(session, world):
    li, zhang = world["li"], world["zhang"]
    at = lambda d, hh, mm: datetime(2026, 11, d, hh, mm, tzinfo=timezone(timedelta(hours=8)))  # noqa: E731
    make_checkin(li, at(2, 8, 42))
    make_checkin(li, at(2, 12, 0), kind="out")
    make_checkin(li, at(2, 13, 0))  # back from lunch: the first 签到 still counts
    make_checkin(li, at(2, 18, 1), kind="out")
    make_checkin(li, at(3, 9, 12))  # late
    make_checkin(li, at(4, 9, 0))  # on the dot is on time
    make_checkin(li, at(5, 8, 0), deleted=True)  # deleted by a supervisor: not there
    make_checkin(li, at(6, 8, 55))  # today
    make_checkin(world["other_butler"], at(4, 8, 0))  # another community's
    month = attendance(session, community_id=world["A"].id, year=2026, month=11, now=NOW)
    assert month.today == date(2026, 11, 6) and len(month.days) == 30
    assert [b.name for b in month.butlers] == ["张管家", "李管家"]  # the community's butlers, by name
    days = days_of(month, li)
    assert (days[date(2026, 11, 2)].first_in, days[date(2026, 11, 2)].last_out, days[date(2026, 11, 2)].state) \
        == ("08:42", "18:01", PRESENT)
    assert (days[date(2026, 11, 3)].first_in, days[date(2026, 11, 3)].state) == ("09:12", LATE)
    assert days[date(2026, 11, 4)].state == PRESENT
    assert days[date(2026, 11, 5)].state == ABSENT
    assert days[date(2026, 11, 6)].state == PRESENT
    assert days[date(2026, 11, 7)].state == FUTURE and days[date(2026, 11, 7)].first_in is None
    row = next(b for b in month.butlers if b.butler_id == li.id)
    assert (row.present, row.late, row.absent) == (4, 1, 2)  # absent: the 1st and the 5th
    zhang_days = days_of(month, zhang)
    assert zhang_days[date(2026, 11, 5)].state == ABSENT and zhang_days[date(2026, 11, 6)].state == OPEN
    zhang_row = next(b for b in month.butlers if b.butler_id == zhang.id)
    assert (zhang_row.present, zhang_row.late, zhang_row.absent) == (0, 0, 5)


# ---- the console page -------------------------------------------------------------------------------

@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def test_the_attendance_page_shows_the_month_per_butler_and_is_in_the_nav(console, world):
    shanghai = timezone(timedelta(hours=8))
    make_checkin(world["li"], datetime(2026, 10, 14, 8, 42, tzinfo=shanghai))
    make_checkin(world["li"], datetime(2026, 10, 14, 18, 6, tzinfo=shanghai), kind="out")
    make_checkin(world["li"], datetime(2026, 10, 15, 1, 20, tzinfo=UTC))  # 09:20 local: late
    make_checkin(world["other_butler"], datetime(2026, 10, 14, 8, 0, tzinfo=shanghai))
    r = console.get("/console/attendance?month=2026-10")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "2026-10 考勤" in html and 'data-testid="nav-attendance"' in html
    assert "李管家" in html and "张管家" in html and "外管家" not in html
    li_row = html.split(f'data-id="{world["li"].id}"')[1].split("</tr>")[0]
    assert 'data-day="2026-10-14" data-state="present"' in li_row
    assert ">08:42<" in li_row and ">18:06<" in li_row
    assert 'data-day="2026-10-15" data-state="late"' in li_row and ">09:20<" in li_row and "迟到" in li_row
    assert 'data-day="2026-10-16" data-state="absent"' in li_row and "缺勤" in li_row
    assert 'data-testid="present">2<' in li_row and 'data-testid="late">1<' in li_row
    assert 'data-testid="absent">29<' in li_row
    assert "Attendance for 2026-10" in console.get("/console/attendance?month=2026-10&lang=en").get_data(as_text=True)


def test_the_attendance_csv_is_the_same_table(console, world):
    make_checkin(world["li"], datetime(2026, 10, 14, 0, 42, tzinfo=UTC))
    r = console.get("/console/attendance.csv?month=2026-10")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "管家" and rows[0][1] == "2026-10-01" and rows[0][-3:] == ["出勤天数", "迟到天数", "缺勤天数"]
    li = next(row for row in rows if row[0] == "李管家")
    assert li[14] == "签到 08:42" and li[16] == "缺勤"
    assert li[-3:] == ["1", "0", "30"]


def test_a_bad_month_is_refused_with_a_message(console):
    for bad in ("2026-13", "9999-12", "2026-1", "0000-01"):
        r = console.get(f"/console/attendance?month={bad}")
        assert r.status_code == 400, bad
        assert "月份格式不正确" in r.get_data(as_text=True)
    assert console.get("/console/attendance.csv?month=nope").status_code == 400


def test_butlers_and_residents_are_refused_the_attendance_page(client, world):
    assert client.get("/console/attendance").status_code == 302  # to the login form
    assert log_in(client, world["li"].username).status_code == 403
    assert client.get("/console/attendance").status_code in (302, 403)


def test_days_before_a_butler_joined_are_not_absences(session, world):
    joined = make_user("butler", name="新管家", community_id=world["A"].id,
                       created_at=datetime(2026, 11, 3, 17, 0, tzinfo=UTC))  # 4 November, 01:00 in Shanghai
    month = attendance(session, community_id=world["A"].id, year=2026, month=11, now=NOW)
    days = days_of(month, joined)
    assert [days[date(2026, 11, d)].state for d in (1, 2, 3, 4, 5)] == [BEFORE, BEFORE, BEFORE, ABSENT, ABSENT]
    row = next(b for b in month.butlers if b.butler_id == joined.id)
    assert (row.present, row.absent) == (0, 2)
