"""Each record type is declared once, by its area; the lists the app keeps are derived from those
declarations. These tests state what the product promises of each type, independently of how the
declarations spell it, so a new type that forgets an attribute shows here."""
import pytest

from server.resources.hooks import Rules
from server.resources.registry import Resource, household_children, registry, types
from server.wire import WireSchema


def test_the_types_phones_replicate():
    assert types(synced=True) == {"household", "person", "visit", "touchpoint", "ticket", "product", "order",
                                  "notice", "checkin", "team", "attachment", "incident", "incident_check", "poll",
                                  "poll_answer", "activity", "activity_signup", "custody_contract", "custody_inspection"}


def test_what_hangs_on_a_household_is_evicted_and_purged_with_it():
    assert set(household_children()) == {"person", "visit", "touchpoint", "ticket", "order", "attachment",
                                         "incident_check", "poll_answer", "activity_signup", "custody_contract",
                                         "custody_inspection"}


def test_only_types_whose_writes_never_change_an_audience_take_the_fast_path():
    # Orders tell people of each write: the batch runs that once it has passed (server/resources/batch.py).
    assert types(fast=True) == {"person", "visit", "touchpoint", "order"}
    # A household moves grids and a ticket changes assignee: their writes change who sees what.
    assert not types(fast=True) & {"household", "ticket"}


def test_butlers_work_is_accepted_for_a_while_after_they_lost_the_household():
    # a photo comes with its visit; a custody inspection is the butler's work too
    assert types(grace=True) == {"visit", "touchpoint", "attachment", "custody_inspection"}


def test_a_tickets_status_and_hand_offs_and_an_orders_status_are_serial_and_never_a_merge_conflict():
    assert registry()["ticket"].serial_fields == {"status", "team_id", "assignee_id", "handoff_note"}
    assert registry()["order"].serial_fields == {"status"}
    # A household's answer to an emergency: its own rules decide (the later answer, help never undone).
    assert registry()["incident_check"].serial_fields == {"incident_id", "household_id", "answer", "source", "note",
                                                          "answered_at"}
    assert all(not res.serial_fields for rtype, res in registry().items()
               if rtype not in ("ticket", "order", "incident_check"))


def test_the_household_file_is_what_reads_of_are_audited():
    assert {"name", "phone", "birth_year"} <= registry()["person"].personal_fields
    assert {"building", "unit", "room"} <= registry()["household"].personal_fields
    assert not registry()["ticket"].personal_fields
    assert registry()["custody_contract"].personal_fields == {"owner_name"}


def test_a_product_is_named_by_its_code():
    assert registry()["product"].key == "code"
    assert {res.key for rtype, res in registry().items() if rtype != "product"} == {"id"}


def test_a_scope_that_does_not_exist_is_refused_when_declared():
    with pytest.raises(ValueError, match="unknown scope"):
        Resource("thing", "things", object, WireSchema, Rules(), scope="everywhere")


def test_each_type_has_its_own_collection():
    plurals = [res.plural for res in registry().values()]
    assert len(plurals) == len(set(plurals))
