"""joining: invites, requests to join, and a resident's role in their household

Revision ID: a7e3c9d1f5b2
Revises: b3f7d1e9c2a4
Create Date: 2026-12-06 00:30:00

Several residents share a household, each as its owner, family or tenant (null for everyone else,
and for residents bound to nothing). Invites keep only a keyed hash of their code. Existing
residents keep no role until someone gives them one: nothing is guessed.
"""
import sqlalchemy as sa
from alembic import op


revision = 'a7e3c9d1f5b2'
down_revision = 'b3f7d1e9c2a4'
branch_labels = None
depends_on = None


def _role(name='household_role'):
    return sa.Enum('owner', 'family', 'tenant', name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_role', _role(), nullable=True))

    op.create_table(
        'invite',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('household_id', sa.String(length=36), nullable=False),
        sa.Column('household_role', _role(), nullable=False),
        sa.Column('issued_by', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_by', sa.String(length=36), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_invite_household_id_household')),
        sa.ForeignKeyConstraint(['issued_by'], ['user_account.id'], name=op.f('fk_invite_issued_by_user_account')),
        sa.ForeignKeyConstraint(['used_by'], ['user_account.id'], name=op.f('fk_invite_used_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invite')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_invite_code_hash')),
    )
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_household_id'), ['household_id'], unique=False)

    op.create_table(
        'join_request',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('household_id', sa.String(length=36), nullable=False),
        sa.Column('household_role', _role(), nullable=False),
        sa.Column('owner_name', sa.String(length=512), nullable=False),
        sa.Column('status', sa.Enum('pending', 'approved', 'refused', name='join_request_status', native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.String(length=36), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_join_request_user_id_user_account')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'],
                                name=op.f('fk_join_request_household_id_household')),
        sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'],
                                name=op.f('fk_join_request_decided_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_join_request')),
    )
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_request_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_join_request_status_household', ['status', 'household_id'], unique=False)


def downgrade():
    op.drop_table('join_request')
    op.drop_table('invite')
    # The column's CHECK constraint goes first, or SQLite's copy of the table would still name it.
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint('household_role', type_='check')
        batch_op.drop_column('household_role')
