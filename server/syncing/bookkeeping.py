"""What every write of a replicated record must do, in one place: its version, when it changed, its
place in the change order (`seq`: without a new one, phones never see the change) and its kept wire
form. Every writer of a replicated row calls `created` or `changed`; the test suite fails a flush
that changes a replicated row any other way (tests/support/app.py).

The audit event of the write is the service layer's (server/resources/service.py `_audit`), which
knows who wrote and by which channel.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.records import Tracked, utcnow
from server.resources import kept_wire
from server.resources.registry import registry
from server.syncing.changes import next_seq

MARK = "_bookkept_version"  # set on a record when its bookkeeping is written, for the tests' check


def created(session: Session, rtype: str | None, values: dict, *, model: type | None = None,
            now: datetime | None = None) -> dict:
    """The column values of a new record, bookkeeping included (version 1, times, seq, wire form),
    for an INSERT or the model's constructor. A sync conflict has no `rtype`: name its `model`."""
    now = now or utcnow()
    row = {**values, "version": 1, "deleted": False, "created_at": now, "updated_at": now}
    if issubclass(model or registry()[rtype].model, Tracked):
        row["seq"] = next_seq(session)
    if rtype is not None:
        kept_wire.keep_row(rtype, row)
    return row


def changed(session: Session, rtype: str | None, record: Any, *, now: datetime | None = None) -> None:
    """A replicated record (or a sync conflict: `rtype` None) has just been changed: its next
    version, the time, a new place in the change order, and its kept wire form made again."""
    with session.no_autoflush:  # the change is flushed whole, with its bookkeeping
        if isinstance(record, Tracked):
            record.seq = next_seq(session)
        record.version += 1
        record.updated_at = now or utcnow()
        if rtype is not None:
            kept_wire.keep(rtype, record)
        setattr(record, MARK, record.version)


def was_bookkept(record: Any) -> bool:
    """Whether the record's current version was written by `changed` (or it is not versioned)."""
    return getattr(record, MARK, None) == record.version


def unbookkept(session: Session) -> list[Any]:
    """The replicated records about to be flushed with a change that `changed` did not book: a
    version phones would never pull. The test suite fails any flush that has one."""
    from server.syncing.models import SyncConflict

    replicated = {res.model for res in registry().values()} | {SyncConflict}
    with session.no_autoflush:  # reading an expired version must not flush what is being checked
        return [record for record in session.dirty
                if type(record) in replicated and session.is_modified(record, include_collections=False)
                and not was_bookkept(record)]
