"""Photos of an inspection in real Chromium: a supervisor fails an item, chooses a photo for it in the
form's file input, saves, sees its thumbnail beside the failed item, and opens it at full size."""
from __future__ import annotations

import pytest

from tests.factories import make_community, make_user
from tests.support.photos import jpeg

pytestmark = pytest.mark.browser


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    return community


def test_a_supervisor_adds_a_photo_to_a_failed_item_and_opens_it(new_desk, community, tmp_path):
    picture = tmp_path / "轿厢.jpg"
    picture.write_bytes(jpeg(width=800, height=600))
    desk = new_desk("wang")
    desk.goto("/console/inspections?category=cleaning")
    form = desk.locator("[data-testid=inspection-form]")
    form.locator("input[name=place]").fill("3栋大堂")
    items = form.locator("[data-testid=checklist-item]")
    for i in range(items.count()):
        item = items.nth(i)
        verdict = "fail" if item.get_attribute("data-key") == "lift_car_clean" else "pass"
        item.locator(f"input[type=radio][value={verdict}]").check()
    form.locator("input[name=note_lift_car_clean]").fill("轿厢地面有污渍")
    form.locator("[data-testid=checklist-item][data-key=lift_car_clean] [data-testid=item-photos]").set_input_files(
        str(picture))
    form.locator("button[type=submit]").click()

    desk.locator("[data-testid=done]").wait_for()
    assert desk.locator("[data-testid=done]").inner_text() == "已记录3栋大堂的保洁检查：4/5 项合格。"
    thumb = desk.locator("[data-testid=inspection-failed] [data-testid=photo] img")
    assert thumb.count() == 1 and thumb.get_attribute("alt") == "检查照片 1：电梯轿厢清洁"
    assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 320  # the thumbnail, drawn

    desk.locator("[data-testid=inspection-failed] [data-testid=photo]").click()
    desk.wait_for_url("**/console/inspections/*/photos/*")
    full = desk.locator("[data-testid=photo-full]")
    assert full.evaluate("img => img.decode().then(() => img.naturalWidth)") == 800  # the original
    assert desk.locator("[data-testid=photo-title]").inner_text().startswith("检查照片：电梯轿厢清洁 · 3栋大堂")
    desk.click("[data-testid=photo-back]")
    desk.wait_for_url("**/console/inspections?month=*")
