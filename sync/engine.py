"""The sync engine: apply a phone's mutations exactly once and in order, then answer with changes.

Framework-free: it runs on any Store (sync/store.py). The server adapts it to SQLAlchemy
(server/syncing/store.py) and HTTP (server/syncing/api.py); tests run it on sync/memory.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sync import cursor as cursors
from sync.errors import Problem, Rejected, RetryCarefully, Unstorable
from sync.merge import changed_by_others_since, plan_put, stamp
from sync.protocol import Limits, Mutation, SyncRequest, parse_request
from sync.store import Page, Store
from sync.wire import EARLIEST_YEAR, LATEST_YEAR, is_sane_time

# (code, field, params, language) -> a message for people
Messages = Callable[[str, str | None, dict, str], str]


@dataclass(frozen=True)
class EngineConfig:
    cursor_key: bytes
    limits: Limits = Limits()


class Engine:
    def __init__(self, config: EngineConfig, messages: Messages):
        self.config = config
        self.messages = messages

    # ---- one round trip ---------------------------------------------------------------------
    def sync(self, store: Store, user: Any, body: bytes | str | dict, *, language: str = "zh-CN") -> dict:
        """Push, then pull. Raises SyncError for a request refused as a whole (nothing applied)."""
        request = parse_request(body, self.config.limits)
        results = self.push(store, user, request, language=language)
        answer = self.pull(store, user, request.cursor, request.limit)
        return {"results": results, **answer}

    def push(self, store: Store, user: Any, request: SyncRequest, *, language: str) -> list[dict]:
        if not request.mutations:
            return []
        try:
            return self._push(store, user, request, language=language, careful=False)
        except RetryCarefully:
            return self._push(store, user, request, language=language, careful=True)

    def _push(self, store: Store, user: Any, request: SyncRequest, *, language: str, careful: bool) -> list[dict]:
        results = []
        with store.write_batch(user, request.mutations, careful=careful):
            for mutation in request.mutations:
                earlier = store.recorded_result(user, mutation.mid)
                if earlier is not None:
                    # A resend: the first answer, nothing applied again (in today's language).
                    results.append(self._answer(earlier, language))
                    continue
                result = self._apply(store, user, request.client_id, mutation)
                store.record_result(user, mutation.mid, result)
                results.append(self._answer(result, language))
        return results

    def _apply(self, store: Store, user: Any, client_id: str, m: Mutation) -> dict:
        """The result as kept for resends: errors as codes and parameters, worded per answer."""
        for attempt in (1, 2):
            try:
                with store.savepoint(m):
                    return {"mid": m.mid, **self._apply_one(store, user, client_id, m)}
            except Rejected as rejected:
                problems = rejected.problems
            except Unstorable as failure:
                if failure.transient and attempt == 1:
                    continue  # met another request's write of the record: read it again, once
                problems = [Problem(None, "not_storable")]
            return {"mid": m.mid, "status": "rejected",
                    "errors": [{"field": p.field, "code": p.code, "params": dict(p.params)} for p in problems]}
        raise AssertionError("unreachable")

    def _apply_one(self, store: Store, user: Any, client_id: str, m: Mutation) -> dict:
        if not is_sane_time(m.at):  # before anything compares it or converts it to UTC
            raise Rejected([Problem("at", "out_of_range", {"min": str(EARLIEST_YEAR), "max": str(LATEST_YEAR)})])
        if m.type == "conflict":
            if m.op != "put":
                raise Rejected([Problem("op", "invalid_choice", {"choices": "put"})])
            version = store.settle_conflict(user, m.id, m.fields, client_id=client_id, at=m.at)
            return {"status": "applied", "version": version}
        if m.type not in store.synced_types():
            raise Rejected([Problem("type", "invalid_choice", {"choices": ", ".join(sorted(store.synced_types()))})])
        current = store.load(user, m.type, m.id)
        user_id = _user_id(user)
        if m.op == "delete":
            if current is None or current.deleted:
                return {"status": "applied", "version": current.version if current else None}
            if changed_by_others_since(current.meta, m.base, client_id, user_id):
                # Deleting would silently drop what someone else wrote since this phone looked.
                raise Rejected([Problem(None, "changed_since_seen")])
            return {"status": "applied", "version": store.delete(user, m.type, m.id)}
        if current is None:
            meta = stamp({}, m.fields, version=1, client_id=client_id, user_id=user_id)
            version = store.create(user, m.type, m.id, m.fields, meta=meta, client_id=client_id, at=m.at)
            return {"status": "applied", "version": version}
        if current.deleted:
            raise Rejected([Problem(None, "record_deleted")])
        plan = plan_put(current=current.values, meta=current.meta, version=current.version, base=m.base,
                        client_id=client_id, user_id=user_id, fields=store.normalize(m.type, m.fields),
                        serial=store.serial_fields(m.type))
        meta = stamp(current.meta, m.fields, version=current.version + 1, client_id=client_id, user_id=user_id)
        version = store.update(user, m.type, m.id, m.fields, meta=meta, client_id=client_id, at=m.at)
        result: dict[str, Any] = {"status": plan.status, "version": version}
        if plan.collisions:
            result["conflicts"] = [
                {"field": c.field, "yours": c.yours, "theirs": c.theirs, "kept": "yours",
                 "conflict_id": store.add_conflict(user, m.type, m.id, c, client_id=client_id, at=m.at)}
                for c in plan.collisions
            ]
        return result

    def _answer(self, result: dict, language: str) -> dict:
        """A kept result as the wire shows it: each error with a message in the caller's language."""
        if "errors" not in result:
            return result
        return {**result, "errors": [self._worded(e, language) for e in result["errors"]]}

    def _worded(self, error: dict, language: str) -> dict:
        if "params" not in error:  # kept before results were worded per answer: as first worded
            return error
        return {"field": error["field"], "code": error["code"],
                "message": self.messages(error["code"], error["field"], error["params"], language)}

    # ---- pull ---------------------------------------------------------------------------------
    def pull(self, store: Store, user: Any, cursor_text: str | None, limit: int) -> dict:
        """Changes after the cursor in the user's scope, one page; `reset` when the cursor is unusable."""
        user_id = _user_id(user)
        reset = False
        # From the beginning: -1, since records written outside the change order (bulk imports,
        # the demo) carry sequence number 0. A full resend sends live records only.
        beginning = cursors.Cursor(-1, resend=True)
        if cursor_text is None:
            position = beginning
        else:
            position = cursors.decode(cursor_text, key=self.config.cursor_key, user_id=user_id)
            # Reset when removals the cursor still needs may have been purged: those after its
            # position; inside a full resend, only those after the resend began (its base), for
            # its position walks live records of any age, below the horizon too (resetting on
            # that would start every resend longer than one page over, for ever).
            needed_after = None if position is None else position.base if position.resend else position.seq
            # A position inside a tie (several changes share its number: one transaction's) still
            # needs the removals at that very number that come after it in the tie.
            inside_tie = position is not None and not position.resend and position.type is not None
            horizon = store.horizon()
            if position is None or (needed_after is not None and (
                    needed_after < horizon or (inside_tie and needed_after == horizon))):
                position, reset = beginning, True
        page: Page = store.changes(user, after=position, limit=limit)
        if page.more:
            last = page.changes[-1]
            # A resend's first page fixes its base: removals after it are sent with the rest.
            base = position.base if position.base is not None else page.high_water
            following = cursors.Cursor(last.seq, last.type, last.id, resend=position.resend,
                                       base=base if position.resend else None)
        else:
            last_seq = page.changes[-1].seq if page.changes else position.seq
            following = cursors.Cursor(max(last_seq, page.high_water, position.seq))
        # Each record once, in its latest state: an evict and a later put of one record (it left
        # and came back) collapse into the later.
        latest = {(c.type, c.id): i for i, c in enumerate(page.changes)}
        answer: dict[str, Any] = {
            "changes": [_wire(c) for i, c in enumerate(page.changes) if latest[(c.type, c.id)] == i],
            "cursor": cursors.encode(following, key=self.config.cursor_key, user_id=user_id),
            "more": page.more,
        }
        if reset:
            answer["reset"] = True
        return answer


def _wire(change) -> dict:
    if change.op == "put":
        return {"type": change.type, "id": change.id, "op": "put", "version": change.version, "data": change.data}
    if change.op == "delete":
        return {"type": change.type, "id": change.id, "op": "delete", "version": change.version}
    return {"type": change.type, "id": change.id, "op": "evict"}


def _user_id(user: Any) -> str:
    return user if isinstance(user, str) else user.id
