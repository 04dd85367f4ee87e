"""Custody (房屋托管) as record types: the contract of a household and its butler's inspections."""
from server.custody.models import CustodyContract, CustodyInspection
from server.custody.schemas import CustodyContractSchema, CustodyInspectionSchema
from server.custody.service import CONTRACT_RULES, INSPECTION_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

_CONTRACT = fields("household_id", "owner_name", "start_date", "end_date", "services", "inspection_every_days",
                   "note")
_INSPECTION = fields("household_id", "contract_id", "butler_id", "inspected_at", "checklist", "done")

RESOURCES = [
    # Supervisors write contracts; the household's butler and residents read them. The owner's
    # name is the household file: its reads are audited.
    Resource("custody_contract", "custody-contracts", CustodyContract, CustodyContractSchema, CONTRACT_RULES,
             filters=("household_id",), scope="in_household", synced=True, residents_read=True,
             personal_fields=fields("owner_name"),
             rights={"supervisor": Rights(create=_CONTRACT, update=_CONTRACT - {"household_id"}, delete=True)}),
    # The butler's inspections, made offline; the residents read them (they are the owner's report).
    # Made before the butler lost the household, still accepted (grace).
    Resource("custody_inspection", "custody-inspections", CustodyInspection, CustodyInspectionSchema,
             INSPECTION_RULES, filters=("household_id", "contract_id", "butler_id"), scope="in_household",
             synced=True, residents_read=True, grace=True, attachments=True,
             rights={"butler": Rights(create=_INSPECTION, update=_INSPECTION - {"household_id"}, delete=True,
                                      own_only=True),
                     "supervisor": Rights(update=_INSPECTION - {"household_id", "butler_id", "contract_id"},
                                          delete=True)}),
]
