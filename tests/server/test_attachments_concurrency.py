"""Two app servers on one database given the same piece of an upload at the same moment (a phone that
retried on a flaky signal, through a load balancer): exactly one takes it, the other answers 409 with
the offset; the last piece completes the upload once (one new version of the photo), whoever sends it.
Real threads, each server with its own sessions, on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import threading

import pytest
import requests as http
import sqlalchemy as sa
from PIL import Image

from server import create_app
from server.attachments.models import Attachment, AttachmentBlob, UploadChunk
from server.extensions import db
from server.notify.api import release_waiters
from tests.factories import make_community, make_grid, make_household, make_user, make_visit, token_for
from tests.support.app import base_config, serving

PIECE = 16 * 1024
ROUNDS = 2  # the same upload, raced from the start twice over (a new photo each time)


@pytest.fixture
def store_setting(tmp_path):
    return f"file://{tmp_path / 'photos'}"  # one folder both servers write to, as a shared volume


@pytest.fixture
def app(database_url, tmp_path, store_setting):
    app = create_app({**base_config(tmp_path / "a", database_url), "ATTACHMENT_STORE": store_setting})
    with app.app_context():
        yield app
        release_waiters(app)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def two_servers(app, database_url, tmp_path, store_setting):
    other = create_app({**base_config(tmp_path / "b", database_url), "ATTACHMENT_STORE": store_setting})
    with serving(app) as first, serving(other) as second:
        yield first, second
    with other.app_context():
        db.engine.dispose()


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 40 + seed).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def send_at_once(urls, token, digest, offset, length, data) -> list[http.Response]:
    """The same piece to each server, released together."""
    start = threading.Barrier(len(urls))
    answers: list = [None] * len(urls)

    def send(i: int) -> None:
        start.wait()
        try:
            answers[i] = http.patch(f"{urls[i]}/api/v1/uploads/{digest}", data=data, timeout=30, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(offset), "Upload-Length": str(length)})
        except BaseException as exc:  # reported by the test's thread
            answers[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    return answers


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_the_same_piece_at_once_is_taken_once_and_the_upload_completes_once(two_servers, session, seed):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    visit = make_visit(household, butler)
    data = jpeg(seed)
    digest = hashlib.sha256(data).hexdigest()
    token = token_for(butler)
    r = http.post(f"{two_servers[0]}/api/v1/attachments", timeout=30, headers={"Authorization": f"Bearer {token}"},
                  json={"household_id": household.id, "record_type": "visit", "record_id": visit.id,
                        "sha256": digest, "content_type": "image/jpeg", "size": len(data)})
    assert r.status_code == 201, r.text
    attachment_id = r.json()["id"]

    offsets = list(range(0, len(data), PIECE))
    assert len(offsets) >= 3
    for offset in offsets[:-1]:
        answers = send_at_once(two_servers, token, digest, offset, len(data), data[offset:offset + PIECE])
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        taken = next(a for a in answers if a.status_code == 200)
        refused = next(a for a in answers if a.status_code == 409)
        assert taken.json()["offset"] == offset + len(data[offset:offset + PIECE])
        assert refused.json()["error"] == "upload_offset_mismatch"
        assert refused.json()["details"]["offset"] == int(refused.headers["Upload-Offset"]) == taken.json()["offset"]

    last = offsets[-1]
    answers = send_at_once(two_servers, token, digest, last, len(data), data[last:])
    # The one that takes it completes the upload; the other finds it complete (or, racing, the offset moved).
    assert {a.status_code for a in answers} <= {200, 409} and 200 in {a.status_code for a in answers}
    assert all(a.json()["complete"] for a in answers if a.status_code == 200)

    session.rollback()  # a fresh look: the servers' own sessions wrote all that
    photo = session.get(Attachment, attachment_id)
    assert photo.uploaded_at is not None and photo.version == 2  # marked uploaded once
    blob = session.get(AttachmentBlob, digest)
    assert blob.stored_at is not None and blob.received == len(data)
    assert session.scalar(sa.select(sa.func.count()).select_from(UploadChunk)) == 0
    r = http.get(f"{two_servers[1]}/api/v1/attachments/{attachment_id}/content", timeout=30,
                 headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.content == data


def test_a_piece_sent_chunked_is_taken_whole_and_a_chunked_giant_refused(two_servers, session):
    """Without Content-Length (chunked transfer), the server still reads the whole piece, and stops
    reading a body past 1 MB with 413 instead of taking it into memory."""
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    visit = make_visit(make_household(community, make_grid(community, butler)), butler)
    data = jpeg(7)
    digest = hashlib.sha256(data).hexdigest()
    token = token_for(butler)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
               "Upload-Offset": "0", "Upload-Length": str(len(data))}
    r = http.post(f"{two_servers[0]}/api/v1/attachments", timeout=30, headers={"Authorization": f"Bearer {token}"},
                  json={"household_id": visit.household_id, "record_type": "visit", "record_id": visit.id,
                        "sha256": digest, "content_type": "image/jpeg", "size": len(data)})
    assert r.status_code == 201, r.text

    def dribbled(body: bytes, size: int):
        for start in range(0, len(body), size):
            yield body[start:start + size]

    giant = http.patch(f"{two_servers[0]}/api/v1/uploads/{digest}", timeout=30, headers=headers,
                       data=dribbled(b"\0" * (1024 * 1024 + 1), 64 * 1024))
    assert giant.status_code == 413 and giant.json()["error"] == "too_large"
    r = http.patch(f"{two_servers[1]}/api/v1/uploads/{digest}", timeout=30, headers=headers,
                   data=dribbled(data, 1000))
    assert r.status_code == 200 and r.json() == {"sha256": digest, "offset": len(data), "length": len(data),
                                                 "complete": True}
