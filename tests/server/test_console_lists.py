"""The console's long lists beside the tickets: the households of the set-up page (server/console/setup.py,
server/community/listing.py) and the notices (server/console/notices.py, server/notices/listing.py).

Filters in the query string (a value not understood is left out, and the page says so; the search takes
only the numbers and letters of an address, never a name), sorts, and keyset pages (server/keyset.py)
that neither skip nor repeat a row, forwards or back, even when rows are written between pages; always
within the supervisor's own community. SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from server import keyset
from server.community import listing as households
from server.notices import listing as notices
from server.records import utcnow
from tests.factories import make_household, make_notice, make_user, make_visit
from tests.support.console import log_in, post, text, two_grids_and_a_neighbour

ROW = re.compile(r'data-testid="setup-household-row" data-id="([^"]+)"')
NOTICE = re.compile(r'data-testid="notice-row" data-id="([^"]+)"')


@pytest.fixture
def place(session):
    return two_grids_and_a_neighbour()


@pytest.fixture
def console(client, place):
    assert log_in(client, place["supervisor"].username).status_code == 302
    return client


def rows(response, row=ROW) -> list[str]:
    assert response.status_code == 200
    return row.findall(text(response))


def link(response, testid: str) -> str | None:
    found = re.search(rf'href="([^"]+)" data-testid="{testid}"', text(response))
    return found.group(1).replace("&amp;", "&") if found else None


def visited(household, butler, days_ago: int):
    return make_visit(household, butler, visited_at=utcnow() - timedelta(days=days_ago))


# ---- households ------------------------------------------------------------------------------------

def test_households_come_in_address_order_with_their_last_visit_and_links(console, place):
    ten = make_household(place["community"], place["g1"], building="10栋", unit="1单元", room="101")
    two = make_household(place["community"], None, building="1栋", unit="1单元", room="1101", status="vacant")
    visited(place["h1"], place["b1"], 3)
    response = console.get("/console/setup")
    # natural order: 1栋 before 10栋 and 2栋, room 301 before 1101
    assert rows(response) == [place["h1"].id, two.id, place["h2"].id, ten.id]
    html = text(response)
    assert "共 4 户" in html and "9栋" not in html
    assert f'href="/console/households/{two.id}"' in html and f'href="/console/setup/households/{two.id}"' in html
    assert (utcnow() - timedelta(days=3)).strftime("%Y-%m-%d") in html or \
        (utcnow() - timedelta(days=2)).strftime("%Y-%m-%d") in html  # the community's day
    assert html.count("从未走访") == 3
    assert "4 households" in text(console.get("/console/setup?lang=en"))


def test_the_household_filters_narrow_the_list(console, place):
    alone = make_household(place["community"], None, building="2栋", unit="2单元", room="1203", status="custody")
    assert rows(console.get(f"/console/setup?grid={place['g1'].id}")) == [place["h1"].id]
    assert rows(console.get("/console/setup?grid=none")) == [alone.id]
    assert rows(console.get("/console/setup?building=" + quote("2栋"))) == [place["h2"].id, alone.id]
    assert rows(console.get("/console/setup?status=custody")) == [alone.id]
    assert rows(console.get("/console/setup?q=1203")) == [place["h2"].id, alone.id]
    assert rows(console.get("/console/setup?q=2-1203")) == [place["h2"].id, alone.id]  # 2栋 or 2单元, and 1203
    assert rows(console.get("/console/setup?q=2+2+1203&status=custody")) == [alone.id]
    assert "共 1 户" in text(console.get("/console/setup?q=301"))


@pytest.mark.parametrize("args", ["grid=nonsense", "status=%00", "sort=name", "building=" + quote("99栋")])
def test_a_household_filter_not_understood_is_left_out_and_the_page_says_so(console, place, args):
    response = console.get("/console/setup?" + args)
    assert set(rows(response)) == {place["h1"].id, place["h2"].id}
    assert 'data-testid="households-ignored"' in text(response)


def test_the_search_takes_no_names_or_phone_numbers_beyond_digits(console, place):
    response = console.get("/console/setup?q=" + quote("张三"))
    assert set(rows(response)) == {place["h1"].id, place["h2"].id}
    assert "不能填姓名、电话" in text(response)
    assert households.searchable("3-2-1201") and not households.searchable("张三") and not households.searchable("a%")
    assert 'pattern="[0-9A-Za-z\\- ]{0,20}"' in text(response)  # the browser will not send anything else


def test_never_visited_households_come_first_then_the_longest_ago(console, place):
    recent, old = make_household(place["community"], place["g1"], room="501"), \
        make_household(place["community"], place["g1"], room="502")
    visited(recent, place["b1"], 2)
    visited(old, place["b1"], 200)
    visited(old, place["b1"], 100)  # its last visit
    make_visit(place["h1"], place["b1"], visited_at=utcnow() - timedelta(days=1), deleted=True)  # counts for nothing
    visited(place["h1"], place["b1"], 150)
    assert rows(console.get("/console/setup?sort=visit")) == [place["h2"].id, place["h1"].id, old.id, recent.id]


@pytest.mark.parametrize("sort", households.SORTS)
def test_household_pages_neither_skip_nor_repeat_even_when_households_are_added_between_pages(session, place, sort):
    community = place["community"]
    made = [make_household(community, place["g1"], building=f"{i % 4 + 1}栋", unit="", room=str(100 + i))
            for i in range(23)]
    for i, household in enumerate(made[:9]):
        visited(household, place["b1"], 10 + i % 3)  # ties in the last visit are broken by the address
    seen, after, pages = [], None, []
    while True:
        page = households.household_page(session, community.id,
                                         households.HouseholdQuery(sort=sort, after=after, limit=5))
        assert page.total == 25 + (1 if seen else 0)
        pages.append([h.id for h, _ in page.rows])
        seen += pages[-1]
        if len(seen) == 5:  # one comes between the first page and the second, before the rows still to come
            make_household(community, None, building="9栋", unit="", room="1")
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == len(set(seen)) == 26
    # and back again from the last page: the same pages, in the same order
    before, back = page.prev_before, [pages[-1]]
    while before:
        page = households.household_page(session, community.id,
                                         households.HouseholdQuery(sort=sort, before=before, limit=5))
        back.insert(0, [h.id for h, _ in page.rows])
        before = page.prev_before
    assert [row for rows_ in back for row in rows_] == seen


def test_the_page_links_keep_the_filters_and_walk_every_household(console, place):
    for i in range(households.PAGE + 3):
        make_household(place["community"], place["g1"], building="3栋", unit="", room=str(200 + i))
    first = console.get(f"/console/setup?grid={place['g1'].id}&sort=visit")
    assert len(rows(first)) == households.PAGE and "共 54 户" in text(first)
    assert link(first, "households-prev") is None and link(first, "households-first") is None
    following = link(first, "households-next")
    assert f"grid={place['g1'].id}" in following and "sort=visit" in following
    second = console.get(following)
    assert len(rows(second)) == 4 and link(second, "households-next") is None
    assert len(set(rows(first) + rows(second))) == 54 and place["h1"].id in rows(first) + rows(second)
    assert rows(console.get(link(second, "households-prev"))) == rows(first)
    assert rows(console.get(link(second, "households-first"))) == rows(first)


@pytest.mark.parametrize("token", ["nonsense", "W10", "WyJwcmlvcml0eSIsIDEsICIyMDI2LTEyLTAxVDAwOjAwOjAwKzAwOjAwIiwgIngiXQ"])
def test_an_edited_household_page_link_shows_the_first_page_with_a_word_on_it(console, place, token):
    for where in ("after", "before"):
        response = console.get(f"/console/setup?{where}={token}")
        assert set(rows(response)) == {place["h1"].id, place["h2"].id}
        assert 'data-testid="households-bad"' in text(response)


def test_a_supervisor_of_another_community_sees_none_of_its_households(client, place, session):
    outsider = make_user("supervisor", community_id=place["other"].id)
    assert log_in(client, outsider.username).status_code == 302
    assert rows(client.get("/console/setup")) == [place["oh"].id]
    response = client.get(f"/console/setup?grid={place['g1'].id}")  # this community's grid is not theirs
    assert rows(response) == [place["oh"].id] and 'data-testid="households-ignored"' in text(response)
    # a page link of this community's list, sent by them, finds only their own households after it
    page = households.household_page(session, place["community"].id, households.HouseholdQuery(limit=1))
    assert rows(client.get(f"/console/setup?after={page.next_after}")) == [place["oh"].id]


def test_an_admin_pages_through_the_community_chosen_and_the_links_keep_it(client, place):
    admin = make_user("admin")
    for i in range(households.PAGE):
        make_household(place["other"], None, building="8栋", unit="", room=str(300 + i))
    assert log_in(client, admin.username).status_code == 302
    first = client.get(f"/console/setup?community={place['other'].id}")
    assert "共 51 户" in text(first) and place["h1"].id not in rows(first)
    following = link(first, "households-next")
    assert f"community={place['other'].id}" in following
    assert len(rows(client.get(following))) == 1


def test_adding_a_household_still_works_and_shows_its_building(console, place):
    r = post(console, "/console/setup/households", {"building": "5栋", "unit": "", "room": "808", "status": "rented",
                                                   "area_m2": "", "grid_id": "", "visit_cycle_days": "90", "tags": "",
                                                   "notes": ""}, "/console/setup")
    assert r.status_code == 302 and "building=" in r.headers["Location"]
    html = text(console.get(r.headers["Location"]))
    assert "5栋-808" in html and "共 1 户" in html


# ---- notices ---------------------------------------------------------------------------------------

def test_notices_are_pinned_first_then_newest_and_withdrawn_last_with_a_state_filter(console, place):
    now = utcnow()
    old = make_notice(place["community"], published_at=now - timedelta(days=3))
    pinned = make_notice(place["community"], published_at=now - timedelta(days=9), pinned=True)
    new = make_notice(place["community"], published_at=now - timedelta(hours=1))
    later = make_notice(place["community"], published_at=now + timedelta(days=2))
    gone = make_notice(place["community"], published_at=now, deleted=True, pinned=True)
    make_notice(place["other"])
    response = console.get("/console/notices")
    assert rows(response, NOTICE) == [pinned.id, later.id, new.id, old.id, gone.id]
    assert "共 5 条公告" in text(response)
    assert rows(console.get("/console/notices?state=published"), NOTICE) == [pinned.id, new.id, old.id]
    assert rows(console.get("/console/notices?state=scheduled"), NOTICE) == [later.id]
    assert rows(console.get("/console/notices?state=withdrawn"), NOTICE) == [gone.id]
    ignored = console.get("/console/notices?state=draft")
    assert len(rows(ignored, NOTICE)) == 5 and 'data-testid="notices-ignored"' in text(ignored)


def test_pinning_or_withdrawing_goes_back_to_the_same_filtered_list(console, place, session):
    notice = make_notice(place["community"], published_at=utcnow() - timedelta(days=1))
    page = console.get("/console/notices?state=published")
    action = re.search(rf'action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrf_token"[^>]*>\s*<input type="hidden" '
                       rf'name="pinned"', text(page)).group(1).replace("&amp;", "&")
    assert action.startswith(f"/console/notices/{notice.id}/pin") and "state=published" in action
    r = post(console, action, {"pinned": "on"}, "/console/notices?state=published")
    assert r.status_code == 302 and "state=published" in r.headers["Location"]
    assert 'data-testid="notice-pinned"' in text(console.get(r.headers["Location"]))


def test_notice_pages_neither_skip_nor_repeat_and_walk_back(console, place, session):
    base = utcnow() - timedelta(days=30)
    for i in range(notices.PAGE + 4):
        make_notice(place["community"], published_at=base + timedelta(hours=i // 3), pinned=i % 11 == 0,
                    deleted=i % 13 == 0)
    first = console.get("/console/notices")
    assert len(rows(first, NOTICE)) == notices.PAGE
    new = make_notice(place["community"], published_at=utcnow())  # it lands on the first page, not the second
    second = console.get(link(first, "notices-next"))
    assert len(rows(second, NOTICE)) == 4 and not set(rows(first, NOTICE)) & set(rows(second, NOTICE))
    assert "共 55 条公告" in text(second)
    # back: the 50 before the second page, the new one among them, and the one left over a page before that
    back = console.get(link(second, "notices-prev"))
    shown = rows(first, NOTICE)
    assert set(rows(back, NOTICE)) == set(shown[1:]) | {new.id} and rows(back, NOTICE)[-1] == shown[-1]
    assert rows(console.get(link(back, "notices-prev")), NOTICE) == rows(first, NOTICE)[:1]
    state = console.get("/console/notices?state=withdrawn")
    assert len(rows(state, NOTICE)) == 5 and link(state, "notices-next") is None


def test_an_edited_notice_page_link_shows_the_first_page_with_a_word_on_it(console, place, session):
    notice = make_notice(place["community"])
    other_list = households.household_page(session, place["community"].id, households.HouseholdQuery(limit=1))
    for token in ("nonsense", other_list.next_after):  # a households' token is not a notices' one
        response = console.get(f"/console/notices?after={token}")
        assert rows(response, NOTICE) == [notice.id] and 'data-testid="notices-bad"' in text(response)


def test_a_supervisor_of_another_community_sees_none_of_its_notices(client, place):
    make_notice(place["community"], title="本小区停水")
    theirs = make_notice(place["other"], title="外小区公告")
    outsider = make_user("supervisor", community_id=place["other"].id)
    assert log_in(client, outsider.username).status_code == 302
    response = client.get("/console/notices")
    assert rows(response, NOTICE) == [theirs.id] and "本小区停水" not in text(response)


def test_a_token_is_read_only_for_the_order_that_wrote_it():
    order = keyset.Order("x", (keyset.Key(None, int), keyset.Key(None, datetime), keyset.Key(None, str)), False,
                         lambda row: row)
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert keyset.read_token(order, keyset.token(order, (1, at, "a"))) == [1, at, "a"]
    other = keyset.Order("y", order.keys, False, lambda row: row)
    for bad in (keyset.token(other, (1, at, "a")), keyset.token(order, (True, at, "a")),
                keyset.token(order, ("1", at, "a")), keyset.token(order, (1, "2026-12-01T00:00:00", "a"))):
        with pytest.raises(keyset.BadPageToken):
            keyset.read_token(order, bad)


@pytest.mark.parametrize("values", [[1, "2026-12-01T00:00:00+00:00", "\x00"],  # a NUL
                                    [2 ** 40, "2026-12-01T00:00:00+00:00", "x"],  # beyond 32 bits
                                    [1, "9999-12-31T23:59:00-14:00", "x"],  # beyond the last UTC time
                                    [1, "2026-12-01T00:00:00", "x"],  # not aware
                                    [1, "2026-12-01T00:00:00+00:00", "x", "extra"], [[1], "x", "x"]])
def test_a_token_with_values_a_database_would_refuse_shows_the_first_page(console, place, values):
    """Hand-made tokens of the notices' own order: never a 500, the first page with a word on it."""
    token = base64.urlsafe_b64encode(json.dumps(["notices", *values]).encode()).decode().rstrip("=")
    for where in ("after", "before"):
        response = console.get(f"/console/notices?{where}={token}")
        assert response.status_code == 200 and 'data-testid="notices-bad"' in text(response)


def test_a_well_made_token_of_the_notices_order_is_read():
    token = base64.urlsafe_b64encode(json.dumps(["notices", 1, "2026-12-01T08:00:00+08:00", "x"]).encode()).decode()
    assert notices._ORDER.name == "notices"
    assert keyset.read_token(notices._ORDER, token) == [1, datetime(2026, 12, 1, tzinfo=timezone.utc), "x"]
