"""Errors of the sync protocol: of a whole request, and of one mutation."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a mutation: a field (or None for the record), a code, message params."""

    field: str | None
    code: str
    params: dict[str, str] = field(default_factory=dict)


class SyncError(Exception):
    """The whole request is refused; nothing was applied."""

    def __init__(self, status: int, code: str, *, problems: list[Problem] | None = None,
                 extra: dict | None = None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.problems = problems or []
        self.extra = extra or {}  # keys the contract puts at the top level (min_schema)


class Rejected(Exception):
    """One mutation is refused (validation, permission, state machine); the batch goes on."""

    def __init__(self, problems: list[Problem]):
        super().__init__(", ".join(p.code for p in problems))
        self.problems = problems


class RetryCarefully(Exception):
    """The store's fast way through a batch failed at its end; nothing was kept. The engine
    runs the batch again with one savepoint per mutation."""


class Unstorable(Exception):
    """The store could not write one mutation (a database error, undone by the mutation's savepoint):
    it is rejected alone and the batch goes on. `transient` when a second try may pass (another
    request's write of the same record met this one's, and has committed since)."""

    def __init__(self, *, transient: bool = False):
        super().__init__("not_storable")
        self.transient = transient
