"""Sync answers above a packet travel compressed when the phone accepts it (Flask-Compress)."""
from __future__ import annotations

import gzip
import json

import brotli
import pytest
from backports import zstd

from tests.factories import auth, make_community, make_grid, make_household, make_user

PHONE = "aaaaaaaa-0000-4000-8000-000000000001"
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}


@pytest.fixture
def butler(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    grid = make_grid(community, butler)
    for _ in range(40):  # about 20 kB of answer
        make_household(community, grid)
    return butler


def first_sync(client, butler, accept: str | None, cursor: str | None = None):
    headers = {**auth(butler), "Content-Type": "application/json"}
    if accept is not None:
        headers["Accept-Encoding"] = accept
    body = json.dumps({"client_id": PHONE, "schema": 1, "cursor": cursor, "mutations": []})
    return client.post("/api/v1/sync", data=body, headers=headers)


@pytest.mark.parametrize("accept, chosen", [("gzip", "gzip"), ("gzip, deflate, br", "br"),
                                            ("gzip, deflate, br, zstd", "zstd")])
def test_a_large_answer_is_compressed_as_the_phone_accepts(client, butler, accept, chosen):
    plain = first_sync(client, butler, None)
    packed = first_sync(client, butler, accept)

    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == chosen
    assert "Accept-Encoding" in packed.headers["Vary"]
    unpacked = json.loads(DECODE[chosen](packed.get_data()))
    assert len(unpacked["changes"]) == len(plain.get_json()["changes"]) > 40
    assert len(packed.get_data()) < len(plain.get_data()) / 4


def test_a_phone_that_accepts_no_compression_gets_plain_json(client, butler):
    r = first_sync(client, butler, "identity")
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.get_json()["more"] is False


def test_a_small_answer_goes_as_it_is(client, butler):
    cursor = first_sync(client, butler, None).get_json()["cursor"]
    r = first_sync(client, butler, "gzip, br, zstd", cursor)  # nothing new: a few bytes
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.get_json()["changes"] == []


def test_an_error_is_never_compressed(client, butler):
    r = client.post("/api/v1/sync", data="{" + " " * 5000,
                    headers={**auth(butler), "Content-Type": "application/json", "Accept-Encoding": "gzip"})
    assert r.status_code == 400 and "Content-Encoding" not in r.headers
    assert r.get_json()["error"]
