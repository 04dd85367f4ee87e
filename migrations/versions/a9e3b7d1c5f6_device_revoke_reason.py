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
    with op.batch_alter_table('device') as batch_op:
        batch_op.add_column(sa.Column('revoke_reason', sa.String(length=20), nullable=True))
    # Devices revoked before this revision: a supervisor's revocation cannot be told from a logout
    # any more, so none of them is told to wipe (they stay logged out, as they were).
    op.execute("UPDATE device SET revoke_reason = 'logout' WHERE revoked_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('device') as batch_op:
        batch_op.drop_column('revoke_reason')
