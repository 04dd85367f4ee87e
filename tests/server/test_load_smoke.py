"""`make load` works end to end: the harness (bench/load) runs for a few seconds with a handful of
users against two real app servers on the test PostgreSQL, and reports every kind of request with no
errors, its last line one JSON object. It asserts no speed: that is the load test's job, not a test's."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import POSTGRES_URL
from tests.support.needs import need

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent.parent
SMALL = {"LOAD_SECONDS": "12", "LOAD_SERVERS": "2", "LOAD_PHONES": "4", "LOAD_CHANNELS": "8", "LOAD_REPORTERS": "2",
         "LOAD_SUPERVISORS": "1", "LOAD_COMMUNITIES": "2", "LOAD_GRIDS": "2", "LOAD_HOUSEHOLDS": "30",
         "LOAD_RESIDENTS": "8", "LOAD_SPAWN_RATE": "50", "LOAD_SYNC_EVERY": "1", "LOAD_TICKET_EVERY": "2",
         "LOAD_DASHBOARD_EVERY": "2", "LOAD_MAX_REQUESTS": "5000"}


FIRST_SYNCS = {"first sync", "first sync (all pages)"}


@pytest.mark.parametrize("warm", ["0", "1"], ids=["first-syncs-in-the-run", "first-syncs-before-it"])
def test_the_load_harness_runs_two_servers_and_reports_every_kind_of_request(tmp_path, warm):
    need(bool(POSTGRES_URL), "GUANJIA_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    need(importlib.util.find_spec("locust") is not None, "Locust is not installed (make test installs it)")
    env = {**os.environ, **SMALL, "LOAD_WARM": warm, "LOAD_POSTGRES_URL": POSTGRES_URL}
    env.pop("LOAD_COMPARE", None)
    done = subprocess.run([sys.executable, "-m", "bench.load"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0, result["runs"][0]["failures"]
    run = result["runs"][0]
    assert run["servers"] == 2 and not run["crashed"]
    made = {kind for kind, figures in run["kinds"].items() if figures["count"] > 0}
    everyday = {"sync", "live start", "live poll", "poke latency", "resident first sync", "ticket raise",
                "console login form", "console login", "dashboard"}
    if warm == "1":  # every phone's first sync was made before the run: none inside it
        assert made >= everyday and not made & FIRST_SYNCS
        assert run["warm_first_syncs"]["count"] == int(SMALL["LOAD_PHONES"])
    else:
        assert made >= everyday | FIRST_SYNCS and run["warm_first_syncs"] is None
    assert all(server["requests"] > 0 and server["syncs"] > 0 for server in run["per_server"].values())
    assert run["app_cpu_seconds_per_sync"] > 0
    assert run["pokes"] > 0 and run["mutations_applied"] > 0
