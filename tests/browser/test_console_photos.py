"""Photos in the console in real Chromium: a ticket's page shows the fault's thumbnail (and 照片上传中
for a photo whose bytes have not arrived); the thumbnail, reached by keyboard, opens the photo at full size."""
from __future__ import annotations

import pytest

from tests.factories import make_community, make_grid, make_household, make_ticket, make_user
from tests.support.photos import photo

pytestmark = pytest.mark.browser


def test_a_ticket_s_thumbnail_opens_the_photo_at_full_size(new_desk, client, session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    household = make_household(community, make_grid(community, butler), building="1栋", unit="1单元", room="301")
    ticket = make_ticket(household, status="dispatched", assignee_id=butler.id)
    where = {"household_id": household.id, "record_type": "ticket", "record_id": ticket.id}
    before = photo(client, butler, **where, role="before")
    photo(client, butler, **where, role="after", seed=1, uploaded=False)

    desk = new_desk("wang")
    desk.click("[data-testid=nav-tickets]")
    assert "📷 2" in desk.locator("[data-testid=ticket-photos]").inner_text()
    desk.click("[data-testid=ticket-open]")
    thumb = desk.locator(f"[data-testid=ticket-photos] [data-testid=photo][data-id='{before['id']}'] img")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 320  # the thumbnail, drawn
    assert thumb.get_attribute("alt") == "工单照片 1：维修前（报修照片）"
    assert desk.locator("[data-testid=photo-uploading]").inner_text() == "照片上传中"

    desk.locator(f"[data-testid=photo][data-id='{before['id']}']").focus()
    desk.keyboard.press("Enter")
    desk.wait_for_url(f"**/console/photos/{before['id']}")
    full = desk.locator("[data-testid=photo-full]")
    full.wait_for()
    assert full.evaluate("img => img.decode().then(() => img.naturalWidth)") == 640  # the original
    title = desk.locator("[data-testid=photo-title]").inner_text()
    assert title == "工单照片：维修前（报修照片） · 1栋-1单元-301"
    desk.click("[data-testid=photo-back]")
    desk.wait_for_url(f"**/console/tickets/{ticket.id}")
