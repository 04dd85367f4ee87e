"""operations: the monthly work plan and quality inspections

Revision ID: e5b1f9a3c7d2
Revises: d2a7c5e81f40
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'e5b1f9a3c7d2'
down_revision = 'd2a7c5e81f40'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
