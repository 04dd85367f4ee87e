"""The migration that makes one ticket timeline (c3e9a7f2d5b1), on SQLite and PostgreSQL: each ticket's
hand-off log becomes steps of ticket_event (team, from/to, reason), the "assignee" step a hand-off
wrote is not kept twice, and a ticket with no step gets its known history (created, accepted,
resolved, closed); a ticket that had steps gets no invented ones."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server import create_app
from server.extensions import db
from tests.support.app import base_config, empty_postgres_database

BEFORE, REVISION = "a7d3e5f1b9c8", "c3e9a7f2d5b1"
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_app(request, tmp_path):
    """A database migrated to just before the timeline's migration."""
    if request.param == "sqlite":
        app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'old.sqlite3'}"))
        with app.app_context():
            upgrade(revision=BEFORE)
            yield app
            db.session.remove()
            db.engine.dispose()
        return
    with empty_postgres_database() as url:
        app = create_app(base_config(tmp_path, url))
        with app.app_context():
            upgrade(revision=BEFORE)
            yield app
            db.session.remove()
            db.engine.dispose()


def _filler(column):
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, (sa.Integer, sa.Numeric)):
        return 0
    if isinstance(kind, sa.DateTime):
        return T0
    if isinstance(kind, sa.JSON) or "JSON" in type(kind).__name__.upper():
        return {} if column.name == "field_meta" else []
    return str(uuid.uuid4())[: getattr(kind, "length", None) or 36]


def insert(conn, table_name: str, **values) -> str:
    """A row with the values given, every other NOT NULL column without a default filled in."""
    name = table_name
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    row = {c.name: _filler(c) for c in table.columns
           if not c.nullable and c.server_default is None and c.name not in values and c.autoincrement is not True}
    row.update(values)
    row.setdefault("id", str(uuid.uuid4()))
    for key, value in list(row.items()):
        if isinstance(table.c[key].type, sa.JSON) or "JSON" in type(table.c[key].type).__name__.upper():
            row[key] = value if conn.dialect.name == "postgresql" else json.dumps(value)
    conn.execute(sa.text(f'INSERT INTO "{name}" ({", ".join(row)}) VALUES ({", ".join(":" + k for k in row)})')
                 .bindparams(*[sa.bindparam(k, type_=sa.JSON) for k, c in table.c.items()
                               if k in row and conn.dialect.name == "postgresql"
                               and "JSON" in type(c.type).__name__.upper()]), row)
    return row["id"]


def steps(conn, ticket_id):
    return conn.execute(sa.text("SELECT kind, from_value, to_value, team_id, note, actor_id FROM ticket_event "
                                "WHERE ticket_id = :t ORDER BY at, id"), {"t": ticket_id}).all()


def test_hand_off_logs_become_steps_and_old_tickets_get_their_history(old_app):
    with db.engine.begin() as conn:
        community = insert(conn, "community", name="翠湖花园")
        butler = insert(conn, "user_account", language="zh-CN", role="butler", community_id=community, active=True)
        tech = insert(conn, "user_account", language="zh-CN", role="technician", community_id=community, active=True)
        team = insert(conn, "team", community_id=community, kind="engineering", name="工程部")
        household = insert(conn, "household", community_id=community, status="self_occupied", building="1栋",
                           tags=[], grid_id=None)
        log = [{"kind": "assigned", "at": (T0 + timedelta(minutes=5)).isoformat(), "by": butler, "team_id": team,
                "assignee_id": None, "note": ""},
               {"kind": "grabbed", "at": (T0 + timedelta(minutes=9)).isoformat(), "by": tech, "team_id": team,
                "assignee_id": tech, "note": ""},
               {"kind": "returned", "at": (T0 + timedelta(minutes=30)).isoformat(), "by": tech, "team_id": None,
                "assignee_id": butler, "note": "业主不在家，需另约时间"}]
        handed = insert(conn, "ticket", household_id=household, category="repair", status="dispatched",
                        assignee_id=butler, raised_by=None, handoffs=log, created_at=T0)
        for kind, to, at in (("created", "dispatched", T0), ("status", "accepted", T0 + timedelta(minutes=9)),
                             ("assignee", butler, T0 + timedelta(minutes=30, seconds=1))):
            conn.execute(sa.text("INSERT INTO ticket_event (ticket_id, at, actor_id, kind, from_value, to_value) "
                                 "VALUES (:t, :at, NULL, :kind, NULL, :to)"),
                         {"t": handed, "at": at, "kind": kind, "to": to})
        old = insert(conn, "ticket", household_id=household, category="repair", status="closed", assignee_id=butler,
                     raised_by=butler, handoffs=[], created_at=T0 - timedelta(days=3),
                     accepted_at=T0 - timedelta(days=3) + timedelta(minutes=10),
                     resolved_at=T0 - timedelta(days=2), closed_at=T0 - timedelta(days=1))
        fresh = insert(conn, "ticket", household_id=household, category="complaint", status="new", assignee_id=None,
                       raised_by=None, handoffs=[], created_at=T0)

    upgrade(revision=REVISION)

    with db.engine.connect() as conn:
        got = steps(conn, handed)
        assert [s.kind for s in got] == ["created", "assigned", "status", "grabbed", "returned"]  # no "assignee" twice
        assigned, grabbed, returned = got[1], got[3], got[4]
        assert (assigned.to_value, assigned.team_id, assigned.actor_id) == (None, team, butler)
        assert (grabbed.from_value, grabbed.to_value, grabbed.team_id) == (None, tech, team)
        assert (returned.from_value, returned.to_value, returned.note) == (tech, butler, "业主不在家，需另约时间")
        history = steps(conn, old)
        assert [(s.kind, s.to_value) for s in history] == [("created", "new"), ("status", "accepted"),
                                                           ("status", "resolved"), ("status", "closed")]
        assert history[0].actor_id == butler
        assert [(s.kind, s.to_value) for s in steps(conn, fresh)] == [("created", "new")]

    downgrade(revision=BEFORE)
    with db.engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT kind FROM ticket_event WHERE ticket_id = :t ORDER BY at, id"),
                             {"t": handed}).scalars().all()
        assert kinds == ["created", "status"]  # the hand-off steps go; the log on the ticket stays
