"""tickets carry a priority: normal, or urgent (紧急) on shorter service-level clocks

Revision ID: f2b6d8a4c1e9
Revises: 5986b9d14fa2
Create Date: 2026-12-06 19:00:00

Every ticket there is becomes normal. Tickets' kept wire forms are dropped (set to NULL): they were
made without the new field, and the pull dumps a ticket from its columns until it is written again.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f2b6d8a4c1e9'
down_revision = '5986b9d14fa2'
branch_labels = None
depends_on = None


def upgrade():
    # The column first, then its CHECK (what sa.Enum(native_enum=False) makes): SQLite's batch mode
    # cannot build the table with a constraint on a column it is adding.
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=20), nullable=False, server_default='normal'))
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.alter_column('priority', server_default=None)
        batch_op.create_check_constraint('ticket_priority', "priority IN ('normal', 'urgent')")
    op.execute("UPDATE ticket SET wire = NULL, wire_version = NULL")


def downgrade():
    op.execute("UPDATE ticket SET wire = NULL, wire_version = NULL")
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ticket_ticket_priority'), type_='check')
        batch_op.drop_column('priority')
