"""ticket escalation: a ticket past its service level is flagged (accept or resolve) and when

Revision ID: f6d58dbc0a40
Revises: 59e50d31f1c6
Create Date: 2026-11-27 13:40:38.536262

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6d58dbc0a40'
down_revision = '59e50d31f1c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('escalated')

