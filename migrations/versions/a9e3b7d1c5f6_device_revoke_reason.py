"""why a device's token died: a revoked phone wipes its local data at its next contact

Revision ID: a9e3b7d1c5f6
Revises: f8c4d6b2a9e1
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'a9e3b7d1c5f6'
down_revision = 'f8c4d6b2a9e1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
