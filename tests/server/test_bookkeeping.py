"""One function writes a replicated record's sync bookkeeping, and a change without it is caught."""
import sqlalchemy as sa

from server.records import new_id, utcnow
from server.visits.models import Visit
from server.syncing import bookkeeping
from server.syncing.changes import high_water
from tests.factories import make_community, make_grid, make_household, make_user


def test_a_change_gets_a_new_version_time_and_place_in_the_order(session):
    household = make_household(make_community())
    before = (household.version, household.updated_at, household.seq)
    household.room = "1202"
    bookkeeping.changed(session, "household", household)
    session.commit()
    assert household.version == before[0] + 1
    assert household.updated_at >= before[1]
    assert before[2] < household.seq <= high_water(session)


def test_a_new_record_starts_at_version_one_in_the_order_and_its_wire_form_follows_it(session):
    household = make_household(make_community())
    butler = make_user("butler")
    row = bookkeeping.created(session, "visit", {"id": new_id(), "household_id": household.id,
                                                 "butler_id": butler.id, "visited_at": utcnow(), "notes": "漏水"})
    assert (row["version"], row["deleted"]) == (1, False)
    assert row["seq"] > household.seq
    assert row["wire_version"] == 1 and '"notes":"漏水"' in row["wire"]
    visit = Visit(**row)
    session.add(visit)
    session.commit()
    visit.notes = "已修好"
    bookkeeping.changed(session, "visit", visit)
    session.commit()
    assert (visit.version, visit.wire_version) == (2, 2)
    assert '"notes":"已修好"' in session.scalar(sa.select(Visit.wire).where(Visit.id == visit.id))


def test_a_change_without_it_is_found_before_it_is_flushed(session):
    community = make_community()
    grid = make_grid(community)
    grid.name = "二号网格"
    assert bookkeeping.unbookkept(session) == [grid]
    bookkeeping.changed(session, "grid", grid)
    assert bookkeeping.unbookkept(session) == []
    grid.name = "三号网格"  # changed again after booking, in the same flush: the new version covers it
    assert bookkeeping.unbookkept(session) == []


def test_a_record_read_but_not_changed_is_not_a_change(session):
    household = make_household(make_community())
    session.expire_all()
    assert household.room
    assert bookkeeping.unbookkept(session) == []
