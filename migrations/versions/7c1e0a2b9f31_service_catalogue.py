"""the service catalogue every community starts with (服务产品落地)

Revision ID: 7c1e0a2b9f31
Revises: 53564a925525
Create Date: 2026-11-27 10:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '7c1e0a2b9f31'
down_revision = '53564a925525'
branch_labels = None
depends_on = None

# A snapshot, not an import of application code: migrations must replay the same forever.
CATALOGUE = [
    # code, name, English name, category, price (yuan), unit
    ("water", "桶装水", "Bottled water", "life", 18.00, "桶"),
    ("move_in", "拎包入住", "Move-in ready", "life", 1999.00, "次"),
    ("cleaning", "居家保洁", "Home cleaning", "house", 45.00, "小时"),
    ("repair", "居家维修", "Home repair", "house", 50.00, "次"),
    ("custody", "房屋托管", "Property custody", "asset", 300.00, "月"),
]

product = sa.table(
    "product",
    sa.column("code", sa.String), sa.column("name", sa.String), sa.column("name_en", sa.String),
    sa.column("category", sa.String), sa.column("price", sa.Numeric(10, 2)), sa.column("unit", sa.String),
    sa.column("active", sa.Boolean), sa.column("version", sa.Integer), sa.column("deleted", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade():
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    op.bulk_insert(product, [
        {"code": code, "name": name, "name_en": name_en, "category": category, "price": price,
         "unit": unit, "active": True, "version": 1, "deleted": False, "created_at": now, "updated_at": now}
        for code, name, name_en, category, price, unit in CATALOGUE
    ])


def downgrade():
    op.execute(product.delete().where(product.c.code.in_([row[0] for row in CATALOGUE])))
