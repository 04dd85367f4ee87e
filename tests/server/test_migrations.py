"""Migrations: one head; up from empty, down to nothing and up again on SQLite and PostgreSQL; no drift."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from server import MIGRATIONS, create_app
from server.extensions import db
from tests.support.app import base_config, empty_postgres_database

CATALOGUE = {"water", "move_in", "cleaning", "repair", "custody"}


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def tables() -> set[str]:
    """The tables of the app's database, Alembic's own bookkeeping left out."""
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    """A database with nothing in it at all (not even Alembic's table)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with empty_postgres_database() as url:
        yield url


@pytest.fixture
def empty_app(empty_database_url, tmp_path):
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


# ---- the revision graph -----------------------------------------------------------------------

def test_there_is_exactly_one_head():
    assert len(ScriptDirectory(str(MIGRATIONS)).get_heads()) == 1


def test_there_is_exactly_one_base():
    assert len(ScriptDirectory(str(MIGRATIONS)).get_bases()) == 1


# ---- up and down on a real database -----------------------------------------------------------

def test_upgrade_from_an_empty_database_reaches_head(empty_app):
    upgrade()
    assert current_revision() == head()


def test_upgrade_creates_a_table_for_every_model(empty_app):
    upgrade()
    assert tables() == set(db.metadata.tables)


def test_upgrade_stocks_the_product_catalogue(empty_app):
    upgrade()
    with db.engine.connect() as conn:
        codes = set(conn.execute(sa.text("SELECT code FROM product")).scalars())
    assert codes == CATALOGUE


def test_downgrade_to_base_removes_every_table(empty_app):
    upgrade()
    downgrade(revision="base")
    assert tables() == set()
    assert current_revision() is None


def test_upgrade_after_a_full_downgrade_reaches_head_again(empty_app):
    upgrade()
    downgrade(revision="base")
    upgrade()
    assert current_revision() == head()
    assert tables() == set(db.metadata.tables)


def test_upgrading_twice_changes_nothing(empty_app):
    upgrade()
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM product")).scalar() == len(CATALOGUE)


# ---- models and migrations agree --------------------------------------------------------------

def test_flask_db_check_finds_no_drift(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_flask_db_check_notices_a_model_without_a_migration(app):
    """The check above is not vacuous: a table only the models know about is reported."""
    probe = sa.Table("drift_probe", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        result = app.test_cli_runner().invoke(args=["db", "check"])
    finally:
        db.metadata.remove(probe)
    assert result.exit_code != 0
    assert "drift_probe" in result.output, result.output
