"""operations: the monthly work plan and quality inspections

Revision ID: e5b1f9a3c7d2
Revises: d2a7c5e81f40
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = 'e5b1f9a3c7d2'
down_revision = 'd2a7c5e81f40'
branch_labels = None
depends_on = None

CATEGORIES = ('cleaning', 'pest_control', 'greening', 'septic', 'facility', 'other')


def _category():
    return sa.Enum(*CATEGORIES, name='operations_category', native_enum=False, create_constraint=True, length=20)


def upgrade():
    # Written out, not derived from the models: migrations must replay the same forever.
    op.create_table(
        'work_plan_item',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('category', _category(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('contractor', sa.String(length=100), nullable=False),
        sa.Column('assignee_id', sa.String(length=36), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by', sa.String(length=36), nullable=True),
        sa.Column('done_note', sa.Text(), nullable=False),
        sa.Column('copied_from_id', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                name=op.f('fk_work_plan_item_community_id_community')),
        sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'],
                                name=op.f('fk_work_plan_item_assignee_id_user_account')),
        sa.ForeignKeyConstraint(['done_by'], ['user_account.id'],
                                name=op.f('fk_work_plan_item_done_by_user_account')),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id'],
                                name=op.f('fk_work_plan_item_created_by_user_account')),
        sa.ForeignKeyConstraint(['copied_from_id'], ['work_plan_item.id'],
                                name=op.f('fk_work_plan_item_copied_from_id_work_plan_item')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_work_plan_item')),
        sa.UniqueConstraint('copied_from_id', name=op.f('uq_work_plan_item_copied_from_id')),
    )
    with op.batch_alter_table('work_plan_item', schema=None) as batch_op:
        batch_op.create_index('ix_work_plan_item_community_month', ['community_id', 'month'], unique=False)

    op.create_table(
        'quality_inspection',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('inspected_on', sa.Date(), nullable=False),
        sa.Column('category', _category(), nullable=False),
        sa.Column('place', sa.String(length=100), nullable=False),
        sa.Column('inspector_id', sa.String(length=36), nullable=False),
        sa.Column('plan_item_id', sa.String(length=36), nullable=True),
        sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'),
                  nullable=False),
        sa.Column('passed', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                name=op.f('fk_quality_inspection_community_id_community')),
        sa.ForeignKeyConstraint(['inspector_id'], ['user_account.id'],
                                name=op.f('fk_quality_inspection_inspector_id_user_account')),
        sa.ForeignKeyConstraint(['plan_item_id'], ['work_plan_item.id'],
                                name=op.f('fk_quality_inspection_plan_item_id_work_plan_item')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_inspection')),
    )
    with op.batch_alter_table('quality_inspection', schema=None) as batch_op:
        batch_op.create_index('ix_quality_inspection_community_date', ['community_id', 'inspected_on'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_quality_inspection_plan_item_id'), ['plan_item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('quality_inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_inspection_plan_item_id'))
        batch_op.drop_index('ix_quality_inspection_community_date')
    op.drop_table('quality_inspection')
    with op.batch_alter_table('work_plan_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_plan_item_community_month')
    op.drop_table('work_plan_item')
