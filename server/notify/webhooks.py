"""Configuring a community's webhooks (the console will call these too; for now, the CLI)."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.community.models import Community
from server.notify.models import WEBHOOK_KINDS, Delivery, Webhook
from server.notify.subscriptions import LOOPBACK
from server.records import utcnow


def add(session: Session, *, community_id: str, url: str, kind: str) -> Webhook:
    """A webhook must be https (plain http only on this machine, for tests and local relays)."""
    if session.get(Community, community_id) is None:
        raise ValueError(f"no community {community_id}")
    if kind not in WEBHOOK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(WEBHOOK_KINDS)}")
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http") or (
            parts.scheme == "http" and parts.hostname not in LOOPBACK):
        raise ValueError("a webhook URL must be https://… (http only to 127.0.0.1 or localhost)")
    hook = Webhook(community_id=community_id, url=url, kind=kind, created_at=utcnow())
    session.add(hook)
    session.flush()
    return hook


def remove(session: Session, webhook_id: str) -> bool:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        return False
    session.execute(sa.update(Delivery).where(Delivery.webhook_id == hook.id, Delivery.status == "pending")
                    .values(status="gone", claimed_by=None, claimed_until=None))
    session.delete(hook)
    return True
