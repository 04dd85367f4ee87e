"""Configuration: defaults < GUANJIA_* environment variables < test_config; secrets kept in instance/."""
from __future__ import annotations

import base64
import stat

import pytest

from server import config, create_app
from server.crypto import DataKeyError
from server.extensions import db

OTHER_DATA_KEY = base64.urlsafe_b64encode(b"e" * 32).decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No GUANJIA_* variable of the developer's shell leaks into these tests."""
    for key in (*config._ENV_KEYS, "INSTANCE_PATH"):
        monkeypatch.delenv(config.PREFIX + key, raising=False)


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


def make_app(instance, **overrides):
    """An app with nothing configured but its instance folder (and what a test adds)."""
    return create_app({"INSTANCE_PATH": str(instance), **overrides})


# ---- precedence -------------------------------------------------------------------------------

def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(instance):
    app = make_app(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'guanjia.sqlite3'}"


def test_an_environment_variable_overrides_a_default(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("GUANJIA_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.sqlite3'}")
    app = make_app(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'from-env.sqlite3'}"


def test_the_live_channel_listens_on_the_app_s_database_unless_told_where(instance, monkeypatch):
    from server.notify.live import Hub

    assert Hub(make_app(instance)).url == f"sqlite:///{instance / 'guanjia.sqlite3'}"
    monkeypatch.setenv("GUANJIA_DATABASE_URL", "postgresql://app@pgbouncer:6432/guanjia")
    monkeypatch.setenv("GUANJIA_LIVE_DATABASE_URL", "postgresql://app@db:5432/guanjia")
    app = make_app(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app@pgbouncer:6432/guanjia"
    assert Hub(app).url == "postgresql+psycopg://app@db:5432/guanjia"


def test_test_config_overrides_an_environment_variable(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("GUANJIA_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.sqlite3'}")
    app = make_app(instance, DATABASE_URL=f"sqlite:///{tmp_path / 'from-test.sqlite3'}")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'from-test.sqlite3'}"


def test_the_secret_key_comes_from_the_environment(instance, monkeypatch):
    monkeypatch.setenv("GUANJIA_SECRET_KEY", "secret-from-env")
    assert make_app(instance).config["SECRET_KEY"] == "secret-from-env"


def test_numeric_environment_variables_are_parsed_as_integers(monkeypatch):
    monkeypatch.setenv("GUANJIA_MAX_CONTENT_LENGTH", "1024")
    assert config.from_environment()["MAX_CONTENT_LENGTH"] == 1024


def test_an_empty_environment_variable_leaves_the_default(tmp_path):
    resolved = config.resolve(str(tmp_path), None, environ={"GUANJIA_DATABASE_URL": ""})
    assert resolved["DATABASE_URL"] == f"sqlite:///{tmp_path / 'guanjia.sqlite3'}"


def test_variables_without_the_guanjia_prefix_are_ignored(tmp_path):
    resolved = config.resolve(str(tmp_path), None, environ={"DATABASE_URL": "postgresql://elsewhere/db"})
    assert resolved["DATABASE_URL"] == f"sqlite:///{tmp_path / 'guanjia.sqlite3'}"


def test_the_instance_folder_can_be_set_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GUANJIA_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "secret.key").exists()


# ---- PostgreSQL URLs --------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["postgres://u:p@db.example:5432/guanjia",
                                 "postgresql://u:p@db.example:5432/guanjia"])
def test_a_postgresql_url_gets_the_psycopg_3_driver(url):
    assert config.normalise_database_url(url) == "postgresql+psycopg://u:p@db.example:5432/guanjia"


def test_a_url_that_already_names_its_driver_is_kept():
    url = "postgresql+psycopg://u:p@db.example/guanjia"
    assert config.normalise_database_url(url) == url


def test_an_app_configured_with_postgres_url_uses_psycopg(instance, monkeypatch):
    monkeypatch.setenv("GUANJIA_DATABASE_URL", "postgres://u:p@127.0.0.1:1/guanjia")
    app = make_app(instance)
    with app.app_context():
        assert db.engine.url.drivername == "postgresql+psycopg"
        db.engine.dispose()


# ---- secrets in instance/ ---------------------------------------------------------------------

def test_a_missing_secret_key_is_generated_into_the_instance_folder(instance):
    app = make_app(instance)
    assert (instance / "secret.key").read_text().strip() == app.config["SECRET_KEY"]
    assert len(app.config["SECRET_KEY"]) >= 40


def test_a_missing_data_key_is_generated_into_the_instance_folder(instance):
    app = make_app(instance)
    assert (instance / "data.key").read_text().strip() == app.config["DATA_KEY"]
    assert len(base64.urlsafe_b64decode(app.config["DATA_KEY"])) == 32


def test_the_secret_and_data_keys_differ(instance):
    app = make_app(instance)
    assert app.config["SECRET_KEY"] != app.config["DATA_KEY"]


def test_generated_keys_are_readable_only_by_their_owner(instance):
    make_app(instance)
    for name in ("secret.key", "data.key"):
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600, name


def test_a_second_app_keeps_the_generated_keys(instance):
    first = make_app(instance)
    files = {name: (instance / name).read_text() for name in ("secret.key", "data.key")}
    second = make_app(instance)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert second.config["DATA_KEY"] == first.config["DATA_KEY"]
    assert {name: (instance / name).read_text() for name in files} == files


def test_a_configured_data_key_writes_no_key_file(instance):
    make_app(instance, DATA_KEY=OTHER_DATA_KEY)
    assert not (instance / "data.key").exists()


def test_a_data_key_from_the_environment_wins_over_the_key_file(instance, monkeypatch):
    make_app(instance)  # writes instance/data.key
    monkeypatch.setenv("GUANJIA_DATA_KEY", OTHER_DATA_KEY)
    assert make_app(instance).config["DATA_KEY"] == OTHER_DATA_KEY


@pytest.mark.parametrize("name", ["secret.key", "data.key"])
def test_an_empty_key_file_is_a_loud_error(instance, name):
    instance.mkdir(parents=True)
    (instance / name).write_text("\n")
    with pytest.raises(DataKeyError, match="empty"):
        make_app(instance)
    assert (instance / name).read_text() == "\n"  # not silently replaced


def test_a_data_key_of_the_wrong_length_is_refused(instance):
    short = base64.urlsafe_b64encode(b"k" * 16).decode()
    with pytest.raises(DataKeyError, match="32 bytes"):
        make_app(instance, DATA_KEY=short)


def test_a_data_key_that_is_not_base64_is_refused(instance):
    with pytest.raises(DataKeyError):
        make_app(instance, DATA_KEY="not base64 at all!")
