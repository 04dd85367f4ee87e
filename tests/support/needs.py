"""Real dependencies the tests need (PostgreSQL, browsers): skipped when missing on a developer's
machine, a failure in strict mode (CI, GUANJIA_TEST_STRICT=1)."""
from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("GUANJIA_TEST_STRICT") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip when a real dependency is missing — or, in strict mode (CI), fail."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)
