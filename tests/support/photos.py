"""Photos for tests, made as a phone makes them: a JPEG, its attachment record through the API
(POST /api/v1/attachments), then its bytes in resumable pieces (PATCH /api/v1/uploads/<sha256>)."""
from __future__ import annotations

import hashlib
import io
import struct
import zlib

from PIL import Image

from tests.factories import auth


def jpeg(width=640, height=480, seed=0) -> bytes:
    """A JPEG of noise: each seed gives other bytes (another hash)."""
    image = Image.effect_noise((width, height), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG file whose header declares `width` × `height` pixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attach(client, user, data: bytes, *, household_id: str, record_type: str, record_id: str, **extra):
    """The attachment record of these bytes on a record, made by `user` through the API (the response)."""
    body = {"household_id": household_id, "record_type": record_type, "record_id": record_id,
            "sha256": sha(data), "content_type": "image/jpeg", "size": len(data), **extra}
    return client.post("/api/v1/attachments", json=body, headers=auth(user))


def piece(client, user, digest: str, offset: int, length: int, data: bytes):
    """One piece of an upload (the response)."""
    return client.patch(f"/api/v1/uploads/{digest}", data=data, headers={
        **auth(user), "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
        "Upload-Length": str(length)})


def upload(client, user, data: bytes, size: int = 64 * 1024) -> dict:
    """Send all the bytes in pieces of `size`; the last answer's state."""
    for offset in range(0, len(data), size):
        r = piece(client, user, sha(data), offset, len(data), data[offset:offset + size])
        assert r.status_code == 200, r.get_json()
    return r.get_json()


def photo(client, user, *, household_id: str, record_type: str, record_id: str, seed: int = 0,
          uploaded: bool = True, **extra) -> dict:
    """A photo on a record, its bytes sent (or not yet: uploaded=False); the attachment as the API answered."""
    data = jpeg(seed=seed)
    r = attach(client, user, data, household_id=household_id, record_type=record_type, record_id=record_id, **extra)
    assert r.status_code == 201, r.get_json()
    if uploaded:
        upload(client, user, data)
    return r.get_json()
