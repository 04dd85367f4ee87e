"""Secrets kept in instance/ and field encryption at rest (AES-GCM)."""
from __future__ import annotations

import base64
import json
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.types import String, Text, TypeDecorator

from server import jsonio

_CIPHER_PREFIX = "g1"


class DataKeyError(RuntimeError):
    """The data key is missing, malformed, or not the one the data was encrypted with."""


def load_or_create_secret(path: Path, *, nbytes: int = 32) -> str:
    """Read a secret kept in instance/, creating it once if it does not exist yet.

    The file is created with O_EXCL so two processes starting at once cannot both write one,
    and an existing file is never replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if not value:
            raise DataKeyError(f"{path} exists but is empty; restore it from backup") from None
        return value
    value = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def parse_data_key(text: str) -> bytes:
    """A data key is 32 random bytes, written in URL-safe base64."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except ValueError as exc:
        raise DataKeyError("GUANJIA_DATA_KEY is not base64") from exc
    if len(key) != 32:
        raise DataKeyError("GUANJIA_DATA_KEY must be 32 bytes (AES-256), base64-encoded")
    return key


class FieldCipher:
    """AES-256-GCM for single values; each ciphertext names the key it was made with.

    Naming the key (by a short fingerprint) turns a replaced key into a loud error on read
    instead of garbage or a silent loss.
    """

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"guanjia-data-key" + key).hexdigest()[:8]

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context)
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_CIPHER_PREFIX}:{self.key_id}:{body}"

    def decrypt(self, token: str, *, context: bytes = b"") -> str:
        try:
            prefix, key_id, body = token.split(":", 2)
        except ValueError:
            raise DataKeyError("value is not an encrypted field") from None
        if prefix != _CIPHER_PREFIX:
            raise DataKeyError("unknown ciphertext format")
        if key_id != self.key_id:
            raise DataKeyError(
                f"data encrypted with key {key_id}, but the configured data key is {self.key_id}"
            )
        raw = base64.urlsafe_b64decode(body.encode())
        return self._aead.decrypt(raw[:12], raw[12:], context).decode()


CIPHER_EXTENSION = "guanjia.cipher"


def current_cipher() -> FieldCipher:
    """The running app's cipher (each app holds its own, so tests can use several keys)."""
    from flask import current_app

    try:
        return current_app.extensions[CIPHER_EXTENSION]
    except (KeyError, RuntimeError) as exc:
        raise DataKeyError("no data key: encrypted fields need an app context") from exc


class EncryptedString(TypeDecorator):
    """A string column stored as AES-GCM ciphertext; Python code sees plaintext."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return current_cipher().encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return current_cipher().decrypt(value)


class EncryptedJSON(TypeDecorator):
    """Any JSON value stored as AES-GCM ciphertext (conflicting values, results that carry them)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return current_cipher().encrypt(jsonio.column_dumps(value))  # (a sync batch writes 500 results)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(current_cipher().decrypt(value))
