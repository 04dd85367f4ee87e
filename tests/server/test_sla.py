"""Tickets' service levels: escalation past the time to accept or to resolve, with a clock the test sets."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from server.tickets.models import Ticket
from server.tickets.sla import Sla, escalate_overdue
from tests.factories import make_community, make_grid, make_household, make_ticket, make_user

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def household(session):
    community = make_community()
    return make_household(community, make_grid(community, make_user("butler", community_id=community.id)))


def ticket(household, *, age: timedelta, **fields) -> Ticket:
    return make_ticket(household, created_at=NOW - age, updated_at=NOW - age, **fields)


def escalated(session, now=NOW, sla=Sla()):
    found = escalate_overdue(session, sla=sla, now=now)
    session.commit()
    return {t.id: t.escalated for t in found}


def test_a_ticket_nobody_accepted_in_fifteen_minutes_is_escalated(session, household):
    late = ticket(household, age=timedelta(minutes=16), status="dispatched")
    on_time = ticket(household, age=timedelta(minutes=14), status="dispatched")
    assert escalated(session) == {late.id: "accept"}
    assert (late.escalated_at, late.version) == (NOW, 2)
    assert on_time.escalated is None


def test_escalating_again_flags_nothing_twice(session, household):
    ticket(household, age=timedelta(hours=1), status="new")
    assert len(escalated(session)) == 1
    assert escalated(session, now=NOW + timedelta(minutes=5)) == {}


def test_a_repair_is_due_in_a_day_and_a_complaint_in_three(session, household):
    repair = ticket(household, age=timedelta(hours=25), status="in_progress", category="repair")
    complaint = ticket(household, age=timedelta(hours=25), status="accepted", category="complaint")
    old_complaint = ticket(household, age=timedelta(hours=73), status="accepted", category="complaint")
    assert escalated(session) == {repair.id: "resolve", old_complaint.id: "resolve"}
    assert complaint.escalated is None


def test_a_ticket_escalated_for_acceptance_is_escalated_again_for_resolution(session, household):
    late = ticket(household, age=timedelta(minutes=30), status="new", category="repair")
    assert escalated(session) == {late.id: "accept"}
    late.status = "accepted"
    session.commit()
    assert escalated(session, now=NOW + timedelta(hours=24)) == {late.id: "resolve"}


def test_a_reopened_ticket_waits_for_acceptance_on_a_clock_from_its_reopening(session, household):
    reopened = ticket(household, age=timedelta(days=2), status="dispatched",
                      reopened_at=NOW - timedelta(minutes=10))
    assert Sla().deadline(reopened) == ("accept", NOW + timedelta(minutes=5))
    assert escalated(session) == {}
    assert escalated(session, now=NOW + timedelta(minutes=6)) == {reopened.id: "accept"}


@pytest.mark.parametrize("status", ["resolved", "closed", "cancelled"])
def test_finished_tickets_are_never_escalated(session, household, status):
    ticket(household, age=timedelta(days=10), status=status)
    assert escalated(session) == {}


def test_the_times_are_configurable(session, household):
    sla = Sla.from_config({"SLA_ACCEPT_MINUTES": 60, "SLA_RESOLVE_HOURS": "repair=2"})
    waiting = ticket(household, age=timedelta(minutes=30), status="dispatched")
    repair = ticket(household, age=timedelta(hours=3), status="accepted", category="repair")
    assert escalated(session, sla=sla) == {repair.id: "resolve"}
    assert waiting.escalated is None
    assert sla.resolve["complaint"] == timedelta(hours=72)


@pytest.mark.parametrize("text", ["repair", "plumbing=3", "repair=-1", "repair=soon"])
def test_a_malformed_setting_is_refused_at_start(text):
    with pytest.raises(ValueError):
        Sla.from_config({"SLA_RESOLVE_HOURS": text})


def test_the_cli_escalates_and_phones_see_the_flag(session, household, runner, client):
    from tests.factories import auth

    late = ticket(household, age=timedelta(days=2), status="dispatched")
    out = runner.invoke(args=["escalate"])
    assert out.exit_code == 0 and "escalated=1" in out.output
    butler = session.get(type(household), household.id)
    from server.community.models import Grid
    from server.auth.models import User

    grid = session.get(Grid, butler.grid_id)
    body = client.get(f"/api/v1/tickets/{late.id}", headers=auth(session.get(User, grid.butler_id))).get_json()
    assert body["escalated"] == "accept" and body["escalated_at"]


# ---- urgent tickets (紧急): shorter clocks ----------------------------------------------------------

def test_an_urgent_ticket_is_escalated_after_five_minutes_unaccepted_and_four_hours_unresolved(session, household):
    waiting = ticket(household, age=timedelta(minutes=6), status="dispatched", priority="urgent")
    waiting_normal = ticket(household, age=timedelta(minutes=6), status="dispatched")
    in_hand = ticket(household, age=timedelta(hours=5), status="in_progress", category="complaint", priority="urgent")
    in_hand_normal = ticket(household, age=timedelta(hours=5), status="in_progress", category="complaint")
    assert escalated(session) == {waiting.id: "accept", in_hand.id: "resolve"}
    assert waiting_normal.escalated is None and in_hand_normal.escalated is None
    assert Sla().deadline(waiting) == ("accept", waiting.created_at + timedelta(minutes=5))
    assert Sla().deadline(in_hand) == ("resolve", in_hand.created_at + timedelta(hours=4))


def test_the_urgent_clocks_are_configurable_and_checked_at_start(session, household):
    sla = Sla.from_config({"SLA_URGENT_ACCEPT_MINUTES": 2, "SLA_URGENT_RESOLVE_HOURS": 1})
    late = ticket(household, age=timedelta(minutes=3), status="new", priority="urgent")
    assert escalated(session, sla=sla) == {late.id: "accept"}
    with pytest.raises(ValueError, match="SLA_URGENT_ACCEPT_MINUTES"):
        Sla.from_config({"SLA_URGENT_ACCEPT_MINUTES": 0})
