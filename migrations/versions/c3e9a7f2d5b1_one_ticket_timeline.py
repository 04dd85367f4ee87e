"""one ticket timeline: hand-offs and escalations are steps of ticket_event

Revision ID: c3e9a7f2d5b1
Revises: a7d3e5f1b9c8
Create Date: 2026-12-06 03:20:00

A step of a ticket's timeline now carries the team of a hand-off (or of an escalation) and the
reason typed with it; the kinds of step gain the four hand-offs (assigned, grabbed, transferred,
returned) and "escalated" (a non-native enum: its CHECK constraint is replaced on both databases).

Data:
- every entry of each ticket's hand-off log (`ticket.handoffs`) becomes a step, from the person who
  held it before (the previous entry's) to the one after; the "assignee" step the same hand-off
  wrote (same ticket, same person, within a few seconds) is dropped, so a change of hands is one
  step. The log itself stays: it is the phones' copy of those steps (the wire keeps it).
- a ticket that had no step at all (raised before the timeline existed) gets its known history:
  "created" at its creation, by whoever raised it, and a status step at each of accepted_at,
  resolved_at and closed_at it has.
Downgrade drops the new steps and columns (the log on the tickets is untouched).
"""
import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = 'c3e9a7f2d5b1'
down_revision = 'a7d3e5f1b9c8'
branch_labels = None
depends_on = None

OLD_KINDS = ('created', 'status', 'assignee', 'rated', 'reopened')
HANDOFF_KINDS = ('assigned', 'grabbed', 'transferred', 'returned')
NEW_KINDS = OLD_KINDS + HANDOFF_KINDS + ('escalated',)
SAME_HAND_OFF = timedelta(seconds=5)  # an "assignee" step this close to a logged hand-off was that hand-off

ticket = sa.table('ticket', sa.column('id', sa.String), sa.column('handoffs'),
                  sa.column('raised_by', sa.String), sa.column('created_at', sa.DateTime(timezone=True)),
                  sa.column('accepted_at', sa.DateTime(timezone=True)),
                  sa.column('resolved_at', sa.DateTime(timezone=True)),
                  sa.column('closed_at', sa.DateTime(timezone=True)))
event = sa.table('ticket_event', sa.column('id', sa.Integer), sa.column('ticket_id', sa.String),
                 sa.column('at', sa.DateTime(timezone=True)), sa.column('actor_id', sa.String),
                 sa.column('kind', sa.String), sa.column('from_value', sa.String),
                 sa.column('to_value', sa.String), sa.column('team_id', sa.String), sa.column('note', sa.Text))
user = sa.table('user_account', sa.column('id', sa.String))
team = sa.table('team', sa.column('id', sa.String))


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def upgrade():
    bind = op.get_bind()
    with_steps = set(bind.execute(sa.select(event.c.ticket_id).distinct()).scalars())

    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_enum(*OLD_KINDS, name='ticket_event_kind'),
                              type_=_enum(*NEW_KINDS, name='ticket_event_kind'), existing_nullable=False)
        batch_op.add_column(sa.Column('team_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_event_team_id_team'), 'team', ['team_id'], ['id'])
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.alter_column('note', server_default=None)

    users = set(bind.execute(sa.select(user.c.id)).scalars())
    teams = set(bind.execute(sa.select(team.c.id)).scalars())
    rows, doubles = [], []
    for ticket_id, log in bind.execute(sa.select(ticket.c.id, ticket.c.handoffs)).all():
        log = json.loads(log) if isinstance(log, str) else (log or [])
        if not log:
            continue
        assignee_steps = bind.execute(sa.select(event.c.id, event.c.at, event.c.to_value).where(
            event.c.ticket_id == ticket_id, event.c.kind == 'assignee')).all()
        before = None
        for item in log:
            if not isinstance(item, dict) or item.get('kind') not in HANDOFF_KINDS or not item.get('at'):
                continue
            at = _utc(item['at'])
            to = item.get('assignee_id')
            rows.append({'ticket_id': ticket_id, 'at': at,
                         'actor_id': item.get('by') if item.get('by') in users else None,
                         'kind': item['kind'], 'from_value': before, 'to_value': to,
                         'team_id': item.get('team_id') if item.get('team_id') in teams else None,
                         'note': str(item.get('note') or '')})
            doubles += [step_id for step_id, step_at, step_to in assignee_steps
                        if step_to == to and abs(_utc(step_at) - at) <= SAME_HAND_OFF]
            before = to
    if doubles:
        bind.execute(sa.delete(event).where(event.c.id.in_(sorted(set(doubles)))))

    for ticket_id, raised_by, created_at, accepted_at, resolved_at, closed_at in bind.execute(
            sa.select(ticket.c.id, ticket.c.raised_by, ticket.c.created_at, ticket.c.accepted_at,
                      ticket.c.resolved_at, ticket.c.closed_at).order_by(ticket.c.created_at, ticket.c.id)).all():
        if ticket_id in with_steps:
            continue
        rows.append({'ticket_id': ticket_id, 'at': _utc(created_at),
                     'actor_id': raised_by if raised_by in users else None, 'kind': 'created',
                     'from_value': None, 'to_value': 'new', 'team_id': None, 'note': ''})
        for status, at in (('accepted', accepted_at), ('resolved', resolved_at), ('closed', closed_at)):
            if at is not None:
                rows.append({'ticket_id': ticket_id, 'at': _utc(at), 'actor_id': None, 'kind': 'status',
                             'from_value': None, 'to_value': status, 'team_id': None, 'note': ''})
    rows.sort(key=lambda row: (row['at'], row['ticket_id']))  # ids in time order, as they would have been
    for start in range(0, len(rows), 1000):
        op.bulk_insert(event, rows[start:start + 1000])


def downgrade():
    op.execute(sa.delete(event).where(event.c.kind.in_(HANDOFF_KINDS + ('escalated',))))
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_event_team_id_team'), type_='foreignkey')
        batch_op.drop_column('note')
        batch_op.drop_column('team_id')
        batch_op.alter_column('kind', existing_type=_enum(*NEW_KINDS, name='ticket_event_kind'),
                              type_=_enum(*OLD_KINDS, name='ticket_event_kind'), existing_nullable=False)
