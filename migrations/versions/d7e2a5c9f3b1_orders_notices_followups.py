"""orders fulfilled (refunds, reasons, step times), notices per building pinned and told, tickets reopened
when not fixed, and each ticket's timeline

Revision ID: d7e2a5c9f3b1
Revises: a7e3c9d1f5b2
Create Date: 2026-12-06 00:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'd7e2a5c9f3b1'
down_revision = 'a7e3c9d1f5b2'
branch_labels = None
depends_on = None

OLD_ORDER = ('placed', 'confirmed', 'delivered', 'cancelled')
NEW_ORDER = OLD_ORDER + ('refunded',)
OLD_EVENTS = ('ticket.created', 'ticket.updated', 'ticket.escalated')
NEW_EVENTS = OLD_EVENTS + ('order.created', 'order.updated', 'notice.published')


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _swap_enum(table, column, old, new, name):
    # A non-native enum is a CHECK constraint: batch mode drops the old one and creates the new on
    # both databases (SQLite rebuilds the table).
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=_enum(*old, name=name), type_=_enum(*new, name=name),
                              existing_nullable=False)


def upgrade():
    _swap_enum('order', 'status', OLD_ORDER, NEW_ORDER, 'order_status')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.alter_column('reason', server_default=None)
    _swap_enum('notification', 'event', OLD_EVENTS, NEW_EVENTS, 'notification_event')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('building', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pinned', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.alter_column('building', server_default=None)
        batch_op.alter_column('pinned', server_default=None)
    # Notices published before this were never pushed: they count as told.
    op.execute("UPDATE notice SET notified_at = published_at")
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_fixed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.alter_column('not_fixed', server_default=None)
    with op.batch_alter_table('ticket_follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('called_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'ticket_event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('ticket_id', sa.String(length=36), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.String(length=36), nullable=True),
        sa.Column('kind', _enum('created', 'status', 'assignee', 'rated', 'reopened', name='ticket_event_kind'),
                  nullable=False),
        sa.Column('from_value', sa.String(length=36), nullable=True),
        sa.Column('to_value', sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_ticket_event_actor_id_user_account')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_event_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_event')),
    )
    op.create_index('ix_ticket_event_ticket_id', 'ticket_event', ['ticket_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_ticket_event_ticket_id', table_name='ticket_event')
    op.drop_table('ticket_event')
    with op.batch_alter_table('ticket_follow_up', schema=None) as batch_op:
        batch_op.drop_column('called_at')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('reopened_at')
        batch_op.drop_column('not_fixed')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('notified_at')
        batch_op.drop_column('pinned')
        batch_op.drop_column('building')
    op.execute("DELETE FROM notification_delivery WHERE notification_id IN (SELECT id FROM notification "
               "WHERE event IN ('order.created', 'order.updated', 'notice.published'))")
    op.execute("DELETE FROM notification_recipient WHERE notification_id IN (SELECT id FROM notification "
               "WHERE event IN ('order.created', 'order.updated', 'notice.published'))")
    op.execute("DELETE FROM notification WHERE event IN ('order.created', 'order.updated', 'notice.published')")
    _swap_enum('notification', 'event', NEW_EVENTS, OLD_EVENTS, 'notification_event')
    op.execute("UPDATE \"order\" SET status = 'delivered' WHERE status = 'refunded'")
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('reason')
    _swap_enum('order', 'status', NEW_ORDER, OLD_ORDER, 'order_status')
