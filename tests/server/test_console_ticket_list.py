"""The console's ticket list (server/console/tickets.py, server/tickets/listing.py): filters, sorts,
keyset pages that neither skip nor repeat a ticket, lateness as the SLA counts it, and reassigning the
ticked tickets together (all or none), always within the supervisor's community."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.records import utcnow
from server.tickets import listing
from server.tickets.models import Ticket
from server.tickets.sla import Sla
from tests.factories import make_ticket
from tests.support.console import log_in, post, text, two_grids_and_a_neighbour

ROW = re.compile(r'data-testid="ticket-row" data-id="([^"]+)"')


@pytest.fixture
def place(session):
    return two_grids_and_a_neighbour()


def aged(household, minutes: float, **fields) -> Ticket:
    at = utcnow() - timedelta(minutes=minutes)
    return make_ticket(household, created_at=at, updated_at=at, **fields)


@pytest.fixture
def console(client, place):
    assert log_in(client, place["supervisor"].username).status_code == 302
    return client


def rows(response) -> list[str]:
    assert response.status_code == 200
    return ROW.findall(text(response))


def test_open_tickets_come_urgent_first_then_oldest_first_with_age_due_and_a_preview(console, place):
    asked = "厨房水龙头一直在滴水，晚上声音很大，麻烦尽快来看一下。另外卫生间的地漏也有点堵，洗澡时水下得很慢，谢谢管家"
    old = aged(place["h1"], 60 * 30, status="accepted", category="repair", assignee_id=place["b1"].id,
               description=asked)
    new = aged(place["h2"], 5, status="dispatched", category="repair")
    urgent = aged(place["h2"], 1, status="new", priority="urgent", category="repair")
    aged(place["h1"], 10, status="resolved")  # not open
    aged(place["oh"], 10, status="new")  # another community's
    response = console.get("/console/tickets")
    assert rows(response) == [urgent.id, old.id, new.id]
    html = text(response)
    assert "共 3 张工单" in html
    assert asked[:40] + "…" in html and asked not in html  # its first forty characters
    assert "1天6小时" in html  # the old ticket's age
    assert "超时 6小时" in html  # 30 h in hand, a repair is due in 24 h
    assert re.search("剩 (9|10)分钟", html)  # the new one has 15 minutes to be accepted, 5 gone
    assert f'href="/console/tickets/{old.id}"' in html  # the row opens the ticket


def test_the_filters_narrow_the_list(console, place):
    repair = aged(place["h1"], 60, status="dispatched", category="repair", assignee_id=place["b1"].id)
    complaint = aged(place["h2"], 60, status="accepted", category="complaint", assignee_id=place["b2"].id)
    nobody = aged(place["h2"], 30, status="new", category="repair")
    done = aged(place["h1"], 30, status="closed", category="repair")
    assert rows(console.get("/console/tickets?category=complaint")) == [complaint.id]
    assert rows(console.get(f"/console/tickets?grid={place['g1'].id}")) == [repair.id]
    assert rows(console.get(f"/console/tickets?assignee={place['b2'].id}")) == [complaint.id]
    assert rows(console.get("/console/tickets?assignee=none")) == [nobody.id]
    assert rows(console.get("/console/tickets?status=closed")) == [done.id]
    assert set(rows(console.get("/console/tickets?status=all"))) == {repair.id, complaint.id, nobody.id, done.id}
    assert rows(console.get("/console/tickets?sort=newest")) == [nobody.id, complaint.id, repair.id]
    # a value the list does not know counts as none, and another community's grid finds nothing of it
    assert len(rows(console.get("/console/tickets?category=nonsense&priority=%00"))) == 3
    other_grid = place["oh"].grid_id
    assert rows(console.get(f"/console/tickets?grid={other_grid}")) == []


def test_overdue_means_what_the_sla_says(console, place, session):
    late_accept = aged(place["h1"], 20, status="dispatched")  # 15 min to accept
    on_time = aged(place["h1"], 10, status="dispatched")
    late_resolve = aged(place["h2"], 60 * 25, status="in_progress", category="repair")  # 24 h
    complaint = aged(place["h2"], 60 * 25, status="in_progress", category="complaint")  # 72 h
    urgent = aged(place["h2"], 6, status="new", priority="urgent")  # 5 min
    handed = aged(place["h1"], 60, status="dispatched", handed_at=utcnow() - timedelta(minutes=3))
    found = rows(console.get("/console/tickets?overdue=1"))
    assert set(found) == {late_accept.id, late_resolve.id, urgent.id}
    now, sla = utcnow(), Sla()
    for ticket in (late_accept, on_time, late_resolve, complaint, urgent, handed):  # the same rule as each row's
        assert (ticket.id in found) == (sla.deadline(ticket)[1] <= now)


@pytest.mark.parametrize("sort", listing.SORTS)
def test_keyset_pages_neither_skip_nor_repeat_even_when_tickets_are_written_between_pages(session, place, sort):
    base = utcnow() - timedelta(days=3)
    tickets = [make_ticket(place["h1" if i % 2 else "h2"], created_at=base + timedelta(minutes=i // 3),
                           updated_at=base + timedelta(minutes=i // 4), status="dispatched",
                           priority="urgent" if i % 7 == 0 else "normal") for i in range(23)]
    seen, after = [], None
    while True:
        page = listing.ticket_page(session, place["community"].id, listing.TicketQuery(sort=sort, after=after, limit=5),
                                   sla=Sla(), now=utcnow())
        assert page.total == 23 + (1 if seen else 0)
        seen += [ticket.id for ticket, _ in page.rows]
        if not seen[5:]:  # a new ticket arrives between the first page and the second
            make_ticket(place["h1"], status="new", created_at=utcnow(), updated_at=utcnow())
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == len(set(seen))
    assert set(ticket.id for ticket in tickets) <= set(seen)


@pytest.mark.parametrize("token", ["nonsense", "W10", "WyJvbGRlc3QiLCAiMjAyNi0xMi0wMVQwMDowMDowMCswMDowMCJd"])
def test_a_page_link_that_was_edited_shows_the_first_page_with_a_word_on_it(console, place, token):
    ticket = aged(place["h1"], 5, status="new")
    response = console.get(f"/console/tickets?after={token}")
    assert rows(response) == [ticket.id]
    assert 'data-testid="tickets-bad"' in text(response)


def test_the_next_page_link_keeps_the_filters(console, place):
    for i in range(listing.PAGE + 2):
        aged(place["h1"], 100 - i, status="dispatched", category="repair")
    aged(place["h1"], 5, status="dispatched", category="complaint")
    first = console.get("/console/tickets?category=repair&sort=oldest")
    assert len(rows(first)) == listing.PAGE
    link = re.search(r'href="([^"]+)" data-testid="tickets-next"', text(first)).group(1).replace("&amp;", "&")
    assert "category=repair" in link and "sort=oldest" in link
    second = console.get(link)
    assert len(rows(second)) == 2
    back = re.search(r'href="([^"]+)" data-testid="tickets-prev"', text(second)).group(1).replace("&amp;", "&")
    assert "category=repair" in back and rows(console.get(back)) == rows(first)
    assert 'data-testid="tickets-prev"' not in text(first)


def test_ticked_tickets_are_reassigned_together(console, place, session):
    one = aged(place["h1"], 5, status="dispatched", assignee_id=place["b1"].id)
    two = aged(place["h2"], 5, status="dispatched", assignee_id=place["b2"].id)
    r = console.post("/console/tickets/assign?grid=" + place["g1"].id, data={
        "ticket_id": [one.id, two.id], "assignee_id": place["b2"].id,
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', text(console.get("/console/tickets"))).group(1)})
    assert r.status_code == 302 and f"grid={place['g1'].id}" in r.headers["Location"]
    session.expire_all()
    assert {t.assignee_id for t in session.scalars(sa.select(Ticket).where(Ticket.id.in_([one.id, two.id])))} == {
        place["b2"].id}
    assert "2 张工单已改派给张管家" in text(console.get(r.headers["Location"]))


def test_a_bulk_reassignment_with_one_ticket_out_of_reach_changes_none(console, place, session):
    mine = aged(place["h1"], 5, status="dispatched", assignee_id=place["b1"].id)
    theirs = aged(place["oh"], 5, status="dispatched", assignee_id=place["ob"].id)
    r = post(console, "/console/tickets/assign", {"ticket_id": [mine.id, theirs.id], "assignee_id": place["b2"].id},
             "/console/tickets")
    assert r.status_code in (403, 404)
    html = text(r)
    assert 'data-testid="tickets-bulk-error"' in html
    assert f'value="{mine.id}" id="pick-{mine.id}" data-testid="ticket-pick" checked' in html  # still ticked
    session.expire_all()
    assert session.get(Ticket, mine.id).assignee_id == place["b1"].id
    assert session.get(Ticket, theirs.id).assignee_id == place["ob"].id


@pytest.mark.parametrize("data", [{"assignee_id": "B2"}, {"ticket_id": "T"}, {"ticket_id": "T", "assignee_id": ""}])
def test_a_bulk_reassignment_missing_a_part_says_so_and_changes_nothing(console, place, session, data):
    ticket = aged(place["h1"], 5, status="dispatched", assignee_id=place["b1"].id)
    data = {k: {"B2": place["b2"].id, "T": ticket.id}.get(v, v) for k, v in data.items()}
    r = post(console, "/console/tickets/assign", data, "/console/tickets")
    assert r.status_code == 422 and 'data-testid="tickets-bulk-error"' in text(r)
    session.expire_all()
    assert session.get(Ticket, ticket.id).assignee_id == place["b1"].id


def test_reassigning_and_escalating_are_on_the_ticket_s_own_page(console, place):
    ticket = aged(place["h1"], 5, status="dispatched", assignee_id=place["b1"].id)
    html = text(console.get(f"/console/tickets/{ticket.id}"))
    page = f"/console/tickets/{ticket.id}"
    assert f'action="{page}/assignee"' in html and f'action="{page}/escalate"' in html
    refused = post(console, f"{page}/escalate", {"stage": "later"}, page)
    assert refused.status_code == 422 and 'data-testid="ticket-actions"' in text(refused)
    closed = aged(place["h1"], 5, status="closed")
    assert 'data-testid="ticket-actions"' not in text(console.get(f"/console/tickets/{closed.id}"))
