"""The change order on PostgreSQL: writers take no shared lock, and a pull never moves past a
writer that is still running (a change that commits late is still delivered)."""
from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from server.auth.models import User
from server.extensions import db
from server.resources import service
from server.syncing import store as sync_store
from server import create_app
from tests.support.app import POSTGRES_URL, base_config, empty_postgres_database, statements_sent
from tests.support.needs import need
from tests.factories import complete_visit, make_community, make_grid, make_household, make_user
from tests.support.phone import PHONE_B, Phone, put

AT = "2026-11-27T09:15:02+08:00"


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    """PostgreSQL only: SQLite lets one writer in at a time, with the counter row (tested everywhere)."""
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    url, reset = request.getfixturevalue("postgres_database")
    yield url
    reset()


@pytest.fixture
def two_communities(session):
    worlds = []
    for _ in range(2):
        community = make_community()
        butler = make_user("butler", community_id=community.id)
        household = make_household(community, make_grid(community, butler))
        worlds.append({"community": community, "butler": butler, "household": household,
                       "supervisor": make_user("supervisor", community_id=community.id)})
    return worlds


def open_writer(butler_id: str, household_id: str) -> tuple[Session, str]:
    """A transaction that has written a visit and not yet committed (a long push, say)."""
    held = Session(db.engine)
    visit_id = str(uuid.uuid4())
    service.create(held, user=held.get(User, butler_id), rtype="visit", record_id=visit_id,
                   data=complete_visit({"household_id": household_id, "visited_at": AT}))
    held.flush()
    return held, visit_id


def visit_ids(changes) -> set[str]:
    return {c["id"] for c in changes if c["type"] == "visit"}


def test_writers_in_two_communities_never_wait_on_each_other(client, two_communities):
    first, second = two_communities
    held, _ = open_writer(first["butler"].id, first["household"].id)
    try:
        answers: list = []
        visit = put("visit", str(uuid.uuid4()), complete_visit({"household_id": second["household"].id, "visited_at": AT}))
        phone = Phone(client, second["butler"])
        pusher = threading.Thread(target=lambda: answers.append(phone.sync(visit)))
        pusher.start()
        pusher.join(timeout=60)  # with a shared lock it would wait for `held` to end, which it does not
        assert not pusher.is_alive(), "the second community's push waited on the first's open writer"
        assert answers[0].status_code == 200
        assert answers[0].get_json()["results"][0]["status"] == "applied"
    finally:
        held.rollback()
        held.close()


def test_a_pull_does_not_pass_a_writer_still_running_and_gets_its_change_later(client, two_communities,
                                                                               monkeypatch):
    monkeypatch.setattr(sync_store, "PENDING_WAIT_SECONDS", 0)
    world = two_communities[0]
    reader = Phone(client, world["supervisor"])
    reader.pull_all()
    held, early = open_writer(world["butler"].id, world["household"].id)  # numbered first...
    try:
        late = str(uuid.uuid4())
        answer = Phone(client, world["butler"]).sync(
            put("visit", late, complete_visit({"household_id": world["household"].id, "visited_at": AT})))  # ...committed first
        assert answer.get_json()["results"][0]["status"] == "applied"
        # The committed change waits behind the running writer: delivering it now would move the
        # cursor past the writer's number, and its change, committed next, would never be sent.
        assert visit_ids(reader.pull_all()) == set()
        held.commit()
    finally:
        held.close()
    assert visit_ids(reader.pull_all()) == {early, late}


def test_a_pull_waits_for_the_writer_ahead_of_the_user_s_news(client, two_communities, monkeypatch):
    """A phone poked about a new change gets it in the pull that follows, even while a writer that
    began before it is still running: the pull waits for that writer to end."""
    monkeypatch.setattr(sync_store, "PENDING_WAIT_SECONDS", 60)
    world = two_communities[0]
    reader = Phone(client, world["supervisor"])
    reader.pull_all()
    held, early = open_writer(world["butler"].id, world["household"].id)
    later, late = open_writer(world["butler"].id, world["household"].id)
    later.commit()
    later.close()
    committer = threading.Timer(0.3, lambda: (held.commit(), held.close()))
    committer.start()
    try:
        changes = reader.sync().get_json()["changes"]
    finally:
        committer.join()
    assert visit_ids(changes) == {early, late}


def test_an_unrelated_running_writer_does_not_hold_up_a_pull_with_nothing_new(client, two_communities,
                                                                             monkeypatch):
    monkeypatch.setattr(sync_store, "PENDING_WAIT_SECONDS", 60)
    first, second = two_communities
    reader = Phone(client, second["supervisor"])
    reader.pull_all()
    held, _ = open_writer(first["butler"].id, first["household"].id)
    try:
        answers: list = []
        puller = threading.Thread(target=lambda: answers.append(reader.sync().get_json()))
        puller.start()
        puller.join(timeout=30)  # the pull has nothing of its user's past the safe end: no wait
        assert not puller.is_alive(), "a pull with nothing pending waited for another community's writer"
        assert answers[0]["changes"] == []
    finally:
        held.rollback()
        held.close()


@pytest.fixture
def old_deployment(tmp_path):
    """A PostgreSQL database one revision before numbering by transaction, whose counter has handed
    out more numbers than the server has used transaction ids (as a busy deployment's would)."""
    with empty_postgres_database() as url:
        app = create_app(base_config(tmp_path, url))
        with app.app_context():
            upgrade(revision="a3d9e7c41b52-1")
            db.session.execute(sa.text("UPDATE sync_counter SET value = 5000000000"))
            db.session.commit()
            yield app
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres
def test_a_cursor_from_before_the_upgrade_still_works_without_a_reset(old_deployment):
    from server.syncing.api import ENGINE
    from sync import cursor as cursors

    held = cursors.Cursor(5000000000)  # the counter's value before the upgrade: what a phone holds
    upgrade()
    # The records are made on the upgraded schema (the factories write today's columns).
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler))
    key = old_deployment.extensions[ENGINE].config.cursor_key
    phone = Phone(old_deployment.test_client(), butler)
    phone.cursor = cursors.encode(held, key=key, user_id=butler.id)
    visit = str(uuid.uuid4())
    Phone(old_deployment.test_client(), butler, client_id=str(uuid.uuid4())).sync(
        put("visit", visit, complete_visit({"household_id": household.id, "visited_at": AT})))
    answer = phone.sync().get_json()
    assert "reset" not in answer
    assert visit_ids(answer["changes"]) == {visit}


def test_the_app_s_connections_plan_no_parallel_workers(app):
    # A pull's prepared statement, planned once for any cursor, chose parallel workers per branch.
    with app.app_context():
        assert db.session.execute(sa.text("SHOW max_parallel_workers_per_gather")).scalar_one() == "0"
        db.session.rollback()


def test_psycopg_keeps_the_pull_s_long_statement_converted(client, two_communities, monkeypatch):
    # psycopg converts a statement's placeholders on each execution unless it keeps the result
    # (an LRU); by default it keeps nothing over 4 KiB, and the pull's statement is several times that.
    import psycopg._queries

    kept, converted_each_time = [], []

    def watching(convert, lengths):
        def watched(query, encoding):
            lengths.append(len(query))
            return convert(query, encoding)
        return watched

    monkeypatch.setattr(psycopg._queries, "_query2pg", watching(psycopg._queries._query2pg, kept))
    monkeypatch.setattr(psycopg._queries, "_query2pg_nocache",
                        watching(psycopg._queries._query2pg_nocache, converted_each_time))
    phone = Phone(client, two_communities[0]["butler"])
    phone.pull_all()
    phone.sync(put("visit", str(uuid.uuid4()), complete_visit(
        {"household_id": two_communities[0]["household"].id, "visited_at": AT})))
    assert phone.sync().status_code == 200
    assert max(kept) > 4096
    assert [n for n in converted_each_time if n > 4096] == []


def test_a_pull_far_behind_walks_the_user_s_households_and_misses_nothing(app, client, two_communities,
                                                                          monkeypatch):
    from server.syncing import store

    monkeypatch.setattr(store, "WALK_HOUSEHOLDS_AFTER", 20)
    first, second = two_communities
    phone, other = Phone(client, first["butler"]), Phone(client, second["butler"])
    other.pull_all()
    phone.pull_all()

    def pull_statement(sent):
        return next(s for s in sent if s.startswith("SELECT anon_1.seq"))

    with statements_sent(app) as sent:
        near = phone.sync()
    assert "LATERAL" not in pull_statement(sent)  # a few numbers behind: the changes since, one by one
    assert near.get_json()["changes"] == []
    for _ in range(25):  # writing transactions elsewhere in the deployment
        visit = put("visit", str(uuid.uuid4()), complete_visit({"household_id": second["household"].id, "visited_at": AT}))
        assert other.sync(visit).get_json()["results"][0]["status"] == "applied"
    mine = put("visit", str(uuid.uuid4()), complete_visit({"household_id": first["household"].id, "visited_at": AT}))
    assert Phone(client, first["butler"], client_id=PHONE_B).sync(mine).status_code == 200  # their other phone
    with statements_sent(app) as sent:
        far = phone.sync()
    assert "LATERAL" in pull_statement(sent)  # far behind: the user's households, one by one
    assert visit_ids(far.get_json()["changes"]) == {mine["id"]}
