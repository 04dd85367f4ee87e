"""sync: keep each record's wire form beside it (visits, touchpoints, tickets, orders, notices, check-ins)

Revision ID: b3f7d1e9c2a4
Revises: c5e8a2d4f7b9
Create Date: 2026-12-05 13:40:00

A pull sends a record's kept JSON as it is rather than reading and dumping its columns. Records
written before this revision have none and are dumped from their columns, as before: nothing has
to be filled in, and no phone has to pull anything again.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b3f7d1e9c2a4'
down_revision = 'c5e8a2d4f7b9'
branch_labels = None
depends_on = None

TABLES = ('visit', 'touchpoint', 'ticket', 'order', 'notice', 'checkin')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('wire', sa.Text(), nullable=True))
            batch_op.add_column(sa.Column('wire_version', sa.Integer(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('wire_version')
            batch_op.drop_column('wire')
