"""Residents' requests (报事报修)."""
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource
from server.tickets.models import Ticket
from server.tickets.schemas import TicketSchema
from server.tickets.service import TICKET_RULES

RESOURCES = [
    # The status is moved by a state machine: never a merge conflict (serial).
    Resource("ticket", "tickets", Ticket, TicketSchema, TICKET_RULES,
             filters=("household_id", "status", "category", "assignee_id"), scope="in_household_or_assigned",
             synced=True, residents_read=True, serial_fields=fields("status"),
             rights={"butler": Rights(create=fields("household_id", "category", "description"),
                                      update=fields("category", "description", "status", "resolution_note",
                                                    "backoffice_rating")),
                     "resident": Rights(create=fields("household_id", "category", "description"),
                                        update=fields("status", "rating", "rating_comment", "not_fixed"),
                                        hidden=fields("backoffice_rating")),
                     "supervisor": Rights(create=fields("household_id", "category", "description", "assignee_id"),
                                          update=fields("category", "description", "status", "assignee_id",
                                                        "resolution_note"))}),
]
