"""The steps a ticket's write adds to its one timeline: no HTTP, no database (server/tickets/events.py)."""
from datetime import datetime, timezone

from server.tickets import handoff
from server.tickets.events import escalation_step, steps_of
from server.tickets.models import Ticket

AT = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)


def ticket(**values) -> Ticket:
    base = dict(id="t-1", household_id="h-1", category="repair", status="dispatched", assignee_id=None,
                team_id=None, handoffs=[], rating=None, reopened_at=None, escalated=None)
    return Ticket(**{**base, **values})


def entry(kind, team_id=None, assignee_id=None, note="", by="u-1"):
    return handoff.entry(kind, by=by, team_id=team_id, assignee_id=assignee_id, note=note, at=AT)


def kinds(steps):
    return [step["kind"] for step in steps]


def test_a_new_ticket_starts_its_timeline_with_created_and_who_has_it():
    steps = steps_of(ticket(assignee_id="butler-1"), {}, True)
    assert steps == [{"kind": "created", "from_value": None, "to_value": "dispatched", "team_id": None, "note": ""},
                     {"kind": "assignee", "from_value": None, "to_value": "butler-1", "team_id": None, "note": ""}]


def test_a_ticket_raised_straight_for_a_team_is_created_then_assigned_to_the_team():
    steps = steps_of(ticket(team_id="team-1", handoffs=[entry("assigned", team_id="team-1")]), {}, True)
    assert kinds(steps) == ["created", "assigned"]
    assert (steps[1]["to_value"], steps[1]["team_id"]) == (None, "team-1")


def test_a_hand_off_is_one_step_with_its_team_from_to_and_reason_not_also_an_assignee_step():
    first = [entry("assigned", team_id="team-1")]
    after = ticket(team_id="team-2", assignee_id="tech-2",
                   handoffs=[*first, entry("transferred", team_id="team-2", assignee_id="tech-2", note="电梯问题，转维保")])
    steps = steps_of(after, {"assignee_id": "tech-1", "team_id": "team-1", "handoffs": first}, False)
    assert steps == [{"kind": "transferred", "from_value": "tech-1", "to_value": "tech-2", "team_id": "team-2",
                      "note": "电梯问题，转维保"}]


def test_grabbing_from_the_pool_is_the_status_change_and_the_grab():
    first = [entry("assigned", team_id="team-1")]
    after = ticket(status="accepted", team_id="team-1", assignee_id="tech-1",
                   handoffs=[*first, entry("grabbed", team_id="team-1", assignee_id="tech-1", by="tech-1")])
    steps = steps_of(after, {"status": "dispatched", "assignee_id": None, "handoffs": first}, False)
    assert kinds(steps) == ["status", "grabbed"]
    assert (steps[0]["from_value"], steps[0]["to_value"]) == ("dispatched", "accepted")
    assert (steps[1]["from_value"], steps[1]["to_value"], steps[1]["team_id"]) == (None, "tech-1", "team-1")


def test_giving_a_ticket_back_carries_the_reason():
    first = [entry("assigned", team_id="team-1"), entry("grabbed", team_id="team-1", assignee_id="tech-1")]
    after = ticket(status="dispatched", assignee_id="butler-1",
                   handoffs=[*first, entry("returned", assignee_id="butler-1", note="业主不在家，需另约时间")])
    steps = steps_of(after, {"status": "accepted", "assignee_id": "tech-1", "team_id": "team-1",
                             "handoffs": first}, False)
    assert kinds(steps) == ["status", "returned"]
    assert (steps[1]["from_value"], steps[1]["to_value"], steps[1]["note"]) == ("tech-1", "butler-1",
                                                                                 "业主不在家，需另约时间")


def test_a_change_between_staff_is_an_assignee_step():
    steps = steps_of(ticket(assignee_id="butler-2"), {"assignee_id": "butler-1"}, False)
    assert steps == [{"kind": "assignee", "from_value": "butler-1", "to_value": "butler-2", "team_id": None,
                      "note": ""}]


def test_a_write_that_hands_nothing_on_adds_no_hand_off_step_though_the_ticket_has_some():
    logged = [entry("assigned", team_id="team-1")]
    steps = steps_of(ticket(status="resolved", rating=4, handoffs=logged), {"rating": None}, False)
    assert kinds(steps) == ["rated"]


def test_a_reopening_is_one_step():
    steps = steps_of(ticket(status="accepted", reopened_at=AT, rating=1),
                     {"status": "resolved", "reopened_at": None, "rating": None}, False)
    assert kinds(steps) == ["reopened", "rated"]


def test_an_escalation_step_names_the_stage_and_who_held_it():
    assert escalation_step(ticket(escalated="accept", team_id="team-1")) == {
        "kind": "escalated", "from_value": None, "to_value": "accept", "team_id": "team-1", "note": ""}
    assert escalation_step(ticket(status="in_progress", escalated="resolve", assignee_id="butler-1"))["from_value"] \
        == "butler-1"
