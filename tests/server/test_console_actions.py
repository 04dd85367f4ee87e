"""The console's actions (server/console/actions.py): grids and households, tickets, butlers and devices.

Each works through the domain services, needs the session's CSRF token, is refused outside the
supervisor's community, and keeps what was sent on an error.
"""
from __future__ import annotations


import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import User
from server.auth.service import authenticate
from server.errors import Unauthorized
from server.notify.models import Notification
from server.tickets.models import Ticket
from tests.factories import PASSWORD, make_ticket, token_for
from tests.support.console import log_in, post, text, two_grids_and_a_neighbour
from tests.support.phone import Phone, ids


@pytest.fixture
def world(session):
    world = two_grids_and_a_neighbour()
    ticket = make_ticket(world["h1"], status="dispatched", assignee_id=world["b1"].id)
    oticket = make_ticket(world["oh"], status="dispatched", assignee_id=world["ob"].id)
    return {**world, "ticket": ticket, "oticket": oticket}


@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


# ---- the pages --------------------------------------------------------------------------------

def test_the_pages_list_the_community_only_and_are_linked_from_the_nav(console, world):
    html = text(console.get("/console/grids"))
    assert "一号网格" in html and "二号网格" in html and "李管家" in html and "外网格" not in html
    for link in ('href="/console/grids"', 'href="/console/tickets"', 'href="/console/butlers"'):
        assert link in html
    assert "1栋-1单元-301" in html and "1203" not in html  # the first building, by default
    assert "2栋-1单元-1203" in text(console.get("/console/grids?building=2栋"))
    html = text(console.get("/console/tickets"))
    assert world["ticket"].id in html and world["oticket"].id not in html and "已派单" in html
    html = text(console.get("/console/butlers"))
    assert "李管家" in html and "张管家" in html and "外管家" not in html
    assert "Grids &amp; households" in text(console.get("/console/grids?lang=en"))


def test_urgent_tickets_are_marked_and_listed_first(console, world):
    urgent = make_ticket(world["h2"], status="new", priority="urgent", description="电梯困人")
    html = text(console.get("/console/tickets"))
    assert html.index(urgent.id) < html.index(world["ticket"].id)  # though raised after it
    assert html.count('data-testid="ticket-urgent"') == 1 and "紧急" in html
    assert 'data-testid="ticket-urgent"' in text(console.get(f"/console/tickets/{urgent.id}"))


def test_the_action_pages_need_a_login(client, world):
    for path in ("/console/grids", "/console/tickets", "/console/butlers"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")


# ---- grids and households ---------------------------------------------------------------------

def test_a_grid_gets_another_butler_and_the_old_one_s_phone_evicts(console, session, world):
    phone = Phone(console, world["b1"])
    phone.pull_all()
    r = post(console, f"/console/grids/{world['g1'].id}/butler", {"butler_id": world["b2"].id}, "/console/grids")
    assert r.status_code == 302
    assert "已将网格“一号网格”交给张管家。" in text(console.get(r.headers["Location"]))
    session.expire_all()
    assert world["g1"].butler_id == world["b2"].id
    assert world["h1"].id in ids(phone.pull_all(), op="evict")


def test_a_household_moved_to_another_grid_is_evicted_at_the_butler_s_next_sync(console, session, world):
    phone = Phone(console, world["b1"])
    assert world["h1"].id in ids(phone.pull_all(), rtype="household")
    r = post(console, f"/console/households/{world['h1'].id}/grid", {"grid_id": world["g2"].id, "building": "1栋"},
             "/console/grids")
    assert r.status_code == 302 and "building=" in r.headers["Location"]
    html = text(console.get(r.headers["Location"]))
    assert "已将 1栋-1单元-301 移至网格“二号网格”。" in html
    session.expire_all()
    assert world["h1"].grid_id == world["g2"].id
    assert world["h1"].id in ids(phone.pull_all(), op="evict")
    assert world["h1"].id in ids(Phone(console, world["b2"], "cccccccc-0000-4000-8000-000000000003").pull_all())


def test_moving_to_a_grid_of_another_community_is_refused_and_the_choice_kept(console, session, world):
    r = post(console, f"/console/households/{world['h1'].id}/grid", {"grid_id": world["og"].id, "building": "1栋"},
             "/console/grids")
    assert r.status_code == 422
    html = text(r)
    assert "网格无效。" in html
    assert f'<option value="{world["og"].id}"' not in html  # not offered; the row is marked and the page kept
    assert 'class="failed"' in html
    session.expire_all()
    assert world["h1"].grid_id == world["g1"].id


def test_a_butler_kept_on_error_is_still_chosen(console, session, world):
    outsider = world["ob"]
    r = post(console, f"/console/grids/{world['g1'].id}/butler", {"butler_id": outsider.id}, "/console/grids")
    assert r.status_code == 422 and "管家无效。" in text(r)
    session.expire_all()
    assert world["g1"].butler_id == world["b1"].id


def test_records_of_another_community_are_refused(console, session, world):
    r = post(console, f"/console/households/{world['oh'].id}/grid", {"grid_id": world["g1"].id}, "/console/grids")
    assert r.status_code in (403, 422)
    r = post(console, f"/console/grids/{world['og'].id}/butler", {"butler_id": world["b1"].id}, "/console/grids")
    assert r.status_code in (403, 422)
    r = post(console, f"/console/tickets/{world['oticket'].id}/assignee", {"assignee_id": world["b1"].id},
             "/console/tickets")
    assert r.status_code in (403, 422)
    r = post(console, f"/console/tickets/{world['oticket'].id}/escalate", {"stage": "accept"}, "/console/tickets")
    assert r.status_code == 403 and "您无权访问此内容。" in text(r)
    session.expire_all()
    assert world["oh"].grid_id == world["og"].id and world["og"].butler_id == world["ob"].id
    assert world["oticket"].assignee_id == world["ob"].id and world["oticket"].escalated is None


@pytest.mark.parametrize("path, data", [
    ("/console/grids/{g1}/butler", {"butler_id": "{b2}"}),
    ("/console/households/{h1}/grid", {"grid_id": "{g2}"}),
    ("/console/tickets/{ticket}/assignee", {"assignee_id": "{b2}"}),
    ("/console/tickets/{ticket}/escalate", {"stage": "accept"}),
    ("/console/butlers", {"username": "new1", "name": "新管家", "password": "long enough"}),
    ("/console/butlers/{b1}/password", {"password": "long enough"}),
])
def test_every_action_needs_the_csrf_token(console, session, world, path, data):
    keys = {name: record.id for name, record in world.items()}
    path = path.format(**keys)
    data = {name: value.format(**keys) for name, value in data.items()}
    for token in (None, "forged"):
        r = console.post(path, data={**data, **({"csrf_token": token} if token else {})})
        assert r.status_code == 400 and "页面已过期" in text(r)
    session.expire_all()
    assert world["g1"].butler_id == world["b1"].id and world["h1"].grid_id == world["g1"].id
    ticket = session.get(Ticket, world["ticket"].id)
    assert ticket.assignee_id == world["b1"].id and ticket.escalated is None
    assert session.scalar(sa.select(User).where(User.username == "new1")) is None


# ---- tickets ----------------------------------------------------------------------------------

def test_a_ticket_is_reassigned_to_another_butler(console, session, world):
    r = post(console, f"/console/tickets/{world['ticket'].id}/assignee", {"assignee_id": world["b2"].id},
             "/console/tickets")
    assert r.status_code == 302
    assert "工单已改派给张管家。" in text(console.get("/console/tickets"))
    session.expire_all()
    assert session.get(Ticket, world["ticket"].id).assignee_id == world["b2"].id


def test_a_ticket_is_not_handed_to_someone_outside_the_community(console, session, world):
    r = post(console, f"/console/tickets/{world['ticket'].id}/assignee", {"assignee_id": world["ob"].id},
             "/console/tickets")
    assert r.status_code == 422 and "处理人无效。" in text(r)
    session.expire_all()
    assert session.get(Ticket, world["ticket"].id).assignee_id == world["b1"].id


def test_a_ticket_is_escalated_by_hand_and_the_supervisors_are_told(console, session, world):
    r = post(console, f"/console/tickets/{world['ticket'].id}/escalate", {"stage": "accept"}, "/console/tickets")
    assert r.status_code == 302
    html = text(console.get("/console/tickets"))
    assert "工单已升级" in html and "接单超时" in html
    session.expire_all()
    ticket = session.get(Ticket, world["ticket"].id)
    assert ticket.escalated == "accept" and ticket.escalated_at is not None and ticket.version == 2
    events = session.scalars(sa.select(Notification).where(Notification.event == "ticket.escalated")).all()
    assert len(events) == 1
    (audited,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.record_id == ticket.id)).all()
    assert (audited.user_id, audited.channel, audited.household_id, audited.fields) == (
        world["supervisor"].id, "console", world["h1"].id, ["escalated", "escalated_at"])
    again = post(console, f"/console/tickets/{world['ticket'].id}/escalate", {"stage": "accept"}, "/console/tickets")
    assert again.status_code == 422 and "该工单已按此阶段升级过。" in text(again)
    assert "<option value=\"accept\" selected>" in text(again)  # the choice is kept


def test_a_closed_ticket_is_not_escalated(console, session, world):
    closed = make_ticket(world["h1"], status="closed")
    r = post(console, f"/console/tickets/{closed.id}/escalate", {"stage": "resolve"}, "/console/tickets")
    assert r.status_code == 422 or r.status_code == 404


# ---- butlers and devices ----------------------------------------------------------------------

def test_a_butler_s_device_is_revoked(console, session, world):
    token = token_for(world["b1"])
    device_id = authenticate(session, token)[1].id
    assert device_id in text(console.get("/console/butlers"))
    r = post(console, f"/console/devices/{device_id}/revoke", {}, "/console/butlers")
    assert r.status_code == 302
    assert "已注销" in text(console.get("/console/butlers"))
    with pytest.raises(Unauthorized):
        authenticate(session, token)


def test_a_device_of_another_community_is_not_revoked(console, session, world):
    token = token_for(world["ob"])
    device_id = authenticate(session, token)[1].id
    r = post(console, f"/console/devices/{device_id}/revoke", {}, "/console/butlers")
    assert r.status_code == 404
    session.expire_all()
    assert authenticate(session, token)[0].id == world["ob"].id


def test_a_butler_is_created_and_logs_in(console, session, world, client):
    r = post(console, "/console/butlers", {"username": "newbie", "name": "赵管家", "password": "12345678"},
             "/console/butlers")
    assert r.status_code == 302
    assert "已创建管家 赵管家（newbie）。" in text(console.get("/console/butlers"))
    user = session.scalar(sa.select(User).where(User.username == "newbie"))
    assert user.role == "butler" and user.community_id == world["community"].id and user.active
    assert user.password_hash.startswith("$argon2id$")
    r = client.post("/api/v1/auth/login", json={"username": "newbie", "password": "12345678"})
    assert r.status_code in (200, 201), r.get_json()


@pytest.mark.parametrize("data, message", [
    ({"username": "newbie", "name": "赵管家", "password": "short"}, "密码至少需要 8 个字符。"),
    ({"username": "", "name": "赵管家", "password": "12345678"}, "用户名为必填项。"),
])
def test_a_bad_new_butler_is_refused_and_what_was_typed_is_kept(console, session, world, data, message):
    r = post(console, "/console/butlers", data, "/console/butlers")
    assert r.status_code == 422
    html = text(r)
    assert message in html
    assert 'value="赵管家"' in html and (not data["username"] or f'value="{data["username"]}"' in html)
    assert data["password"] not in html
    assert session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "赵管家")) == 0


def test_a_taken_username_is_refused(console, world):
    r = post(console, "/console/butlers", {"username": world["b1"].username, "name": "x", "password": "12345678"},
             "/console/butlers")
    assert r.status_code == 422 and "用户名已存在。" in text(r)


def test_a_password_reset_revokes_the_butler_s_devices(console, session, world, client):
    token = token_for(world["b1"])
    r = post(console, f"/console/butlers/{world['b1'].id}/password", {"password": "brand new pw"}, "/console/butlers")
    assert r.status_code == 302
    assert "已重置李管家的密码" in text(console.get("/console/butlers"))
    with pytest.raises(Unauthorized):
        authenticate(session, token)
    assert client.post("/api/v1/auth/login", json={"username": world["b1"].username,
                                                   "password": "brand new pw"}).status_code in (200, 201)
    assert client.post("/api/v1/auth/login", json={"username": world["b1"].username,
                                                   "password": PASSWORD}).status_code == 401


def test_short_reset_passwords_and_other_communities_are_refused(console, session, world):
    r = post(console, f"/console/butlers/{world['b1'].id}/password", {"password": "short"}, "/console/butlers")
    assert r.status_code == 422 and "密码至少需要 8 个字符。" in text(r)
    r = post(console, f"/console/butlers/{world['ob'].id}/password", {"password": "long enough"}, "/console/butlers")
    assert r.status_code == 404
    r = post(console, f"/console/butlers/{world['supervisor'].id}/password", {"password": "long enough"},
             "/console/butlers")
    assert r.status_code == 404  # only butlers


def test_messages_are_in_english_after_the_switch(console, world):
    console.get("/console/grids?lang=en")
    r = post(console, f"/console/grids/{world['g1'].id}/butler", {"butler_id": world["b2"].id}, "/console/grids")
    assert "Grid 一号网格 now belongs to 张管家." in text(console.get(r.headers["Location"]))
    r = post(console, "/console/butlers", {"username": "x1", "name": "y", "password": "short"}, "/console/butlers")
    assert "Password must be at least 8 characters long." in text(r)
