"""Photos attached to records, on SQLite and PostgreSQL: the record syncs first, the bytes follow in
resumable pieces by their SHA-256; the server checks hash and image, keeps a thumbnail, and serves
them only through the record's scope, each read in the audit trail."""
from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from server.attachments.models import Attachment, AttachmentBlob, UploadChunk
from server.audit.models import AuditEvent
from tests.factories import auth, make_community, make_grid, make_household, make_user, make_visit


def jpeg(width=640, height=480, seed=0) -> bytes:
    image = Image.effect_noise((width, height), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def place(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    resident = make_user("resident", community_id=community.id, household_id=household.id)
    visit = make_visit(household, butler)
    return {"butler": butler, "household": household, "resident": resident, "visit": visit}


def attach(client, user, place, data: bytes, *, record_type="visit", record_id=None, **extra):
    body = {"household_id": place["household"].id, "record_type": record_type,
            "record_id": record_id or place["visit"].id, "sha256": sha(data), "content_type": "image/jpeg",
            "size": len(data), **extra}
    return client.post("/api/v1/attachments", json=body, headers=auth(user))


def piece(client, user, digest, offset, length, data):
    return client.patch(f"/api/v1/uploads/{digest}", data=data, headers={
        **auth(user), "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
        "Upload-Length": str(length)})


def upload(client, user, data, size=64 * 1024):
    for offset in range(0, len(data), size):
        r = piece(client, user, sha(data), offset, len(data), data[offset:offset + size])
        assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_photo_uploaded_in_pieces_is_served_through_its_record(client, session, place):
    data = jpeg()
    r = attach(client, place["butler"], place, data, item="leaks")
    assert r.status_code == 201, r.get_json()
    attachment = r.get_json()
    assert attachment["uploaded_at"] is None and attachment["author_id"] == place["butler"].id

    r = client.get(f"/api/v1/attachments/{attachment['id']}/content", headers=auth(place["butler"]))
    assert r.status_code == 404 and r.get_json()["error"] == "attachment_pending"

    half = len(data) // 2
    r = piece(client, place["butler"], sha(data), 0, len(data), data[:half])
    assert r.status_code == 200 and r.get_json() == {"sha256": sha(data), "offset": half, "length": len(data),
                                                     "complete": False}
    # A piece sent again after a drop (the phone did not hear the answer): refused with where to go on.
    r = piece(client, place["butler"], sha(data), 0, len(data), data[:half])
    assert r.status_code == 409 and r.get_json()["details"]["offset"] == half
    assert r.headers["Upload-Offset"] == str(half)
    state = client.get(f"/api/v1/uploads/{sha(data)}", headers=auth(place["butler"])).get_json()
    assert state["offset"] == half
    r = piece(client, place["butler"], sha(data), half, len(data), data[half:])
    assert r.status_code == 200 and r.get_json()["complete"] is True
    assert session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0

    r = client.get(f"/api/v1/attachments/{attachment['id']}", headers=auth(place["butler"]))
    assert r.get_json()["uploaded_at"] is not None and r.get_json()["version"] == 2
    full = client.get(f"/api/v1/attachments/{attachment['id']}/content", headers=auth(place["butler"]))
    assert full.status_code == 200 and full.data == data and full.mimetype == "image/jpeg"
    assert full.headers["Cache-Control"] == "no-store"
    thumb = client.get(f"/api/v1/attachments/{attachment['id']}/content?size=thumb", headers=auth(place["butler"]))
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    reads = session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "attachment",
                                                        AuditEvent.action == "read")).all()
    assert sorted(e.fields[0] for e in reads) == ["full", "thumb"]
    assert {e.household_id for e in reads} == {place["household"].id}

    # The same bytes again (another photo of them): free, nothing to send.
    r = attach(client, place["butler"], place, data)
    assert r.status_code == 201 and r.get_json()["uploaded_at"] is not None
    assert client.get(f"/api/v1/uploads/{sha(data)}", headers=auth(place["butler"])).get_json()["complete"]


def test_a_resident_never_sees_a_visit_photo(client, place):
    data = jpeg()
    attachment = attach(client, place["butler"], place, data).get_json()
    upload(client, place["butler"], data)
    r = client.get(f"/api/v1/attachments/{attachment['id']}/content", headers=auth(place["resident"]))
    assert r.status_code in (403, 404)
    assert client.get("/api/v1/attachments", headers=auth(place["resident"])).get_json()["items"] == []
    # Nor may they send bytes no photo of theirs names.
    assert piece(client, place["resident"], sha(data), 0, len(data), data).status_code == 404
    # Nor attach to a record they cannot see.
    assert attach(client, place["resident"], place, jpeg(seed=1)).status_code == 403


def test_a_residents_ticket_photo_is_seen_by_the_butler(client, place):
    r = client.post("/api/v1/tickets", json={"category": "repair", "description": "漏水"},
                    headers=auth(place["resident"]))
    ticket_id = r.get_json()["id"]
    data = jpeg(seed=2)
    r = attach(client, place["resident"], place, data, record_type="ticket", record_id=ticket_id, role="before")
    assert r.status_code == 201, r.get_json()
    upload(client, place["resident"], data)
    r = client.get(f"/api/v1/attachments/{r.get_json()['id']}/content?size=thumb", headers=auth(place["butler"]))
    assert r.status_code == 200


def test_a_wrong_hash_or_not_an_image_stores_nothing(client, session, place):
    data = jpeg()
    attach(client, place["butler"], place, data)
    forged = data[:-10] + b"0123456789"
    r = piece(client, place["butler"], sha(data), 0, len(data), forged)
    assert r.status_code == 422 and r.get_json()["details"]["errors"][0]["code"] == "hash_mismatch"
    assert session.get(AttachmentBlob, sha(data)) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0

    text = b"not a photo at all" * 100
    attach(client, place["butler"], place, text)
    r = piece(client, place["butler"], sha(text), 0, len(text), text)
    assert r.status_code == 422 and r.get_json()["details"]["errors"][0]["code"] == "not_an_image"
    assert session.get(AttachmentBlob, sha(text)) is None
    assert session.scalar(sa.select(Attachment.uploaded_at).where(Attachment.sha256 == sha(text))) is None
