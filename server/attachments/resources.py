"""Attachments (photos) as a record type: phones make them with their record, offline, and sync them."""
from server.attachments.models import Attachment
from server.attachments.schemas import AttachmentSchema
from server.attachments.service import ATTACHMENT_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

_NEW = fields("household_id", "record_type", "record_id", "sha256", "content_type", "size", "width", "height",
              "role", "item", "taken_at")

RESOURCES = [
    # A photo never changes (its bytes are its name): it is added, or taken away by its author or a
    # supervisor. Who sees it is who sees its record. Taken offline before the butler lost the
    # household, it is still accepted with its visit (grace).
    Resource("attachment", "attachments", Attachment, AttachmentSchema, ATTACHMENT_RULES,
             filters=("household_id", "record_type", "record_id"), scope="of_record", synced=True, grace=True,
             residents_read=True,
             rights={"butler": Rights(create=_NEW, delete=True, own_only=True),
                     "resident": Rights(create=_NEW, delete=True, own_only=True),
                     "technician": Rights(create=_NEW, delete=True, own_only=True),
                     "supervisor": Rights(create=_NEW, delete=True)}),
]
