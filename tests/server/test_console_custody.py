"""The console's custody pages on SQLite and PostgreSQL: a supervisor writes a household's contract,
keeps its keys' log, makes and revokes the owner's report link; the dashboard lists the homes whose
inspection is overdue; another community's supervisor reaches none of it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.custody.models import CustodyContract, CustodyKey, CustodyKeyMove, CustodyReportLink
from server.extensions import db
from tests.factories import make_community, make_grid, make_household, make_user
from tests.server.test_custody import make_contract, make_custody_inspection
from tests.support.console import log_in, post, text


@pytest.fixture
def desk(client, session):
    community, other = make_community(), make_community()
    butler = make_user("butler", community_id=community.id)
    home = make_household(community, make_grid(community, butler), building="9栋", room="901")
    supervisor = make_user("supervisor", community_id=community.id)
    stranger = make_user("supervisor", community_id=other.id)
    log_in(client, supervisor.username)
    return {"community": community, "butler": butler, "home": home, "supervisor": supervisor, "stranger": stranger,
            "page": f"/console/households/{home.id}/custody"}


def test_a_supervisor_writes_a_contract_from_the_household_s_custody_page(client, desk):
    r = post(client, desk["page"] + "/contract", {"owner_name": "陈业主", "start_date": "2026-11-01",
                                                   "end_date": "2027-10-31", "services": ["airing", "leak_check"],
                                                   "inspection_every_days": "14", "note": ""}, desk["page"])
    assert r.status_code == 302
    contract = db.session.scalar(sa.select(CustodyContract))
    assert contract.services == ["airing", "leak_check"] and contract.inspection_every_days == 14
    page = text(client.get(desk["page"]))
    assert 'data-testid="custody-next-due"' in page and "陈业主" in page
    read = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.record_type == "custody_contract",
                                                         AuditEvent.action == "read"))
    assert read.fields == ["owner_name"] and read.user_id == desk["supervisor"].id


def test_a_bad_contract_form_is_shown_again_with_what_was_typed(client, desk):
    r = post(client, desk["page"] + "/contract", {"owner_name": "陈业主", "start_date": "2026-11-01",
                                                   "end_date": "2026-10-01", "services": ["airing"],
                                                   "inspection_every_days": "14", "note": "别丢"}, desk["page"])
    assert r.status_code == 422
    assert 'data-testid="failed"' in text(r) and "别丢" in text(r)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustodyContract)) == 0


def test_a_key_is_signed_out_and_back_in_and_its_log_shows_both(client, desk):
    post(client, desk["page"] + "/keys", {"label": "入户门钥匙", "holder": "物业前台"}, desk["page"])
    key = db.session.scalar(sa.select(CustodyKey))
    assert key.label == "入户门钥匙" and key.out_to is None
    r = post(client, f"{desk['page']}/keys/{key.id}/out", {"person": "保洁员李阿姨", "reason": "月度保洁"}, desk["page"])
    assert r.status_code == 302
    db.session.refresh(key)
    assert key.out_to == "保洁员李阿姨"
    again = post(client, f"{desk['page']}/keys/{key.id}/out", {"person": "别人", "reason": "再借"}, desk["page"])
    assert again.status_code == 422  # already out: it must come back first
    post(client, f"{desk['page']}/keys/{key.id}/in", {}, desk["page"])
    db.session.refresh(key)
    assert key.out_to is None
    moves = db.session.scalars(sa.select(CustodyKeyMove).order_by(CustodyKeyMove.at)).all()
    assert [(m.move, m.person) for m in moves] == [("out", "保洁员李阿姨"), ("in", "保洁员李阿姨")]
    page = text(client.get(desk["page"]))
    assert page.count('data-testid="custody-key-move"') == 2 and "月度保洁" in page


def test_a_key_needs_a_label_and_a_sign_out_a_reason(client, desk):
    r = post(client, desk["page"] + "/keys", {"label": " ", "holder": "前台"}, desk["page"])
    assert r.status_code == 422 and db.session.scalar(sa.select(sa.func.count()).select_from(CustodyKey)) == 0


def test_a_report_link_is_shown_once_opens_the_report_and_is_revoked(client, desk):
    contract = make_contract(desk["home"])
    make_custody_inspection(contract, desk["butler"], done="通风一小时")
    r = post(client, desk["page"] + "/links", {"month": "2026-11", "days": "30"}, desk["page"])
    assert r.status_code == 200
    url = re.search(r'data-testid="custody-link-url"', text(r)) and re.search(
        r'value="(http[^"]+/custody-report/[^"]+)"', text(r)).group(1)
    path = url.split("localhost", 1)[1]
    assert desk["home"].id not in url and "901" not in url and "陈业主" not in url
    assert "通风一小时" in text(client.get(path))
    link = db.session.scalar(sa.select(CustodyReportLink))
    assert path.rsplit("/", 1)[1] not in link.token_hash
    post(client, f"{desk['page']}/links/{link.id}/revoke", {}, desk["page"])
    assert client.get(path).status_code == 404


def test_another_community_s_supervisor_reaches_no_custody_page(app, desk):
    other = app.test_client()
    log_in(other, desk["stranger"].username)
    assert other.get(desk["page"]).status_code in (403, 404)
    assert other.post(desk["page"] + "/keys", data={"label": "门", "holder": "前台"}).status_code in (400, 403, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustodyKey)) == 0


def test_the_dashboard_and_the_custody_list_show_an_overdue_inspection(client, desk):
    today = datetime.now(timezone.utc).date()
    contract = make_contract(desk["home"], start_date=today - timedelta(days=60), end_date=None)
    make_custody_inspection(contract, desk["butler"], inspected_at=datetime.now(timezone.utc) - timedelta(days=20))
    dashboard = text(client.get("/console/"))
    assert 'data-name="overdue_custody"' in dashboard
    section = dashboard.split('data-name="overdue_custody"', 1)[1].split('data-testid="section"', 1)[0]
    assert "901" in section and "陈业主" not in section
    listing = text(client.get("/console/custody"))
    assert 'data-testid="custody-row-state"' in listing
