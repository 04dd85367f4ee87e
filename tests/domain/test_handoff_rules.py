"""Who may hand a ticket on, and what kind of hand-off it is (server/tickets/handoff.py): no HTTP, no
database. 指派 assign, 抢单 grab, 转派 transfer, 退回 return."""
import pytest

from server.auth.models import User
from server.errors import Forbidden, ValidationFailed
from server.tickets import handoff
from server.tickets.models import STATUSES, Ticket


def user(role: str, uid: str = "u-1", team_id: str | None = None) -> User:
    return User(id=uid, role=role, username=uid, name=uid, password_hash="-", team_id=team_id)


def ticket(status: str = "dispatched", assignee_id: str | None = None, team_id: str | None = None) -> Ticket:
    return Ticket(id="t-1", household_id="h-1", category="repair", status=status, assignee_id=assignee_id,
                  team_id=team_id, handoffs=[])


def test_a_change_of_team_or_person_is_a_hand_off_and_the_same_holder_is_not():
    held = ticket(assignee_id="b-1")
    assert handoff.is_hand_off(held, {"team_id": "team-1"})
    assert handoff.is_hand_off(held, {"assignee_id": "t-9"})
    assert not handoff.is_hand_off(held, {"assignee_id": "b-1", "team_id": None})
    assert not handoff.is_hand_off(held, {"status": "accepted"})


@pytest.mark.parametrize("role", ["butler", "supervisor", "admin"])
def test_staff_assign_a_ticket_without_a_team_and_transfer_one_with_a_team(role):
    assert handoff.check(user(role), ticket(assignee_id="b-1"), {"team_id": "team-1"}) == "assigned"
    assert handoff.check(user(role), ticket(team_id="team-1"), {"team_id": "team-2"}) == "transferred"


def test_a_resident_hands_nothing_on():
    with pytest.raises(Forbidden):
        handoff.check(user("resident"), ticket(assignee_id="b-1"), {"team_id": "team-1"})


def test_a_technician_hands_on_only_what_they_hold_or_their_pool_holds():
    me = user("technician", "t-1", team_id="team-1")
    assert handoff.check(me, ticket(assignee_id="t-1", team_id="team-1"), {"team_id": "team-2"}) == "transferred"
    assert handoff.check(me, ticket(team_id="team-1"), {"assignee_id": "t-2"}) == "transferred"
    for other in (ticket(assignee_id="t-2", team_id="team-1"), ticket(team_id="team-2"), ticket(assignee_id="b-1")):
        with pytest.raises(Forbidden) as refused:
            handoff.check(me, other, {"team_id": "team-3"})
        assert refused.value.errors[0].code == "not_holder"


def test_a_technician_returns_to_the_butler_only_with_a_reason():
    me = user("technician", "t-1", team_id="team-1")
    held = ticket(status="accepted", assignee_id="t-1", team_id="team-1")
    for blank in ({"team_id": None}, {"team_id": None, "handoff_note": "   "}):
        with pytest.raises(ValidationFailed) as refused:
            handoff.check(me, held, blank)
        assert refused.value.errors[0].code == "reason_required"
    assert handoff.check(me, held, {"team_id": None, "handoff_note": "缺配件"}) == "returned"


@pytest.mark.parametrize("status", sorted(set(STATUSES) - handoff.HANDABLE))
@pytest.mark.parametrize("role", ["butler", "supervisor", "technician"])
def test_a_finished_ticket_is_handed_on_by_nobody(role, status):
    with pytest.raises(ValidationFailed) as refused:
        handoff.check(user(role, "t-1", team_id="team-1"), ticket(status, "t-1", "team-1"), {"team_id": "team-2"})
    assert refused.value.errors[0].code == "not_open"


def test_a_technician_holds_their_own_and_their_pool_s_unclaimed_tickets():
    me = user("technician", "t-1", team_id="team-1")
    assert handoff.holds(me, ticket(assignee_id="t-1"))
    assert handoff.holds(me, ticket(team_id="team-1"))
    assert not handoff.holds(me, ticket(team_id="team-1", assignee_id="t-2"))
    assert not handoff.holds(user("technician", "t-3"), ticket(team_id=None))


def test_the_log_keeps_the_latest_hand_offs():
    t = ticket()
    t.handoffs = [{"kind": "assigned", "n": n} for n in range(handoff.KEEP)]
    from datetime import datetime, timezone
    item = handoff.entry("returned", by="t-1", team_id=None, assignee_id="b-1", note="缺配件",
                         at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    log = handoff.logged(t, item)
    assert len(log) == handoff.KEEP and log[-1] == item and log[0]["n"] == 1
