"""The sync engine's Store on SQLAlchemy: every write goes through server/resources/service.py,
so sync obeys exactly the scope rules and domain rules that the REST API does."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from functools import cache, lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import orjson
import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, scoped_session

from server import bulk
from server.audit import service as audit
from server.auth import scopes
from server.auth.models import User
from server.community.models import Household
from server.products.models import Product
from server.errors import ApiError
from server.jsonio import JsonText
from server.notify import outbox
from server.records import among, dialect_name, utcnow
from server.resources import kept_wire, service
from server.resources.batch import Batch, prefetch
from server.resources.registry import registry, types
from server.syncing import bookkeeping
from server.syncing import changes as change_order
from server.syncing.models import SyncConflict, SyncEviction, SyncMutation
from server.wire import compile_row_dumper
from sync.cursor import Cursor
from sync.errors import Problem, Rejected, RetryCarefully, Unstorable
from sync.merge import Collision, FieldMeta, stamp
from sync.store import Change, Page, Stored

log = logging.getLogger(__name__)

# How long a pull waits for a running writer to end when the user's changes are committed behind it.
PENDING_WAIT_SECONDS = 2.0
# PostgreSQL: an everyday pull of a butler or a resident whose cursor is more than this many
# numbers (writing transactions, deployment-wide) behind walks the user's households one by one
# instead of every change written since. See _household_branches.
WALK_HOUSEHOLDS_AFTER = 2000
HOUSEHOLD_WALKERS = frozenset({"butler", "resident"})


def _commit_keeping(session: Session, user: User) -> None:
    """Commit, and keep the user's attributes as loaded: the request authenticated them moments
    ago, and everything the request does next asks the user's role and links (reloading them
    after each commit cost a statement each time). Everything else expires, as on any commit."""
    real = object_session(user)
    if real is None:
        session.commit()
        return
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = True
    for obj in [state.obj() for state in real.identity_map.all_states()]:
        if obj is not None and obj is not user:
            real.expire(obj)


def _whole_store_failed(error: Exception) -> bool:
    """Whether an error is the database's own (gone, restarted, out of connections: every write
    would fail, answered 503 by server/errors.py) rather than one write's values."""
    return isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError))


def _problems(error: ApiError) -> list[Problem]:
    if error.errors:
        return [Problem(e.field, e.code, {k: str(v) for k, v in e.params.items()}) for e in error.errors]
    return [Problem(None, error.code, {})]


@contextmanager
def _as_rejection() -> Iterator[None]:
    """A refusal from the service layer becomes a typed rejection of this one mutation."""
    try:
        yield
    except ApiError as error:
        raise Rejected(_problems(error)) from None


class SqlStore:
    def __init__(self, session: Session, *, grace: timedelta = timedelta(days=7), device_id: str | None = None,
                 channel: str = "sync", check_kept_wire: bool = False):
        # The request's own Session rather than the app's scoped proxy: a batch of 500 asks the
        # session for thousands of things, and the proxy looked up the app context for each.
        self.session = session() if isinstance(session, scoped_session) else session
        self.grace = grace
        self.check_kept_wire = check_kept_wire  # compare each kept wire form sent with its columns' dump
        # For the audit trail: what this phone sent and was sent (the console settles conflicts here too).
        self.via = audit.Via(channel, device_id)
        self._batch: Batch | None = None  # the fast way through this batch, if taken
        self._results: dict[str, dict] = {}  # mid -> first answer, for this batch's user
        self._in_scope: set[str] = set()  # households the batch names that the user holds now
        self._held: list = []  # records the batch refers to, kept loaded for its length
        self._unsaved: list[dict] = []  # first answers of this batch, written when it ends
        self._pushed_seq: int | None = None  # PostgreSQL: the number this request's push wrote with
        self._high_water: int | None = None  # read with the horizon, for the pull that follows

    # ---- transactions -------------------------------------------------------------------------
    @contextmanager
    def write_batch(self, user: User, mutations: list, *, careful: bool) -> Iterator[None]:
        # Get the batch's numbers ready first. SQLite: this takes the counter lock, in a transaction
        # of its own (one that read before it writes can be refused), so end the read transaction
        # that authentication opened. PostgreSQL: it only asks the transaction's id, once, and the
        # batch goes on in authentication's transaction (a BEGIN and a COMMIT fewer).
        if not change_order.by_transaction(self.session):
            _commit_keeping(self.session, user)
        try:
            change_order.reserve_block(self.session, 2 * len(mutations) + 16)
            self._results = self._prefetch_results(user, [m.mid for m in mutations])
            if not careful:
                self._batch = self._prefetch(user, mutations)
            yield
            if self._batch is not None:
                self._batch.save_rows(self.session)
            if self._unsaved:
                self.session.flush()  # the records first
                bulk.insert_rows(self.session, SyncMutation, self._unsaved)
            if self._batch is not None:
                self.session.flush()
                self._batch.check(self.session)
                with outbox.together(self.session):  # its notifications, now that it has passed: together
                    self._batch.run_after_writes(self.session)
            audit.flush_deferred(self.session)  # the fast writes' audit events, in one statement
            self._pushed_seq = change_order.taken_transaction_seq(self.session)
            _commit_keeping(self.session, user)
        except Exception as exc:
            # The fast way failed at its end: its deferred checks (BatchInvalid), another writer's row
            # (IntegrityError), or a value the database or a column's conversion refused in the
            # set-based writes (COPY converts each value itself). The careful way redoes the batch
            # one savepoint per mutation, and rejects such a mutation alone (savepoint, below).
            self.session.rollback()
            if careful or _whole_store_failed(exc):
                raise
            raise RetryCarefully() from exc
        except BaseException:
            self.session.rollback()
            raise
        finally:
            change_order.drop_block(self.session)
            audit.drop_deferred(self.session)
            self._batch, self._results, self._in_scope, self._held, self._unsaved = None, {}, set(), [], []

    def _prefetch_results(self, user: User, mids: list[str]) -> dict[str, dict]:
        found = {}
        for start in range(0, len(mids), 500):
            rows = self.session.execute(_recorded_results(dialect_name(self.session)),
                                        {"user_id": user.id, "mids": mids[start:start + 500]})
            found.update({mid: result for mid, result in rows})
        return found

    def _prefetch(self, user: User, mutations: list) -> Batch:
        """Lock and load the batch's records, and warm the session with what they point at."""
        wanted: dict[str, set[str]] = {}
        households: set[str] = set()
        for m in mutations:
            wanted.setdefault(m.type, set()).add(m.id)
            if isinstance(m.fields.get("household_id"), str):
                households.add(m.fields["household_id"])
        batch = prefetch(self.session, user, wanted)
        ids = sorted(households)
        for start in range(0, len(ids), 500):
            # Held here (the session's identity map keeps only weak references), with whether the
            # user holds each now.
            for household, in_scope in self.session.execute(_households_with_scope(scopes.viewer_shape(user),
                                                                                   dialect_name(self.session)), {
                    **scopes.viewer_values(user), "ids": ids[start:start + 500]}):
                self._held.append(household)
                if in_scope:
                    self._in_scope.add(household.id)
        if any(m.fields.get("products_interest") or m.fields.get("product_code") for m in mutations):
            self._held += self.session.scalars(sa.select(Product)).all()  # visits and orders name them
        return batch

    @contextmanager
    def savepoint(self, mutation) -> Iterator[None]:
        if self._batch is not None and self._batch.fast(mutation.type):
            yield  # checked before it writes; its scope is checked with the batch's at the end
            return
        if self._batch is not None:
            self._batch.save_rows(self.session)  # whatever this write reads sees the batch so far
        if change_order.BLOCK not in self.session.info:
            change_order.reserve_block(self.session, 16)  # outside the savepoint, never undone
        try:
            with self.session.begin_nested():
                yield
        except sa.exc.StatementError as error:
            change_order.drop_block(self.session)  # numbers reserved inside may have been undone
            if _whole_store_failed(error):
                raise
            # Undone by the savepoint: this mutation alone is refused, the batch goes on. The type
            # only in the log: the message would carry the values, which may be personal data.
            log.warning("a %s mutation failed in the database (%s): rejected alone", mutation.type,
                        type(getattr(error, "orig", None) or error).__name__)
            raise Unstorable(transient=isinstance(error, IntegrityError)) from None
        except BaseException:
            change_order.drop_block(self.session)  # numbers reserved inside may have been undone
            raise

    # ---- exactly once -------------------------------------------------------------------------
    def recorded_result(self, user: User, mid: str) -> dict | None:
        return self._results.get(mid)

    def record_result(self, user: User, mid: str, result: dict) -> None:
        self._results[mid] = result
        # Written together when the batch ends (one executemany, not 500 ORM objects to flush).
        self._unsaved.append({"user_id": user.id, "mid": mid, "result": result, "created_at": utcnow()})

    # ---- records --------------------------------------------------------------------------------
    def synced_types(self) -> frozenset[str]:
        return types(synced=True)

    def serial_fields(self, rtype: str) -> frozenset[str]:
        resource = registry().get(rtype)  # (conflicts are settled, not merged)
        return resource.serial_fields if resource is not None else frozenset()

    def normalize(self, rtype: str, fields: dict) -> dict:
        wire = registry()[rtype].wire
        try:
            loaded = wire.load(fields, partial=True)
        except (ValidationError, TypeError, ValueError):
            return fields
        # Stored times are UTC, so compare in UTC: 09:15+08:00 and 01:15Z are one moment.
        utc = {k: v.astimezone(timezone.utc) if isinstance(v, datetime) else v for k, v in loaded.items()}
        return {**fields, **wire.dump(utc)}

    def load(self, user: User, rtype: str, rid: str) -> Stored | None:
        model = registry()[rtype].model
        batch = self._batch if self._batch is not None and self._batch.fast(rtype) else None
        if batch is not None and (rtype, rid) in batch.absent:
            return None
        if batch is not None and (rtype, rid) in batch.unsaved_ids:
            batch.save_rows(self.session)  # written earlier in this batch: read it back
        if batch is not None:  # locked by the prefetch (or written earlier in this batch)
            record = self.session.get(model, rid)
            visible = (rtype, rid) in batch.visible
        else:
            record = self.session.execute(sa.select(model).where(model.id == rid).with_for_update()).scalar_one_or_none()
            visible = record is not None and scopes.is_visible(self.session, user, rtype, model, rid)
        if record is None:
            return None
        if not visible:
            raise Rejected([Problem("id", "out_of_scope")])
        values = registry()[rtype].wire.dump(record)
        return Stored(values=values, version=record.version, deleted=record.deleted, meta=dict(record.field_meta or {}))

    def create(self, user: User, rtype: str, rid: str, fields: dict, *, meta: FieldMeta, client_id: str,
               at: datetime) -> int:
        with _as_rejection():
            grace = registry()[rtype].grace and self._in_grace(user, fields.get("household_id"), at)
            record = service.create(self.session, user=user, rtype=rtype, data=dict(fields), record_id=rid,
                                    client_id=client_id, meta=meta, scope_grace=grace, batch=self._batch,
                                    via=self.via)
        return record.version

    def _in_grace(self, user: User, household_id: Any, at: datetime) -> bool:
        """Whether the user held this household when the work was done, and lost it only lately."""
        if not isinstance(household_id, str) or household_id in self._in_scope:
            return False
        if scopes.household_in_scope(self.session, user, household_id):
            return False
        lost_at = change_order.evicted_recently(self.session, user_id=user.id, household_id=household_id,
                                                since=utcnow() - self.grace)
        return lost_at is not None and at < lost_at

    def update(self, user: User, rtype: str, rid: str, fields: dict, *, meta: FieldMeta, client_id: str,
               at: datetime) -> int:
        with _as_rejection():
            record = service.update(self.session, user=user, rtype=rtype, record_id=rid, data=dict(fields),
                                    client_id=client_id, meta=meta, batch=self._batch, via=self.via)
        return record.version

    def delete(self, user: User, rtype: str, rid: str) -> int:
        with _as_rejection():
            record = service.delete(self.session, user=user, rtype=rtype, record_id=rid, via=self.via)
        return record.version

    # ---- conflicts --------------------------------------------------------------------------------
    def add_conflict(self, user: User, rtype: str, rid: str, collision: Collision, *, client_id: str,
                     at: datetime) -> str:
        record = self.session.get(registry()[rtype].model, rid)
        household_id = rid if rtype == "household" else getattr(record, "household_id", None)
        community_id = _community_of(self.session, rtype, record)
        conflict = SyncConflict(**bookkeeping.created(self.session, None, dict(
            community_id=community_id, household_id=household_id, record_type=rtype, record_id=rid,
            field=collision.field, record_version=record.version, kept_value=collision.yours, kept_by=user.id,
            kept_at=at,
            other_value=collision.theirs, other_by=collision.their_user_id, status="open", field_meta={},
        ), model=SyncConflict))
        self.session.add(conflict)
        self.session.flush()
        return conflict.id

    def settle_conflict(self, user: User, conflict_id: str, fields: dict, *, client_id: str, at: datetime) -> int:
        conflict = self.session.execute(
            sa.select(SyncConflict).where(SyncConflict.id == conflict_id).with_for_update()
        ).scalar_one_or_none()
        if conflict is None or not self.session.execute(
                sa.select(sa.literal(1)).where(SyncConflict.id == conflict_id, conflict_filter(user))).first():
            raise Rejected([Problem("id", "not_found")])
        if conflict.status != "open":
            raise Rejected([Problem(None, "already_settled")])
        if set(fields) != {"chosen"}:
            raise Rejected([Problem("chosen", "required")] + [Problem(f, "unknown_field") for f in fields
                                                               if f != "chosen"])
        model = registry()[conflict.record_type].model
        record = self.session.get(model, conflict.record_id)
        if record is None:  # deleted, and its tombstone since purged
            raise Rejected([Problem("id", "not_found")])
        last_change = (record.field_meta or {}).get(conflict.field, [0])[0]
        if conflict.record_version is not None and last_change > conflict.record_version:
            # A newer value stands: it is never overwritten unseen. Choosing it settles the conflict.
            if fields["chosen"] != registry()[conflict.record_type].dump(record).get(conflict.field):
                raise Rejected([Problem(conflict.field, "changed_since_conflict")])
            return self._close(conflict, user, fields["chosen"])
        meta = stamp(record.field_meta or {}, [conflict.field], version=record.version + 1,
                     client_id=client_id, user_id=user.id)
        with _as_rejection():
            service.update(self.session, user=self._author(conflict, fields["chosen"], user),
                           rtype=conflict.record_type, record_id=conflict.record_id,
                           data={conflict.field: fields["chosen"]}, client_id=client_id, meta=meta,
                           via=audit.Via(self.via.channel, self.via.device_id, actor_id=user.id))
        return self._close(conflict, user, fields["chosen"])

    def _author(self, conflict: SyncConflict, chosen: Any, settler: User) -> User:
        """Whose rights write the chosen value: the person who typed it, if they still may (a
        supervisor restoring a butler's rating of the back office writes it as that butler did);
        anything else is the settler's own write, under the settler's rights."""
        typed = [(conflict.kept_by, conflict.kept_value), (conflict.other_by, conflict.other_value)]
        author_id = next((uid for uid, value in typed if uid and value == chosen), None)
        if author_id is None or author_id == settler.id:
            return settler
        author = self.session.get(User, author_id)
        if (author is None or not author.active
                or not scopes.may_write_field(author, conflict.record_type, conflict.field, creating=False)
                or not scopes.is_visible(self.session, author, conflict.record_type,
                                         registry()[conflict.record_type].model, conflict.record_id)):
            return settler
        return author

    def _close(self, conflict: SyncConflict, user: User, chosen: Any) -> int:
        conflict.status, conflict.chosen, conflict.settled_by, conflict.settled_at = "settled", chosen, user.id, utcnow()
        bookkeeping.changed(self.session, None, conflict)
        return conflict.version

    # ---- pull ---------------------------------------------------------------------------------
    def horizon(self) -> int:
        # The high water comes with it: read before the pull, it is still a safe end for it.
        horizon, self._high_water = change_order.horizon_and_high_water(self.session)
        return horizon

    def changes(self, user: User, *, after: Cursor, limit: int) -> Page:
        waited, attempt = 0.0, 0
        while True:
            # Read first: all at or below it is visible.
            high_water = self._high_water if self._high_water is not None else change_order.high_water(self.session)
            self._high_water = None
            heads, pending, more = self._heads(user, after, limit, high_water)
            if more or not pending or waited >= PENDING_WAIT_SECONDS:
                break
            # The user's changes are committed but numbered past the safe end: a writer that began
            # before them is still running. It ends within moments; wait for it rather than leave
            # a phone that was just poked about them without them until its next sync.
            pause = min(0.01 * 2 ** attempt, 0.2)
            self.session.rollback()  # nothing written yet: hold no pooled connection while waiting
            time.sleep(pause)
            waited, attempt = waited + pause, attempt + 1
        return Page(self._materialise(user, heads[:limit]), more, high_water)

    def _heads(self, user: User, after: Cursor, limit: int, high_water: int) -> tuple[list[tuple], bool, bool]:
        """The next changes at or below the high water, in (seq, type, id) order, as (seq, type,
        id, deleted (None: eviction), version); whether the user has changes past it that other
        requests wrote; and whether there are more than `limit` (then only the first `limit` are whole)."""
        walk = (not after.resend and user.role in HOUSEHOLD_WALKERS and high_water - after.seq > WALK_HOUSEHOLDS_AFTER
                and change_order.by_transaction(self.session))
        statement = _heads_statement(scopes.viewer_shape(user), after.type, after.resend, walk)
        params = {**scopes.viewer_values(user), "after_seq": after.seq, "after_type": after.type,
                  "after_id": after.id, "page_limit": limit + 1,
                  "removals_after": after.base if after.base is not None else high_water}
        heads: list[tuple[int, str, str, bool | None, int | None]] = []
        # Core, not the ORM's execute: plain columns need none of the ORM's per-row loading.
        for seq, rtype, rid, deleted, version, gone in self.session.connection().execute(statement, params).all():
            if deleted is None:  # an eviction
                if after.wants_removals(seq):
                    heads.append((seq, rtype, rid, None, None))
            else:  # a record (None for deleted: a withdrawn product, evicted), or a conflict
                heads.append((seq, rtype, rid, None if gone else deleted, version))
        # Each query read its rows in order, so those past the high water are each one's last:
        # leaving them out leaves every query's rows up to the high water complete.
        # The phone's own writes of this request are no news to it: they come with its next pull.
        safe = [h for h in heads if h[0] <= high_water]
        pending = any(h[0] > high_water and h[0] != self._pushed_seq for h in heads)
        # More than `limit` before the evict/put pairs collapse: some branch may have more unread.
        return _one_per_position(safe), pending, len(safe) > limit

    def _materialise(self, user: User, heads: list[tuple]) -> list[Change]:
        """Load the page's records in one query per type and dump each as the user may see it.

        Plain rows, not ORM objects, and only the wire's columns: a bootstrap pulls tens of
        thousands of records, and identity-map bookkeeping would cost more than the query.
        The household file's records and the tickets sent are recorded in the audit trail, in one
        statement per page (server/audit: read_audited).
        """
        wanted: dict[str, list[str]] = {}
        for _, rtype, rid, deleted, _ in heads:
            if deleted is False:
                wanted.setdefault(rtype, []).append(rid)
        loaded: dict[tuple[str, str], tuple[int, Any]] = {}  # -> (version, what is sent)
        conflict_reads: dict[str, tuple[str, dict]] = {}  # conflict id -> the values it shows, as a read
        connection, dialect = self.session.connection(), dialect_name(self.session)
        for rtype, ids in wanted.items():
            if rtype == "conflict":
                for conflict in self.session.scalars(sa.select(SyncConflict).where(SyncConflict.id.in_(ids))):
                    loaded[(rtype, conflict.id)] = conflict.version, dump_conflict(conflict)
                    if shows_personal_data(conflict):
                        conflict_reads[conflict.id] = conflict_read(conflict)
                continue
            hidden = scopes.hidden_fields(user, rtype)
            if rtype in kept_wire.keeping() and not hidden:  # the JSON kept with the record, as it is
                kept = connection.execute(_kept_rows(rtype, dialect), {"ids": ids}).all()
                for rid, version, text in kept:
                    loaded[(rtype, rid)] = version, JsonText(text)
                if self.check_kept_wire:
                    self._check_kept(rtype, kept)
                if len(kept) == len(ids):
                    continue
                ids = [rid for rid in ids if (rtype, rid) not in loaded]  # none kept, or kept stale
            dump = _row_dumper(rtype, hidden)
            for row in connection.execute(_wire_rows(rtype, dialect), {"ids": ids}).all():  # in one fetch
                data = dump(row)
                loaded[(rtype, data["id"])] = data["version"], data
        out = []
        # The engine sends each record once, its last change in the page: only that one is read.
        latest = {(rtype, rid): i for i, (_, rtype, rid, _, _) in enumerate(heads)}
        sent: list[tuple[str, dict]] = []
        audited = audit.read_audited()  # the household file, and tickets
        for i, (seq, rtype, rid, deleted, version) in enumerate(heads):
            if deleted is None:
                out.append(Change(seq, rtype, rid, "evict"))
            elif deleted:
                out.append(Change(seq, rtype, rid, "delete", version))
            else:
                version, data = loaded[(rtype, rid)]
                out.append(Change(seq, rtype, rid, "put", version, data))
                read = (conflict_reads.get(rid) if rtype == "conflict" else
                        (rtype, orjson.loads(data.text) if isinstance(data, JsonText) else data)
                        if rtype in audited else None)
                if read is not None and latest[(rtype, rid)] == i:
                    sent.append(read)
        audit.record_reads(self.session, user=user, via=self.via, reads=sent)
        return out

    def _check_kept(self, rtype: str, kept: list) -> None:
        """The kept forms just read are what the records' columns dump to (tests run every pull with
        this on: a writer that changed a record without bumping its version would be caught)."""
        if not kept:
            return
        dump = _row_dumper(rtype, frozenset())
        fresh = {row.id: dump(row) for row in self.session.connection().execute(
            _wire_rows(rtype, dialect_name(self.session)), {"ids": [rid for rid, _, _ in kept]})}
        for rid, _, text in kept:
            if orjson.loads(text) != fresh[rid]:
                raise AssertionError(f"the kept wire form of {rtype} {rid} is not its columns' dump")


@cache
def _wire_rows(rtype: str, dialect: str) -> sa.Select:
    """The wire's columns of the records of a type named (`ids`, a page's worth)."""
    return sa.select(*_wire_columns(rtype)).where(among(registry()[rtype].model.id, "ids", dialect))


@cache
def _kept_rows(rtype: str, dialect: str) -> sa.Select:
    """The kept wire form of the records of a type named (`ids`) where it is the record's version."""
    model = registry()[rtype].model
    return sa.select(model.id, model.version, model.wire).where(among(model.id, "ids", dialect),
                                                                model.wire_version == model.version,
                                                                model.wire.is_not(None))


@cache
def _row_dumper(rtype: str, hidden: frozenset[str]):
    """A row of `_wire_rows` as a user who may not see `hidden` is sent it (server/wire.py)."""
    columns = tuple(column.name for column in _wire_columns(rtype))
    fast = compile_row_dumper(registry()[rtype].wire, columns, hidden)
    if fast is not None:
        return fast
    general = registry()[rtype].dump
    return lambda row: {k: v for k, v in general(row._mapping).items() if k not in hidden}


@cache
def _wire_columns(rtype: str) -> tuple:
    """The columns a type's wire format reads, labelled with their attribute names."""
    wire = registry()[rtype].wire
    attributes = {field.attribute or name for name, field in wire.dump_fields.items()}
    mapper = sa.inspect(registry()[rtype].model)
    return tuple(attr.columns[0].label(attr.key) for attr in mapper.column_attrs if attr.key in attributes)


def shows_personal_data(conflict: SyncConflict) -> bool:
    """Whether a conflict carries values of the household file (a person's phone number, say)."""
    return (conflict.field in registry()[conflict.record_type].personal_fields
            and any(value is not None for value in (conflict.kept_value, conflict.other_value, conflict.chosen)))


def conflict_read(conflict: SyncConflict) -> tuple[str, dict]:
    """A conflict that shows a field's values is a read of that field of its record."""
    return conflict.record_type, {"id": conflict.record_id, "household_id": conflict.household_id,
                                  "community_id": conflict.community_id, conflict.field: True}


def _head_columns(seq, rtype, rid, deleted, version, gone) -> sa.Select:
    """A branch of the pull's one statement: the same named columns from every table."""
    return sa.select(seq.label("seq"), rtype.label("rtype"), rid.label("id"), deleted.label("deleted"),
                     version.label("version"), gone.label("gone"))


def _one_per_position(heads: list[tuple]) -> list[tuple]:
    """Sorted in change order, one change per (seq, type, id): where one transaction both evicted
    a record for the user and left it in their scope (it left and came back), the record stands."""
    kept: dict[tuple, tuple] = {}
    for head in heads:
        key = head[:3]
        if key not in kept or kept[key][3] is None:
            kept[key] = head
    return sorted(kept.values(), key=lambda h: h[:3])


@cache
def _recorded_results(dialect: str) -> sa.Select:
    """The first answers kept for the mutation ids named (`mids`)."""
    return sa.select(SyncMutation.mid, SyncMutation.result).where(
        SyncMutation.user_id == sa.bindparam("user_id"), among(SyncMutation.mid, "mids", dialect))


@lru_cache(maxsize=32)
def _households_with_scope(shape: tuple[str, bool, bool], dialect: str) -> sa.Select:
    """The households named (`ids`), each with whether the user holds it now."""
    in_scope = scopes.household_filter(scopes.viewer(shape)).label("in_scope")
    return sa.select(Household, in_scope).where(among(Household.id, "ids", dialect))


@lru_cache(maxsize=512)
def _heads_statement(shape: tuple[str, bool, bool], after_type: str | None, resend: bool,
                     walk_households: bool) -> sa.CompoundSelect:
    """The pull's one statement for users of one shape and cursors of one kind: a branch per
    table, each its own ordered, limited index range (`walk_households`: one per household for
    the types that hang on one). Its values are parameters: the viewer's, the cursor's
    (`after_seq`, `after_type`, `after_id`), `removals_after` and `page_limit`."""
    user = scopes.viewer(shape)
    after_seq, after_id = sa.bindparam("after_seq", type_=sa.BigInteger), sa.bindparam("after_id", type_=sa.String)
    page_limit = sa.bindparam("page_limit", type_=sa.Integer)
    branches = []
    for rtype in sorted(types(synced=True)):
        model = registry()[rtype].model
        # (Attachments are few, and who sees one is decided by its record: their branch reads as any other.)
        if walk_households and registry()[rtype].on_household and registry()[rtype].scope != "of_record":
            branches += _household_branches(user, rtype, model, after_type, page_limit)
            continue
        # A product taken out of the catalogue leaves every phone: read it to evict it.
        withdrawn = (model.active.is_(False) if registry()[rtype].scope == "catalogue" and user.role != "admin"
                     else sa.false())
        scope = sa.or_(scopes.visible_filter(user, rtype, model, in_change_order=True), withdrawn)
        query = _head_columns(model.seq, sa.literal(rtype, sa.String), model.id, model.deleted, model.version,
                              withdrawn).where(_after(after_type, rtype, model.seq, model.id), scope)
        if resend:  # the phone holds nothing older than the resend: no old removals
            query = query.where(sa.or_(sa.and_(model.deleted.is_(False), sa.not_(withdrawn)),
                                       model.seq > sa.bindparam("removals_after", type_=sa.BigInteger)))
        branches.append(query.order_by(model.seq, model.id))
    branches.append(_head_columns(SyncConflict.seq, sa.literal("conflict", sa.String), SyncConflict.id, sa.false(),
                                  sa.cast(sa.null(), sa.Integer), sa.false())
                    .where(_after(after_type, "conflict", SyncConflict.seq, SyncConflict.id), conflict_filter(user))
                    .order_by(SyncConflict.seq, SyncConflict.id))
    position = (SyncEviction.seq > after_seq if after_type is None else
                sa.tuple_(SyncEviction.seq, SyncEviction.record_type, SyncEviction.record_id)
                > sa.tuple_(after_seq, sa.bindparam("after_type", type_=sa.String), after_id))
    branches.append(_head_columns(SyncEviction.seq, SyncEviction.record_type, SyncEviction.record_id,
                                  sa.cast(sa.null(), sa.Boolean), sa.cast(sa.null(), sa.Integer), sa.true())
                    .where(SyncEviction.user_id == user.id, position)
                    .order_by(SyncEviction.seq, SyncEviction.record_type, SyncEviction.record_id))
    return sa.union_all(*(sa.select(branch.limit(page_limit).subquery()) for branch in branches))


def _household_branches(user: scopes.Viewer, rtype: str, model, after_type: str | None,
                        page_limit) -> list[sa.Select]:
    """PostgreSQL, a pull far behind: the records of the user's households, walked household by
    household (a short range of the (household_id, seq, id) index each, LATERAL), rather than
    every change the deployment wrote since the cursor, each checked against the user's
    households. That walk costs what the whole deployment wrote; this one what the user holds.
    (A grid of 200 households: ~4 ms either way with ~4,000 changes since the cursor; past that
    the walk by change grows by ~0.8 µs a change, and the walk by household stays.)"""
    if not scopes.reads_household_records(user, rtype):
        return []
    held = sa.select(Household.id.label("household_id")).where(scopes.household_filter(user)).subquery("held")
    changed = (sa.select(model.seq, model.id, model.deleted, model.version)
               .where(model.household_id == held.c.household_id, _after(after_type, rtype, model.seq, model.id))
               .order_by(model.seq, model.id).limit(page_limit).lateral(f"{rtype}_changes"))
    branches = [_head_columns(changed.c.seq, sa.literal(rtype, sa.String), changed.c.id, changed.c.deleted,
                              changed.c.version, sa.false())
                .select_from(held.join(changed, sa.true())).order_by(changed.c.seq, changed.c.id)]
    if rtype == "ticket" and user.role == "butler":  # and the tickets handed to them, wherever they are
        branches.append(_head_columns(model.seq, sa.literal(rtype, sa.String), model.id, model.deleted,
                                      model.version, sa.false())
                        .where(model.assignee_id == user.id, _after(after_type, rtype, model.seq, model.id))
                        .order_by(model.seq, model.id))
    return branches


def _after(after_type: str | None, rtype: str, seq_column, id_column):
    """SQL for "comes after the cursor" in (seq, type, id) order, for one type's table."""
    after_seq = sa.bindparam("after_seq", type_=sa.BigInteger)
    if after_type is None or rtype < after_type:
        return seq_column > after_seq
    if rtype > after_type:
        return seq_column >= after_seq
    return sa.tuple_(seq_column, id_column) > sa.tuple_(after_seq, sa.bindparam("after_id", type_=sa.String))


def conflict_filter(user: User | scopes.Viewer):
    """Who sees a conflict: the users whose values met, the community's supervisors, admins."""
    if user.role == "admin":
        return sa.true()
    mine = sa.or_(SyncConflict.kept_by == user.id, SyncConflict.other_by == user.id)
    if user.role == "supervisor" and user.community_id is not None:
        return sa.or_(mine, SyncConflict.community_id == user.community_id)
    # A party who no longer holds the household no longer sees its conflicts (they were evicted).
    held = sa.or_(SyncConflict.household_id.is_(None),
                  SyncConflict.household_id.in_(sa.select(Household.id).where(scopes.household_filter(user))))
    return sa.and_(mine, held)


def dump_conflict(conflict: SyncConflict) -> dict:
    return {
        "id": conflict.id, "version": conflict.version, "record_type": conflict.record_type,
        "record_id": conflict.record_id, "household_id": conflict.household_id, "field": conflict.field,
        "kept": {"value": conflict.kept_value, "user_id": conflict.kept_by,
                 "at": conflict.kept_at.isoformat() if conflict.kept_at else None},
        "other": {"value": conflict.other_value, "user_id": conflict.other_by},
        "status": conflict.status, "chosen": conflict.chosen, "settled_by": conflict.settled_by,
        "settled_at": conflict.settled_at.isoformat() if conflict.settled_at else None,
        "created_at": conflict.created_at.isoformat(),
    }


def _community_of(session: Session, rtype: str, record) -> str | None:
    resource = registry()[rtype]
    if resource.on_household:
        return session.get(Household, record.household_id).community_id
    if resource.scope == "catalogue":
        return None
    return record.community_id
