"""back office: technicians, their teams, and tickets handed to them

Revision ID: a7d3e5f1b9c8
Revises: d7e2a5c9f3b1
Create Date: 2026-12-06 00:40:00

A new role, "technician" (the role is a string column with a CHECK constraint on both databases,
so the constraint is replaced, not a PostgreSQL enum type altered); teams per community; each
technician's team; and on tickets the team they are handed to, when, why, the log of hand-offs and
the address the back office goes to. Existing tickets have no team and an empty log.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = 'a7d3e5f1b9c8'
down_revision = 'd7e2a5c9f3b1'
branch_labels = None
depends_on = None

OLD_ROLES = ('butler', 'resident', 'supervisor', 'admin')
NEW_ROLES = OLD_ROLES + ('technician',)


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def _roles(values):
    return "role IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade():
    op.create_table(
        'team',
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.Enum('engineering', 'cleaning', 'security', 'vendor', name='team_kind',
                                  native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('company', sa.String(length=100), nullable=False),
        sa.Column('members', _json(), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('field_meta', _json(), nullable=False),
        sa.Column('wire', sa.Text(), nullable=True),
        sa.Column('wire_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_team_community_id_community')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_team_seq_id', ['seq', 'id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_user_account_role'), _roles(NEW_ROLES))
        batch_op.add_column(sa.Column('team_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_team_id_team'), 'team', ['team_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_user_account_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('handed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handoff_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('handoffs', _json(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('address', sa.String(length=80), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_team_id_team'), 'team', ['team_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_ticket_team_id'), ['team_id'], unique=False)
    # The defaults were for the rows already there; the app writes every value itself.
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.alter_column('handoff_note', server_default=None)
        batch_op.alter_column('handoffs', server_default=None)
        batch_op.alter_column('address', server_default=None)


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_team_id'))
        batch_op.drop_constraint(batch_op.f('fk_ticket_team_id_team'), type_='foreignkey')
        batch_op.drop_column('address')
        batch_op.drop_column('handoffs')
        batch_op.drop_column('handoff_note')
        batch_op.drop_column('handed_at')
        batch_op.drop_column('team_id')

    op.execute("UPDATE user_account SET active = false, role = 'butler' WHERE role = 'technician'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_team_id'))
        batch_op.drop_constraint(batch_op.f('fk_user_account_team_id_team'), type_='foreignkey')
        batch_op.drop_column('team_id')
        batch_op.drop_constraint(batch_op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_user_account_role'), _roles(OLD_ROLES))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index('ix_team_seq_id')
        batch_op.drop_index(batch_op.f('ix_team_community_id'))
    op.drop_table('team')
