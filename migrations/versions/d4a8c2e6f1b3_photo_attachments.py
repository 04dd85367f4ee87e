"""photos attached to records, uploaded by content hash

Revision ID: d4a8c2e6f1b3
Revises: c8f2a6d4e1b7
Create Date: 2026-12-06 07:21:36

Three new tables: attachment (a replicated record: which photo hangs on which visit, touchpoint or
ticket), attachment_blob (the bytes' state by SHA-256) and attachment_chunk (the pieces of uploads
under way). Nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # JSONB(astext_type=Text()) in generated columns
from sqlalchemy.dialects import postgresql

revision = 'd4a8c2e6f1b3'
down_revision = 'c8f2a6d4e1b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment_blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('thumb_size', sa.Integer(), nullable=True),
    sa.Column('started_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachment_blob'))
    )
    op.create_table('attachment_chunk',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['attachment_blob.sha256'], name=op.f('fk_attachment_chunk_sha256_attachment_blob'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sha256', 'offset', name=op.f('pk_attachment_chunk'))
    )
    op.create_table('attachment',
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.Enum('image/jpeg', 'image/webp', 'image/png', name='attachment_content_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('photo', 'before', 'after', name='attachment_role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('item', sa.String(length=50), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('author_id', sa.String(length=36), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_attachment_author_id_user_account')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_attachment_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_household_seq_id', ['household_id', 'seq', 'id'], unique=False)
        batch_op.create_index('ix_attachment_record', ['record_type', 'record_id'], unique=False)
        batch_op.create_index('ix_attachment_seq_id', ['seq', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)



def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index('ix_attachment_seq_id')
        batch_op.drop_index('ix_attachment_record')
        batch_op.drop_index('ix_attachment_household_seq_id')

    op.drop_table('attachment')
    op.drop_table('attachment_chunk')
    op.drop_table('attachment_blob')
