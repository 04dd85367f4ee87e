"""How gunicorn.conf.py serves the app, on real gunicorn processes started as `make run` starts them:
several app servers share one machine without taking anything of gunicorn's from each other, and a
kept-alive connection lasts as long as the server is told (behind a load balancer: longer than the
balancer's idle time, docs/scaling.md)."""
from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urlsplit

import pytest

from bench.load import servers
from tests.support.app import TEST_DATA_KEY, copied_postgres_database

pytestmark = pytest.mark.postgres
IDLE_S = 3.5  # longer than gunicorn's default keep-alive (2 s), shorter than the one told below
TOLD_KEEPALIVE_S = "8"


@pytest.fixture(scope="module")
def app_servers(request, tmp_path_factory):
    """Two app servers on one machine: one as `make run` starts it, one told a longer keep-alive."""
    tmp = tmp_path_factory.mktemp("app-servers")
    with copied_postgres_database(request, "guanjia_serving") as url:
        env = servers.app_env(url, tmp / "instance", "test-secret", TEST_DATA_KEY)
        with servers.running(1, env, tmp / "logs", worker=False) as running:
            told = servers.start_app("told", {**env, "GUANJIA_KEEPALIVE": TOLD_KEEPALIVE_S},
                                     tmp / "logs" / "told.log")
            try:
                servers.wait_healthy(told.url, told)
                yield running.apps[0], told
            finally:
                servers.stop(told)


def asked_again_after_idling(url: str) -> bool:
    """Whether a second request, sent on the same connection after it sat idle, is answered on it."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/api/v1/health")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        sock = conn.sock
        time.sleep(IDLE_S)
        try:
            conn.request("GET", "/api/v1/health")
            again = conn.getresponse()
            again.read()
        except (http.client.RemoteDisconnected, ConnectionError):
            return False
        return again.status == 200 and conn.sock is sock
    finally:
        conn.close()


def test_the_app_servers_on_one_machine_leave_gunicorn_s_per_user_control_socket_alone(app_servers):
    """gunicorn (27 here) opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl): each app
    server on a machine took it from the one before, or found it in use and logged an error."""
    for process in app_servers:
        log = process.log.read_text(errors="replace")
        assert "Booting worker" in log
        assert not re.search(r"[Cc]ontrol (socket|server)", log), log


def test_a_kept_alive_connection_lasts_as_long_as_the_server_is_told(app_servers):
    default, told = app_servers
    assert not asked_again_after_idling(default.url)  # gunicorn's 2 s: right when phones reach it directly
    assert asked_again_after_idling(told.url)  # GUANJIA_KEEPALIVE, for a balancer that keeps connections
