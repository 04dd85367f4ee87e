"""notifications take a place in the change order, so the open app's channel never skips one
whose transaction commits after a later one's

Revision ID: b7e2c4f9a1d3
Revises: a9e3b7d1c5f6
Create Date: 2026-12-04 14:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'b7e2c4f9a1d3'
down_revision = 'a9e3b7d1c5f6'
branch_labels = None
depends_on = None


def upgrade():
    # Events written before this revision sit at 0, before every cursor the new server hands out:
    # an app holding an old cursor (a plain event id) is given a new one and hears only new events.
    with op.batch_alter_table('notification') as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('notification') as batch_op:
        batch_op.alter_column('seq', server_default=None)
        batch_op.create_index('ix_notification_seq_id', ['seq', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification') as batch_op:
        batch_op.drop_index('ix_notification_seq_id')
        batch_op.drop_column('seq')
