"""a user whose password a supervisor chose must set their own at first use

Revision ID: c8f2a6d4e1b7
Revises: b3e9d1f7c2a4
Create Date: 2026-12-06 04:00:00

One boolean column on user_account, false for every account there is (no one is locked out by the
upgrade); SQLite rebuilds the table in batch mode.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c8f2a6d4e1b7'
down_revision = 'b3e9d1f7c2a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('must_change_password', server_default=None)


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
