"""A person's phone and year of birth are kept only with their consent (PIPL): the rule itself."""
import pytest

from server.community.service import apply_consent
from server.errors import ValidationFailed


def test_giving_consent_stamps_when_it_was_given():
    values = {"consent": True, "phone": "13800000000"}
    apply_consent(True, values, was_consenting=False)
    assert values["consent_at"] is not None and values["phone"] == "13800000000"


def test_consent_already_given_keeps_its_first_time():
    values = {"phone": "13800000000"}
    apply_consent(True, values, was_consenting=True)
    assert "consent_at" not in values


def test_withdrawing_consent_erases_phone_and_year_of_birth():
    values = {"consent": False}
    apply_consent(False, values, was_consenting=True)
    assert (values["phone"], values["birth_year"], values["consent_at"]) == (None, None, None)


def test_phone_or_year_of_birth_without_consent_is_refused_field_by_field():
    with pytest.raises(ValidationFailed) as refused:
        apply_consent(False, {"phone": "13800000000", "birth_year": 1950}, was_consenting=False)
    assert [(e.field, e.code) for e in refused.value.errors] == [("phone", "consent_required"),
                                                                ("birth_year", "consent_required")]


def test_a_name_alone_needs_no_consent():
    values = {"name": "王芳"}
    apply_consent(False, values, was_consenting=False)
    assert values == {"name": "王芳"}
