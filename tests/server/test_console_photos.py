"""Photos in the supervisors' console, on SQLite and PostgreSQL: thumbnails on a ticket (before and after)
and on a household's visits and touchpoints, 照片上传中 while the bytes have not arrived, the bytes
only through the scope and each read in the audit trail, and the tickets' list marked in one query."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from server.audit.models import AuditEvent
from tests.factories import (make_community, make_grid, make_household, make_ticket, make_touchpoint, make_user,
                             make_visit)
from tests.support.console import log_in, text
from tests.support.photos import jpeg, photo


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="1栋", unit="1单元", room="301")
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    ticket = make_ticket(household, status="dispatched", assignee_id=butler.id)
    visit = make_visit(household, butler)
    touchpoint = make_touchpoint(household, butler)
    other = make_community(name="别的小区")
    outsider = make_user("supervisor", name="外主管", community_id=other.id)
    return {"butler": butler, "supervisor": supervisor, "household": household, "resident": resident,
            "ticket": ticket, "visit": visit, "touchpoint": touchpoint, "outsider": outsider}


def on(world, record: str, **extra) -> dict:
    """Where a photo of the world's `record` (ticket, visit or touchpoint) goes."""
    return {"household_id": world["household"].id, "record_type": record, "record_id": world[record].id, **extra}


def photo_ids(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}" data-id="([^"]+)"', html)


def reads_of(session, attachment_id: str) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.record_type == "attachment", AuditEvent.record_id == attachment_id, AuditEvent.action == "read")
        .order_by(AuditEvent.id)))


def test_a_ticket_shows_its_before_and_after_photos_and_one_still_uploading(client, session, world):
    before = photo(client, world["resident"], **on(world, "ticket", role="before"))
    after = photo(client, world["butler"], **on(world, "ticket", role="after"), seed=1)
    waiting = photo(client, world["butler"], **on(world, "ticket", role="after"), seed=2, uploaded=False)
    assert log_in(client, world["supervisor"].username).status_code == 302

    html = text(client.get(f"/console/tickets/{world['ticket'].id}"))
    section = html.split('data-testid="ticket-photos"')[1].split("</section>")[0]
    groups = section.split('data-testid="photo-group"')[1:]
    headings = [group.split(">")[1].split("<")[0] for group in groups]
    assert headings == ["维修前（报修照片）", "维修后（完工照片）"]
    assert photo_ids(groups[0], "photo") == [before["id"]]
    assert photo_ids(groups[1], "photo") == [after["id"]]
    # The photo whose bytes are not here: the placeholder, no thumbnail and no link.
    assert photo_ids(groups[1], "photo-uploading") == [waiting["id"]]
    assert f"/console/photos/{waiting['id']}" not in html
    assert "照片上传中" in groups[1]
    # The thumbnail links to the photo's page, and says what it shows.
    assert f'href="/console/photos/{before["id"]}"' in groups[0]
    assert f'src="/console/photos/{before["id"]}/thumb" alt="工单照片 1：维修前（报修照片）"' in groups[0]
    # Nothing is read until the browser asks for the bytes.
    assert reads_of(session, before["id"]) == []

    english = text(client.get(f"/console/tickets/{world['ticket'].id}?lang=en"))
    assert "Before (the fault)" in english and "Photo uploading" in english


def test_the_bytes_are_served_to_the_supervisor_uncached_and_each_read_is_audited(client, session, world):
    before = photo(client, world["resident"], **on(world, "ticket", role="before"))
    assert log_in(client, world["supervisor"].username).status_code == 302

    thumb = client.get(f"/console/photos/{before['id']}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    assert thumb.headers["Cache-Control"] == "no-store" and thumb.headers["X-Content-Type-Options"] == "nosniff"
    full = client.get(f"/console/photos/{before['id']}/full")
    assert full.status_code == 200 and Image.open(io.BytesIO(full.data)).size == (640, 480)
    assert full.headers["Cache-Control"] == "no-store"

    reads = reads_of(session, before["id"])
    assert [(e.fields, e.channel, e.user_id, e.household_id) for e in reads] == [
        (["thumb"], "console", world["supervisor"].id, world["household"].id),
        (["full"], "console", world["supervisor"].id, world["household"].id)]
    assert all(e.device_id for e in reads)  # the console's login, as a device

    page = text(client.get(f"/console/photos/{before['id']}"))
    assert f'src="/console/photos/{before["id"]}/full"' in page and "1栋-1单元-301" in page
    assert f'href="/console/tickets/{world["ticket"].id}"' in page  # the way back

    assert client.get(f"/console/photos/{before['id']}/medium").status_code == 404


def test_a_photo_still_uploading_has_no_bytes_to_read(client, session, world):
    waiting = photo(client, world["butler"], **on(world, "ticket", role="before"), uploaded=False)
    assert log_in(client, world["supervisor"].username).status_code == 302
    r = client.get(f"/console/photos/{waiting['id']}/thumb")
    assert r.status_code == 404 and "照片上传中" in text(r)
    page = text(client.get(f"/console/photos/{waiting['id']}"))
    assert 'data-testid="photo-uploading"' in page and "/full" not in page
    assert reads_of(session, waiting["id"]) == []


def test_a_supervisor_of_another_community_gets_neither_the_bytes_nor_the_page(client, session, world):
    before = photo(client, world["resident"], **on(world, "ticket", role="before"))
    assert log_in(client, world["outsider"].username).status_code == 302
    for path in (f"/console/photos/{before['id']}/thumb", f"/console/photos/{before['id']}/full",
                 f"/console/photos/{before['id']}"):
        r = client.get(path)
        assert r.status_code in (403, 404) and r.mimetype == "text/html", path
        assert not r.data.startswith(b"\xff\xd8")  # no JPEG
    assert client.get(f"/console/households/{world['household'].id}").status_code in (403, 404)
    assert reads_of(session, before["id"]) == []


def test_an_admin_reads_any_community_s_photo_and_the_read_is_filed_under_its_household(client, session, world):
    before = photo(client, world["resident"], **on(world, "ticket", role="before"))
    admin = make_user("admin", name="总部管理员")
    assert log_in(client, admin.username).status_code == 302
    assert client.get(f"/console/photos/{before['id']}/thumb").status_code == 200
    [read] = reads_of(session, before["id"])
    assert (read.user_id, read.household_id, read.community_id) == (
        admin.id, world["household"].id, world["household"].community_id)


def test_no_login_no_photo(client, world):
    before = photo(client, world["resident"], **on(world, "ticket", role="before"))
    r = client.get(f"/console/photos/{before['id']}/thumb")
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")
    # A butler (who sees the photo in the app) is not let into the console for it either.
    assert log_in(client, world["butler"].username).status_code == 403
    r = client.get(f"/console/photos/{before['id']}/thumb")
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")


def test_the_household_page_shows_its_visits_and_touchpoints_with_their_photos(client, session, world):
    leak = photo(client, world["butler"], **on(world, "visit", item="leaks"))
    waiting = photo(client, world["butler"], **on(world, "visit"), seed=1, uploaded=False)
    lobby = photo(client, world["butler"], **on(world, "touchpoint"), seed=2)
    make_visit(world["household"], world["butler"], kind="follow_up")  # a visit without photos
    assert log_in(client, world["supervisor"].username).status_code == 302

    grids = text(client.get("/console/grids"))
    assert f'href="/console/households/{world["household"].id}"' in grids
    html = text(client.get(f"/console/households/{world['household'].id}"))
    visits = html.split('data-testid="household-visits"')[1].split("</section>")[0]
    touchpoints = html.split('data-testid="household-touchpoints"')[1].split("</section>")[0]
    rows = visits.split('data-testid="visit-row"')[1:]
    assert len(rows) == 2
    with_photos = next(row for row in rows if world["visit"].id in row)
    assert photo_ids(with_photos, "photo") == [leak["id"]] and 'alt="走访照片 1：渗漏"' in with_photos
    assert photo_ids(with_photos, "photo-uploading") == [waiting["id"]] and "照片上传中" in with_photos
    assert photo_ids(touchpoints, "photo") == [lobby["id"]] and "大堂" in touchpoints
    assert "大堂问候" not in html  # what was said stays out of the console's page

    page = text(client.get(f"/console/photos/{leak['id']}"))
    assert "走访照片：渗漏" in page and f'href="/console/households/{world["household"].id}"' in page
    assert client.get(f"/console/photos/{lobby['id']}/thumb").status_code == 200
    assert [e.fields for e in reads_of(session, lobby["id"])] == [["thumb"]]


def test_the_tickets_list_marks_photos_in_one_query(client, session, world):
    photo(client, world["resident"], **on(world, "ticket", role="before"))
    photo(client, world["butler"], **on(world, "ticket", role="after"), seed=1, uploaded=False)
    second = make_ticket(world["household"], status="dispatched", assignee_id=world["butler"].id)
    photo(client, world["butler"], household_id=world["household"].id, record_type="ticket", record_id=second.id,
          seed=2)
    bare = make_ticket(world["household"], status="dispatched", assignee_id=world["butler"].id)
    assert log_in(client, world["supervisor"].username).status_code == 302

    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (the statement)
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        html = text(client.get("/console/tickets"))
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)

    def row(ticket_id: str) -> str:
        return html.split(f'data-id="{ticket_id}"')[1].split("</tr>")[0]

    mark = re.compile(r'data-testid="ticket-photos" data-count="(\d+)" data-waiting="(\d+)"')
    assert mark.findall(row(world["ticket"].id)) == [("2", "1")]
    assert "📷 2" in row(world["ticket"].id) and "照片上传中" in row(world["ticket"].id)
    assert "2 张照片" in row(world["ticket"].id)
    assert mark.findall(row(second.id)) == [("1", "0")] and "照片上传中" not in row(second.id)
    assert mark.findall(row(bare.id)) == []
    assert sum("FROM attachment" in statement for statement in statements) == 1  # one for the whole list
