"""sync: index a household's records in change order, (household_id, seq, id)

Revision ID: c5e8a2d4f7b9
Revises: a3d9e7c41b52
Create Date: 2026-12-04 18:15:00

On PostgreSQL a pull far behind walks the user's households, one short range of this index each,
instead of every change the deployment wrote since its cursor. The index replaces the one on
household_id alone, whose lookups it serves as well.
"""
from alembic import op

revision = 'c5e8a2d4f7b9'
down_revision = 'a3d9e7c41b52'
branch_labels = None
depends_on = None

TABLES = ('person', 'visit', 'touchpoint', 'ticket', 'order')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_household_seq_id', ['household_id', 'seq', 'id'], unique=False)
            batch_op.drop_index(batch_op.f(f'ix_{table}_household_id'))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_household_id'), ['household_id'], unique=False)
            batch_op.drop_index(f'ix_{table}_household_seq_id')
