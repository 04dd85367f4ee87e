"""custody (房屋托管) of empty homes: contracts, inspections, keys and their log, owners' report links

Revision ID: c8f2d4b0e3a5
Revises: d9a3e5c1f4b6
Create Date: 2026-12-06 21:58:42.841332

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # JSONB(astext_type=Text()) in generated columns
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'c8f2d4b0e3a5'
down_revision = 'd9a3e5c1f4b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custody_contract',
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('owner_name', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('services', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('inspection_every_days', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_custody_contract_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_contract'))
    )
    with op.batch_alter_table('custody_contract', schema=None) as batch_op:
        batch_op.create_index('ix_custody_contract_household_seq_id', ['household_id', 'seq', 'id'], unique=False)
        batch_op.create_index('ix_custody_contract_seq_id', ['seq', 'id'], unique=False)

    op.create_table('custody_inspection',
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('contract_id', sa.String(length=36), nullable=False),
    sa.Column('butler_id', sa.String(length=36), nullable=False),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checklist', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('done', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('wire', sa.Text(), nullable=True),
    sa.Column('wire_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['butler_id'], ['user_account.id'], name=op.f('fk_custody_inspection_butler_id_user_account')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_custody_inspection_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_inspection'))
    )
    with op.batch_alter_table('custody_inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_inspection_butler_id'), ['butler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custody_inspection_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_custody_inspection_household_seq_id', ['household_id', 'seq', 'id'], unique=False)
        batch_op.create_index('ix_custody_inspection_seq_id', ['seq', 'id'], unique=False)

    op.create_table('custody_key',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('out_to', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_custody_key_household_id_household'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_key'))
    )
    with op.batch_alter_table('custody_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_key_household_id'), ['household_id'], unique=False)

    op.create_table('custody_report_link',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_custody_report_link_created_by_user_account')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_custody_report_link_household_id_household'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_report_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_custody_report_link_token_hash'))
    )
    with op.batch_alter_table('custody_report_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_report_link_household_id'), ['household_id'], unique=False)

    op.create_table('custody_key_move',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('move', sa.Enum('out', 'in', name='custody_key_move', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('person', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by_user', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['by_user'], ['user_account.id'], name=op.f('fk_custody_key_move_by_user_user_account')),
    sa.ForeignKeyConstraint(['key_id'], ['custody_key.id'], name=op.f('fk_custody_key_move_key_id_custody_key'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_key_move'))
    )
    with op.batch_alter_table('custody_key_move', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_key_move_key_id'), ['key_id'], unique=False)



def downgrade():
    with op.batch_alter_table('custody_key_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_key_move_key_id'))

    op.drop_table('custody_key_move')
    with op.batch_alter_table('custody_report_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_report_link_household_id'))

    op.drop_table('custody_report_link')
    with op.batch_alter_table('custody_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_key_household_id'))

    op.drop_table('custody_key')
    with op.batch_alter_table('custody_inspection', schema=None) as batch_op:
        batch_op.drop_index('ix_custody_inspection_seq_id')
        batch_op.drop_index('ix_custody_inspection_household_seq_id')
        batch_op.drop_index(batch_op.f('ix_custody_inspection_contract_id'))
        batch_op.drop_index(batch_op.f('ix_custody_inspection_butler_id'))

    op.drop_table('custody_inspection')
    with op.batch_alter_table('custody_contract', schema=None) as batch_op:
        batch_op.drop_index('ix_custody_contract_seq_id')
        batch_op.drop_index('ix_custody_contract_household_seq_id')

    op.drop_table('custody_contract')
