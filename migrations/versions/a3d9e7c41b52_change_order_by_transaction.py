"""sync: on PostgreSQL, number changes by transaction id (no shared lock for writers)

Revision ID: a3d9e7c41b52
Revises: b7e2c4f9a1d3
Create Date: 2026-12-04 15:00:00

Existing records keep their numbers and phones keep their cursors: the offset puts every new
number above the last one the counter handed out, so an old cursor still means "after this".
"""
from alembic import op
import sqlalchemy as sa

revision = 'a3d9e7c41b52'
down_revision = 'b7e2c4f9a1d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_counter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('xid_offset', sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        # seq = transaction id + offset > value for every transaction from now on.
        op.execute("UPDATE sync_counter SET xid_offset = value + 1 WHERE id = 1")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # Back to the counter: continue above every number handed out since.
        op.execute("UPDATE sync_counter SET value = GREATEST(value, "
                   "pg_current_xact_id()::text::bigint + xid_offset) WHERE id = 1")
    with op.batch_alter_table('sync_counter', schema=None) as batch_op:
        batch_op.drop_column('xid_offset')
