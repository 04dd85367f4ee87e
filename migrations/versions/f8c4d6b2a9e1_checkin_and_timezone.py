"""butlers' daily check-in (attendance) and each community's time zone

Revision ID: f8c4d6b2a9e1
Revises: e5b1f9a3c7d2
Create Date: 2026-11-27 17:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = 'f8c4d6b2a9e1'
down_revision = 'e5b1f9a3c7d2'
branch_labels = None
depends_on = None


def upgrade():
    # Written out, not derived from the models: migrations must replay the same forever.
    # Existing communities get the server default, China's one zone.
    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='Asia/Shanghai',
                                      nullable=False))

    op.create_table(
        'checkin',
        sa.Column('butler_id', sa.String(length=36), nullable=False),
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.Enum('in', 'out', name='checkin_kind', native_enum=False, create_constraint=True,
                                  length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'),
                  nullable=False),
        sa.ForeignKeyConstraint(['butler_id'], ['user_account.id'], name=op.f('fk_checkin_butler_id_user_account')),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_checkin_community_id_community')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin')),
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_butler_id'), ['butler_id'], unique=False)
        batch_op.create_index('ix_checkin_community_id_at', ['community_id', 'at'], unique=False)
        batch_op.create_index('ix_checkin_seq_id', ['seq', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_seq_id')
        batch_op.drop_index('ix_checkin_community_id_at')
        batch_op.drop_index(batch_op.f('ix_checkin_butler_id'))
    op.drop_table('checkin')

    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.drop_column('timezone')
