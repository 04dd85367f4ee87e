"""Custody (房屋托管) of empty homes on SQLite and PostgreSQL: contracts that supervisors write and
the household's butler and residents read, inspections the butler syncs that must answer every
contracted service, when the next inspection is due, and the owner's report behind its link."""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from server.custody import report as reports
from server.custody import service as custody
from server.custody.models import CustodyContract, CustodyInspection, CustodyReportLink
from server.extensions import db
from tests.factories import _save, auth, make_community, make_grid, make_household, make_user
from tests.support.phone import Phone, put, results

SECRET = "test-secret"
SERVICES = ["airing", "leak_check", "water_check"]


def make_contract(household, **overrides) -> CustodyContract:
    values = {"household_id": household.id, "owner_name": "陈业主", "start_date": date(2026, 11, 1),
              "end_date": date(2027, 10, 31), "services": SERVICES, "inspection_every_days": 14, **overrides}
    return _save(CustodyContract(**values))


def make_custody_inspection(contract, butler, **overrides) -> CustodyInspection:
    values = {"household_id": contract.household_id, "contract_id": contract.id, "butler_id": butler.id,
              "inspected_at": datetime(2026, 11, 10, 2, tzinfo=timezone.utc),
              "checklist": {name: {"ok": True, "note": ""} for name in contract.services}, "done": "开窗通风一小时",
              **overrides}
    return _save(CustodyInspection(**values))


@pytest.fixture
def estate(session):
    community, other = make_community(), make_community()
    b1, b2 = make_user("butler", community_id=community.id), make_user("butler", community_id=community.id)
    g1, g2 = make_grid(community, b1), make_grid(community, b2)
    h1, h2 = make_household(community, g1, status="custody"), make_household(community, g2)
    return {"community": community, "b1": b1, "b2": b2, "h1": h1, "h2": h2,
            "supervisor": make_user("supervisor", community_id=community.id),
            "stranger": make_user("supervisor", community_id=other.id),
            "r1": make_user("resident", community_id=community.id, household_id=h1.id),
            "r2": make_user("resident", community_id=community.id, household_id=h2.id)}


def contract_body(household, **overrides) -> dict:
    return {"household_id": household.id, "owner_name": "陈业主", "start_date": "2026-11-01",
            "end_date": "2027-10-31", "services": SERVICES, "inspection_every_days": 14, "note": "每两周一次", **overrides}


def inspection_fields(contract, **overrides) -> dict:
    return {"household_id": contract.household_id, "contract_id": contract.id,
            "inspected_at": "2026-11-20T10:00:00+08:00", "done": "开窗通风，检查水管",
            "checklist": {name: {"ok": True, "note": ""} for name in contract.services}, **overrides}


# ---- contracts ----------------------------------------------------------------------------------

def test_a_supervisor_writes_a_contract_that_the_household_s_butler_pulls(client, estate):
    r = client.post("/api/v1/custody-contracts", json=contract_body(estate["h1"]), headers=auth(estate["supervisor"]))
    assert r.status_code == 201, r.get_json()
    changes = Phone(client, estate["b1"]).pull_all()
    pulled = [c for c in changes if c["type"] == "custody_contract"]
    assert [c["id"] for c in pulled] == [r.get_json()["id"]]
    assert pulled[0]["data"]["services"] == SERVICES and pulled[0]["data"]["owner_name"] == "陈业主"


def test_another_grid_s_butler_and_another_community_see_no_contract(client, estate):
    contract = make_contract(estate["h1"])
    assert not [c for c in Phone(client, estate["b2"]).pull_all() if c["type"] == "custody_contract"]
    assert client.get(f"/api/v1/custody-contracts/{contract.id}", headers=auth(estate["b2"])).status_code in (403, 404)
    assert client.get(f"/api/v1/custody-contracts/{contract.id}",
                      headers=auth(estate["stranger"])).status_code in (403, 404)


def test_a_resident_reads_only_their_own_household_s_contract(client, estate):
    mine, theirs = make_contract(estate["h1"]), make_contract(estate["h2"])
    listed = client.get("/api/v1/custody-contracts", headers=auth(estate["r1"])).get_json()["items"]
    assert [c["id"] for c in listed] == [mine.id]
    assert client.get(f"/api/v1/custody-contracts/{theirs.id}", headers=auth(estate["r1"])).status_code in (403, 404)


def test_butlers_and_residents_cannot_write_contracts(client, estate):
    for who in ("b1", "r1"):
        r = client.post("/api/v1/custody-contracts", json=contract_body(estate["h1"]), headers=auth(estate[who]))
        assert r.status_code == 403, who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustodyContract)) == 0


def test_another_community_s_supervisor_cannot_write_a_contract_here(client, estate):
    r = client.post("/api/v1/custody-contracts", json=contract_body(estate["h1"]), headers=auth(estate["stranger"]))
    assert r.status_code in (403, 422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustodyContract)) == 0


@pytest.mark.parametrize("overrides, field, code", [
    ({"end_date": "2026-10-01"}, "end_date", "invalid"),
    ({"services": ["airing", "sweeping"]}, "services", "invalid_choice"),
    ({"services": []}, "services", "required"),
    ({"inspection_every_days": 0}, "inspection_every_days", "out_of_range"),
    ({"start_date": "not a date"}, "start_date", "invalid_type"),
])
def test_a_bad_contract_is_refused_with_the_field_and_nothing_is_stored(client, estate, overrides, field, code):
    r = client.post("/api/v1/custody-contracts", json=contract_body(estate["h1"], **overrides),
                    headers=auth(estate["supervisor"]))
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["details"]["errors"]
    assert any(e["field"].startswith(field) and e["code"] == code for e in errors), errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustodyContract)) == 0


def test_a_household_has_one_live_contract(client, estate):
    make_contract(estate["h1"])
    r = client.post("/api/v1/custody-contracts", json=contract_body(estate["h1"]), headers=auth(estate["supervisor"]))
    assert r.status_code == 422
    assert r.get_json()["details"]["errors"][0]["code"] == "duplicate"


def test_a_supervisor_renews_a_contract_by_changing_its_end(client, estate):
    contract = make_contract(estate["h1"])
    r = client.patch(f"/api/v1/custody-contracts/{contract.id}", json={"end_date": "2028-10-31"},
                     headers=auth(estate["supervisor"]))
    assert r.status_code == 200 and r.get_json()["end_date"] == "2028-10-31"


# ---- inspections --------------------------------------------------------------------------------

def test_the_butler_syncs_an_inspection_that_answers_every_contracted_service(client, estate):
    contract = make_contract(estate["h1"])
    rid = str(uuid.uuid4())
    fields = inspection_fields(contract, checklist={"airing": {"ok": True}, "leak_check": {"ok": False, "note": "厨房水管渗水"},
                                                    "water_check": {"ok": True}})
    (result,) = results(Phone(client, estate["b1"]).sync(put("custody_inspection", rid, fields)))
    assert result["status"] == "applied", result
    stored = db.session.get(CustodyInspection, rid)
    assert stored.butler_id == estate["b1"].id and stored.checklist["leak_check"]["note"] == "厨房水管渗水"


def test_an_inspection_that_misses_a_contracted_service_is_rejected_with_its_field_and_nothing_stored(client, estate):
    contract = make_contract(estate["h1"])
    rid = str(uuid.uuid4())
    fields = inspection_fields(contract, checklist={"airing": {"ok": True}})
    (result,) = results(Phone(client, estate["b1"]).sync(put("custody_inspection", rid, fields)))
    assert result["status"] == "rejected"
    assert {(e["field"], e["code"]) for e in result["errors"]} == {("checklist.leak_check", "required"),
                                                                   ("checklist.water_check", "required")}
    assert all(e["message"] for e in result["errors"])
    assert db.session.get(CustodyInspection, rid) is None


def test_an_inspection_may_not_answer_a_service_that_is_not_contracted(client, estate):
    contract = make_contract(estate["h1"], services=["airing"])
    fields = inspection_fields(contract, checklist={"airing": {"ok": True}, "bills": {"ok": True}})
    (result,) = results(Phone(client, estate["b1"]).sync(put("custody_inspection", str(uuid.uuid4()), fields)))
    assert result["status"] == "rejected" and result["errors"][0]["field"] == "checklist.bills"


def test_an_inspection_under_another_household_s_contract_is_rejected(client, estate):
    other = make_contract(estate["h2"])
    fields = {**inspection_fields(other), "household_id": estate["h1"].id}
    (result,) = results(Phone(client, estate["b1"]).sync(put("custody_inspection", str(uuid.uuid4()), fields)))
    assert result["status"] == "rejected" and result["errors"][0]["field"] == "contract_id"


def test_another_grid_s_butler_cannot_write_an_inspection_here(client, estate):
    contract = make_contract(estate["h1"])
    rid = str(uuid.uuid4())
    (result,) = results(Phone(client, estate["b2"]).sync(put("custody_inspection", rid, inspection_fields(contract))))
    assert result["status"] == "rejected"
    assert db.session.get(CustodyInspection, rid) is None


def test_the_resident_reads_their_household_s_inspections_and_no_other(client, estate):
    mine = make_custody_inspection(make_contract(estate["h1"]), estate["b1"])
    theirs = make_custody_inspection(make_contract(estate["h2"]), estate["b2"])
    listed = client.get("/api/v1/custody-inspections", headers=auth(estate["r1"])).get_json()["items"]
    assert [i["id"] for i in listed] == [mine.id]
    assert theirs.id not in {c["id"] for c in Phone(client, estate["r1"]).pull_all()}


# ---- the schedule -------------------------------------------------------------------------------

def test_a_contract_s_status_follows_from_its_dates():
    contract = CustodyContract(start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
    assert custody.contract_status(contract, date(2026, 10, 31)) == "upcoming"
    assert custody.contract_status(contract, date(2026, 11, 1)) == "active"
    assert custody.contract_status(contract, date(2026, 11, 30)) == "active"
    assert custody.contract_status(contract, date(2026, 12, 1)) == "ended"
    assert custody.contract_status(CustodyContract(start_date=date(2026, 1, 1), end_date=None), date(2030, 1, 1)) == "active"


def test_the_next_inspection_is_due_a_cycle_after_the_last_or_on_the_first_day():
    contract = CustodyContract(start_date=date(2026, 11, 1), inspection_every_days=14)
    assert custody.next_due(contract, None) == date(2026, 11, 1)
    assert custody.next_due(contract, date(2026, 11, 10)) == date(2026, 11, 24)
    assert custody.next_due(contract, date(2026, 10, 20)) == date(2026, 11, 1)  # before the contract


def test_due_on_the_day_overdue_after_it():
    assert custody.due_state(date(2026, 11, 24), date(2026, 11, 23)) == "later"
    assert custody.due_state(date(2026, 11, 24), date(2026, 11, 24)) == "due"
    assert custody.due_state(date(2026, 11, 24), date(2026, 11, 25)) == "overdue"


def test_the_schedule_lists_due_and_overdue_homes_of_active_contracts(session, estate):
    contract = make_contract(estate["h1"])
    make_custody_inspection(contract, estate["b1"], inspected_at=datetime(2026, 11, 10, 2, tzinfo=timezone.utc))
    make_contract(estate["h2"], start_date=date(2027, 1, 1))  # not started yet
    community = estate["community"].id
    assert custody.schedule(db.session, community_id=community, today=date(2026, 11, 23)) == []
    (due,) = custody.schedule(db.session, community_id=community, today=date(2026, 11, 24))
    assert (due.household.id, due.state, due.due_on) == (estate["h1"].id, "due", date(2026, 11, 24))
    (late,) = custody.schedule(db.session, community_id=community, today=date(2026, 11, 27))
    assert (late.state, late.days_late) == ("overdue", 3)
    assert custody.schedule(db.session, community_id=community, today=date(2026, 11, 27),
                            grid_ids=[estate["h2"].grid_id]) == []


# ---- the owner's report --------------------------------------------------------------------------

def link_for(estate, month=date(2026, 11, 1), **kwargs) -> tuple[CustodyReportLink, str]:
    link, token = reports.create_link(db.session, user=estate["supervisor"], household_id=estate["h1"].id,
                                      month=month, secret=SECRET, **kwargs)
    db.session.commit()
    return link, token


@pytest.fixture
def reported(estate):
    contract = make_contract(estate["h1"])
    make_custody_inspection(contract, estate["b1"], done="关闭总水阀，清理地漏",
                            checklist={"airing": {"ok": True}, "leak_check": {"ok": False, "note": "卫生间天花渗水"},
                                       "water_check": {"ok": True}})
    return estate


def test_the_report_page_shows_what_was_checked_found_and_done(client, reported):
    link, token = link_for(reported)
    r = client.get(f"/custody-report/{token}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "卫生间天花渗水" in page and "关闭总水阀，清理地漏" in page and "查漏水" in page
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"


def test_the_link_carries_no_personal_data_and_only_its_hash_is_kept(client, reported):
    link, token = link_for(reported)
    household = reported["h1"]
    for secret_thing in (household.id, household.room, household.building, "陈业主", link.id):
        assert secret_thing not in token
    assert link.token_hash != token and token not in link.token_hash and len(token) > 40


@pytest.mark.parametrize("spoil", ["expired", "revoked", "wrong", "forged"])
def test_an_expired_revoked_wrong_or_forged_token_is_refused(client, reported, spoil):
    link, token = link_for(reported)
    if spoil == "expired":
        link.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    elif spoil == "revoked":
        reports.revoke_link(db.session, user=reported["supervisor"], link_id=link.id)
        db.session.commit()
    elif spoil == "wrong":
        token = reports.new_token(SECRET.encode())  # well signed, never issued
    else:
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for path in ("", "/report.pdf"):
        assert client.get(f"/custody-report/{token}{path}").status_code == 404


def test_only_a_supervisor_of_the_household_makes_a_link(reported):
    from server.errors import ApiError

    for who in ("stranger", "b1", "r1"):
        with pytest.raises(ApiError):
            reports.create_link(db.session, user=reported[who], household_id=reported["h1"].id,
                                month=date(2026, 11, 1), secret=SECRET)


def test_the_pdf_is_a_real_pdf_with_the_chinese_text(client, reported):
    _, token = link_for(reported)
    r = client.get(f"/custody-report/{token}/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(r.data))
    assert len(reader.pages) >= 1
    text = "".join(page.extract_text() for page in reader.pages)
    assert "房屋托管月度报告" in text and "卫生间天花渗水" in text and "关闭总水阀" in text


def test_another_month_s_report_shows_no_inspection(client, reported):
    _, token = link_for(reported, month=date(2026, 12, 1))
    page = client.get(f"/custody-report/{token}").get_data(as_text=True)
    assert 'data-testid="report-none"' in page and "卫生间天花渗水" not in page


def test_the_report_s_photos_are_thumbnails_in_the_page_and_images_in_the_pdf(client, estate):
    from tests.support.photos import photo

    inspection = make_custody_inspection(make_contract(estate["h1"]), estate["b1"])
    taken = photo(client, estate["b1"], household_id=estate["h1"].id, record_type="custody_inspection",
                  record_id=inspection.id)
    _, token = link_for(estate)
    page = client.get(f"/custody-report/{token}").get_data(as_text=True)
    assert f"/custody-report/{token}/photos/{taken['id']}" in page
    thumb = client.get(f"/custody-report/{token}/photos/{taken['id']}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg" and thumb.data[:2] == b"\xff\xd8"
    reader = PdfReader(io.BytesIO(client.get(f"/custody-report/{token}/report.pdf").data))
    assert sum(len(page.images) for page in reader.pages) == 1


def test_a_photo_of_another_month_or_household_is_not_behind_the_link(client, estate):
    from tests.support.photos import photo

    december = make_custody_inspection(make_contract(estate["h1"]), estate["b1"],
                                       inspected_at=datetime(2026, 12, 5, 2, tzinfo=timezone.utc))
    taken = photo(client, estate["b1"], household_id=estate["h1"].id, record_type="custody_inspection",
                  record_id=december.id)
    _, token = link_for(estate)  # November's
    assert client.get(f"/custody-report/{token}/photos/{taken['id']}").status_code == 404


def test_reads_of_the_owner_s_name_are_in_the_audit_trail(client, estate):
    from server.audit.models import AuditEvent

    contract = make_contract(estate["h1"])
    assert client.get(f"/api/v1/custody-contracts/{contract.id}", headers=auth(estate["b1"])).status_code == 200
    read = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.record_type == "custody_contract",
                                                         AuditEvent.action == "read"))
    assert read.fields == ["owner_name"] and read.user_id == estate["b1"].id


def test_a_resident_s_phone_pulls_only_their_household_s_contract(client, estate):
    mine, theirs = make_contract(estate["h1"]), make_contract(estate["h2"])
    pulled = {c["id"] for c in Phone(client, estate["r1"]).pull_all() if c["type"] == "custody_contract"}
    assert pulled == {mine.id}
