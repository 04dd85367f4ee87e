"""Photos attached to records, on SQLite and PostgreSQL, their bytes in a folder and in an S3 store
(moto's S3 server on the loopback): the record syncs first, the bytes follow in resumable pieces by
their SHA-256; the server checks hash and image, keeps a thumbnail, and serves them only through the
record's scope, each read in the audit trail. Whatever it refuses leaves nothing behind: no blob, no
piece, no object in the store."""
from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta

import boto3
import pytest
import sqlalchemy as sa
from moto.server import ThreadedMotoServer
from PIL import Image

from server import create_app
from server.attachments.models import Attachment, AttachmentBlob, UploadChunk
from server.attachments.storage import FileStore, S3Store
from server.audit.models import AuditEvent
from server.auth.models import User
from server.extensions import db
from server.notify.api import release_waiters
from server.records import utcnow
from server.syncing import bookkeeping
from server.visits.models import Visit
from tests.factories import auth, make_community, make_grid, make_household, make_person, make_user, make_visit
from tests.support.app import base_config
from tests.support.photos import png_declaring

S3_KEY, S3_SECRET = "guanjia-test", "guanjia-test-secret"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on a free loopback port, for this module's tests (each gets its own bucket)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    server.stop()


@pytest.fixture(params=["file", "s3"])
def store_setting(request, tmp_path):
    """ATTACHMENT_STORE: a folder of its own, or a new bucket (keys in the URL's userinfo)."""
    if request.param == "file":
        return f"file://{tmp_path / 'photos'}"
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"photos-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY,
                 aws_secret_access_key=S3_SECRET).create_bucket(Bucket=bucket)
    return f"s3://{S3_KEY}:{S3_SECRET}@{bucket}/guanjia?endpoint={endpoint}"


@pytest.fixture
def app(database_url, tmp_path, store_setting):
    """The usual app (tests/support/app.py), its photos kept in the store of the parameter."""
    app = create_app({**base_config(tmp_path, database_url), "ATTACHMENT_STORE": store_setting})
    with app.app_context():
        yield app
        release_waiters(app)
        db.session.remove()
        db.engine.dispose()


def stored(app) -> set[str]:
    """Every object in the app's store, as its key (`full/<sha256>`, `thumb/<sha256>`)."""
    store = app.extensions["attachment_store"]
    if isinstance(store, FileStore):
        return {f"{p.parent.parent.name}/{p.name}" for p in store.root.rglob("*") if p.is_file()}
    assert isinstance(store, S3Store)
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=f"{store.prefix}/")
    return {item["Key"].removeprefix(f"{store.prefix}/") for item in listed.get("Contents", [])}


def nothing_kept(session, app, digest: str) -> bool:
    """No trace of an upload: no blob row, no pieces, nothing in the store."""
    session.expire_all()
    return (session.get(AttachmentBlob, digest) is None
            and session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0
            and not any(key.endswith(digest) for key in stored(app)))


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
    return {"community": community, "butler": butler, "household": household, "resident": resident,
            "visit": visit}


def attach(client, user, place, data: bytes, *, record_type="visit", record_id=None, **extra):
    body = {"household_id": place["household"].id, "record_type": record_type,
            "record_id": record_id or place["visit"].id, "sha256": sha(data), "content_type": "image/jpeg",
            "size": len(data), **extra}
    return client.post("/api/v1/attachments", json=body, headers=auth(user))


def piece(client, user, digest, offset, length, data, **headers):
    return client.patch(f"/api/v1/uploads/{digest}", data=data, headers={
        **auth(user), "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
        "Upload-Length": str(length), **headers})


def errors(response) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def jpeg_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPSLatitudeRef, GPSLatitude
    out = io.BytesIO()
    Image.effect_noise((64, 48), 40).convert("RGB").save(out, "JPEG", exif=exif)
    return out.getvalue()


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


# ---- what is refused leaves nothing -----------------------------------------------------------------

@pytest.mark.parametrize("make, code", [
    (lambda: b"not a photo at all" * 100, "not_an_image"),
    (lambda: jpeg()[:-200], "not_an_image"),  # a JPEG cut short: decoding it fails
    (lambda: png_declaring(30000, 30000), "image_too_large"),  # a decompression bomb, refused by its header
    (lambda: png_declaring(7000, 7000), "image_too_large"),  # 49 million pixels
    (jpeg_with_location, "image_has_location"),
])
def test_bytes_that_are_not_a_photo_we_keep_are_refused_on_content(client, session, app, place, make, code):
    data = make()
    r = attach(client, place["butler"], place, data)
    assert r.status_code == 201, r.get_json()
    r = piece(client, place["butler"], sha(data), 0, len(data), data)
    assert r.status_code == 422 and errors(r) == [("content", code)]
    assert r.get_json()["error"] == "validation_failed" and r.get_json()["message"]
    assert nothing_kept(session, app, sha(data))
    assert session.get(Attachment, attach_id(session, sha(data))).uploaded_at is None
    # Nothing half-kept either: the offset is 0 again.
    assert client.get(f"/api/v1/uploads/{sha(data)}", headers=auth(place["butler"])).get_json()["offset"] == 0


def attach_id(session, digest):
    return session.scalar(sa.select(Attachment.id).where(Attachment.sha256 == digest))


def test_a_file_larger_than_ten_megabytes_or_a_piece_larger_than_one_is_413(client, session, app, place):
    data = jpeg()
    attach(client, place["butler"], place, data)
    r = piece(client, place["butler"], sha(data), 0, 10 * 1024 * 1024 + 1, data[:1000])
    assert r.status_code == 413 and r.get_json()["error"] == "photo_too_large"
    r = piece(client, place["butler"], sha(data), 0, len(data), b"\0" * (1024 * 1024 + 1))
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    assert nothing_kept(session, app, sha(data))


def test_a_piece_out_of_order_is_409_with_the_offset_and_a_piece_past_the_end_422(client, session, app, place):
    data = jpeg()
    attach(client, place["butler"], place, data)
    r = piece(client, place["butler"], sha(data), 1000, len(data), data[1000:2000])
    assert r.status_code == 409 and r.get_json()["error"] == "upload_offset_mismatch"
    assert r.get_json()["details"]["offset"] == 0 and r.headers["Upload-Offset"] == "0"
    assert session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0
    r = piece(client, place["butler"], sha(data), 0, len(data), data + b"extra")
    assert r.status_code == 422 and errors(r) == [("Upload-Offset", "out_of_range")]
    r = piece(client, place["butler"], sha(data), 0, len(data) - 1, data[:100])  # not the photo's size
    assert r.status_code == 422 and errors(r) == [("Upload-Length", "length_mismatch")]
    assert session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0
    assert stored(app) == set()


@pytest.mark.parametrize("headers, expected", [
    ({"Upload-Offset": None}, ("Upload-Offset", "required")),
    ({"Upload-Length": None}, ("Upload-Length", "required")),
    ({"Upload-Offset": "-1"}, ("Upload-Offset", "invalid_type")),
    ({"Upload-Offset": "１２"}, ("Upload-Offset", "invalid_type")),  # full-width digits
    ({"Upload-Length": "12abc"}, ("Upload-Length", "invalid_type")),
    ({"Upload-Length": "9" * 20}, ("Upload-Length", "invalid_type")),
])
def test_missing_or_garbled_upload_headers_are_422_on_the_header(client, session, app, place, headers, expected):
    data = jpeg()
    attach(client, place["butler"], place, data)
    sent = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0",
            "Upload-Length": str(len(data)), **headers}
    r = client.patch(f"/api/v1/uploads/{sha(data)}", data=data,
                     headers={**auth(place["butler"]), **{k: v for k, v in sent.items() if v is not None}})
    assert r.status_code == 422 and errors(r) == [expected]
    assert nothing_kept(session, app, sha(data))


def test_a_wrong_content_type_is_415_and_a_bad_hash_in_the_path_422(client, session, app, place):
    data = jpeg()
    attach(client, place["butler"], place, data)
    r = piece(client, place["butler"], sha(data), 0, len(data), data, **{"Content-Type": "image/jpeg"})
    assert r.status_code == 415 and r.get_json()["error"] == "unsupported_upload_type"
    for bad in (sha(data).upper(), sha(data)[:63], sha(data) + "0", "g" * 64, "%20" * 64):
        r = piece(client, place["butler"], bad, 0, len(data), data)
        assert r.status_code == 422 and errors(r) == [("sha256", "invalid")], bad
    r = client.get(f"/api/v1/uploads/{sha(data).upper()}", headers=auth(place["butler"]))
    assert r.status_code == 422 and errors(r) == [("sha256", "invalid")]
    assert nothing_kept(session, app, sha(data))


def test_bytes_no_visible_photo_names_are_404(client, session, app, place):
    data = jpeg()
    stranger = make_user("butler", community_id=place["household"].community_id)
    attach(client, place["butler"], place, data)
    for user in (stranger, place["resident"]):
        assert piece(client, user, sha(data), 0, len(data), data).status_code == 404
        assert client.get(f"/api/v1/uploads/{sha(data)}", headers=auth(user)).status_code == 404
    unnamed = jpeg(seed=3)
    r = piece(client, place["butler"], sha(unnamed), 0, len(unnamed), unnamed)
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"
    assert nothing_kept(session, app, sha(data)) and nothing_kept(session, app, sha(unnamed))


def test_a_photo_only_hangs_on_a_live_record_of_its_household_that_takes_photos(client, session, app, place):
    community = place["community"].id
    data = jpeg()
    other_household = make_household(place["community"], make_grid(place["community"], place["butler"]))
    r = attach(client, place["butler"], {**place, "household": other_household}, data)  # the visit is elsewhere
    assert r.status_code == 422 and errors(r) == [("household_id", "invalid")]
    person = make_person(place["household"])
    r = attach(client, place["butler"], place, data, record_type="person", record_id=person.id)
    assert r.status_code == 422 and errors(r) == [("record_type", "not_attachable")]
    r = attach(client, place["butler"], place, data, record_id=str(uuid.uuid4()))
    assert r.status_code == 422 and errors(r) == [("record_id", "not_found")]
    gone = make_visit(place["household"], place["butler"])
    gone.deleted = True
    bookkeeping.changed(session, "visit", gone)
    session.commit()
    r = attach(client, place["butler"], place, data, record_id=gone.id)
    assert r.status_code == 422 and errors(r) == [("record_id", "not_found")]
    # Another grid's butler, and another community's supervisor, see none of it.
    elsewhere = make_community()
    for outsider in (make_user("butler", community_id=community),
                     make_user("supervisor", community_id=elsewhere.id)):
        r = attach(client, outsider, place, data)
        assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    assert session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert nothing_kept(session, app, sha(data))


# ---- purge --------------------------------------------------------------------------------------

def test_purge_forgets_photos_of_purged_records_and_bytes_nobody_names(app, client, session, runner, place):
    kept, orphaned, unfinished = jpeg(seed=1), jpeg(seed=2), jpeg(seed=3)
    doomed_visit = make_visit(place["household"], place["butler"])
    butler_id, doomed_id = place["butler"].id, doomed_visit.id
    assert attach(client, place["butler"], place, kept).status_code == 201
    orphan = attach(client, place["butler"], place, orphaned, record_id=doomed_visit.id).get_json()
    attach(client, place["butler"], place, unfinished)
    upload(client, place["butler"], kept)
    upload(client, place["butler"], orphaned)
    piece(client, place["butler"], sha(unfinished), 0, len(unfinished), unfinished[:1000])
    # The unfinished upload's photo is taken away: its pieces name nothing any more.
    r = client.delete(f"/api/v1/attachments/{attach_id(session, sha(unfinished))}", headers=auth(place["butler"]))
    assert r.status_code in (200, 204), r.get_json()
    assert stored(app) == {f"{size}/{digest}" for size in ("full", "thumb") for digest in (sha(kept), sha(orphaned))}

    # The visit is deleted, and its tombstone is older than the period: the purge forgets it.
    r = client.delete(f"/api/v1/visits/{doomed_visit.id}", headers=auth(place["butler"]))
    assert r.status_code in (200, 204), r.get_json()
    long_ago = utcnow() - timedelta(days=200)
    session.execute(sa.update(Visit).where(Visit.id == doomed_visit.id).values(updated_at=long_ago))
    session.execute(sa.update(AttachmentBlob).values(updated_at=long_ago))
    session.commit()

    result = runner.invoke(args=["sync-purge", "--days", "90"])
    assert result.exit_code == 0, result.output
    assert "attachment_orphans=1" in result.output and "attachment_bytes=2" in result.output
    session.expire_all()
    butler = session.get(User, butler_id)  # (the command's app context ended the test's session)
    assert session.get(Visit, doomed_id) is None
    photo = session.get(Attachment, orphan["id"])
    assert photo.deleted  # a tombstone the phones pull, forgotten by a later purge like any
    assert stored(app) == {f"full/{sha(kept)}", f"thumb/{sha(kept)}"}  # bytes still named stay
    assert session.get(AttachmentBlob, sha(kept)) is not None
    assert session.get(AttachmentBlob, sha(orphaned)) is None and session.get(AttachmentBlob, sha(unfinished)) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0
    photo_id = attach_id(session, sha(kept))
    r = client.get(f"/api/v1/attachments/{photo_id}/content", headers=auth(butler))
    assert r.status_code == 200 and r.data == kept

    # Bytes touched within the period stay, even when no photo names them.
    fresh = jpeg(seed=4)
    attach(client, butler, place, fresh)
    upload(client, butler, fresh)
    client.delete(f"/api/v1/attachments/{attach_id(session, sha(fresh))}", headers=auth(butler))
    assert runner.invoke(args=["sync-purge", "--days", "90"]).exit_code == 0
    assert f"full/{sha(fresh)}" in stored(app)


def test_bytes_a_new_photo_names_again_outlive_the_purge(app, client, session, runner, place):
    data = jpeg(seed=5)
    first = attach(client, place["butler"], place, data).get_json()
    upload(client, place["butler"], data)
    client.delete(f"/api/v1/attachments/{first['id']}", headers=auth(place["butler"]))
    session.execute(sa.update(AttachmentBlob).values(updated_at=utcnow() - timedelta(days=200)))
    session.commit()
    again = attach(client, place["butler"], place, data)  # the same photo, added again: nothing to send
    assert again.status_code == 201 and again.get_json()["uploaded_at"] is not None
    butler_id = place["butler"].id
    assert runner.invoke(args=["sync-purge", "--days", "90"]).exit_code == 0
    session.expire_all()
    assert session.get(AttachmentBlob, sha(data)) is not None and f"full/{sha(data)}" in stored(app)
    r = client.get(f"/api/v1/attachments/{again.get_json()['id']}/content", headers=auth(session.get(User, butler_id)))
    assert r.status_code == 200 and r.data == data
