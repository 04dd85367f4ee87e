"""audit trail: who read a household's personal data and who changed what, when

Revision ID: d2a7c5e81f40
Revises: b7d2e9f41c03
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'd2a7c5e81f40'
down_revision = 'b7d2e9f41c03'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
