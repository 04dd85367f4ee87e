"""visit checklist template: a community's home-visit checklist, which supervisors change

Revision ID: 59e50d31f1c6
Revises: e1114864e78d
Create Date: 2026-11-27 12:21:28.656136

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # JSONB(astext_type=Text()) in generated columns
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '59e50d31f1c6'
down_revision = 'e1114864e78d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checklist_template',
    sa.Column('community_id', sa.String(length=36), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_checklist_template_community_id_community')),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_checklist_template_updated_by_user_account')),
    sa.PrimaryKeyConstraint('community_id', name=op.f('pk_checklist_template'))
    )


def downgrade():
    op.drop_table('checklist_template')
