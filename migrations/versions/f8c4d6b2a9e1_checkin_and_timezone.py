"""butlers' daily check-in (attendance) and each community's time zone

Revision ID: f8c4d6b2a9e1
Revises: e5b1f9a3c7d2
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'f8c4d6b2a9e1'
down_revision = 'e5b1f9a3c7d2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
