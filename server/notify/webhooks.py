"""Configuring a community's webhooks (the console will call these too; for now, the CLI).

A webhook's URL follows the rules of push endpoints (addresses.py): https on a host of
WEBHOOK_ALLOWED_HOSTS (by default WeCom's group robots), its default port, no credentials; plain
http only to a listed loopback host.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import i18n
from server.community.models import Community
from server.errors import FieldError, ValidationFailed
from server.notify import addresses
from server.notify.models import WEBHOOK_KINDS, Delivery, Webhook
from server.records import utcnow

# WeCom 企业微信 group robots post to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
DEFAULT_ALLOWED_HOSTS = "qyapi.weixin.qq.com"


def allowed_hosts(config) -> tuple[str, ...]:
    return addresses.host_list(config.get("WEBHOOK_ALLOWED_HOSTS"), DEFAULT_ALLOWED_HOSTS)


def url_problem(url: str, hosts: tuple[str, ...]) -> str | None:
    """Why a webhook may not be posted to (a field error code), or None when it may."""
    return addresses.field_error(url, hosts, "webhook")


def add(session: Session, *, community_id: str, url: str, kind: str, hosts: tuple[str, ...]) -> Webhook:
    """A new webhook of the community; a URL off the rules is refused (ValidationFailed on `url`)."""
    if session.get(Community, community_id) is None:
        raise ValueError(f"no community {community_id}")
    if kind not in WEBHOOK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(WEBHOOK_KINDS)}")
    if problem := url_problem(url, hosts):
        raise ValidationFailed([FieldError("url", problem)])
    hook = Webhook(community_id=community_id, url=url, kind=kind, created_at=utcnow())
    session.add(hook)
    session.flush()
    return hook


def explain(error: ValidationFailed) -> str:
    """A refusal as the command line shows it: each problem in Chinese, then English."""
    return "\n".join(" / ".join(i18n.field_error_message(problem.code, problem.field, language)
                                for language in i18n.LANGUAGES) for problem in error.errors)


def remove(session: Session, webhook_id: str) -> bool:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        return False
    session.execute(sa.update(Delivery).where(Delivery.webhook_id == hook.id, Delivery.status == "pending")
                    .values(status="gone", claimed_by=None, claimed_until=None))
    session.delete(hook)
    return True
