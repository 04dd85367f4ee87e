"""Taking photos back and taking them again, in real Chromium against a live server: the two-tap 删除
(确定删除 / 不删) before and after a save, a cancelled visit form that keeps its photos, 重新拍摄 of a
photo the server refused, a resident's photo taken off her request, and a visit's photos in the
household's list."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.attachments.models import Attachment
from server.visits.models import Visit
from tests.browser.conftest import answer_the_rest, log_in, synced
from tests.browser.test_photos import PHOTO_STORE_KEYS, as_file, camera_jpeg
from tests.factories import PASSWORD, make_ticket

pytestmark = pytest.mark.browser

MIN_TAP = 44  # px, each side


def small_photo(seed: int) -> dict:
    return as_file(camera_jpeg(1600, 1200, grain=3, seed=seed), f"photo-{seed}.jpg")


def kept_hashes(page) -> list[str]:
    return page.evaluate(PHOTO_STORE_KEYS)


def wait_for_kept(page, expected: list[str]) -> None:
    """The photos store holds exactly these hashes (it is written after the screen changes)."""
    for _ in range(100):
        if sorted(kept_hashes(page)) == sorted(expected):
            return
        page.wait_for_timeout(100)
    assert sorted(kept_hashes(page)) == sorted(expected)


def assert_tap_target(locator) -> None:
    box = locator.bounding_box()
    assert box and box["width"] >= MIN_TAP and box["height"] >= MIN_TAP, box


def no_dialogs(page) -> list[str]:
    """Collects any window.confirm/alert: deleting must never use one."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def open_visit(page, hid: str, vid: str | None = None) -> None:
    page.evaluate("([hid, vid]) => { location.hash = vid ? `#/visit/${hid}/${vid}` : `#/visit/${hid}`; }", [hid, vid])
    page.locator("[data-testid=visit-form]").wait_for()


def attachment_rows(session, record_id: str) -> list[Attachment]:
    session.rollback()
    return session.scalars(sa.select(Attachment).where(Attachment.record_id == record_id)).all()


def saved_visit_with_an_item_photo(page, estate) -> tuple[str, dict]:
    """A visit whose 渗漏 item had a problem when photographed and was then answered 正常; saved offline
    (the household's visit list shows the photo small, 照片上传中), then synced and its photo uploaded.
    Returns the visit id and the photo's record."""
    log_in(page, "li", PASSWORD)
    hid = estate["home"].id
    open_visit(page, hid)
    leaks = page.locator("[data-testid=check-item][data-key=leaks]")
    leaks.locator("[data-testid=check-problem]").click()
    leaks.locator("[data-testid=item-photo-camera]").set_input_files(small_photo(1))
    leaks.locator("[data-testid=form-photo]").wait_for()
    leaks.locator("[data-testid=check-ok]").click()  # fixed on the spot: the photo stays under the item
    assert leaks.locator("[data-testid=form-photo]").count() == 1
    answer_the_rest(page)
    page.context.set_offline(True)
    page.click("[data-testid=save-visit]")
    page.wait_for_function("location.hash.startsWith('#/household/')")
    [photo] = page.evaluate("window.guanjia.store.all('attachment')")
    assert photo["item"] == "leaks"
    # In the household's visit list at once, marked 照片上传中 while its bytes are only on this phone.
    row = page.locator(f"[data-testid=visit][data-id='{photo['record_id']}']")
    row.scroll_into_view_if_needed()
    row.locator("[data-testid=visit-thumbs] [data-testid=thumb] img").wait_for()
    assert row.locator("[data-testid=thumbs-badge]").text_content() == "照片上传中"
    page.context.set_offline(False)
    synced(page)
    page.wait_for_function("window.guanjia.photos.progress().done === 1", timeout=30000)
    synced(page)  # the server's uploaded_at comes back: the badge goes
    row.locator("[data-testid=thumbs-badge]").wait_for(state="detached")
    return photo["record_id"], photo


def test_a_photo_taken_on_a_form_goes_with_two_taps_before_the_save(phone, estate, session):
    dialogs = no_dialogs(phone)
    log_in(phone, "li", PASSWORD)
    hid = estate["home"].id
    open_visit(phone, hid)
    card = phone.locator("[data-testid=visit-photo-card]")
    card.locator("[data-testid=visit-photo-gallery]").set_input_files(small_photo(2))
    photo = card.locator("[data-testid=form-photo]")
    photo.wait_for()
    sha = photo.get_attribute("data-sha")
    wait_for_kept(phone, [sha])

    delete = photo.locator("[data-testid=photo-delete]")
    assert delete.text_content() == "删除" and delete.get_attribute("aria-label") == "删除照片 1"
    assert_tap_target(delete)
    delete.click()  # one tap only asks
    yes, no = photo.locator("[data-testid=photo-delete-yes]"), photo.locator("[data-testid=photo-delete-no]")
    assert yes.text_content() == "确定删除" and no.text_content() == "不删"
    assert yes.get_attribute("aria-label") == "确定删除照片 1"
    assert_tap_target(yes)
    assert_tap_target(no)
    no.click()  # 不删: nothing changes
    assert card.locator("[data-testid=form-photo]").count() == 1 and kept_hashes(phone) == [sha]

    photo.locator("[data-testid=photo-delete]").click()
    photo.locator("[data-testid=photo-delete-yes]").click()
    card.locator("[data-testid=form-photo]").wait_for(state="detached")
    wait_for_kept(phone, [])  # the bytes went with it: nothing was saved that names them
    answer_the_rest(phone)
    phone.click("[data-testid=save-visit]")
    phone.wait_for_function("location.hash.startsWith('#/household/')")
    synced(phone)
    assert dialogs == []
    session.rollback()
    visit = session.scalars(sa.select(Visit).where(Visit.household_id == hid)).one()
    assert attachment_rows(session, visit.id) == []


def test_a_cancelled_visit_form_keeps_the_photo_deleted_on_it(phone, estate, session):
    vid, photo = saved_visit_with_an_item_photo(phone, estate)
    hid = estate["home"].id
    open_visit(phone, hid, vid)
    leaks = phone.locator("[data-testid=check-item][data-key=leaks]")
    assert leaks.locator("[data-testid=check-ok]").get_attribute("aria-pressed") == "true"
    saved = leaks.locator(f"[data-testid=saved-photos] [data-testid=photo][data-id='{photo['id']}']")
    saved.wait_for()  # under its item though the item is 正常
    saved.locator("[data-testid=photo-delete]").click()
    saved.locator("[data-testid=photo-delete-yes]").click()
    saved.wait_for(state="detached")
    removing = phone.locator("[data-testid=photos-removing]")
    assert removing.is_visible() and "1 张照片将在保存后删除" in removing.text_content()
    assert phone.evaluate("window.guanjia.store.unsentCount()") == 0  # nothing is deleted before the save

    phone.locator(".action-bar a.button").click()  # 取消
    phone.wait_for_function("location.hash.startsWith('#/household/')")
    phone.wait_for_timeout(600)  # past the form's draft timer: the cancel left no draft behind
    assert phone.evaluate("([name]) => window.guanjia.store.draft(name)", [f"visit/{hid}/{vid}"]) is None
    open_visit(phone, hid, vid)
    phone.locator(f"[data-testid=check-item][data-key=leaks] [data-testid=photo][data-id='{photo['id']}']").wait_for()
    assert not phone.locator("[data-testid=photos-removing]").is_visible()
    assert [a["id"] for a in phone.evaluate("window.guanjia.store.all('attachment')")] == [photo["id"]]
    assert kept_hashes(phone) == [photo["sha256"]]
    synced(phone)
    [row] = attachment_rows(session, vid)
    assert not row.deleted


def test_a_saved_photo_deleted_on_the_visit_form_goes_when_the_form_is_saved(phone, estate, session):
    vid, photo = saved_visit_with_an_item_photo(phone, estate)
    open_visit(phone, estate["home"].id, vid)
    saved = phone.locator(f"[data-testid=photo][data-id='{photo['id']}']")
    saved.locator("[data-testid=photo-delete]").click()
    saved.locator("[data-testid=photo-delete-yes]").click()
    saved.wait_for(state="detached")
    phone.click("[data-testid=save-visit]")
    phone.wait_for_function("location.hash.startsWith('#/household/')")
    assert phone.evaluate("window.guanjia.store.all('attachment')") == []
    wait_for_kept(phone, [])  # the bytes and thumbnail leave the phone: no other photo names them
    synced(phone)
    [row] = attachment_rows(session, vid)
    assert row.deleted
    assert phone.evaluate("window.guanjia.store.rejected()") == []
    assert phone.locator(f"[data-testid=visit][data-id='{vid}'] [data-testid=visit-thumbs]").count() == 0


def test_deleting_a_photo_stops_its_upload_and_frees_its_bytes(chromium, served, estate, session):
    """The server does not take the bytes yet (503): deleting the photo on the ticket sends the delete
    of its record, frees the bytes, and no piece of them is sent after that."""
    ticket = make_ticket(estate["home"], status="accepted", assignee_id=estate["butler"].id)
    context = chromium.new_context(base_url=served.url, viewport={"width": 360, "height": 640}, locale="zh-CN",
                                   service_workers="block")
    patches: list[str] = []
    busy = {"on": True}

    def uploads(route):
        if route.request.method == "PATCH":
            patches.append(route.request.url)
            if busy["on"]:
                return route.fulfill(status=503, json={"error": "unavailable", "message": "稍后再试"})
        return route.continue_()

    try:
        phone = context.new_page()
        phone.route("**/api/v1/uploads/*", uploads)
        log_in(phone, "li", PASSWORD)
        phone.evaluate("([id]) => { location.hash = `#/ticket/${id}`; }", [ticket.id])
        phone.locator("[data-testid=ticket-before-camera]").set_input_files(small_photo(3))
        photo = phone.locator("[data-testid=ticket-photos-before] [data-testid=photo]")
        photo.wait_for()
        synced(phone)
        for _ in range(100):  # its upload has begun and been told to wait
            if patches:
                break
            phone.wait_for_timeout(100)
        assert patches
        photo.locator("[data-testid=photo-delete]").click()
        photo.locator("[data-testid=photo-delete-yes]").click()
        photo.wait_for(state="detached")
        wait_for_kept(phone, [])
        synced(phone)
        busy["on"] = False
        sent = len(patches)
        phone.evaluate("window.guanjia.photos.uploadAll()")
        phone.wait_for_timeout(1000)
        assert len(patches) == sent  # nothing more of the deleted photo's bytes
    finally:
        context.close()
    [row] = attachment_rows(session, ticket.id)
    assert row.deleted and row.uploaded_at is None


def test_a_refused_photo_is_taken_again_in_its_place(chromium, served, estate, session):
    """The server refuses an 维修后 photo's bytes: the ticket says why, in Chinese, with 重新拍摄. A
    cancelled picker leaves the refused photo as it was; a new picture replaces it as an 维修后 photo of
    the same ticket, whose bytes the server takes."""
    ticket = make_ticket(estate["home"], status="accepted", assignee_id=estate["butler"].id)
    context = chromium.new_context(base_url=served.url, viewport={"width": 360, "height": 640}, locale="zh-CN",
                                   service_workers="block")
    refuse = {"on": True}
    refusal = {"error": "validation_failed", "message": "照片校验失败",
               "details": {"errors": [{"field": "content", "code": "not_an_image", "message": "不是图片"}]}}
    try:
        phone = context.new_page()
        phone.route("**/api/v1/uploads/*", lambda route: route.fulfill(status=422, json=refusal)
                    if route.request.method == "PATCH" and refuse["on"] else route.continue_())
        log_in(phone, "li", PASSWORD)
        phone.evaluate("([id]) => { location.hash = `#/ticket/${id}`; }", [ticket.id])
        phone.locator("[data-testid=ticket-after-camera]").set_input_files(small_photo(4))
        group = phone.locator("[data-testid=ticket-photos-after]")
        refused = group.locator("[data-testid=photo][data-state=refused]")
        refused.wait_for(timeout=30000)
        old = {"id": refused.get_attribute("data-id"), "sha": refused.get_attribute("data-sha")}
        assert "这不是一张能打开的照片" in refused.text_content()
        retake = refused.locator("label.photo-button")
        assert retake.text_content() == "重新拍摄"
        assert refused.locator("[data-testid=photo-retake]").get_attribute("aria-label") == "重新拍摄照片 1"
        assert_tap_target(retake)

        # The picker opens (the camera) and is closed with nothing chosen: the refused photo stays.
        with phone.expect_file_chooser() as chooser:
            retake.click()
        assert chooser.value.element.get_attribute("capture") == "environment"
        chooser.value.set_files([])
        phone.wait_for_timeout(300)
        assert [a["id"] for a in phone.evaluate("window.guanjia.store.all('attachment')")] == [old["id"]]
        kept = phone.evaluate("([s]) => window.guanjia.photos.keptPhoto(s)", [old["sha"]])
        assert kept["refused"] == "not_an_image" and kept["hasFull"]
        assert phone.evaluate("window.guanjia.store.unsentCount()") == 0

        refuse["on"] = False
        group.locator("[data-testid=photo-retake]").set_input_files(small_photo(5))
        group.locator(f"[data-testid=photo][data-id='{old['id']}']").wait_for(state="detached")
        synced(phone)
        phone.wait_for_function("window.guanjia.photos.progress().done === 1", timeout=30000)
        group.locator("[data-testid=photo][data-state=done]").wait_for()
        wait_for_kept(phone, [a["sha256"] for a in phone.evaluate("window.guanjia.store.all('attachment')")])
    finally:
        context.close()
    rows = {r.id: r for r in attachment_rows(session, ticket.id)}
    assert rows.pop(old["id"]).deleted
    [new] = rows.values()
    assert (new.role, new.item, new.record_type) == ("after", "", "ticket")
    assert not new.deleted and new.uploaded_at is not None and new.sha256 != old["sha"]


def test_a_resident_takes_a_photo_off_her_request(new_phone, estate, session):
    resident = new_phone()
    dialogs = no_dialogs(resident)
    log_in(resident, "liu", PASSWORD)
    resident.evaluate("location.hash = '#/report'")
    resident.click("[data-testid=report-category][data-value=repair]")
    resident.fill("[data-testid=report-description]", "阳台地漏堵了")
    resident.locator("[data-testid=report-photo-gallery]").set_input_files([small_photo(6), small_photo(7)])
    resident.locator("[data-testid=report-photos] [data-testid=form-photo]").nth(1).wait_for()
    resident.click("[data-testid=report-submit]")
    strip = resident.locator("[data-testid=request] [data-testid=request-photos]")
    strip.locator("[data-testid=photo]").nth(1).wait_for()
    synced(resident)
    resident.wait_for_function("window.guanjia.photos.progress().done === 2", timeout=30000)
    first = strip.locator("[data-testid=photo]").first
    gone = first.get_attribute("data-id")
    delete = first.locator("[data-testid=photo-delete]")
    assert_tap_target(delete)
    delete.click()
    assert_tap_target(first.locator("[data-testid=photo-delete-yes]"))
    first.locator("[data-testid=photo-delete-yes]").click()
    strip.locator(f"[data-testid=photo][data-id='{gone}']").wait_for(state="detached")
    assert strip.locator("[data-testid=photo]").count() == 1
    synced(resident)
    assert dialogs == []
    rows = attachment_rows(session, resident.evaluate("window.guanjia.store.all('ticket')[0].id"))
    assert sorted((r.id == gone, r.deleted) for r in rows) == [(False, False), (True, True)]
