"""`flask backup` and `flask restore` (docs/backup.md), on SQLite and PostgreSQL: a backup restored
into a fresh instance serves the same data with the keys it came with, the photos' bytes are back,
and a phone that synced before the disaster starts over (a reset) and loses nothing it typed."""
from __future__ import annotations

import contextlib
import tarfile
import uuid

import pytest
import sqlalchemy as sa

from server import create_app
from server.extensions import db
from server.visits.models import Visit
from tests.factories import complete_visit, make_community, make_grid, make_household, make_person, make_user, token_for
from tests.support.app import empty_postgres_database, migrate_to_head
from tests.support.phone import PHONE_B, Phone, ids, put, results
from tests.support.photos import photo


@contextlib.contextmanager
def fresh_instance(database_url, tmp_path):
    """A new deployment: its own instance folder (keys made there at start, as `make run` makes
    them), its own empty database of the same kind, migrated."""
    if database_url.startswith("sqlite"):
        urls = contextlib.nullcontext(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    else:
        urls = empty_postgres_database()
    with urls as url:
        config = {"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "restored-instance")}
        migrate_to_head(create_app(config))
        yield config


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def world(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    grid = make_grid(community, butler)
    household = make_household(community, grid)
    person = make_person(household, phone="13900001111")
    return {"butler": butler, "household": household, "person": person}


def visit(household_id, note, mid=None):
    return put("visit", str(uuid.uuid4()), complete_visit({"household_id": household_id, "visited_at": "2026-11-20T10:00:00+08:00",
                                             "satisfaction": 4, "notes": note}), mid=mid)


def test_a_restored_backup_serves_the_data_keys_and_photos_and_phones_start_over(app, client, world, tmp_path,
                                                                                   database_url):
    butler, household_id = world["butler"], world["household"].id
    token = token_for(butler)
    phone = Phone(client, butler)
    phone.headers = {"Authorization": f"Bearer {token}"}
    second = Phone(client, butler, client_id=PHONE_B)  # the butler's other phone, logged in before the backup
    before = visit(household_id, "备份之前")
    assert results(phone.sync(before))[0]["status"] == "applied"
    picture = photo(client, butler, household_id=household_id, record_type="visit", record_id=before["id"])
    phone.pull_all()

    archive = tmp_path / "guanjia.backup"
    made = run(app, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "keep the file as safe" in made.output
    assert archive.stat().st_mode & 0o077 == 0  # the keys are in it: readable by its owner only

    # Written after the backup: lost with the server, still in the phone's outbox.
    after = visit(household_id, "备份之后")
    assert results(phone.sync(after))[0]["status"] == "applied"
    phone.pull_all()
    old_cursor = phone.cursor

    with fresh_instance(database_url, tmp_path) as config:
        target = create_app(config)
        with target.app_context():
            done = run(target, "restore", str(archive))
            assert done.exit_code == 0, done.output
            db.engine.dispose()
        served = create_app(config)  # the servers start again, with the keys the backup brought
        with served.app_context():
            try:
                other = served.test_client()
                phone.client = other
                # The phone's outbox sends again what the server had not acknowledged... and what
                # it acknowledged after the backup is gone with the old server: it sends that too.
                first = phone.sync(after, cursor=old_cursor)
                body = first.get_json()
                assert first.status_code == 200, body
                assert body["reset"] is True
                assert body["results"][0]["status"] == "applied"
                changes = body["changes"]
                while body["more"]:
                    body = phone.sync().get_json()
                    changes += body["changes"]
                assert {before["id"], after["id"]} <= ids(changes, rtype="visit")
                (person,) = [c for c in changes if c["type"] == "person"]
                assert person["data"]["phone"] == "13900001111"  # decrypted with the backup's data key
                assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)
                                         .where(Visit.id == before["id"])) == 1  # once, not twice
                full = other.get(f"/api/v1/attachments/{picture['id']}/content?size=full",
                                  headers={"Authorization": f"Bearer {token}"})
                assert full.status_code == 200 and full.data[:2] == b"\xff\xd8"

                # The new timeline goes on: a later write (from the butler's other phone) reaches
                # this phone's next pull, not a reset.
                # (No ORM object of the old database is touched in here: it would load through this app.)
                later = visit(household_id, "恢复之后")
                second.client = other
                assert results(second.sync(later))[0]["status"] == "applied"
                again = phone.sync().get_json()
                assert "reset" not in again
                assert later["id"] in ids(again["changes"], rtype="visit")
            finally:
                db.session.remove()
                db.engine.dispose()


def test_restore_refuses_a_database_that_holds_data(app, world, tmp_path):
    archive = tmp_path / "guanjia.backup"
    assert run(app, "backup", str(archive)).exit_code == 0
    refused = run(app, "restore", str(archive))
    assert refused.exit_code != 0
    assert "holds data already" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0  # nothing changed


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(__file__, arcname="manifest.json")
    for path in (bogus, tmp_path / "plain.txt"):
        if not path.exists():
            path.write_text("hello")
        refused = run(app, "restore", str(path))
        assert refused.exit_code != 0
        assert "not a Guanjia backup" in refused.output


def test_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "keep.me"
    existing.write_text("precious")
    refused = run(app, "backup", str(existing))
    assert refused.exit_code != 0 and existing.read_text() == "precious"
