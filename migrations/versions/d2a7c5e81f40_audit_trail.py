"""audit trail: who read a household's personal data and who changed what, when

Revision ID: d2a7c5e81f40
Revises: b7d2e9f41c03
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = 'd2a7c5e81f40'
down_revision = 'b7d2e9f41c03'
branch_labels = None
depends_on = None


def upgrade():
    # Written out, not derived from the models: migrations must replay the same forever.
    # Household, record and device ids are not foreign keys: the trail outlives what it names.
    op.create_table(
        'audit_event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=True),
        sa.Column('community_id', sa.String(length=36), nullable=True),
        sa.Column('household_id', sa.String(length=36), nullable=True),
        sa.Column('action', sa.Enum('read', 'create', 'update', 'delete', 'create_user', 'reset_password',
                                    'revoke_device', name='audit_action', native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column('record_type', sa.String(length=20), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'),
                  nullable=False),
        sa.Column('channel', sa.Enum('api', 'sync', 'console', name='audit_channel', native_enum=False,
                                     create_constraint=True, length=20), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_event_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_household_id', ['household_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_user_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_community_id', ['community_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_community_id')
        batch_op.drop_index('ix_audit_event_user_id')
        batch_op.drop_index('ix_audit_event_household_id')
    op.drop_table('audit_event')
