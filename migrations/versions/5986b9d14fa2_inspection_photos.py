"""photos of quality inspections

Revision ID: 5986b9d14fa2
Revises: d4a8c2e6f1b3
Create Date: 2026-12-06 18:24:09

One new table: quality_inspection_photo (a photo of an inspection or of one of its checklist items;
its bytes are the attachments', by SHA-256). Nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

revision = '5986b9d14fa2'
down_revision = 'd4a8c2e6f1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quality_inspection_photo',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('inspection_id', sa.String(length=36), nullable=False),
    sa.Column('item', sa.String(length=50), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_quality_inspection_photo_author_id_user_account')),
    sa.ForeignKeyConstraint(['inspection_id'], ['quality_inspection.id'], name=op.f('fk_quality_inspection_photo_inspection_id_quality_inspection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_inspection_photo'))
    )
    with op.batch_alter_table('quality_inspection_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_inspection_photo_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_inspection_photo_sha256'), ['sha256'], unique=False)



def downgrade():
    with op.batch_alter_table('quality_inspection_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_inspection_photo_sha256'))
        batch_op.drop_index(batch_op.f('ix_quality_inspection_photo_inspection_id'))

    op.drop_table('quality_inspection_photo')
