"""Where the checked bytes of photos live: a folder (under the instance folder by default) or an
S3-compatible object store (MinIO, or any S3 API), by the ATTACHMENT_STORE setting:

- "" (the default): <instance>/attachments
- "file:///srv/guanjia/attachments": that folder
- "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1": the bucket (the endpoint is
  left out for AWS itself); the keys are boto3's usual ones (AWS_ACCESS_KEY_ID and
  AWS_SECRET_ACCESS_KEY, or an instance role), or `s3://KEY:SECRET@bucket/...`.

Objects are never public: the app reads them and serves them through the record's scope. Keys are
`full/<sha256>` and `thumb/<sha256>` (content-addressed: written once, never changed)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class Store(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


class FileStore:
    """One file per object, two levels of folders by the hash's first characters."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        kind, _, name = key.partition("/")
        if kind not in ("full", "thumb") or len(name) != 64 or not all(c in "0123456789abcdef" for c in name):
            raise ValueError("not an attachment key")
        return self.root / kind / name[:2] / name

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside, then renamed: a reader never sees half a file, a crash leaves none.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(out.name, path)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """A bucket of an S3-compatible store, through boto3."""

    def __init__(self, url: str):
        import boto3
        from botocore.config import Config

        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.bucket = parts.hostname or ""
        self.prefix = parts.path.strip("/")
        credentials = ({"aws_access_key_id": unquote(parts.username), "aws_secret_access_key": unquote(parts.password or "")}
                       if parts.username else {})
        self.client = boto3.client(
            "s3", endpoint_url=query.get("endpoint"), region_name=query.get("region", "us-east-1"),
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                          s3={"addressing_style": "path"}),
            **credentials)
        self._missing = self.client.exceptions.NoSuchKey

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self._missing:
            return None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def open_store(setting: str | None, instance_path: str) -> Store:
    """The store the setting names (see the module's docstring)."""
    if not setting:
        return FileStore(Path(instance_path) / "attachments")
    scheme = urlsplit(setting).scheme
    if scheme == "file":
        return FileStore(unquote(urlsplit(setting).path))
    if scheme == "s3":
        return S3Store(setting)
    raise ValueError("ATTACHMENT_STORE must be empty, file:///… or s3://…")
