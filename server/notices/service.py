"""Domain rules of notices: a notice belongs to one community for good, and always has a title."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth.models import User
from server.errors import FieldError, Forbidden, ValidationFailed
from server.notices.models import Notice
from server.records import utcnow
from server.resources.hooks import Rules


def _check_title(values: dict) -> None:
    if "title" in values and not str(values["title"] or "").strip():
        raise ValidationFailed([FieldError("title", "required")])


def _notice_create(session: Session, user: User, values: dict) -> None:
    if user.role == "supervisor":
        values.setdefault("community_id", user.community_id)
        if not user.community_id or values["community_id"] != user.community_id:
            raise Forbidden(errors=[FieldError("community_id", "out_of_scope")])
    elif not values.get("community_id"):
        raise ValidationFailed([FieldError("community_id", "required")])
    _check_title(values)
    values["title"] = values["title"].strip()
    values.setdefault("published_at", utcnow())


def _notice_update(session: Session, user: User, notice: Notice, changes: dict) -> None:
    # Its readers are the community's: moving it elsewhere would leave it on the old readers' phones.
    if "community_id" in changes and changes["community_id"] != notice.community_id:
        raise Forbidden(errors=[FieldError("community_id", "not_writable")])
    _check_title(changes)
    if "title" in changes:
        changes["title"] = changes["title"].strip()


NOTICE_RULES = Rules(prepare_create=_notice_create, prepare_update=_notice_update)
