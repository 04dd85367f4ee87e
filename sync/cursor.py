"""The pull cursor: opaque to clients, signed so that a forged or foreign one is never trusted."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Cursor:
    """A position in the change order, which sorts changes by (seq, type, id).

    With `type` None the position is after everything at `seq`. Records written outside the
    change order share seq 0, so a page may end inside such a tie: type and id say where.
    """

    seq: int
    type: str | None = None
    id: str | None = None
    resend: bool = False  # inside a full resend: tombstones and evictions are not needed...
    base: int | None = None  # ...except those after this number, when the resend began

    def wants_removals(self, seq: int) -> bool:
        """Whether a tombstone or eviction at `seq` must be sent: always, except in a resend,
        where only those made after the resend began matter (the phone had dropped the rest)."""
        return not self.resend or (self.base is not None and seq > self.base)

    def before(self, seq: int, rtype: str, rid: str) -> bool:
        """Whether the change at (seq, rtype, rid) comes after this position."""
        if self.type is None:
            return seq > self.seq
        return (seq, rtype, rid) > (self.seq, self.type, self.id)


def encode(cursor: Cursor, *, key: bytes, user_id: str) -> str:
    raw = json.dumps([cursor.seq, int(cursor.resend), cursor.type, cursor.id, cursor.base], separators=(",", ":"))
    body = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{body}.{_sign(body, key, user_id)}"


def decode(text: str, *, key: bytes, user_id: str) -> Cursor | None:
    """The cursor, or None when it was not made by this server for this user."""
    body, _, signature = text.partition(".")
    # Only ASCII is compared as text (compare_digest refuses the rest); no cursor of ours holds any other.
    if not text.isascii() or not hmac.compare_digest(signature, _sign(body, key, user_id)):
        return None
    try:
        seq, resend, rtype, rid, base = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if not isinstance(seq, int) or seq < -1 or (rtype is None) != (rid is None):
            return None
        return Cursor(seq=seq, type=rtype, id=rid, resend=bool(resend), base=base)
    except (ValueError, TypeError):
        return None


def _sign(body: str, key: bytes, user_id: str) -> str:
    digest = hmac.new(key, f"{user_id}:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
