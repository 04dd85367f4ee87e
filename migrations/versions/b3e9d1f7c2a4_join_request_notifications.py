"""a new request to join is a notification event (the grid's butler is told)

Revision ID: b3e9d1f7c2a4
Revises: c3e9a7f2d5b1
Create Date: 2026-12-06 03:10:00

The notification's event is a string column with a CHECK constraint on both databases: the
constraint is replaced (SQLite rebuilds the table in batch mode), no PostgreSQL enum type altered.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b3e9d1f7c2a4'
down_revision = 'c3e9a7f2d5b1'
branch_labels = None
depends_on = None

OLD_EVENTS = ('ticket.created', 'ticket.updated', 'ticket.escalated', 'order.created', 'order.updated',
              'notice.published')
NEW_EVENTS = OLD_EVENTS + ('join_request.created',)


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _swap_enum(old, new):
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('event', existing_type=_enum(*old, name='notification_event'),
                              type_=_enum(*new, name='notification_event'), existing_nullable=False)


def upgrade():
    _swap_enum(OLD_EVENTS, NEW_EVENTS)


def downgrade():
    gone = "(SELECT id FROM notification WHERE event = 'join_request.created')"
    op.execute(f"DELETE FROM notification_delivery WHERE notification_id IN {gone}")
    op.execute(f"DELETE FROM notification_recipient WHERE notification_id IN {gone}")
    op.execute("DELETE FROM notification WHERE event = 'join_request.created'")
    _swap_enum(NEW_EVENTS, OLD_EVENTS)
