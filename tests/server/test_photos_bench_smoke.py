"""`make bench`'s photos part works end to end on tiny sizes: real gunicorn servers started as `make run`
starts one, on PostgreSQL; a phone that syncs visits and their attachment records, then uploads the
photos' bytes in pieces over a keep-alive connection; CPU read from /proc; two grids' first syncs,
with and without photos. No speed is asserted, only that every figure is made and means what it says.

Nothing is skipped but for a missing PostgreSQL server (GUANJIA_TEST_POSTGRES_URL): without gunicorn
the measurement raises, and the test fails.
"""
from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from bench import photos
from bench.harness import Sizes
from server.attachments import images
from tests.support.app import POSTGRES_URL
from tests.support.needs import need

pytestmark = pytest.mark.postgres

# Small photos in small pieces: each upload still takes several PATCHes and ends with the check.
TINY = Sizes(grid_households=10, grid_people=20, grid_visits=50, page=30, bootstrap_reps=1,
             photo_uploads=3, photo_reps=1, photo_edge=400, photo_piece=16 * 1024, photo_every=10)


def test_the_photos_part_uploads_through_the_api_and_pulls_two_grids(tmp_path):
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    # The shared test server, not a throwaway one (its postmaster's CPU is then not read).
    f = photos.measure(POSTGRES_URL, None, TINY, tmp_path)
    up, boot = f["details"]["upload"], f["details"]["bootstrap"]

    [rep] = up["reps"]
    assert rep["photos"] == 3 and rep["mismatches"] == 0
    assert rep["pieces"] >= math.ceil(rep["bytes"] / TINY.photo_piece) > 3  # several pieces a photo
    assert rep["requests_by_kind"] == {"state": 3, "piece": rep["pieces"] - 3, "last_piece": 3}
    assert rep["requests"] == rep["pieces"] + 3  # one GET of the state per photo, then its pieces
    assert rep["wire_bytes_up"] > rep["bytes"]  # the photos' bytes and the requests' headers
    assert rep["cpu_seconds"]["gunicorn"] > 0 and "postgres" not in rep["cpu_seconds"]
    assert rep["floors"]["checked_cpu_seconds"] > rep["floors"]["raw_cpu_seconds"] > 0
    # Every photo made (the warm-ups too) was stored; the seeded grid's photos are marked uploaded besides.
    made = photos.warm_ups(TINY) + 3
    assert up["check"] == {"stored": made, "attachments_uploaded": made + boot["photos"], "pieces_left": 0}

    assert boot["photos"] == 5  # one per 10 of the grid's 50 visits
    assert boot["without"]["records"] == 10 + 20 + 50 + 5  # households, people, visits, the catalogue
    assert boot["with"]["records"] == boot["without"]["records"] + 5
    assert boot["with"]["pages"] == boot["without"]["pages"] == 3  # pages of 30
    assert boot["with"]["bytes_down"] > boot["without"]["bytes_down"]

    assert f["bootstrap_with_photos_ratio"] == pytest.approx(boot["with"]["seconds"] / boot["without"]["seconds"])
    network = rep["bytes"] * 8 / 1e6  # seconds at 1 Mbit/s
    assert f["photo_upload_cpu_over_network"] == pytest.approx(rep["cpu_seconds"]["gunicorn"] / network)
    assert f["photo_upload_overhead_vs_raw"] == pytest.approx(
        rep["cpu_seconds"]["gunicorn"] / rep["floors"]["raw_cpu_seconds"])
    assert set(f["met"]) == set(photos.GOALS) and all(isinstance(v, bool) for v in f["met"].values())


def test_the_photos_are_like_the_phones():
    data, width, height = photos.photo(7, edge=1920)
    assert photos.photo(7, edge=1920)[0] != data  # never the same bytes twice: each is a new upload
    assert max(width, height) == 1920 and 400_000 <= len(data) <= 1_000_000
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (width, height) and not image.getexif()
    assert images.check(data) == images.Checked("image/jpeg", width, height)  # what the server takes in
