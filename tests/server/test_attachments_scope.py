"""Who sees a photo, over REST and sync, on SQLite and PostgreSQL: whoever sees its record, and only
while they do. A butler's phone pulls its grid's photos and drops them (evict) when the household
moves to another grid; a technician sees the photos of the tickets handed to them or their team's
pool, and loses them with the ticket; photos sync in the batch that makes their visit."""
from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image

from server.records import utcnow
from tests.factories import (auth, complete_visit, make_community, make_grid, make_household, make_team,
                             make_technician, make_ticket, make_touchpoint, make_user, make_visit)
from tests.support.app import database_url_and_walks as database_url  # noqa: F401 - also walking households
from tests.support.phone import PHONE_B, Phone, ids, put, results


def jpeg(seed=0) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((96, 64), 40 + seed).convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def world(session):
    community = make_community()
    b1, b2 = make_user("butler", community_id=community.id), make_user("butler", community_id=community.id)
    g1, g2 = make_grid(community, b1), make_grid(community, b2)
    h1, h2 = make_household(community, g1), make_household(community, g2)
    engineering, vendor = make_team(community, "engineering"), make_team(community, "vendor", company="迅达电梯")
    tech1, tech2, lift = make_technician(engineering), make_technician(engineering), make_technician(vendor)
    return {"community": community, "b1": b1, "b2": b2, "g1": g1, "g2": g2, "h1": h1, "h2": h2,
            "resident": make_user("resident", community_id=community.id, household_id=h1.id),
            "supervisor": make_user("supervisor", community_id=community.id),
            "stranger": make_user("supervisor", community_id=make_community().id),
            "engineering": engineering, "vendor": vendor, "tech1": tech1, "tech2": tech2, "lift": lift,
            "visit": make_visit(h1, b1), "touchpoint": make_touchpoint(h1, b1),
            "ticket": make_ticket(h1, status="dispatched", assignee_id=b1.id)}


def attach(client, user, household, rtype, record_id, data, **extra) -> dict:
    r = client.post("/api/v1/attachments", headers=auth(user), json={
        "household_id": household.id, "record_type": rtype, "record_id": record_id, "sha256": sha(data),
        "content_type": "image/jpeg", "size": len(data), **extra})
    assert r.status_code == 201, r.get_json()
    attachment = r.get_json()
    r = client.patch(f"/api/v1/uploads/{sha(data)}", data=data, headers={
        **auth(user), "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0",
        "Upload-Length": str(len(data))})
    assert r.status_code == 200 and r.get_json()["complete"], r.get_json()
    return attachment


@pytest.fixture
def photos(client, world):
    """A photo of each of h1's visit, touchpoint and ticket, taken by its butler."""
    h1, b1 = world["h1"], world["b1"]
    return {rtype: attach(client, b1, h1, rtype, world[rtype].id, jpeg(seed=i), **({"role": "before"}
                                                                                  if rtype == "ticket" else {}))["id"]
            for i, rtype in enumerate(("visit", "touchpoint", "ticket"))}


def listed(client, user) -> set[str]:
    return {a["id"] for a in client.get("/api/v1/attachments", headers=auth(user)).get_json()["items"]}


def reads(client, user, attachment_id) -> int:
    """The status of reading the photo's bytes, which must agree with reading its record."""
    content = client.get(f"/api/v1/attachments/{attachment_id}/content?size=thumb", headers=auth(user)).status_code
    record = client.get(f"/api/v1/attachments/{attachment_id}", headers=auth(user)).status_code
    assert content == record, (content, record)
    return content


def hand(client, user, ticket_id, **fields):
    r = client.patch(f"/api/v1/tickets/{ticket_id}", json=fields, headers=auth(user))
    assert r.status_code == 200, r.get_json()


# ---- REST --------------------------------------------------------------------------------------

def test_the_butler_and_supervisor_see_every_photo_of_the_grid_and_nobody_else_does(client, world, photos):
    everything = set(photos.values())
    assert listed(client, world["b1"]) == everything and listed(client, world["supervisor"]) == everything
    assert all(reads(client, world["b1"], a) == 200 for a in everything)
    for outsider in ("b2", "stranger", "tech1", "lift"):  # another grid, another community, the back office
        assert listed(client, world[outsider]) == set(), outsider
        assert ids(Phone(client, world[outsider]).pull_all(), rtype="attachment") == set(), outsider
        assert all(reads(client, world[outsider], a) == 403 for a in everything), outsider


def test_a_resident_sees_their_tickets_photos_never_a_visits_or_touchpoints(client, world, photos):
    resident = world["resident"]
    assert listed(client, resident) == {photos["ticket"]}
    assert ids(Phone(client, resident).pull_all(), rtype="attachment") == {photos["ticket"]}
    assert reads(client, resident, photos["ticket"]) == 200
    assert reads(client, resident, photos["visit"]) == 403 and reads(client, resident, photos["touchpoint"]) == 403
    # They add photos to their ticket, never to the butler's records.
    attach(client, resident, world["h1"], "ticket", world["ticket"].id, jpeg(seed=7), role="before")
    r = client.post("/api/v1/attachments", headers=auth(resident), json={
        "household_id": world["h1"].id, "record_type": "touchpoint", "record_id": world["touchpoint"].id,
        "sha256": sha(jpeg(seed=8)), "content_type": "image/jpeg", "size": 100})
    assert r.status_code == 403


def test_a_technician_sees_a_tickets_photos_while_it_is_theirs_or_their_pools(client, world, photos):
    ticket, tech1, tech2, lift = world["ticket"].id, world["tech1"], world["tech2"], world["lift"]
    hand(client, world["b1"], ticket, team_id=world["engineering"].id, assignee_id=None)  # to the pool
    assert listed(client, tech1) == listed(client, tech2) == {photos["ticket"]}
    assert reads(client, tech2, photos["ticket"]) == 200 and reads(client, lift, photos["ticket"]) == 403
    assert reads(client, tech1, photos["visit"]) == 403  # never the household file
    hand(client, tech1, ticket, status="accepted")
    after = attach(client, tech1, world["h1"], "ticket", ticket, jpeg(seed=9), role="after")["id"]
    assert listed(client, tech1) == {photos["ticket"], after}
    hand(client, tech1, ticket, team_id=world["vendor"].id, assignee_id=None, handoff_note="电梯问题")
    assert listed(client, tech1) == set() and reads(client, tech1, after) == 403
    assert listed(client, lift) == {photos["ticket"], after}
    r = client.post("/api/v1/attachments", headers=auth(tech1), json={  # no more photos of it either
        "household_id": world["h1"].id, "record_type": "ticket", "record_id": ticket, "sha256": sha(jpeg(seed=10)),
        "content_type": "image/jpeg", "size": 100, "role": "after"})
    assert r.status_code == 403


# ---- sync --------------------------------------------------------------------------------------

def test_a_butlers_phone_pulls_the_grids_photos_and_drops_them_when_the_household_moves(client, world, photos):
    butler1, butler2 = Phone(client, world["b1"]), Phone(client, world["b2"], client_id=PHONE_B)
    assert ids(butler1.pull_all(), rtype="attachment") == set(photos.values())
    assert ids(butler2.pull_all(), rtype="attachment") == set()
    r = client.patch(f"/api/v1/households/{world['h1'].id}", json={"grid_id": world["g2"].id},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()
    evicted = butler1.pull_all()
    assert world["ticket"].id not in ids(evicted, op="evict")  # still handed to them: they keep it, and its photo
    assert ids(evicted, op="evict", rtype="attachment") == {photos["visit"], photos["touchpoint"]}
    assert ids(butler2.pull_all(), rtype="attachment") == set(photos.values())


def test_a_ticket_handed_away_takes_its_photos_off_the_old_holders_phone_onto_the_new(client, world, photos):
    ticket = world["ticket"].id
    hand(client, world["b1"], ticket, team_id=world["engineering"].id, assignee_id=None)
    tech1, lift = Phone(client, world["tech1"]), Phone(client, world["lift"], client_id=PHONE_B)
    assert ids(tech1.pull_all(), rtype="attachment") == {photos["ticket"]}
    assert ids(lift.pull_all(), rtype="attachment") == set()  # its cursor is now past the photo's number
    hand(client, world["tech1"], ticket, status="accepted")
    hand(client, world["tech1"], ticket, team_id=world["vendor"].id, assignee_id=None, handoff_note="转维保")
    evicted = tech1.pull_all()
    assert ids(evicted, op="evict") == {ticket, photos["ticket"]}
    assert ids(lift.pull_all(), rtype="attachment") == {photos["ticket"]}  # pulled though numbered before
    # The butler who handed it on still holds it (the household is theirs): nothing evicted there.
    assert ids(Phone(client, world["b1"]).pull_all(), rtype="attachment") == set(photos.values())


def photo_put(household_id, rtype, record_id, data, at=None, **extra):
    fields = {"household_id": household_id, "record_type": rtype, "record_id": record_id, "sha256": sha(data),
              "content_type": "image/jpeg", "size": len(data), "item": "leaks", **extra}
    return put("attachment", str(uuid.uuid4()), fields, **({"at": at} if at else {}))


def visit_put(household_id, at=None):
    when = at or "2026-11-27T09:15:02+08:00"
    return put("visit", str(uuid.uuid4()), complete_visit({"household_id": household_id, "visited_at": when}),
               **({"at": at} if at else {}))


def test_a_photo_syncs_in_the_batch_that_makes_its_visit(client, world, session):
    phone = Phone(client, world["b1"])
    visit = visit_put(world["h1"].id)
    photo = photo_put(world["h1"].id, "visit", visit["id"], jpeg(seed=1))
    assert [r["status"] for r in results(phone.sync(visit, photo))] == ["applied", "applied"]
    r = client.get(f"/api/v1/attachments/{photo['id']}", headers=auth(world["b1"]))
    assert r.status_code == 200 and r.get_json()["record_id"] == visit["id"]
    assert r.get_json()["author_id"] == world["b1"].id and r.get_json()["uploaded_at"] is None


def test_a_photo_of_a_refused_visit_is_refused_and_the_rest_applied(client, world):
    phone = Phone(client, world["b1"])
    refused = visit_put(world["h2"].id)  # another grid's household
    its_photo = photo_put(world["h2"].id, "visit", refused["id"], jpeg(seed=1))
    good = visit_put(world["h1"].id)
    good_photo = photo_put(world["h1"].id, "visit", good["id"], jpeg(seed=2))
    answer = {r["mid"]: r["status"] for r in results(phone.sync(refused, its_photo, good, good_photo))}
    assert answer == {refused["mid"]: "rejected", its_photo["mid"]: "rejected", good["mid"]: "applied",
                      good_photo["mid"]: "applied"}
    assert client.get(f"/api/v1/attachments/{its_photo['id']}", headers=auth(world["b1"])).status_code == 404
    assert client.get(f"/api/v1/attachments/{good_photo['id']}", headers=auth(world["b1"])).status_code == 200


def test_a_visit_and_photo_taken_before_the_butler_lost_the_household_are_accepted(client, world, session):
    phone = Phone(client, world["b1"])
    phone.pull_all()
    taken = (utcnow() - timedelta(hours=1)).isoformat()
    r = client.patch(f"/api/v1/households/{world['h1'].id}", json={"grid_id": world["g2"].id},
                     headers=auth(world["supervisor"]))
    assert r.status_code == 200
    visit = visit_put(world["h1"].id, at=taken)
    photo = photo_put(world["h1"].id, "visit", visit["id"], jpeg(seed=3), at=taken)
    assert [r["status"] for r in results(phone.sync(visit, photo))] == ["applied", "applied"]
    # The new butler sees them; the old one, who no longer holds the household, does not.
    assert client.get(f"/api/v1/attachments/{photo['id']}", headers=auth(world["b2"])).status_code == 200
    assert client.get(f"/api/v1/attachments/{photo['id']}", headers=auth(world["b1"])).status_code == 403
    # Taken after the move, it is refused.
    late = photo_put(world["h1"].id, "visit", visit["id"], jpeg(seed=4), at=utcnow().isoformat())
    assert [r["status"] for r in results(phone.sync(late))] == ["rejected"]
