"""Emergencies (突发事件): raised through REST and sync, read by everyone of their community, broadcast
at once and urgently to the homes and staff they touch, answered once per household by its resident
or its butler (one record whoever writes first), closed with an all-clear. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.incidents.models import Incident, IncidentCheck, check_id
from server.notify.models import Delivery, Notification, Recipient
from server.syncing import bookkeeping
from tests.factories import _save, auth, make_community, make_grid, make_household, make_user
from tests.server.test_notify_outbox import subscribe

RESIDENT_PHONE = "cccccccc-0000-4000-8000-000000000001"
BUTLER_PHONE = "cccccccc-0000-4000-8000-000000000002"


@pytest.fixture
def world(session):
    """Two communities. A has buildings 3栋 (two homes, butler 1's grid) and 5栋 (one home, butler 2's
    grid), a resident in each home and a supervisor; B has one home with its butler, resident and
    supervisor."""
    a = make_community()
    butler1, butler2 = make_user("butler", community_id=a.id), make_user("butler", community_id=a.id)
    grid1, grid2 = make_grid(a, butler1), make_grid(a, butler2)
    homes = [make_household(a, grid1, building="3栋", unit="1单元"), make_household(a, grid1, building="3栋", unit="2单元"),
             make_household(a, grid2, building="5栋", unit="1单元")]
    residents = [make_user("resident", community_id=a.id, household_id=h.id, name="王芳") for h in homes]
    b = make_community()
    b_butler = make_user("butler", community_id=b.id)
    b_home = make_household(b, make_grid(b, b_butler), building="3栋")
    return {"community": a, "butler": butler1, "butler2": butler2, "homes": homes, "residents": residents,
            "supervisor": make_user("supervisor", community_id=a.id),
            "B": {"community": b, "butler": b_butler, "home": b_home,
                  "resident": make_user("resident", community_id=b.id, household_id=b_home.id),
                  "supervisor": make_user("supervisor", community_id=b.id)}}


def raise_incident(client, user, **fields):
    r = client.post("/api/v1/incidents", json={"kind": "water_cut", "severity": "serious", "title": "3栋停水",
                                               "body": "主水管爆裂，正在抢修。", "buildings": ["3栋"],
                                               "started_at": "2026-12-06T09:00:00+08:00", **fields},
                    headers=auth(user))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def make_incident(community, **overrides) -> Incident:
    """An open incident of 3栋, written directly (nobody hears of it)."""
    values = {"id": str(uuid.uuid4()), "community_id": community.id, "kind": "leak", "severity": "serious",
              "title": "漏水", "body": "", "buildings": ["3栋"], "started_at": datetime(2026, 12, 6, 1, tzinfo=timezone.utc),
              "ended_at": None, "all_clear_note": "", "knock_after_minutes": 15, "raised_by": None, **overrides}
    return _save(Incident(**bookkeeping.created(db.session, "incident", values), field_meta={}))


def codes(response) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def sync(client, user, *mutations, client_id=RESIDENT_PHONE, cursor=None):
    body = {"client_id": client_id, "schema": 1, "cursor": cursor, "mutations": list(mutations)}
    r = client.post("/api/v1/sync", data=json.dumps(body), headers={**auth(user), "Content-Type": "application/json"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def put(rtype, rid, fields, at="2026-11-27T09:15:02+08:00"):
    return {"mid": str(uuid.uuid4()), "type": rtype, "id": rid, "op": "put", "base": None, "fields": fields, "at": at}


def answer(incident_id, household_id, value, at, note=""):
    return put("incident_check", check_id(incident_id, household_id),
               {"incident_id": incident_id, "household_id": household_id, "answer": value, "answered_at": at,
                "note": note})


def notifications(session):
    """(event, sorted recipients, title, urgent) of every notification, oldest first."""
    rows = session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    return [(n.event, sorted(session.scalars(sa.select(Recipient.user_id).where(Recipient.notification_id == n.id))),
             n.title, n.urgent) for n in rows]


def counts(session):
    return tuple(session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Incident, IncidentCheck,
                                                                                     Notification, Delivery))


# ---- raising and reading ----------------------------------------------------------------------------

def test_a_supervisor_raises_an_incident_in_their_community(client, world):
    body = raise_incident(client, world["supervisor"], title=" 3栋停水 ", buildings=[" 3栋", "3栋", ""])
    assert body["community_id"] == world["community"].id
    assert (body["title"], body["buildings"], body["knock_after_minutes"]) == ("3栋停水", ["3栋"], 15)
    assert body["raised_by"] == world["supervisor"].id and body["ended_at"] is None and body["started_at"]


def test_a_butler_raises_one_in_their_own_community_only(client, world):
    body = raise_incident(client, world["butler"], kind="lift_entrapment", severity="critical")
    assert body["community_id"] == world["community"].id
    r = client.post("/api/v1/incidents", json={"kind": "leak", "severity": "serious", "title": "漏水",
                                               "community_id": world["B"]["community"].id},
                    headers=auth(world["butler"]))
    assert r.status_code == 403 and codes(r) == [("community_id", "out_of_scope")]


@pytest.mark.parametrize("who", ["residents", "butler", "supervisor"])
def test_everyone_of_the_community_reads_it_and_no_one_else(client, world, who):
    incident = raise_incident(client, world["supervisor"])
    reader = world[who][0] if who == "residents" else world[who]
    r = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth(reader))
    assert r.status_code == 200 and r.get_json()["title"] == "3栋停水"
    stranger = world["B"]["resident" if who == "residents" else who]
    assert client.get(f"/api/v1/incidents/{incident['id']}", headers=auth(stranger)).status_code == 403
    assert client.get("/api/v1/incidents", headers=auth(stranger)).get_json()["items"] == []


def test_residents_get_incidents_in_their_pull(client, world):
    incident = raise_incident(client, world["supervisor"], buildings=[])
    answer_ = sync(client, world["residents"][2])
    assert [(c["type"], c["id"]) for c in answer_["changes"] if c["type"] == "incident"] == [("incident", incident["id"])]
    assert not [c for c in sync(client, world["B"]["resident"])["changes"] if c["type"] == "incident"]


def test_residents_and_butlers_cannot_close_or_edit(client, world):
    incident = raise_incident(client, world["butler"])
    for user in (world["butler"], world["residents"][0]):
        r = client.patch(f"/api/v1/incidents/{incident['id']}", json={"ended_at": "2026-12-06T12:00:00+08:00"},
                         headers=auth(user))
        assert r.status_code == 403
    assert client.post("/api/v1/incidents", json={"kind": "leak", "severity": "serious", "title": "x"},
                       headers=auth(world["residents"][0])).status_code == 403


def test_another_communitys_supervisor_cannot_change_it(client, world):
    incident = raise_incident(client, world["supervisor"])
    r = client.patch(f"/api/v1/incidents/{incident['id']}", json={"title": "改"}, headers=auth(world["B"]["supervisor"]))
    assert r.status_code == 403


@pytest.mark.parametrize("fields, expected", [
    ({"kind": "earthquake"}, ("kind", "invalid_choice")),
    ({"severity": "mild"}, ("severity", "invalid_choice")),
    ({"title": "x" * 101}, ("title", "too_long")),
    ({"title": "   "}, ("title", "required")),
    ({"knock_after_minutes": 0}, ("knock_after_minutes", "out_of_range")),
    ({"knock_after_minutes": 241}, ("knock_after_minutes", "out_of_range")),
    ({"buildings": "3栋"}, ("buildings", "invalid_type")),
    ({"raised_by": "someone"}, ("raised_by", "unknown_field")),
])
def test_bad_input_is_refused_with_the_field_and_changes_nothing(client, session, world, fields, expected):
    before = counts(session)
    body = {"kind": "leak", "severity": "serious", "title": "漏水", **fields}
    r = client.post("/api/v1/incidents", json=body, headers={**auth(world["supervisor"]), "Accept-Language": "en"})
    assert r.status_code == 422, r.get_json()
    assert expected in codes(r)
    assert r.get_json()["message"]
    assert counts(session) == before


def test_a_closed_incident_is_not_closed_again(client, world):
    incident = raise_incident(client, world["supervisor"])
    url = f"/api/v1/incidents/{incident['id']}"
    headers = auth(world["supervisor"])
    assert client.patch(url, json={"ended_at": "2026-12-06T12:00:00+08:00"}, headers=headers).status_code == 200
    r = client.patch(url, json={"ended_at": "2026-12-06T13:00:00+08:00"}, headers=headers)
    assert r.status_code == 422 and codes(r) == [("ended_at", "incident_closed")]
    r = client.patch(url, json={"ended_at": None}, headers=headers)
    assert r.status_code == 422 and codes(r) == [("ended_at", "incident_closed")]


# ---- broadcast --------------------------------------------------------------------------------------

def test_raising_tells_the_affected_homes_and_staff_urgently_once_per_device(client, session, world):
    subs = {subscribe(session, world["residents"][0], "a").id, subscribe(session, world["residents"][0], "b").id,
            subscribe(session, world["residents"][1], "c").id, subscribe(session, world["butler"], "d").id}
    subscribe(session, world["residents"][2], "e")  # 5栋: not affected
    subscribe(session, world["butler2"], "f")  # 5栋's butler
    subscribe(session, world["B"]["resident"], "g")
    incident = raise_incident(client, world["supervisor"])
    expected = sorted([world["residents"][0].id, world["residents"][1].id, world["butler"].id])
    assert notifications(session) == [("incident.raised", expected, "紧急 · 停水 · 3栋", True)]
    deliveries = session.scalars(sa.select(Delivery)).all()
    assert sorted(d.subscription_id for d in deliveries) == sorted(subs)
    assert session.scalar(sa.select(Notification)).ticket_id == incident["id"]


def test_a_butlers_alarm_reaches_the_supervisors_and_a_notice_is_titled_as_such(client, session, world):
    raise_incident(client, world["butler"], severity="notice", kind="health_notice", buildings=[])
    [(event, recipients, title, urgent)] = notifications(session)
    assert (event, title, urgent) == ("incident.raised", "突发 · 公共卫生 · 全小区", True)
    assert set(recipients) == {*(r.id for r in world["residents"]), world["butler2"].id, world["supervisor"].id}
    assert "王芳" not in title


def test_the_push_carries_urgency_high_and_no_personal_data(client, session, world):
    from server.notify.worker import Worker  # noqa: F401 - the worker reads what the outbox holds

    subscribe(session, world["residents"][0], "a")
    raise_incident(client, world["supervisor"], title="王芳家楼上漏水 13800138000")
    notification = session.scalar(sa.select(Notification))
    assert notification.urgent and "王芳" not in notification.title and "1380013" not in notification.title


def test_the_communitys_webhook_hears_the_alarm(client, session, world):
    from server.notify.models import Webhook

    session.add(Webhook(community_id=world["community"].id, kind="json", url="https://qyapi.weixin.qq.com/x"))
    session.commit()
    raise_incident(client, world["supervisor"])
    assert [d.channel for d in session.scalars(sa.select(Delivery))] == ["webhook"]


def test_closing_sends_the_all_clear_to_the_same_audience(client, session, world):
    incident = raise_incident(client, world["butler"])
    r = client.patch(f"/api/v1/incidents/{incident['id']}",
                     json={"ended_at": "2026-12-06T12:00:00+08:00", "all_clear_note": "已恢复供水"},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()
    raised, cleared = notifications(session)
    assert cleared[0] == "incident.closed" and cleared[2] == "解除 · 停水 · 3栋" and cleared[3]
    assert set(cleared[1]) == (set(raised[1]) | {world["butler"].id}) - {world["supervisor"].id}


def test_buildings_added_to_an_open_incident_tell_only_the_newly_affected(client, session, world):
    incident = raise_incident(client, world["supervisor"])
    r = client.patch(f"/api/v1/incidents/{incident['id']}", json={"buildings": ["3栋", "5栋"]},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()
    raised, widened = notifications(session)
    assert widened[0] == "incident.raised" and widened[2] == "紧急 · 停水 · 3栋、5栋"
    assert widened[1] == sorted([world["residents"][2].id, world["butler2"].id])
    client.patch(f"/api/v1/incidents/{incident['id']}", json={"title": "3栋、5栋停水"}, headers=auth(world["supervisor"]))
    assert len(notifications(session)) == 2


def test_a_resent_sync_batch_broadcasts_once(client, session, world):
    rid = str(uuid.uuid4())
    mutation = put("incident", rid, {"kind": "fire_alarm", "severity": "critical", "title": "3栋火警",
                                     "buildings": ["3栋"]})
    first = sync(client, world["butler"], mutation, client_id=BUTLER_PHONE)
    again = sync(client, world["butler"], mutation, client_id=BUTLER_PHONE)
    assert first["results"][0]["status"] == again["results"][0]["status"] == "applied"
    assert [n[0] for n in notifications(session)] == ["incident.raised"]
    assert notifications(session)[0][2] == "紧急 · 火警 · 3栋"


# ---- households' answers ----------------------------------------------------------------------------

def test_a_resident_answers_for_their_home_through_rest(client, session, world):
    incident = raise_incident(client, world["supervisor"])
    home = world["homes"][0]
    r = client.post("/api/v1/incident-checks", json={"incident_id": incident["id"], "household_id": home.id,
                                                     "answer": "safe"}, headers=auth(world["residents"][0]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["id"], body["source"], body["answer"]) == (check_id(incident["id"], home.id), "resident", "safe")
    # The butler of the grid and the supervisor see it; the resident of another home does not.
    assert client.get(f"/api/v1/incident-checks/{body['id']}", headers=auth(world["butler"])).status_code == 200
    assert client.get(f"/api/v1/incident-checks/{body['id']}", headers=auth(world["supervisor"])).status_code == 200
    assert client.get(f"/api/v1/incident-checks/{body['id']}", headers=auth(world["residents"][1])).status_code == 403
    assert client.get(f"/api/v1/incident-checks/{body['id']}", headers=auth(world["B"]["butler"])).status_code == 403


@pytest.mark.parametrize("problem", ["wrong_id", "closed", "other_community", "other_building"])
def test_a_check_off_the_rules_is_refused_with_the_field_and_changes_nothing(client, session, world, problem):
    ended_at = datetime(2026, 12, 6, 6, tzinfo=timezone.utc) if problem == "closed" else None
    incident = make_incident(world["community"], ended_at=ended_at)
    home, user = world["homes"][0], world["residents"][0]
    record_id = check_id(incident.id, home.id)
    expected = ("incident_id", "incident_closed")
    if problem == "wrong_id":
        record_id, expected = str(uuid.uuid4()), ("id", "invalid")
    elif problem == "other_community":
        home, user = world["B"]["home"], world["B"]["resident"]
        record_id, expected = check_id(incident.id, home.id), ("incident_id", "not_affected")
    elif problem == "other_building":
        home, user = world["homes"][2], world["residents"][2]
        record_id, expected = check_id(incident.id, home.id), ("household_id", "not_affected")
    before = counts(session)
    r = client.post("/api/v1/incident-checks", json={"id": record_id, "incident_id": incident.id,
                                                     "household_id": home.id, "answer": "safe"}, headers=auth(user))
    assert r.status_code == 422, r.get_json()
    assert codes(r) == [expected]
    assert counts(session) == before
    rejected = sync(client, user, put("incident_check", record_id, {"incident_id": incident.id,
                                                                     "household_id": home.id, "answer": "safe"}))
    assert rejected["results"][0]["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in rejected["results"][0]["errors"]] == [expected]
    assert counts(session) == before


def test_a_resident_cannot_answer_for_another_home_nor_a_butler_for_one_they_do_not_hold(client, session, world):
    incident = make_incident(world["community"], buildings=[])
    for user, home in ((world["residents"][0], world["homes"][1]), (world["butler"], world["homes"][2])):
        r = client.post("/api/v1/incident-checks", json={"incident_id": incident.id, "household_id": home.id,
                                                         "answer": "safe"}, headers=auth(user))
        assert r.status_code == 403, r.get_json()
    assert session.scalar(sa.select(sa.func.count()).select_from(IncidentCheck)) == 0


@pytest.mark.parametrize("order", ["resident_first", "butler_first"])
def test_a_resident_and_a_butler_answering_offline_write_one_record(client, session, world, order):
    incident = make_incident(world["community"])
    home = world["homes"][0]
    writes = [(world["residents"][0], RESIDENT_PHONE, answer(incident.id, home.id, "need_help", "2026-12-06T10:05:00+08:00",
                                                            note="老人摔倒")),
              (world["butler"], BUTLER_PHONE, answer(incident.id, home.id, "safe", "2026-12-06T10:01:00+08:00"))]
    if order == "butler_first":
        writes.reverse()
    statuses = [sync(client, user, mutation, client_id=phone)["results"][0]["status"] for user, phone, mutation in writes]
    assert statuses == ["applied", "merged"]
    [check] = session.scalars(sa.select(IncidentCheck)).all()
    session.refresh(check)
    # The later answer wins, whichever arrived last; nothing becomes a conflict.
    assert (check.answer, check.source, check.note) == ("need_help", "resident", "老人摔倒")
    from server.syncing.models import SyncConflict

    assert session.scalar(sa.select(sa.func.count()).select_from(SyncConflict)) == 0


def test_the_later_answer_wins(client, session, world):
    incident = make_incident(world["community"])
    home = world["homes"][0]
    sync(client, world["residents"][0], answer(incident.id, home.id, "safe", "2026-12-06T10:00:00+08:00"))
    sync(client, world["butler"], answer(incident.id, home.id, "not_home", "2026-12-06T10:30:00+08:00"),
         client_id=BUTLER_PHONE)
    check = session.scalar(sa.select(IncidentCheck))
    session.refresh(check)
    assert (check.answer, check.source) == ("not_home", "butler")


def test_need_help_is_never_overwritten_by_not_home(client, session, world):
    incident = make_incident(world["community"])
    home = world["homes"][0]
    sync(client, world["residents"][0], answer(incident.id, home.id, "need_help", "2026-12-06T10:00:00+08:00"))
    result = sync(client, world["butler"], answer(incident.id, home.id, "not_home", "2026-12-06T10:30:00+08:00",
                                                  note="敲门无人应答"), client_id=BUTLER_PHONE)
    assert result["results"][0]["status"] == "merged"
    check = session.scalar(sa.select(IncidentCheck))
    session.refresh(check)
    assert (check.answer, check.source, check.note) == ("need_help", "resident", "敲门无人应答")
    # A later "safe" from the home itself does replace it; with no note of its own, the note stays.
    sync(client, world["residents"][0], answer(incident.id, home.id, "safe", "2026-12-06T11:00:00+08:00"))
    session.refresh(check)
    assert (check.answer, check.note) == ("safe", "敲门无人应答")


def test_residents_pull_their_homes_checks_only(client, session, world):
    incident = make_incident(world["community"])
    for i in (0, 1):
        sync(client, world["residents"][i], answer(incident.id, world["homes"][i].id, "safe", "2026-12-06T10:00:00+08:00"))
    pulled = [c["id"] for c in sync(client, world["residents"][0])["changes"] if c["type"] == "incident_check"]
    assert pulled == [check_id(incident.id, world["homes"][0].id)]
    butler = [c["id"] for c in sync(client, world["butler"], client_id=BUTLER_PHONE)["changes"]
              if c["type"] == "incident_check"]
    assert len(butler) == 2


def test_no_answer_once_the_incident_is_closed(client, session, world):
    incident = make_incident(world["community"])
    home = world["homes"][0]
    sync(client, world["residents"][0], answer(incident.id, home.id, "safe", "2026-12-06T10:00:00+08:00"))
    r = client.patch(f"/api/v1/incidents/{incident.id}", json={"ended_at": "2026-12-06T12:00:00+08:00"},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()
    late = sync(client, world["butler"], answer(incident.id, home.id, "not_home", "2026-12-06T12:30:00+08:00"),
                client_id=BUTLER_PHONE)
    assert late["results"][0]["status"] == "rejected"
    assert late["results"][0]["errors"][0]["code"] == "incident_closed"


# ---- the console ------------------------------------------------------------------------------------

@pytest.fixture
def console(client, world):
    from tests.support.console import log_in

    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def test_the_console_raises_an_incident_for_the_buildings_ticked(console, session, world):
    from tests.support.console import post, text

    r = post(console, "/console/incidents", {"kind": "power_cut", "severity": "critical", "title": "5栋停电",
                                             "body": "", "buildings": ["5栋"], "knock_after_minutes": "10"},
             "/console/incidents")
    assert r.status_code == 302, text(r)
    incident = session.scalar(sa.select(Incident))
    assert (incident.buildings, incident.knock_after_minutes, incident.raised_by) == (["5栋"], 10, world["supervisor"].id)
    assert notifications(session) == [("incident.raised", sorted([world["residents"][2].id, world["butler2"].id]),
                                       "紧急 · 停电 · 5栋", True)]
    html = text(console.get("/console/incidents"))
    assert "5栋停电" in html and 'href="/console/incidents"' in html


def test_the_console_refuses_a_bad_form_and_keeps_what_was_typed(console, session, world):
    from tests.support.console import post, text

    r = post(console, "/console/incidents", {"kind": "leak", "severity": "serious", "title": "漏水通知",
                                             "knock_after_minutes": "999"}, "/console/incidents")
    assert r.status_code == 422
    assert "漏水通知" in text(r) and "敲门时限" in text(r)
    assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


def building_counts(html: str, building: str) -> dict[str, int]:
    row = html.split(f'data-building="{building}"')[1].split("</tr>")[0]
    return {name: int(value) for name, value in re.findall(r'data-testid="(\w+)">(\d+)<', row)}


def test_the_incident_page_counts_each_building_and_lists_who_needs_help_first(console, session, world):
    from tests.support.console import text

    incident = make_incident(world["community"], buildings=[])
    homes = world["homes"]
    sync(console, world["residents"][0], answer(incident.id, homes[0].id, "need_help", "2026-12-06T10:00:00+08:00"))
    sync(console, world["residents"][1], answer(incident.id, homes[1].id, "safe", "2026-12-06T10:00:00+08:00"))
    html = text(console.get(f"/console/incidents/{incident.id}"))
    assert '<meta http-equiv="refresh"' in html and "<script" not in html
    assert building_counts(html, "3栋") == {"homes": 2, "safe": 1, "need_help": 1, "not_home": 0, "unreached": 0}
    assert building_counts(html, "5栋") == {"homes": 1, "safe": 0, "need_help": 0, "not_home": 0, "unreached": 1}
    need_help = html.split('data-testid="incident-need-help"')[1].split("</section>")[0]
    assert "3栋-1单元" in need_help and "王芳" not in html


def test_closing_in_the_console_sends_the_all_clear(console, session, world):
    from tests.support.console import post, text

    incident = make_incident(world["community"])
    page = f"/console/incidents/{incident.id}"
    r = post(console, f"{page}/close", {"all_clear_note": "已修复"}, page)
    assert r.status_code == 302, text(r)
    session.refresh(incident)
    assert incident.ended_at is not None and incident.all_clear_note == "已修复"
    assert [n[0] for n in notifications(session)] == ["incident.closed"]
    html = text(console.get(page))
    assert "已解除" in html and "http-equiv" not in html and "incident-close-submit" not in html


def test_another_communitys_incident_is_not_shown(console, world):
    incident = make_incident(world["B"]["community"])
    assert console.get(f"/console/incidents/{incident.id}").status_code == 404
