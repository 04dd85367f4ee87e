"""Photos of quality inspections, on SQLite and PostgreSQL: added in the console's inspection form (to a
checklist item or to the whole inspection), checked as a phone's are and normalised (EXIF dropped, 1,920 px),
all or nothing with the inspection; shown as thumbnails on the list, served only through the inspection's
community, and kept by the purge while an inspection photo names their bytes."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from server.attachments.models import MAX_BYTES, Attachment, AttachmentBlob
from server.operations import checklists
from server.operations.models import Inspection, InspectionPhoto
from server.records import utcnow
from tests.factories import make_community, make_grid, make_household, make_user, make_visit
from tests.support.console import csrf_of, log_in, text
from tests.support.photos import attach, jpeg, piece, png_declaring, sha

PAGE = "/console/inspections"


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    other = make_community(name="别的小区")
    outsider = make_user("supervisor", name="外主管", community_id=other.id)
    return {"community": community, "supervisor": supervisor, "outsider": outsider}


@pytest.fixture
def console(client, world):
    assert log_in(client, world["supervisor"].username).status_code == 302
    return client


def stored(app) -> set[str]:
    """Every object in the app's photo store (a folder in these tests), as `full/<sha256>` or `thumb/<sha256>`."""
    root = app.extensions["attachment_store"].root
    return {f"{path.parent.parent.name}/{path.name}" for path in root.glob("*/*/*") if path.is_file()}


def counts(session) -> tuple[int, int, int]:
    """(inspections, inspection photos, stored blobs)."""
    return tuple(session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Inspection, InspectionPhoto, AttachmentBlob))


def png(width=200, height=100) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def camera_jpeg(width=2400, height=1800) -> bytes:
    """A camera's JPEG as a desktop holds it: full size, with its location, maker and orientation (6:
    turn 90° clockwise to show it upright) in EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS
    out = io.BytesIO()
    Image.effect_noise((width, height), 40).convert("RGB").save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def form(**overrides) -> dict:
    """A cleaning inspection with its lift cars failed, as the form sends it."""
    data = {"category": "cleaning", "place": "3栋大堂", "inspected_on": utcnow().date().isoformat(),
            "plan_item_id": "", "notes": "整体尚可"}
    data.update({f"result_{entry['key']}": "pass" for entry in checklists.checklist("cleaning")})
    data.update(result_lift_car_clean="fail", note_lift_car_clean="轿厢地面有污渍")
    data.update(overrides)
    return data


def send(client, files: dict[str, list[tuple[bytes, str]]], **overrides):
    """The form with files: {field: [(bytes, filename)]} (`photos_<key>` for an item, `photos` for the whole)."""
    data = MultiDict({**form(**overrides), "csrf_token": csrf_of(client, PAGE + "?category=cleaning")})
    for field, sent in files.items():
        for content, name in sent:
            data.add(field, FileStorage(io.BytesIO(content), filename=name))
    return post_multipart(client, PAGE, data)


def post_multipart(client, path: str, data: MultiDict):
    """The form encoded in memory as a browser sends it (the test client's own encoding of a large body
    spools it to a file it never closes)."""
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def photo_links(html: str) -> list[str]:
    return re.findall(r'<a class="photo" href="([^"]+)" data-testid="photo"', html)


# ---- adding them ------------------------------------------------------------------------------------

def test_photos_of_a_failed_item_and_of_the_whole_inspection_are_kept_and_shown(app, console, session, world):
    item_photo, whole_photo = jpeg(seed=1), png()
    r = send(console, {"photos_lift_car_clean": [(item_photo, "轿厢.jpg")], "photos": [(whole_photo, "全景.png")]})
    assert r.status_code == 302, text(r)
    inspection = session.scalar(sa.select(Inspection))
    photos = {p.item: p for p in session.scalars(sa.select(InspectionPhoto))}
    assert set(photos) == {"lift_car_clean", ""}
    assert (photos["lift_car_clean"].sha256, photos["lift_car_clean"].content_type,
            photos["lift_car_clean"].size, photos["lift_car_clean"].width) == (sha(item_photo), "image/jpeg",
                                                                                len(item_photo), 640)
    assert photos[""].sha256 == sha(whole_photo) and photos[""].content_type == "image/png"  # kept as they are
    assert {p.author_id for p in photos.values()} == {world["supervisor"].id}
    assert stored(app) == {f"{size}/{sha(data)}" for size in ("full", "thumb") for data in (item_photo, whole_photo)}

    html = text(console.get(r.headers["Location"]))
    row = html[html.index('data-testid="inspection-row"'):html.index("</tr>", html.index('data-testid="inspection-row"'))]
    failed_cell = row[row.index('data-testid="inspection-failed"'):row.index('data-testid="inspection-photos"')]
    item_link = f"/console/inspections/{inspection.id}/photos/{photos['lift_car_clean'].id}"
    whole_link = f"/console/inspections/{inspection.id}/photos/{photos[''].id}"
    assert photo_links(failed_cell) == [item_link]  # beside the failed item
    assert photo_links(row) == [item_link, whole_link]
    assert f'src="{item_link}/thumb" alt="检查照片 1：电梯轿厢清洁"' in row

    thumb = console.get(item_link + "/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.headers["Cache-Control"] == "no-store" and max(Image.open(io.BytesIO(thumb.data)).size) == 320
    full = console.get(whole_link + "/full")
    assert full.status_code == 200 and full.mimetype == "image/png" and full.data == whole_photo
    assert full.headers["Cache-Control"] == "no-store"
    page = text(console.get(item_link))  # the enlarged photo, with the way back
    assert f'src="{item_link}/full"' in page and "检查照片：电梯轿厢清洁 · 3栋大堂" in page
    assert 'href="/console/inspections?month=' in page
    assert console.get(item_link + "/medium").status_code == 404


def test_the_form_is_multipart_with_a_file_input_per_item_and_one_for_the_whole(console):
    html = text(console.get(PAGE + "?category=cleaning"))
    assert 'enctype="multipart/form-data"' in html
    for entry in checklists.checklist("cleaning"):
        assert f'<input type="file" name="photos_{entry["key"]}" accept="image/*" multiple' in html
    assert '<input type="file" name="photos" accept="image/*" multiple' in html
    assert "每次检查最多 6 张" in html


def test_a_camera_photo_loses_its_location_and_is_downsized_and_turned_upright(app, console, session):
    r = send(console, {"photos": [(camera_jpeg(), "IMG_0001.JPG")]})
    assert r.status_code == 302, text(r)
    photo = session.scalar(sa.select(InspectionPhoto))
    data = app.extensions["attachment_store"].get(f"full/{photo.sha256}")
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (1440, 1920) == (photo.width, photo.height)
    assert not image.getexif() and b"PhoneMaker" not in data  # no location, no camera, no orientation left
    assert photo.sha256 == sha(data) and photo.size == len(data)


def test_a_photo_refuses_the_whole_inspection_and_nothing_is_kept(app, console, session):
    r = send(console, {"photos": [(jpeg(seed=2), "好的.jpg")],
                       "photos_lift_car_clean": [(b"%PDF-1.4 not a photo", "报告.pdf")]}, place="5栋电梯厅")
    assert r.status_code == 422
    html = text(r)
    assert "“电梯轿厢清洁”的照片中的“报告.pdf”不是可以接收的图片（只收 JPEG、WebP、PNG）。" in html
    assert "检查记录未保存，照片也没有保存：填写的内容已保留，请重新选择照片。" in html
    assert 'value="5栋电梯厅"' in html and 'value="轿厢地面有污渍"' in html  # what was typed is kept
    assert 'name="result_lift_car_clean" value="fail" aria-describedby="item-lift_car_clean" checked' in html
    assert counts(session) == (0, 0, 0) and stored(app) == set()


@pytest.mark.parametrize("files, message", [
    ({"photos": [(png_declaring(20000, 20000), "bomb.png")]}, "整体照片中的“bomb.png”像素过多（最多 40000000 像素）。"),
    ({"photos": [(b"\xff\xd8" + b"\0" * MAX_BYTES, "huge.jpg")]}, "整体照片中的“huge.jpg”太大（每张最多 10 MB）。"),
    ({"photos": [(jpeg(seed=n), f"{n}.jpg") for n in range(4)],
      "photos_floor_clear": [(jpeg(seed=n), f"{n}.jpg") for n in range(4, 7)]}, "照片太多：每次检查最多 6 张。"),
])
def test_bombs_files_above_10_mb_and_a_seventh_photo_are_refused(app, console, session, files, message):
    r = send(console, files)
    assert r.status_code == 422 and message in text(r)
    assert counts(session) == (0, 0, 0) and stored(app) == set()


def test_photo_refusals_come_with_the_form_s_own_and_in_english(app, console, session):
    console.get(PAGE + "?lang=en")
    r = send(console, {"photos": [(b"GIF89a", "x.gif")]}, place="")
    assert r.status_code == 422
    html = text(r)
    assert "Photos of the whole inspection: x.gif is not an image the server takes (JPEG, WebP or PNG only)." in html
    assert "Place is required." in html and "choose the photos again" in html
    assert counts(session) == (0, 0, 0)


def test_only_this_form_takes_a_body_above_the_usual_limit(console):
    data = MultiDict({"csrf_token": csrf_of(console, "/console/plan"), "title": "x"})
    data.add("file", FileStorage(io.BytesIO(b"\0" * (6 * 1024 * 1024)), filename="big.bin"))
    assert post_multipart(console, "/console/plan", data).status_code == 413


# ---- reading them -------------------------------------------------------------------------------------

def test_another_community_s_supervisor_gets_404_and_an_admin_the_bytes(client, console, session, world):
    assert send(console, {"photos": [(jpeg(seed=3), "a.jpg")]}).status_code == 302
    photo = session.scalar(sa.select(InspectionPhoto))
    base = f"/console/inspections/{photo.inspection_id}/photos/{photo.id}"
    client.post("/console/logout", data={"csrf_token": csrf_of(client, PAGE)})
    assert client.get(base + "/thumb").status_code == 302  # no login: to the login form

    assert log_in(client, world["outsider"].username).status_code == 302
    for path in (base, base + "/thumb", base + "/full"):
        r = client.get(path)
        assert r.status_code == 404 and not r.data.startswith(b"\xff\xd8"), path
    assert photo.id not in text(client.get(PAGE + "?month=" + photo.created_at.strftime("%Y-%m")))
    # The photo under another inspection's id is not found either.
    assert client.get(f"/console/inspections/nope/photos/{photo.id}/thumb").status_code == 404

    client.post("/console/logout", data={"csrf_token": csrf_of(client, PAGE)})
    admin = make_user("admin", name="总部管理员")
    assert log_in(client, admin.username).status_code == 302
    assert client.get(base + "/full").status_code == 200


# ---- purging ------------------------------------------------------------------------------------------

def test_the_purge_keeps_bytes_an_inspection_photo_names(app, console, session, runner):
    kept = jpeg(seed=4)
    assert send(console, {"photos_lift_car_clean": [(kept, "a.jpg")]}).status_code == 302
    unnamed = AttachmentBlob(sha256="0" * 64, length=10, received=3)  # an upload left unfinished, named by nothing
    session.add(unnamed)
    session.execute(sa.update(AttachmentBlob).values(updated_at=utcnow() - timedelta(days=200)))
    session.commit()
    result = runner.invoke(args=["sync-purge", "--days", "90"])
    assert result.exit_code == 0, result.output
    assert "attachment_bytes=1" in result.output  # the unnamed one only
    session.expire_all()
    assert session.get(AttachmentBlob, sha(kept)) is not None and session.get(AttachmentBlob, "0" * 64) is None
    assert stored(app) == {f"full/{sha(kept)}", f"thumb/{sha(kept)}"}
    photo = session.scalar(sa.select(InspectionPhoto))
    assert console.get(f"/console/inspections/{photo.inspection_id}/photos/{photo.id}/full").data == kept


# ---- bytes shared with a phone's photos ----------------------------------------------------------------

def test_bytes_a_phone_is_still_uploading_are_completed_by_the_console_and_then_shared(app, client, console,
                                                                                        session, world):
    butler = make_user("butler", community_id=world["community"].id)
    household = make_household(world["community"], make_grid(world["community"], butler))
    visit = make_visit(household, butler)
    data = jpeg(seed=6)
    where = {"household_id": household.id, "record_type": "visit", "record_id": visit.id}
    phone_photo = attach(client, butler, data, **where).get_json()
    assert piece(client, butler, sha(data), 0, len(data), data[:1000]).status_code == 200  # under way

    assert send(console, {"photos": [(data, "a.jpg")]}).status_code == 302
    session.expire_all()
    blob = session.get(AttachmentBlob, sha(data))
    assert blob.stored_at is not None and blob.received == blob.length == len(data)
    assert session.get(Attachment, phone_photo["id"]).uploaded_at is not None  # 照片上传中 no more
    assert piece(client, butler, sha(data), 1000, len(data), data[1000:]).get_json()["complete"] is True

    assert send(console, {"photos": [(data, "again.jpg")]}, place="5栋").status_code == 302  # the same bytes again
    assert session.scalar(sa.select(sa.func.count()).select_from(AttachmentBlob)) == 1
    assert stored(app) == {f"full/{sha(data)}", f"thumb/{sha(data)}"}
