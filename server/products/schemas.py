"""Wire formats of the service catalogue and orders."""
from __future__ import annotations

from marshmallow import fields

from server.products.models import ORDER_STATUSES, PRODUCT_CATEGORIES
from server.wire import RecordSchema, in_range, max_length, one_of


class ProductSchema(RecordSchema):
    code = fields.String(attribute="id", dump_only=True)
    name = fields.String(required=True, validate=max_length(100))
    name_en = fields.String(validate=max_length(100))
    category = fields.String(required=True, validate=one_of(PRODUCT_CATEGORIES))
    price = fields.Float(required=True, validate=in_range(0, 1000000))
    unit = fields.String(required=True, validate=max_length(20))
    active = fields.Boolean()


class OrderSchema(RecordSchema):
    household_id = fields.String()  # a resident's own household when left out
    product_code = fields.String(required=True)
    quantity = fields.Integer(validate=in_range(1, 999))
    status = fields.String(validate=one_of(ORDER_STATUSES))
    note = fields.String(validate=max_length(1000))
    ordered_by = fields.String(dump_only=True)
    recommended_by = fields.String(dump_only=True)
    reason = fields.String(validate=max_length(500))  # why it was cancelled or refunded
    # The steps' times, stamped by the server (server/products/service.py): the resident's timeline.
    confirmed_at = fields.AwareDateTime(dump_only=True)
    delivered_at = fields.AwareDateTime(dump_only=True)
    cancelled_at = fields.AwareDateTime(dump_only=True)
    refunded_at = fields.AwareDateTime(dump_only=True)
