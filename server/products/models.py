"""Service products (服务产品) and orders."""
from __future__ import annotations

import sqlalchemy as sa
from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import KeepsWire, Synced, Tracked, UTCDateTime, enum, index_change_order, index_household_changes

PRODUCT_CATEGORIES = ("life", "house", "asset")
ORDER_STATUSES = ("placed", "confirmed", "delivered", "cancelled", "refunded")


class Product(Synced, Tracked, db.Model):
    __tablename__ = "product"

    # The product's code is its id on the wire; the catalogue names it in visits and orders.
    id: Mapped[str] = mapped_column("code", sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    category: Mapped[str] = mapped_column(enum(*PRODUCT_CATEGORIES, name="product_category"),
                                          nullable=False)
    price: Mapped[float] = mapped_column(sa.Numeric(10, 2, asdecimal=False), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)


class Order(Synced, Tracked, KeepsWire, db.Model):
    __tablename__ = "order"  # quoted by SQLAlchemy on both databases

    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    product_code: Mapped[str] = mapped_column(sa.ForeignKey("product.code"), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(enum(*ORDER_STATUSES, name="order_status"), nullable=False,
                                        default="placed")
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    ordered_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recommended_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # Why it was cancelled or refunded (staff must say; a resident may), and when each step happened:
    # the resident's timeline of the order (server/products/service.py moves it).
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


index_change_order(Product, Order)
index_household_changes(Order)
