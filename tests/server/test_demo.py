"""`flask --app server seed-demo`: the demo community 翠湖花园, idempotent, never over real data.

Seeding takes a few seconds, so the command runs once per database kind in this module and each
test gets its own copy of the seeded database.
"""
from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from server import create_app
from server.auth.models import User
from server.community.models import Community, Grid, Household, Person
from server.extensions import db
from server.tickets.models import Ticket
from server.visits.models import Touchpoint, Visit
from tests.support.app import POSTGRES_URL, base_config
from tests.support.needs import need
from tests.factories import make_community, make_user

DEMO_USERS = {"butler1": "butler", "butler2": "butler", "butler3": "butler",
              "supervisor1": "supervisor", "resident1": "resident", "resident2": "resident",
              "resident3": "resident",
              "tech1": "technician", "tech2": "technician", "tech3": "technician", "tech4": "technician",
              "tech5": "technician"}


def _admin():
    return sa.create_engine(sa.make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory):
    """A migrated database seeded once by the real command (kept as a template for copies)."""
    folder = tmp_path_factory.mktemp("seeded")
    name = None
    if request.param == "sqlite":
        path = folder / "seeded.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
        template = request.getfixturevalue("postgres_template")
        name = f"guanjia_demo_{uuid.uuid4().hex[:8]}"
        admin = _admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        admin.dispose()
        url = _pg_url(name)
    app = create_app(base_config(folder, url))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        db.engine.dispose()
    yield SimpleNamespace(kind=request.param, url=url, name=name, result=result)
    if name:
        admin = _admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def demo_app(seeded, tmp_path):
    """An app on this test's own copy of the seeded database."""
    assert seeded.result.exit_code == 0, seeded.result.output
    name = None
    if seeded.kind == "sqlite":
        path = tmp_path / "demo.sqlite3"
        shutil.copy(sa.make_url(seeded.url).database, path)
        url = f"sqlite:///{path}"
    else:
        name = f"guanjia_demo_t_{uuid.uuid4().hex[:8]}"
        admin = _admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{seeded.name}"')
        url = _pg_url(name)
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if name:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def snapshot() -> dict[str, tuple]:
    """Per table: how many rows, and the highest version and update time where it has them."""
    state = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            columns = [sa.func.count()]
            for name in ("version", "updated_at"):
                if name in table.c:
                    columns.append(sa.func.max(table.c[name]))
            state[table.name] = tuple(conn.execute(sa.select(*columns).select_from(table)).one())
    return state


# ---- what the command creates -----------------------------------------------------------------

def test_seed_demo_succeeds_and_prints_the_demo_logins(seeded):
    assert seeded.result.exit_code == 0, seeded.result.output
    assert "guanjia-demo" in seeded.result.output
    assert all(username in seeded.result.output for username in DEMO_USERS)


def test_the_demo_community_is_cuihu_garden(demo_app):
    assert [c.name for c in db.session.scalars(sa.select(Community))] == ["翠湖花园"]


def test_the_demo_has_about_600_households_in_6_buildings(demo_app):
    assert 550 <= count(Household) <= 650
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Household.building)))) == 6


def test_one_home_in_butler1_s_grid_is_in_custody_and_its_inspection_is_overdue(demo_app):
    from datetime import date

    from server.custody.models import CustodyContract
    from server.custody.service import schedule

    (contract,) = db.session.scalars(sa.select(CustodyContract)).all()
    home = db.session.get(Household, contract.household_id)
    assert home.status == "custody" and db.session.get(Grid, home.grid_id).butler_id == user("butler1").id
    (due,) = schedule(db.session, community_id=home.community_id, today=date.today())
    assert due.household.id == home.id and due.state == "overdue"


def test_the_demo_has_3_grids_each_held_by_its_own_butler(demo_app):
    butlers = {grid.name: db.session.get(User, grid.butler_id).username
               for grid in db.session.scalars(sa.select(Grid))}
    assert sorted(butlers.values()) == ["butler1", "butler2", "butler3"]


def test_each_building_lies_in_exactly_one_grid(demo_app):
    pairs = db.session.execute(sa.select(Household.building, Household.grid_id).distinct()).all()
    buildings = [building for building, _grid in pairs]
    assert len(buildings) == len(set(buildings)) == 6
    assert {grid for _building, grid in pairs} == set(db.session.scalars(sa.select(Grid.id)))


def test_every_household_has_a_grid(demo_app):
    assert count(Household, Household.grid_id.is_(None)) == 0


def test_the_two_residents_live_in_butler1s_grid(demo_app):
    butler1_grids = set(db.session.scalars(sa.select(Grid.id).where(Grid.butler_id == user("butler1").id)))
    for username in ("resident1", "resident2"):
        household = db.session.get(Household, user(username).household_id)
        assert household is not None and household.grid_id in butler1_grids, username


def test_a_request_to_join_waits_for_butler1(demo_app):
    from server.joining.models import JoinRequest

    waiting = db.session.scalars(sa.select(JoinRequest).where(JoinRequest.status == "pending")).one()
    assert waiting.user_id == user("resident3").id and user("resident3").household_id is None
    assert db.session.get(Household, waiting.household_id).grid_id in set(db.session.scalars(
        sa.select(Grid.id).where(Grid.butler_id == user("butler1").id)))


def test_the_two_residents_live_in_different_households(demo_app):
    assert user("resident1").household_id != user("resident2").household_id


def test_the_supervisor_belongs_to_the_demo_community(demo_app):
    community = db.session.scalar(sa.select(Community))
    assert user("supervisor1").community_id == community.id


def test_every_demo_user_logs_in_with_the_demo_password(demo_app):
    client = demo_app.test_client()
    roles = {}
    for username in DEMO_USERS:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "guanjia-demo"})
        assert r.status_code == 200, (username, r.get_json())
        # Demo accounts are for trying the app at once: none is asked to change its password first.
        assert r.get_json()["user"]["must_change_password"] is False, username
        roles[username] = r.get_json()["user"]["role"]
    assert roles == DEMO_USERS


def test_the_demo_has_people_in_the_households(demo_app):
    assert count(Person) >= count(Household)


def test_the_demo_has_a_few_months_of_visits(demo_app):
    first, last = db.session.execute(sa.select(sa.func.min(Visit.visited_at), sa.func.max(Visit.visited_at))).one()
    assert count(Visit) >= 300
    assert last - first >= timedelta(days=60)


def test_the_demo_has_touchpoints_and_tickets(demo_app):
    assert count(Touchpoint) > 0 and count(Ticket) > 0


def test_the_demo_has_tickets_in_open_and_finished_states(demo_app):
    statuses = set(db.session.scalars(sa.select(Ticket.status).distinct()))
    assert {"new", "closed"} <= statuses


# ---- running it again -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["seed-demo"], ["seed-demo", "--if-empty"]])
def test_running_seed_demo_again_changes_nothing(demo_app, args):
    before = snapshot()
    result = demo_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert snapshot() == before


# ---- never over real data ---------------------------------------------------------------------

@pytest.mark.parametrize("real_data", [make_community, lambda: make_user("butler")],
                         ids=["a community", "a user"])
def test_seed_demo_refuses_a_database_with_real_data(app, runner, real_data):
    real_data()
    before = snapshot()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "refuses" in result.output
    assert snapshot() == before


def test_seed_demo_if_empty_skips_a_database_with_real_data_politely(app, runner):
    make_community()
    before = snapshot()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "跳过" in result.output or "not added" in result.output
    assert snapshot() == before


def test_the_demo_back_office_has_teams_and_jobs_for_tech1(demo_app):
    from server.teams.models import Team
    from server.tickets.models import Ticket

    teams = {team.kind: team for team in db.session.scalars(sa.select(Team))}
    assert set(teams) == {"engineering", "cleaning", "security", "vendor"} and teams["vendor"].company
    tech1 = user("tech1")
    assert tech1.team_id == teams["engineering"].id
    assert {m["id"] for m in teams["engineering"].members} == {tech1.id, user("tech2").id}
    handed = list(db.session.scalars(sa.select(Ticket).where(Ticket.team_id == tech1.team_id)))
    assert any(t.assignee_id == tech1.id for t in handed) and all(t.handoffs for t in handed)



def test_every_demo_ticket_has_a_timeline_with_its_hand_offs_among_its_steps(demo_app):
    from server.tickets.models import TicketEvent
    from server.tickets.timeline import steps

    tickets = list(db.session.scalars(sa.select(Ticket)))
    with_steps = set(db.session.scalars(sa.select(TicketEvent.ticket_id).distinct()))
    assert {t.id for t in tickets} == with_steps
    handed = next(t for t in tickets if len(t.handoffs) == 2)
    kinds = [step.kind for step in steps(db.session, handed.id)]
    assert kinds[0] == "created" and kinds[1:3] == ["assigned", "grabbed"] and "status" in kinds


def test_the_demo_residents_read_their_building_s_notice_not_another_s(demo_app):
    from server.auth import scopes
    from server.notices.models import Notice

    titles = set(db.session.scalars(sa.select(Notice.title).where(
        scopes.visible_filter(user("resident1"), "notice", Notice))))
    assert "1栋电梯年检" in titles and "停水通知" in titles and "2栋外墙清洗" not in titles


def test_the_demo_holds_a_closed_emergency_with_its_homes_answers(demo_app):
    from server.incidents import service as incidents
    from server.incidents.models import Incident

    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert incident.ended_at is not None and incident.buildings == ["1栋"]
    assert incidents.standing(db.session, incident)["total"]["need_help"] == 1


def test_the_demo_has_an_open_vote_an_anonymous_consultation_and_an_activity(demo_app):
    from server.voice.models import Activity, Poll
    from server.voice.service import status

    polls = db.session.scalars(sa.select(Poll)).all()
    assert sorted((p.kind, p.anonymous, status(p)) for p in polls) == [
        ("satisfaction", True, "open"), ("vote", False, "open")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 1
