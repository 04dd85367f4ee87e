"""`make load` works end to end: the harness (bench/load) runs for a few seconds with a handful of
users against two real app servers on the test PostgreSQL, and reports every kind of request with no
errors, its last line one JSON object. It asserts no speed: that is the load test's job, not a test's.
Its clients send a request again once when the connection drops under it unanswered, and count it,
but never resend one the server is slow to answer."""
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


# A loopback server that closes the first connection it accepts without a word (as gunicorn closes an
# idle kept-alive one just as a request goes down it), then answers, or that never answers at all;
# and a Locust client of make load's own (bench/load/locustfile.py) posting to it. In a process of its
# own: importing Locust monkey-patches the standard library with gevent's.
RESEND_CHILD = r"""
import locust  # first: it monkey-patches sockets and threads with gevent's
import json, os, socket, sys, threading
mode, plan_path = sys.argv[1], sys.argv[2]
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]
plan = {"hosts": [f"http://127.0.0.1:{port}"], "butlers": [], "residents": [], "supervisors": [], "checklist": [],
        "report": plan_path + ".report", "counts": {k: 0 for k in ("butler_phones", "butler_channels",
        "resident_channels", "reporters", "supervisors")},
        "settings": {k: 1 for k in ("sync_every_min", "sync_every_max", "ticket_every_min", "ticket_every_max",
                                    "dashboard_every_min", "dashboard_every_max", "max_requests")}}
json.dump(plan, open(plan_path, "w"))
os.environ["LOAD_PLAN"] = plan_path
from bench.load import locustfile
import requests

accepted = []
def serve():
    while True:
        conn, _ = listener.accept()
        accepted.append(conn)
        if mode == "drop" and len(accepted) == 1:
            conn.close()
            continue
        conn.recv(65536)
        if mode == "drop":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.close()
threading.Thread(target=serve, daemon=True).start()
session = requests.Session()
locustfile.resend_once_on_a_dropped_connection(session)
try:
    answer = session.post(f"http://127.0.0.1:{port}/api/v1/sync", json={"mutations": []}, timeout=1).status_code
except requests.RequestException as e:
    answer = type(e).__name__
print(json.dumps({"answer": answer, "resends": locustfile.observed["resends"], "connections": len(accepted)}))
"""


def resend_child(mode: str, tmp_path) -> dict:
    need(importlib.util.find_spec("locust") is not None, "Locust is not installed (make test installs it)")
    done = subprocess.run([sys.executable, "-c", RESEND_CHILD, mode, str(tmp_path / "plan.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_request_whose_connection_drops_unanswered_is_sent_again_once_and_counted(tmp_path):
    assert resend_child("drop", tmp_path) == {"answer": 200, "resends": 1, "connections": 2}


def test_a_request_the_server_is_slow_to_answer_is_never_sent_again(tmp_path):
    assert resend_child("silent", tmp_path) == {"answer": "ReadTimeout", "resends": 0, "connections": 1}
