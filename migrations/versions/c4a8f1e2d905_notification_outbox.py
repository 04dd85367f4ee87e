"""notification outbox: events, recipients, deliveries, push subscriptions, webhooks; 回访 tasks

Revision ID: c4a8f1e2d905
Revises: f6d58dbc0a40
Create Date: 2026-11-27 14:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a8f1e2d905'
down_revision = 'f6d58dbc0a40'
branch_labels = None
depends_on = None


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'push_subscription',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=True),
        sa.Column('endpoint_hash', sa.String(length=64), nullable=False),
        sa.Column('endpoint', sa.String(), nullable=False),
        sa.Column('p256dh', sa.String(), nullable=False),
        sa.Column('auth', sa.String(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['device.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint_hash'),
    )
    op.create_index('ix_push_subscription_user_id', 'push_subscription', ['user_id'])
    op.create_index('ix_push_subscription_device_id', 'push_subscription', ['device_id'])
    op.create_table(
        'notification_webhook',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('kind', _enum('wecom', 'json', name='webhook_kind'), nullable=False),
        sa.Column('url', sa.String(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_webhook_community_id', 'notification_webhook', ['community_id'])
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event', _enum('ticket.created', 'ticket.updated', 'ticket.escalated',
                                 name='notification_event'), nullable=False),
        sa.Column('ticket_id', sa.String(length=36), nullable=False),
        sa.Column('community_id', sa.String(length=36), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_ticket_id', 'notification', ['ticket_id'])
    op.create_table(
        'notification_recipient',
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('notification_id', 'user_id'),
    )
    op.create_index('ix_notification_recipient_user', 'notification_recipient', ['user_id', 'notification_id'])
    op.create_table(
        'notification_delivery',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('channel', _enum('webpush', 'webhook', name='notification_channel'), nullable=False),
        sa.Column('subscription_id', sa.String(length=36), nullable=True),
        sa.Column('webhook_id', sa.String(length=36), nullable=True),
        sa.Column('status', _enum('pending', 'sent', 'gone', 'failed', name='delivery_status'), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['push_subscription.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['webhook_id'], ['notification_webhook.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_delivery_notification_id', 'notification_delivery', ['notification_id'])
    op.create_index('ix_notification_delivery_subscription_id', 'notification_delivery', ['subscription_id'])
    op.create_index('ix_notification_delivery_webhook_id', 'notification_delivery', ['webhook_id'])
    op.create_index('ix_notification_delivery_due', 'notification_delivery', ['status', 'next_attempt_at'])
    op.create_table(
        'ticket_follow_up',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('ticket_id', sa.String(length=36), nullable=False),
        sa.Column('community_id', sa.String(length=36), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('status', _enum('open', 'done', name='follow_up_status'), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by', sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['done_by'], ['user_account.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id'),
    )
    op.create_index('ix_ticket_follow_up_community_id', 'ticket_follow_up', ['community_id'])
    op.create_index('ix_ticket_follow_up_status', 'ticket_follow_up', ['status'])


def downgrade():
    op.drop_table('ticket_follow_up')
    op.drop_table('notification_delivery')
    op.drop_table('notification_recipient')
    op.drop_table('notification')
    op.drop_table('notification_webhook')
    op.drop_table('push_subscription')
