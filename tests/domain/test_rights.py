"""Who may write which fields of which record type, as each type declares it (scopes.rights)."""
import pytest

from server.auth import scopes
from server.auth.models import User
from server.resources.registry import registry


def user(role: str) -> User:
    return User(id=f"{role}-1", role=role, username=role, name=role, password_hash="-")


def test_an_administrator_may_write_every_field_of_every_type():
    admin = user("admin")
    for rtype in registry():
        assert scopes.fields_refused(admin, rtype, ["anything"], creating=True) == []
        assert scopes.rights(admin, rtype).delete


def test_a_resident_raises_a_request_but_never_sees_the_butler_s_rating_of_the_back_office():
    resident = user("resident")
    assert scopes.fields_refused(resident, "ticket", ["household_id", "category", "description"], creating=True) == []
    assert scopes.fields_refused(resident, "ticket", ["assignee_id"], creating=True) == ["assignee_id"]
    assert "backoffice_rating" in scopes.hidden_fields(resident, "ticket")


def test_a_butler_rates_the_back_office_and_a_resident_rates_the_work():
    assert scopes.may_write_field(user("butler"), "ticket", "backoffice_rating", creating=False)
    assert not scopes.may_write_field(user("butler"), "ticket", "rating", creating=False)
    assert scopes.may_write_field(user("resident"), "ticket", "rating", creating=False)


def test_a_supervisor_corrects_a_visit_but_cannot_move_it_to_another_household_or_butler():
    supervisor = user("supervisor")
    assert scopes.fields_refused(supervisor, "visit", ["notes", "household_id", "butler_id"], creating=False) == \
        ["household_id", "butler_id"]
    assert not scopes.rights(supervisor, "visit").create


@pytest.mark.parametrize("role", ["butler", "resident", "supervisor"])
def test_a_type_that_does_not_exist_grants_nothing(role):
    assert scopes.rights(user(role), "spaceship") == scopes.rights(user(role), "no-such-type")
    assert not scopes.rights(user(role), "spaceship").create
