"""The pull cursor: opaque to clients, signed so that a forged or foreign one is never trusted."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Cursor:
    seq: int  # every change with a higher sequence number is still to be sent
    resend: bool = False  # inside a full resend: tombstones and evictions are not needed


def encode(cursor: Cursor, *, key: bytes, user_id: str) -> str:
    body = base64.urlsafe_b64encode(json.dumps([cursor.seq, int(cursor.resend)]).encode()).decode().rstrip("=")
    return f"{body}.{_sign(body, key, user_id)}"


def decode(text: str, *, key: bytes, user_id: str) -> Cursor | None:
    """The cursor, or None when it was not made by this server for this user."""
    body, _, signature = text.partition(".")
    if not hmac.compare_digest(signature, _sign(body, key, user_id)):
        return None
    try:
        seq, resend = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if not isinstance(seq, int) or seq < 0:
            return None
        return Cursor(seq=seq, resend=bool(resend))
    except (ValueError, TypeError):
        return None


def _sign(body: str, key: bytes, user_id: str) -> str:
    digest = hmac.new(key, f"{user_id}:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
