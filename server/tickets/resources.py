"""Residents' requests (报事报修)."""
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource
from server.tickets.models import Ticket
from server.tickets.schemas import TicketSchema
from server.tickets.service import TICKET_RULES

# Handing a ticket on (server/tickets/handoff.py): to a team, a person, or back to the butler.
_HAND_OFF = fields("team_id", "assignee_id", "handoff_note")

RESOURCES = [
    # The status and its holder are moved by state machines: never a merge conflict (serial).
    Resource("ticket", "tickets", Ticket, TicketSchema, TICKET_RULES,
             filters=("household_id", "status", "category", "priority", "assignee_id", "team_id"),
             scope="in_household_or_assigned",
             synced=True, residents_read=True, attachments=True, serial_fields=fields("status", *_HAND_OFF),
             # Who read a ticket (the console's ticket page): what was asked and the resident's comment.
             read_fields=fields("description", "rating_comment"),
             rights={"butler": Rights(create=fields("household_id", "category", "description", "priority"),
                                      update=fields("category", "description", "priority", "status", "resolution_note",
                                                    "backoffice_rating", *_HAND_OFF)),
                     "resident": Rights(create=fields("household_id", "category", "description", "priority"),
                                        update=fields("status", "rating", "rating_comment", "not_fixed"),
                                        hidden=fields("backoffice_rating", "handoff_note", "handoffs")),
                     "supervisor": Rights(create=fields("household_id", "category", "description", "priority",
                                                       *_HAND_OFF),
                                          update=fields("category", "description", "priority", "status",
                                                        "resolution_note",
                                                        *_HAND_OFF)),
                     # The back office: the jobs handed to them or their team; the address, not the household.
                     "technician": Rights(update=fields("status", "resolution_note", *_HAND_OFF),
                                          hidden=fields("backoffice_rating", "rating_comment"))}),
]
