"""The pure rules of joining a household: codes, an invite's state, who may remove whom."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from server.joining import rules

NOW = datetime(2026, 12, 6, 8, tzinfo=timezone.utc)
LATER = NOW + rules.VALID_FOR


def state(**overrides):
    values = {"expires_at": LATER, "used_at": None, "revoked_at": None, "now": NOW, **overrides}
    return rules.invite_state(**values)


def test_a_new_code_has_eight_characters_of_the_unambiguous_alphabet():
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(rules.is_well_formed(c) for c in codes)
    assert not set("".join(codes)) & set("01OIL")


def test_a_typed_code_ignores_case_spaces_and_dashes():
    assert rules.normalize_code(" abcd-efgh ") == "ABCDEFGH"
    assert rules.display_code("ABCDEFGH") == "ABCD-EFGH"


def test_the_hash_depends_on_the_key_and_not_on_how_the_code_was_typed():
    assert rules.hash_code("k", "abcd efgh") == rules.hash_code("k", "ABCDEFGH")
    assert rules.hash_code("k", "ABCDEFGH") != rules.hash_code("other", "ABCDEFGH")
    assert "ABCDEFGH" not in rules.hash_code("k", "ABCDEFGH")


def test_an_invite_is_valid_for_seven_days():
    assert rules.VALID_FOR == timedelta(days=7)
    assert state() == "active"
    assert state(now=LATER - timedelta(seconds=1)) == "active"
    assert state(now=LATER) == "expired"


def test_a_used_invite_cannot_be_used_again():
    assert state(used_at=NOW) == "used"


def test_a_revoked_invite_stays_revoked_whatever_else_happened():
    assert state(revoked_at=NOW, used_at=NOW, now=LATER) == "revoked"


@pytest.mark.parametrize("target_role", ["family", "tenant"])
def test_an_owner_may_remove_family_and_tenants(target_role):
    assert rules.may_remove(actor_role="owner", actor_id="a", target_role=target_role, target_id="b",
                            same_household=True)


@pytest.mark.parametrize("actor_role, target_role, same, target_id", [
    ("owner", "owner", True, "b"),      # another owner: the supervisor's move-out path
    ("family", "tenant", True, "b"),    # only owners remove
    ("tenant", "family", True, "b"),
    ("owner", "family", False, "b"),    # not of their household
    ("owner", "owner", True, "a"),      # not themselves
    (None, "family", True, "b"),        # a resident with no role yet
])
def test_nobody_else_may_remove_anyone(actor_role, target_role, same, target_id):
    assert not rules.may_remove(actor_role=actor_role, actor_id="a", target_role=target_role,
                                target_id=target_id, same_household=same)
