"""The service catalogue (服务产品) and residents' orders from it."""
from server.products.models import Order, Product
from server.products.schemas import OrderSchema, ProductSchema
from server.products.service import ORDER_RULES
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource

_ORDER = fields("household_id", "product_code", "quantity", "note")

RESOURCES = [
    # Company-wide: administrators write it, everyone reads what is on offer.
    Resource("product", "products", Product, ProductSchema, filters=("category",), scope="catalogue", synced=True,
             key="code"),
    # Its status moves by a state machine (server/products/service.py): never a merge conflict (serial).
    # Written the fast way in a sync batch: each write tells its people (after_write), which the batch
    # runs for its fast writes once it has passed, just before it commits (server/resources/batch.py).
    Resource("order", "orders", Order, OrderSchema, ORDER_RULES, filters=("household_id", "product_code", "status"),
             scope="in_household", synced=True, fast=True, residents_read=True, serial_fields=fields("status"),
             rights={"butler": Rights(create=_ORDER, update=fields("quantity", "note", "status", "reason")),
                     "resident": Rights(create=_ORDER, update=fields("status", "reason")),
                     "supervisor": Rights(create=_ORDER, update=fields("quantity", "note", "status", "reason"),
                                          delete=True)}),
]
