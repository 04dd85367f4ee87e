"""Every test: strict mode, and the app's fixtures (tests/support/app.py) for the tiers that use them.

With GUANJIA_TEST_STRICT=1 (CI), a PostgreSQL or browser test that cannot run fails instead of
being skipped, and any skip at all fails the run.
"""
from __future__ import annotations

from tests.support.needs import STRICT

pytest_plugins = ("tests.support.app",)


def pytest_sessionfinish(session, exitstatus):
    if STRICT and session.testscollected:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter and reporter.stats.get("skipped"):
            reporter.write_line("GUANJIA_TEST_STRICT: skipped tests are failures in CI", red=True)
            session.exitstatus = 1
