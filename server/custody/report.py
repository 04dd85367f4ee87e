"""The owner's monthly report of a home in custody, and the links that open it without an account.

A link's token is 256 random bits followed by an HMAC of them under the app's secret key: a forged
or mistyped token is refused before the database is asked, and the database keeps only the token's
SHA-256, so a copy of it opens nothing. The link names no household, owner or address: the token
alone finds the report. It expires (30 days unless the supervisor says otherwise) and a supervisor
may revoke it. Every refusal looks the same (404), so a stranger learns nothing from trying.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments.models import Attachment
from server.auth.models import User
from server.community.models import DEFAULT_TIMEZONE, Community, Household
from server.custody.models import CustodyContract, CustodyInspection, CustodyReportLink
from server.errors import FieldError, Forbidden, NotFound, ValidationFailed
from server.records import utcnow

LINK_DAYS = 30
MAX_LINK_DAYS = 366


def _sign(secret: bytes, body: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, body.encode(), hashlib.sha256).digest()[:16]).decode().rstrip("=")


def new_token(secret: bytes) -> str:
    body = secrets.token_urlsafe(32)
    return f"{body}.{_sign(secret, body)}"


def well_signed(secret: bytes, token: str) -> bool:
    body, _, signature = token.partition(".")
    return bool(body) and len(token) <= 128 and hmac.compare_digest(_sign(secret, body), signature)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _as_secret(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def create_link(session: Session, *, user: User, household_id: str, month: date, secret: str | bytes,
                days: int = LINK_DAYS) -> tuple[CustodyReportLink, str]:
    """A new link to one month's report of a household the supervisor holds; the token is returned
    once and never kept. The caller commits."""
    from server.resources import service as records

    if user.role not in ("supervisor", "admin"):
        raise Forbidden()
    records.get(session, user=user, rtype="household", record_id=household_id)  # 403/404 outside their scope
    if not 1 <= days <= MAX_LINK_DAYS:
        raise ValidationFailed([FieldError("days", "out_of_range", min=1, max=MAX_LINK_DAYS)])
    token = new_token(_as_secret(secret))
    now = utcnow()
    link = CustodyReportLink(household_id=household_id, month=month.replace(day=1), token_hash=token_hash(token),
                             expires_at=now + timedelta(days=days), created_by=user.id, created_at=now)
    session.add(link)
    session.flush()
    return link, token


def revoke_link(session: Session, *, user: User, link_id: str) -> CustodyReportLink:
    """The link opens nothing any more. The caller commits."""
    from server.resources import service as records

    link = session.get(CustodyReportLink, link_id)
    if link is None:
        raise NotFound()
    if user.role not in ("supervisor", "admin"):
        raise Forbidden()
    records.get(session, user=user, rtype="household", record_id=link.household_id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
    return link


def links_of(session: Session, household_id: str) -> list[CustodyReportLink]:
    return list(session.scalars(sa.select(CustodyReportLink).where(CustodyReportLink.household_id == household_id)
                                .order_by(CustodyReportLink.created_at.desc()).limit(50)))


def open_link(session: Session, *, token: str, secret: str | bytes) -> CustodyReportLink:
    """The live link a token opens; NotFound for a forged, unknown, expired or revoked one alike."""
    if not well_signed(_as_secret(secret), token):
        raise NotFound()
    link = session.scalar(sa.select(CustodyReportLink).where(CustodyReportLink.token_hash == token_hash(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise NotFound()
    return link


@dataclass
class Checked:
    inspection: CustodyInspection
    local_time: str
    answers: list[tuple[str, bool, str]]  # service, ok, note
    photos: list[Attachment] = field(default_factory=list)


@dataclass
class Report:
    household: Household
    community: Community
    contract: CustodyContract | None
    month: date
    inspections: list[Checked]

    @property
    def problems(self) -> list[tuple[Checked, str, str]]:
        return [(c, service, note) for c in self.inspections for service, ok, note in c.answers if not ok]


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=zone)
    return start, end


def monthly_report(session: Session, *, household_id: str, month: date) -> Report:
    """What was checked in the household that month, what was found and what was done, with photos.
    Read for a link already checked: no user scope here."""
    household = session.get(Household, household_id)
    if household is None or household.deleted:
        raise NotFound()
    community = session.get(Community, household.community_id)
    zone = ZoneInfo(community.timezone or DEFAULT_TIMEZONE)
    start, end = month_bounds(month, zone)
    contract = session.scalar(sa.select(CustodyContract).where(
        CustodyContract.household_id == household_id, CustodyContract.deleted.is_(False))
        .order_by(CustodyContract.start_date.desc()).limit(1))
    inspections = list(session.scalars(sa.select(CustodyInspection).where(
        CustodyInspection.household_id == household_id, CustodyInspection.deleted.is_(False),
        CustodyInspection.inspected_at >= start, CustodyInspection.inspected_at < end)
        .order_by(CustodyInspection.inspected_at, CustodyInspection.id)))
    photos: dict[str, list[Attachment]] = {}
    if inspections:
        for photo in session.scalars(sa.select(Attachment).where(
                Attachment.record_type == "custody_inspection",
                Attachment.record_id.in_([i.id for i in inspections]), Attachment.deleted.is_(False))
                .order_by(Attachment.created_at, Attachment.id)):
            photos.setdefault(photo.record_id, []).append(photo)
    checked = [Checked(i, i.inspected_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                       [(name, bool(answer.get("ok")), answer.get("note", "")) for name, answer in i.checklist.items()],
                       photos.get(i.id, [])) for i in inspections]
    return Report(household, community, contract, month.replace(day=1), checked)


def photo_of(session: Session, *, link: CustodyReportLink, attachment_id: str) -> Attachment:
    """A photo the link's report shows: of an inspection of its household in its month."""
    photo = session.get(Attachment, attachment_id)
    if photo is None or photo.deleted or photo.record_type != "custody_inspection" \
            or photo.household_id != link.household_id:
        raise NotFound()
    inspection = session.get(CustodyInspection, photo.record_id)
    community = session.get(Community, session.get(Household, link.household_id).community_id)
    start, end = month_bounds(link.month, ZoneInfo(community.timezone or DEFAULT_TIMEZONE))
    if inspection is None or inspection.deleted or not start <= inspection.inspected_at < end:
        raise NotFound()
    return photo
