"""The server's VAPID key (RFC 8292): made once, loaded once, never silently replaced.

Every push subscription a browser makes is bound to this key's public half, so a new key silently
kills them all. Hence: `flask --app server vapid-keys` writes instance/vapid_private.pem once (with
O_EXCL, so two processes cannot both write one) and refuses to make another while subscriptions
exist, unless told `--replace`, which also drops them (the phones subscribe again). The app only
ever reads the key (GUANJIA_VAPID_PRIVATE_KEY, a PEM, else the file); a broken key stops it loudly.
Unlike py_vapid's Vapid.from_file, nothing here creates a key because a file is missing.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid

KEY_FILE = "vapid_private.pem"
_EXTENSION = "guanjia.vapid"


class VapidKeyError(RuntimeError):
    """The VAPID key is broken, or would be replaced without being asked to."""


def key_path(app: Flask) -> Path:
    return Path(app.instance_path) / KEY_FILE


def load(app: Flask) -> Vapid | None:
    """The configured key, else instance/vapid_private.pem, else None (push unavailable)."""
    pem = app.config.get("VAPID_PRIVATE_KEY")
    path = key_path(app)
    if not pem and path.exists():
        pem = path.read_text()
    if not pem:
        return None
    try:
        return Vapid.from_pem(pem.encode() if isinstance(pem, str) else pem)
    except Exception as exc:  # py_vapid raises whatever cryptography raises
        raise VapidKeyError(f"the VAPID private key ({'GUANJIA_VAPID_PRIVATE_KEY' if app.config.get('VAPID_PRIVATE_KEY') else path}) "
                            "is not a valid EC P-256 PEM key; restore it from backup") from exc


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = load(app)


def of(app: Flask) -> Vapid | None:
    """The app's key as loaded at start (None: push unavailable)."""
    return app.extensions.get(_EXTENSION)


def current() -> Vapid | None:
    return of(current_app)


def public_key(vapid: Vapid) -> str:
    """The applicationServerKey a browser subscribes with: the uncompressed point, base64url."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def create(path: Path) -> Vapid:
    """Write a new key to `path`, which must not exist."""
    vapid = Vapid()
    vapid.generate_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise VapidKeyError(f"{path} exists; it is never replaced silently") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(vapid.private_pem())
    return vapid
