"""`flask backup` and `flask restore`: one file holds what a deployment needs to come back.

The file is a gzipped tar:

- `manifest.json`: the format, when it was made, the database kind and its migration;
- `database.sqlite3` (SQLite's online backup API: consistent while the app runs) or
  `database.dump` (`pg_dump --format=custom`, one consistent snapshot);
- `keys/secret.key`, `keys/data.key`, `keys/vapid_private.pem`: the data key decrypts the customer
  file's encrypted fields and the VAPID key keeps phones' push subscriptions alive, so they travel
  with the data (the file must be kept as safely as the database itself; it is written 0600);
- `photos/full/<sha256>`, `photos/thumb/<sha256>`: the bytes of every stored photo, from whatever
  store is configured.

A restore goes into an empty database (a fresh instance, migrated or not) unless forced, writes the
keys into the instance folder, puts the photos into the configured store, and starts the change
order on a new timeline (server/syncing/changes.py: `new_timeline`): every phone's cursor from
before the restore is answered with a full resend, and what the phones had not yet sent (or had sent
after the backup was made) is applied when they send it again, so nothing typed on them is lost.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from server.extensions import db

FORMAT = "guanjia-backup/1"
KEY_FILES = {"SECRET_KEY": "secret.key", "DATA_KEY": "data.key", "VAPID_PRIVATE_KEY": "vapid_private.pem"}


class BackupError(RuntimeError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    database: str
    photos: int
    keys: tuple[str, ...]


def make_backup(app: Flask, target: Path) -> Summary:
    """Write a backup of the app's database, keys and photos to `target` (a new file)."""
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    url = db.engine.url
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        database = work_dir / _database_file(url)
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(url), database)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(database), _libpq(url)], url)
        revision = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        manifest = {"format": FORMAT, "made_at": datetime.now(timezone.utc).isoformat(),
                    "database": url.get_backend_name(), "revision": revision}
        keys = _keys_of(app)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        photos = 0
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz", compresslevel=3) as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
            tar.add(database, arcname=database.name)
            for name, value in keys.items():
                _add_bytes(tar, f"keys/{name}", value.encode())
            store = app.extensions["attachment_store"]
            from server.attachments.models import AttachmentBlob

            hashes = db.session.scalars(sa.select(AttachmentBlob.sha256).where(AttachmentBlob.stored_at.is_not(None)))
            for sha256 in hashes:
                for size in ("full", "thumb"):
                    data = store.get(f"{size}/{sha256}")
                    if data is not None:
                        _add_bytes(tar, f"photos/{size}/{sha256}", data)
                photos += 1
        db.session.rollback()
    return Summary(database=manifest["database"], photos=photos, keys=tuple(keys))


def restore(app: Flask, source: Path, *, force: bool = False) -> Summary:
    """Put a backup back into the app's (empty) database, instance folder and photo store."""
    url = db.engine.url
    try:
        tar = tarfile.open(source, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{source} is not a Guanjia backup ({exc})") from None
    with tar, tempfile.TemporaryDirectory() as work:
        manifest = _manifest(tar)
        if manifest["database"] != url.get_backend_name():
            raise BackupError(f"the backup holds a {manifest['database']} database, and this app uses "
                              f"{url.get_backend_name()}; restore it into the same kind")
        holds = _holds_data()
        if holds and not force:
            raise BackupError("the database holds data already; restore into an empty one "
                              "(or pass --force to replace everything in it)")
        keys = _read_keys(tar)
        _check_configured_keys(app, keys)
        database = Path(work) / _database_file(url)
        _extract(tar, database.name, database)
        db.session.remove()
        db.engine.dispose()
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(database, _sqlite_path(url))
        else:
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  *(["--clean", "--if-exists"] if holds or _has_tables() else []), "--dbname", _libpq(url),
                  str(database)], url)
        _write_keys(app, keys)
        photos = _put_photos(app, tar)
    from server.syncing.changes import new_timeline

    new_timeline(db.session)
    db.session.commit()
    return Summary(database=manifest["database"], photos=photos, keys=tuple(keys))


# ---- the parts --------------------------------------------------------------------------------

def _database_file(url: sa.URL) -> str:
    return "database.sqlite3" if url.get_backend_name() == "sqlite" else "database.dump"


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy page by page, even while others write."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _libpq(url: sa.URL) -> str:
    """The URL as pg_dump and pg_restore read it: no SQLAlchemy driver name, and no password (it
    goes in PGPASSWORD, out of the process list)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: sa.URL | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (apt-get install postgresql-client)")
    environment = dict(os.environ)
    if url is not None and url.password:
        environment["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(timezone.utc).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _member(tar: tarfile.TarFile, name: str) -> bytes | None:
    try:
        member = tar.getmember(name)
    except KeyError:
        return None
    if not member.isfile():
        raise BackupError(f"the backup's {name} is not a file")
    return tar.extractfile(member).read()


def _extract(tar: tarfile.TarFile, name: str, target: Path) -> None:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(f"the backup has no {name}") from None
    with tar.extractfile(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _manifest(tar: tarfile.TarFile) -> dict:
    raw = _member(tar, "manifest.json")
    try:
        manifest = json.loads(raw) if raw is not None else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a Guanjia backup (no manifest of the known format)")
    return manifest


def _keys_of(app: Flask) -> dict[str, str]:
    from server.notify import vapid

    keys = {KEY_FILES["SECRET_KEY"]: app.config["SECRET_KEY"], KEY_FILES["DATA_KEY"]: app.config["DATA_KEY"]}
    pem = app.config.get("VAPID_PRIVATE_KEY")
    if not pem and vapid.key_path(app).exists():
        pem = vapid.key_path(app).read_text()
    if pem:
        keys[KEY_FILES["VAPID_PRIVATE_KEY"]] = pem
    return keys


def _read_keys(tar: tarfile.TarFile) -> dict[str, str]:
    keys = {}
    for name in KEY_FILES.values():
        data = _member(tar, f"keys/{name}")
        if data is not None:
            keys[name] = data.decode()
    if KEY_FILES["DATA_KEY"] not in keys:
        raise BackupError("the backup has no data key: the customer file's encrypted fields could not be read")
    return keys


def _check_configured_keys(app: Flask, keys: dict[str, str]) -> None:
    """A key given in the environment wins over the instance folder: it must be the backup's."""
    for setting, name in KEY_FILES.items():
        if name in keys and os.environ.get(f"GUANJIA_{setting}") and \
                os.environ[f"GUANJIA_{setting}"].strip() != keys[name].strip():
            raise BackupError(f"GUANJIA_{setting} is set to another key than the backup's; set it to the "
                              f"backup's keys/{name} (or unset it) and restore again")


def _write_keys(app: Flask, keys: dict[str, str]) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    for setting, name in KEY_FILES.items():
        if name not in keys or os.environ.get(f"GUANJIA_{setting}"):
            continue
        path = instance / name
        temporary = path.with_suffix(".restoring")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(keys[name].strip() + "\n")
        os.replace(temporary, path)


def _put_photos(app: Flask, tar: tarfile.TarFile) -> int:
    """Into the configured store, each with the content type its (restored) row names."""
    from server.attachments.models import AttachmentBlob

    store = app.extensions["attachment_store"]
    types = dict(db.session.execute(sa.select(AttachmentBlob.sha256, AttachmentBlob.content_type)).all())
    count = 0
    for member in tar:
        parts = member.name.split("/")
        if len(parts) != 3 or parts[0] != "photos" or parts[1] not in ("full", "thumb") or not member.isfile():
            continue
        if len(parts[2]) != 64 or any(c not in "0123456789abcdef" for c in parts[2]):
            raise BackupError(f"the backup's {member.name} is not named by a SHA-256")
        data = tar.extractfile(member).read()
        store.put(f"{parts[1]}/{parts[2]}", data,
                  "image/jpeg" if parts[1] == "thumb" else types.get(parts[2]) or "application/octet-stream")
        count += parts[1] == "full"
    return count


def _has_tables() -> bool:
    return bool(sa.inspect(db.engine).get_table_names())


def _holds_data() -> bool:
    """Whether the database holds anyone's data (a migrated, empty instance holds none)."""
    if "user_account" not in sa.inspect(db.engine).get_table_names():
        return False
    try:
        return db.session.execute(sa.text("SELECT 1 FROM user_account LIMIT 1")).first() is not None
    finally:
        db.session.rollback()
