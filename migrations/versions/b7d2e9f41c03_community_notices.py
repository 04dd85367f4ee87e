"""community notices (公告): supervisors announce, butlers and residents read on their phones

Revision ID: b7d2e9f41c03
Revises: c4a8f1e2d905
Create Date: 2026-11-27 15:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = 'b7d2e9f41c03'
down_revision = 'c4a8f1e2d905'
branch_labels = None
depends_on = None


def upgrade():
    # Written out, not derived from the models: migrations must replay the same forever.
    op.create_table(
        'notice',
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'),
                  nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_notice_community_id_community')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_notice_seq_id', ['seq', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_seq_id')
        batch_op.drop_index(batch_op.f('ix_notice_community_id'))
    op.drop_table('notice')
