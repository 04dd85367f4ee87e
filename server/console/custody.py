"""The console's custody (房屋托管) pages: the community's homes in custody with their next
inspection, and one household's custody page: its contract (written here, through the same domain
rules as the REST API), its inspections with their photos, its keys and their log, and the owner's
report links (made here; the token is shown once and never kept)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, g, request, url_for

from server.audit import service as audit
from server.community.models import Household
from server.console import photos
from server.console.pages import (address, bp, current_community, done, failed, language, render_page, t, today,
                                  zone_name)
from server.console.auth import console_login_required
from server.console.setup import _household_or_refuse
from server.custody import keys as custody_keys
from server.custody import report as reports
from server.custody import service as schedule
from server.custody.models import SERVICES, CustodyContract, CustodyInspection
from server.custody.words import SERVICE_WORDS
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.resources import service

LATEST = 20
CONTRACT_FIELDS = ("owner_name", "start_date", "end_date", "inspection_every_days", "note")


def _contract(household_id: str) -> CustodyContract | None:
    return db.session.scalar(sa.select(CustodyContract).where(
        CustodyContract.household_id == household_id, CustodyContract.deleted.is_(False)).limit(1))


def _service_names() -> dict[str, str]:
    return {name: SERVICE_WORDS[name][1 if language() == "en" else 0] for name in SERVICES}


def _page(household: Household, refused: dict | None = None, new_link: str | None = None, status: int = 200):
    contract = _contract(household.id)
    zone = ZoneInfo(zone_name())
    inspections = list(db.session.scalars(sa.select(CustodyInspection).where(
        CustodyInspection.household_id == household.id, CustodyInspection.deleted.is_(False))
        .order_by(CustodyInspection.inspected_at.desc()).limit(LATEST)))
    of_inspections = photos.of_records("custody_inspection", [i.id for i in inspections])
    due = None
    if contract is not None:
        # The owner's name is the household file: showing it is a read the audit trail records.
        audit.record_reads(db.session, user=g.user, via=audit.Via("console", g.device.id), reads=[
            ("custody_contract", {"id": contract.id, "household_id": household.id, "owner_name": contract.owner_name})])
        db.session.commit()
        last = inspections[0].inspected_at.astimezone(zone).date() if inspections else None
        due_on = schedule.next_due(contract, last)
        due = {"on": due_on, "state": schedule.due_state(due_on, today()),
               "status": schedule.contract_status(contract, today())}
    return render_page(
        "console/custody.html", refused, status=status, household=household, contract=contract, due=due,
        title=t("cus_title", address=address(household)), services=_service_names(),
        inspections=[(i, photos.visit_photos(of_inspections.get(i.id, []), _service_names())) for i in inspections],
        keys=custody_keys.keys_of(db.session, household.id), links=reports.links_of(db.session, household.id),
        new_link=new_link, this_month=today().strftime("%Y-%m"),
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"))


@bp.get("/households/<household_id>/custody")
@console_login_required
def custody_of_household(household_id: str):
    """One household's custody: contract, next inspection, inspections, keys and report links."""
    return _page(_household_or_refuse(household_id))


@bp.post("/households/<household_id>/custody/contract")
@console_login_required
def custody_contract_save(household_id: str):
    """Write the household's contract, or change it (a renewal changes its dates)."""
    household = _household_or_refuse(household_id)
    values = {name: request.form.get(name, "").strip() for name in CONTRACT_FIELDS}
    values["services"] = request.form.getlist("services")
    data = {**values, "end_date": values["end_date"] or None}
    if values["inspection_every_days"].isdigit():
        data["inspection_every_days"] = int(values["inspection_every_days"])
    contract = _contract(household.id)
    try:
        via = audit.Via("console", g.device.id)
        if contract is None:
            service.create(db.session, user=g.user, rtype="custody_contract",
                           data={**data, "household_id": household.id}, via=via)
        else:
            service.update(db.session, user=g.user, rtype="custody_contract", record_id=contract.id, data=data,
                           via=via)
        db.session.commit()
    except ApiError as error:
        return _page(household, failed(error, "contract", contract.id if contract else None, values))
    return done(t("cus_contract_saved"), "console.custody_of_household", household_id=household.id)


@bp.post("/households/<household_id>/custody/keys")
@console_login_required
def custody_key_add(household_id: str):
    """A key handed to the company to keep."""
    household = _household_or_refuse(household_id)
    values = {name: request.form.get(name, "") for name in ("label", "holder")}
    try:
        custody_keys.add_key(db.session, user=g.user, household_id=household.id, **values)
        db.session.commit()
    except ApiError as error:
        return _page(household, failed(error, "key", None, values))
    return done(t("cus_key_added", label=values["label"].strip()), "console.custody_of_household",
                household_id=household.id)


@bp.post("/households/<household_id>/custody/keys/<key_id>/<move>")
@console_login_required
def custody_key_move(household_id: str, key_id: str, move: str):
    """Sign a key out (to whom, why) or back in."""
    household = _household_or_refuse(household_id)
    values = {name: request.form.get(name, "") for name in ("person", "reason")}
    try:
        if move == "out":
            custody_keys.sign_out(db.session, user=g.user, key_id=key_id, **values)
        elif move == "in":
            custody_keys.sign_in(db.session, user=g.user, key_id=key_id)
        else:
            abort(404)
        db.session.commit()
    except ApiError as error:
        return _page(household, failed(error, f"key-{key_id}", key_id, values))
    return done(t("cus_key_out" if move == "out" else "cus_key_in"), "console.custody_of_household",
                household_id=household.id)


def _month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValidationFailed([FieldError("month", "invalid")]) from None


@bp.post("/households/<household_id>/custody/links")
@console_login_required
def custody_link_create(household_id: str):
    """A link to one month's report for the owner: shown once on the page that answers."""
    household = _household_or_refuse(household_id)
    values = {name: request.form.get(name, "").strip() for name in ("month", "days")}
    try:
        days = int(values["days"]) if values["days"] else reports.LINK_DAYS
        _, token = reports.create_link(db.session, user=g.user, household_id=household.id,
                                       month=_month(values["month"]), secret=current_app.config["SECRET_KEY"],
                                       days=days)
        db.session.commit()
    except ValueError:
        return _page(household, failed(ValidationFailed([FieldError("days", "invalid_type")]), "link", None, values))
    except ApiError as error:
        return _page(household, failed(error, "link", None, values))
    return _page(household, new_link=url_for("custody_report.report_page", token=token, _external=True))


@bp.post("/households/<household_id>/custody/links/<link_id>/revoke")
@console_login_required
def custody_link_revoke(household_id: str, link_id: str):
    """The link opens nothing any more."""
    household = _household_or_refuse(household_id)
    try:
        link = reports.revoke_link(db.session, user=g.user, link_id=link_id)
        if link.household_id != household.id:
            abort(404)
        db.session.commit()
    except ApiError as error:
        return _page(household, failed(error, f"link-{link_id}", link_id, {}))
    return done(t("cus_link_revoked"), "console.custody_of_household", household_id=household.id)


@bp.get("/custody")
@console_login_required
def custody():
    """The community's homes in custody: each contract's status and next inspection, overdue first."""
    community = current_community()
    rows = []
    if community is not None:
        due = {d.contract.id: d for d in schedule.schedule(db.session, community_id=community, today=today())}
        for contract, household in db.session.execute(
                sa.select(CustodyContract, Household).join(Household, Household.id == CustodyContract.household_id)
                .where(Household.community_id == community, Household.deleted.is_(False),
                       CustodyContract.deleted.is_(False))
                .order_by(Household.building, Household.unit, Household.room)):
            rows.append((household, contract, schedule.contract_status(contract, today()), due.get(contract.id)))
    rows.sort(key=lambda row: (row[3] is None, -(row[3].days_late if row[3] else 0)))
    return render_page("console/custody_list.html", rows=rows, services=_service_names())
