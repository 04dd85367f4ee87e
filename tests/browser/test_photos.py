"""Photos on the phone in real Chromium against a live server: taken offline on a visit and on a
resident's request, made small and clean on the phone, synced as records and uploaded by hash."""
from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa
from flask import current_app
from PIL import Image

from server.attachments.models import Attachment, AttachmentBlob
from server.tickets.models import Ticket
from tests.browser.conftest import answer_the_rest, log_in, synced, wait_until_controlled
from tests.factories import PASSWORD, make_grid, make_user

pytestmark = pytest.mark.browser

GPS_IFD, ORIENTATION = 0x8825, 0x0112


def camera_jpeg(width: int = 4000, height: int = 3000, *, grain: int = 40, seed: int = 0) -> bytes:
    """A picture as a phone's camera writes it: large, turned by its EXIF orientation (6: the phone was
    held upright), with the place it was taken in its EXIF GPS. ~3 MB at the default size and grain."""
    noise = [Image.effect_noise((width // 4, height // 4), grain).resize((width, height), Image.BILINEAR)
             for _ in range(2)]
    gradient = Image.linear_gradient("L").rotate(seed * 37 % 360).resize((width, height))
    picture = Image.merge("RGB", (noise[0], gradient, noise[1]))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (31.0, 14.0, float(seed)), 3: "E", 4: (121.0, 28.0, 0.0)})
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def as_file(data: bytes, name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def stored_photo(sha256: str) -> bytes:
    return current_app.extensions["attachment_store"].get(f"full/{sha256}")


def assert_clean_and_small(data: bytes, sha256: str) -> Image.Image:
    """The bytes are what their name says, a JPEG at most 1920 px long, upright, with no EXIF left."""
    assert hashlib.sha256(data).hexdigest() == sha256
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert max(image.size) <= 1920
    assert image.height > image.width  # turned upright by its orientation, not stored sideways
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD) and ORIENTATION not in exif
    return image


def test_a_butler_photographs_a_leak_offline_and_the_server_has_it_once_synced(phone, estate, session):
    log_in(phone, "li", PASSWORD)
    wait_until_controlled(phone)
    synced(phone)
    hid = estate["home"].id
    phone.context.set_offline(True)
    phone.evaluate("([hid]) => { location.hash = `#/visit/${hid}`; }", [hid])
    leaks = phone.locator("[data-testid=check-item][data-key=leaks]")
    leaks.locator("[data-testid=check-problem]").click()
    leaks.locator("[data-testid=item-photo-camera]").set_input_files(as_file(camera_jpeg(seed=1), "leak.jpg"))
    leaks.locator("[data-testid=form-photo]").wait_for()
    phone.locator("[data-testid=visit-photo-gallery]").set_input_files(as_file(camera_jpeg(seed=2), "room.jpg"))
    phone.locator("[data-testid=visit-photo-card] [data-testid=form-photo]").wait_for()
    answer_the_rest(phone)
    phone.click("[data-testid=save-visit]")
    phone.wait_for_function("location.hash.startsWith('#/household/')")
    photos = phone.evaluate("window.guanjia.store.all('attachment')")
    assert sorted(p["item"] for p in photos) == ["", "leaks"]
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 3  # the visit, then its two photos

    phone.context.set_offline(False)
    synced(phone)
    phone.wait_for_function("(() => { const p = window.guanjia.photos.progress(); return p.count === 2 && p.done === 2; })()",
                            timeout=30000)
    session.rollback()
    visit_id = photos[0]["record_id"]
    rows = session.scalars(sa.select(Attachment).where(Attachment.record_id == visit_id)).all()
    assert sorted(r.item for r in rows) == ["", "leaks"]
    for row in rows:
        assert row.uploaded_at is not None and row.author_id == estate["butler"].id
        data = stored_photo(row.sha256)
        assert len(data) == row.size
        image = assert_clean_and_small(data, row.sha256)
        assert (row.width, row.height) == image.size == (1440, 1920)
    # Uploaded: the phone keeps the thumbnail and lets the full-size bytes go.
    kept = phone.evaluate("(hashes) => hashes.map((s) => window.guanjia.photos.keptPhoto(s))", [r.sha256 for r in rows])
    assert all(k["uploaded"] and not k["hasFull"] and k["hasThumb"] for k in kept)
    # The visit shows them, and a tap shows one large.
    phone.click(f"[data-testid=visit][data-id='{visit_id}']")
    phone.locator("[data-testid=saved-photos] [data-testid=photo][data-state=done] img").first.wait_for()
    phone.locator("[data-testid=saved-photos] [data-testid=photo] button").first.click()
    phone.locator("[data-testid=photo-full]").wait_for()
    phone.click("[data-testid=photo-close]")


def test_a_residents_photo_of_her_request_shows_on_the_butlers_ticket(new_phone, estate, session):
    resident = new_phone()
    log_in(resident, "liu", PASSWORD)
    resident.context.set_offline(True)
    resident.evaluate("location.hash = '#/report'")
    resident.click("[data-testid=report-category][data-value=repair]")
    resident.fill("[data-testid=report-description]", "厨房水龙头一直滴水")
    resident.locator("[data-testid=report-photo-camera]").set_input_files(as_file(camera_jpeg(seed=3), "tap.jpg"))
    resident.locator("[data-testid=form-photo]").wait_for()
    resident.click("[data-testid=report-submit]")
    resident.locator("[data-testid=request] [data-testid=request-photos] [data-testid=photo]").wait_for()
    resident.context.set_offline(False)
    synced(resident)
    resident.wait_for_function("window.guanjia.photos.progress().done === 1", timeout=30000)
    session.rollback()
    ticket = session.scalars(sa.select(Ticket).where(Ticket.description == "厨房水龙头一直滴水")).one()
    attachment = session.scalars(sa.select(Attachment).where(Attachment.record_id == ticket.id)).one()
    assert attachment.household_id == estate["home"].id and attachment.uploaded_at is not None
    assert_clean_and_small(stored_photo(attachment.sha256), attachment.sha256)

    butler = new_phone()
    log_in(butler, "li", PASSWORD)
    synced(butler)
    butler.evaluate("([id]) => { location.hash = `#/ticket/${id}`; }", [ticket.id])
    thumb = butler.locator("[data-testid=ticket-photos-photo] [data-testid=photo][data-state=done] img")
    thumb.wait_for()
    # Fetched once with the butler's token and kept on the phone: it shows offline too.
    assert butler.evaluate("([s]) => window.guanjia.photos.keptPhoto(s)", [attachment.sha256])["hasThumb"]
    assert butler.evaluate("(img) => img.naturalWidth", thumb.element_handle()) == 240  # the server's 320 px thumb


def test_a_photo_the_server_refuses_stays_on_the_phone_with_the_reason(chromium, served, estate, session):
    """A 422 at the last piece (here: the server says the bytes do not match their hash) marks the photo
    refused on the ticket and on 同步, in words, and its bytes stay on the phone; the Sync screen also
    tells the storage used and asks once for persistent storage."""
    from tests.factories import make_ticket

    ticket = make_ticket(estate["home"], status="accepted", assignee_id=estate["butler"].id)
    # No service worker: the page's own requests are the ones Playwright can answer in the server's place.
    context = chromium.new_context(base_url=served.url, viewport={"width": 360, "height": 640}, locale="zh-CN",
                                   service_workers="block")
    try:
        phone = context.new_page()
        refusal = {"error": "validation_failed", "message": "照片校验失败",
                   "details": {"errors": [{"field": "content", "code": "hash_mismatch", "message": "不一致"}]}}
        phone.route("**/api/v1/uploads/*", lambda route: route.fulfill(status=422, json=refusal)
                    if route.request.method == "PATCH" else route.continue_())
        log_in(phone, "li", PASSWORD)
        phone.evaluate("([id]) => { location.hash = `#/ticket/${id}`; }", [ticket.id])
        phone.locator("[data-testid=ticket-after-camera]").set_input_files(as_file(camera_jpeg(1600, 1200, grain=3), "a.jpg"))
        refused = phone.locator("[data-testid=ticket-photos-after] [data-testid=photo][data-state=refused]")
        refused.wait_for(timeout=30000)
        assert "照片在传送中损坏了" in refused.text_content()
        sha = refused.get_attribute("data-sha")
        kept = phone.evaluate("([s]) => window.guanjia.photos.keptPhoto(s)", [sha])
        assert kept["refused"] == "hash_mismatch" and kept["hasFull"]  # nothing the user made is lost
        phone.evaluate("location.hash = '#/sync'")
        row = phone.locator(f"[data-testid=photo-upload][data-sha='{sha}']")
        assert row.get_attribute("data-state") == "refused" and "被拒收" in row.text_content()
        phone.locator("[data-testid=storage-line]").wait_for()
        assert "已用" in phone.text_content("[data-testid=storage-line]")
        assert phone.evaluate("window.guanjia.store.meta.persistAsked") is True
    finally:
        context.close()
    session.rollback()
    assert session.scalars(sa.select(Attachment).where(Attachment.record_id == ticket.id)).one().uploaded_at is None


PHOTO_STORE_KEYS = """async () => {
    const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open("guanjia");
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
    });
    const keys = await new Promise((resolve) => {
        const req = db.transaction("photos").objectStore("photos").getAllKeys();
        req.onsuccess = () => resolve(req.result);
    });
    db.close();
    return keys;
}"""


def test_a_touchpoints_photo_leaves_the_phone_with_its_household(phone, estate, session, client):
    from tests.factories import auth

    log_in(phone, "li", PASSWORD)
    hid = estate["home"].id
    phone.evaluate("([hid]) => { location.hash = `#/touchpoint/${hid}`; }", [hid])
    phone.locator("[data-testid=touchpoint-photo-gallery]").set_input_files(as_file(camera_jpeg(1600, 1200, grain=3), "lobby.jpg"))
    phone.locator("[data-testid=touchpoint-photos] [data-testid=form-photo]").wait_for()
    phone.click("[data-testid=channel][data-value=lobby]")
    phone.wait_for_function("location.hash.startsWith('#/household/')")
    phone.locator("[data-testid=touchpoint] [data-testid=photo] img").wait_for()  # under the touchpoint, at once
    synced(phone)
    phone.wait_for_function("window.guanjia.photos.progress().done === 1", timeout=30000)
    sha = phone.evaluate("window.guanjia.store.all('attachment')[0].sha256")
    assert phone.evaluate(PHOTO_STORE_KEYS) == [sha]

    community = estate["community"]
    supervisor = make_user("supervisor", community_id=community.id)
    elsewhere = make_grid(community, make_user("butler", community_id=community.id))
    answer = client.patch(f"/api/v1/households/{hid}", json={"grid_id": elsewhere.id}, headers=auth(supervisor))
    assert answer.status_code == 200
    synced(phone)
    phone.wait_for_function("([s]) => window.guanjia.photos.keptPhoto(s) === null", arg=[sha])
    assert phone.evaluate("window.guanjia.store.all('attachment')") == []
    assert phone.evaluate(PHOTO_STORE_KEYS) == []


# ---- twenty photos offline, then a slow link that drops twice ------------------------------------

class UploadLog:
    """WSGI middleware: every upload request the server saw, with its answer (sha256, method,
    Upload-Offset sent, status, Upload-Offset answered)."""

    def __init__(self, app):
        self.app = app
        self.seen: list[dict] = []

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if not path.startswith("/api/v1/uploads/"):
            return self.app(environ, start_response)
        entry = {"sha": path.rsplit("/", 1)[-1], "method": environ["REQUEST_METHOD"],
                 "offset": environ.get("HTTP_UPLOAD_OFFSET"), "status": None, "reached": None, "length": None}

        def start(status, headers, exc_info=None):
            entry["status"] = int(status.split()[0])
            entry["reached"] = dict(headers).get("Upload-Offset")
            entry["length"] = dict(headers).get("Upload-Length")
            self.seen.append(entry)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def patches(self, sha=None, offset=None, status=None):
        return [e for e in self.seen if e["method"] == "PATCH" and (sha is None or e["sha"] == sha)
                and (offset is None or e["offset"] == str(offset)) and (status is None or e["status"] == status)]


ONE_MBIT = 1_000_000 // 8  # bytes per second
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 2 * ONE_MBIT, "uploadThroughput": ONE_MBIT}


def test_twenty_photos_taken_offline_reach_the_server_once_over_a_slow_link_that_drops_twice(
        chromium, served, estate, session, tmp_path):
    """Twenty photos of a repair taken with no signal (two from ~3 MB camera pictures that come out at
    ~600 KB, three pieces each; eighteen smaller ones), then a 1 Mbit/s uplink that drops twice under
    way: each photo arrives whole, checked by its hash, and no upload starts over from zero."""
    from tests.factories import make_ticket

    ticket = make_ticket(estate["home"], status="accepted", assignee_id=estate["butler"].id)
    log = UploadLog(served.app)
    served.deploy(log)
    sources = []
    for i in range(20):
        big = i < 2
        data = camera_jpeg(grain=40, seed=i) if big else camera_jpeg(1600, 1200, grain=3, seed=i)
        path = tmp_path / f"repair-{i:02d}.jpg"
        path.write_bytes(data)
        sources.append(path)
    # No service worker: the emulated link is the page's own (a worker's fetches are not throttled).
    context = chromium.new_context(base_url=served.url, viewport={"width": 360, "height": 640}, locale="zh-CN",
                                   service_workers="block")
    try:
        phone = context.new_page()
        log_in(phone, "li", PASSWORD)
        synced(phone)
        cdp = context.new_cdp_session(phone)
        cdp.send("Network.enable")
        link = lambda conditions: cdp.send("Network.emulateNetworkConditions", conditions)  # noqa: E731
        link(OFFLINE)
        phone.wait_for_function("!navigator.onLine")
        phone.evaluate("([id]) => { location.hash = `#/ticket/${id}`; }", [ticket.id])
        phone.locator("[data-testid=ticket-before-gallery]").set_input_files([str(p) for p in sources])
        phone.wait_for_function("window.guanjia.store.all('attachment').length === 20", timeout=120000)
        assert log.seen == []
        sizes = phone.evaluate("window.guanjia.store.all('attachment').map((a) => a.size)")
        big = [a for a in phone.evaluate("window.guanjia.store.all('attachment')") if a["size"] > 2 * 262144]
        assert len(big) == 2, sizes

        link(SLOW)
        # First drop: as soon as a large photo's first piece is in, before its next one.
        wait_until(phone, lambda: any(log.patches(sha=a["sha256"], offset=0, status=200) for a in big))
        link(OFFLINE)
        phone.wait_for_timeout(1500)
        link(SLOW)
        # Second drop: half-way through the twenty.
        wait_until(phone, lambda: len(complete(log)) >= 10)
        link(OFFLINE)
        phone.wait_for_timeout(1500)
        link(SLOW)
        phone.wait_for_function("window.guanjia.photos.progress().done === 20", timeout=180000, polling=500)
        phone.evaluate("location.hash = '#/sync'")
        assert phone.text_content("[data-testid=photo-line]") == "照片 20/20 · 100%"
    finally:
        context.close()
        served.deploy(log.app)  # the Flask app again, whose open long polls the teardown releases

    session.rollback()
    rows = session.scalars(sa.select(Attachment).where(Attachment.record_id == ticket.id)).all()
    assert len(rows) == 20 and all(r.role == "before" and r.uploaded_at is not None for r in rows)
    for row in rows:
        assert_clean_and_small(stored_photo(row.sha256), row.sha256)
        assert session.get(AttachmentBlob, row.sha256).received == row.size
        # Exactly one piece at offset 0 reached the server per photo: none started over from zero.
        assert len(log.patches(sha=row.sha256, offset=0)) == 1, log.patches(sha=row.sha256)
    # The drop cut the large photo under way: it asked the server where to go on (a second GET) and
    # went on from there.
    cut = [a["sha256"] for a in big if len([e for e in log.seen if e["sha"] == a["sha256"] and e["method"] == "GET"]) > 1]
    assert cut, log.seen
    for photo in big:  # the large ones went in pieces, each taken once
        taken = [int(e["offset"]) for e in log.patches(sha=photo["sha256"], status=200)]
        assert taken == [0, 262144, 524288][:len(taken)] and len(taken) == -(-photo["size"] // 262144)
    print(f"\nphotos: {sum(sizes)} bytes in all, largest {max(sizes)}, smallest {min(sizes)}; "
          f"PATCH requests {len(log.patches())} (409: {len(log.patches(status=409))}), "
          f"GET {sum(1 for e in log.seen if e['method'] == 'GET')}")


def complete(log: UploadLog) -> set[str]:
    """The photos whose last piece the server took (its answer's offset reached the whole length)."""
    return {e["sha"] for e in log.seen if e["status"] == 200 and e["reached"] and e["reached"] == e["length"]}


def wait_until(page, condition, timeout_s: float = 120) -> None:
    """Poll a condition on the test's side (the server's log), letting the page run meanwhile."""
    for _ in range(int(timeout_s * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the condition was not met in time")
