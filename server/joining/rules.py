"""The pure rules of joining a household: invite codes, an invite's state, and who may remove whom.

No database and no Flask here, so tests/domain checks them in milliseconds.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

# Easy to read aloud and to type on a phone: no 0/O, 1/I/L, and upper case only.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # 31^8 ≈ 8.5 × 10^11 codes; with throttling no one guesses a live one
VALID_FOR = timedelta(days=7)


def new_code() -> str:
    """A fresh random code (8 characters of ALPHABET)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """The code as stored: upper case, without spaces or dashes ("abcd-efgh" -> "ABCDEFGH")."""
    return "".join(ch for ch in (typed or "").upper() if ch not in " -\t")


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def display_code(code: str) -> str:
    """Grouped in fours for reading aloud: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def hash_code(secret_key: str, code: str) -> str:
    """A keyed hash: a copy of the database alone does not let anyone try the ~2^40 codes offline."""
    return hmac.new(secret_key.encode(), f"invite:{normalize_code(code)}".encode(), hashlib.sha256).hexdigest()


def invite_state(*, expires_at: datetime, used_at: datetime | None, revoked_at: datetime | None,
                 now: datetime) -> str:
    """"active", "used", "revoked" or "expired". Only an active invite can be used."""
    if revoked_at is not None:
        return "revoked"
    if used_at is not None:
        return "used"
    if now >= expires_at:
        return "expired"
    return "active"


def may_remove(*, actor_role: str | None, actor_id: str, target_role: str | None, target_id: str,
               same_household: bool) -> bool:
    """An owner may remove a family member or a tenant of their own household; nobody else may
    remove anyone this way (another owner, or a whole move-out, goes through the supervisor)."""
    return (same_household and actor_id != target_id and actor_role == "owner"
            and target_role in ("family", "tenant"))
