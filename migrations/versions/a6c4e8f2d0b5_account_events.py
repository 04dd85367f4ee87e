"""an account's own events are notifications: repeated failed logins, a device logged out to make room

Revision ID: a6c4e8f2d0b5
Revises: f2b6d8a4c1e9
Create Date: 2026-12-06 19:10:00

The notification's event is a string column with a CHECK constraint on both databases: the
constraint is replaced (SQLite rebuilds the table in batch mode). Downgrading drops those events.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a6c4e8f2d0b5'
down_revision = 'f2b6d8a4c1e9'
branch_labels = None
depends_on = None
OLD_EVENTS = ('ticket.created', 'ticket.updated', 'ticket.escalated', 'order.created', 'order.updated',
              'notice.published', 'join_request.created')
NEW_EVENTS = OLD_EVENTS + ('login.failed', 'device.revoked')


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _swap_enum(old, new):
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('event', existing_type=_enum(*old, name='notification_event'),
                              type_=_enum(*new, name='notification_event'), existing_nullable=False)


def upgrade():
    _swap_enum(OLD_EVENTS, NEW_EVENTS)


def downgrade():
    gone = "(SELECT id FROM notification WHERE event IN ('login.failed', 'device.revoked'))"
    op.execute(f"DELETE FROM notification_delivery WHERE notification_id IN {gone}")
    op.execute(f"DELETE FROM notification_recipient WHERE notification_id IN {gone}")
    op.execute("DELETE FROM notification WHERE event IN ('login.failed', 'device.revoked')")
    _swap_enum(NEW_EVENTS, OLD_EVENTS)
