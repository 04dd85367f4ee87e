"""The sync contract as a property: phones edit offline at random and still agree with the server.

A hypothesis state machine drives the real server through the Flask test client. Each example
builds a community of its own (so examples on one database never meet): two butlers with a grid
each, one of them with two phones, and a supervisor with a phone; three households with a person
and a visit each. Each phone keeps a replica of what it pulled and an outbox of what its user
typed offline. At random the phones

- type edits of what their replica shows (household notes, status, visit cycle; a person's name
  and notes; a visit's notes and satisfaction; a touchpoint's summary), some of them invalid,
  with `base` the version the replica holds; two phones type into the same field; butlers
  record visits and touchpoints with ids they choose; people are deleted; a party to a conflict
  (or the supervisor) settles it;
- sync (push the outbox, then pull page by page, applying put, delete, evict and reset as the
  contract says), sometimes stopping after a page or two as a phone on a bad network does;
- sync and lose the answer: the server applied the batch, the phone never heard, and sends the
  same mutations again later;

while the supervisor moves households between the butlers' grids (PATCH, as supervisor, over
REST) and the server purges its tombstones (cursors from before must reset).

Along the way every answer is checked against a model of the contract (which mutation is
applied, merged, in conflict or rejected with which typed error; the version it makes; that a
resend is answered exactly as the first time; that results come in the order sent; that an
evicted household reaches every phone that held it). At the end every phone syncs until its
outbox is empty and `more` is false, and then:

1. every phone's replica equals the server's view of its user's scope (a fresh full pull);
2. every value a phone typed is the current value, or stands in a conflict record, or was
   replaced by someone who had seen it (or deleted by someone who had), or was rejected with a
   typed error and is still held by the phone that typed it: nothing typed is silently lost;
3. no mutation was applied twice: each record's version is its starting version plus the writes
   the model counted, one stored answer per mid, one conflict record per conflict answered.

At the bottom, deterministic reproductions of the bugs this machine found.
"""
from __future__ import annotations

import json
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from server.community.models import HOUSEHOLD_STATUSES
from server.extensions import db
from server.records import utcnow
from server.resources.registry import registry
from server.syncing.changes import purge_tombstones
from server.syncing.models import SyncConflict, SyncMutation
from server.visits.models import CHANNELS
from tests.support.app import database_url_and_walks as database_url  # noqa: F401 - also walking households
from tests.factories import auth, complete_visit, make_community, make_grid, make_household, make_person, make_user, make_visit

MAX_PAGES = 60  # a pull of these small worlds that needs more pages than this never ends
PAGE_LIMITS = (3, 1000)  # 3: every pull of a world this size takes several pages
EDITS = {  # the fields phones type into, per record type
    "household": ("notes", "status", "visit_cycle_days"),
    "person": ("name", "notes"),
    "visit": ("notes", "satisfaction"),
    "touchpoint": ("summary",),
}
TIME_FIELDS = frozenset({"visited_at", "at"})  # typed by the clock, not the user: not followed
MISSING = object()


@dataclass
class Sent:
    """One mutation a phone queued, and what the test learnt about it."""

    phone: "Phone"
    body: dict  # the mutation as the wire carries it
    kind: str  # create | edit | delete | settle
    typed_at: datetime
    valid: bool = True  # False: a value the schema refuses
    result: dict | None = None  # the first answer (seen by the test even when the phone lost it)
    record: tuple[str, str] | None = None  # (type, id) the mutation writes (a settle: the conflict's record)
    record_version: int | None = None  # the record's version after the write
    seen: int = 0  # the record version its writer had seen (a settle: the one the conflict was made at)


class Phone:
    def __init__(self, name: str, user_id: str, role: str, headers: dict):
        self.name, self.user_id, self.role, self.headers = name, user_id, role, headers
        self.client_id = str(uuid.uuid4())
        self.replica: dict[tuple[str, str], dict] = {}  # (type, id) -> {"version", "data"}
        self.outbox: list[Sent] = []
        self.rejected: dict[str, Sent] = {}  # kept to show the user why, and to fix and resend
        self.cursor: str | None = None
        self.must_evict: set[str] = set()  # households taken away while in this replica, not yet evicted

    def __repr__(self) -> str:
        return f"<phone {self.name}>"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _check_typed_errors(errors) -> None:
    """Promise 3: a rejection says what is wrong, with a code and a message for people."""
    assert isinstance(errors, list) and errors, errors
    for error in errors:
        assert set(error) == {"field", "code", "message"}, error
        assert isinstance(error["code"], str) and error["code"].replace("_", "").isalpha(), error
        assert isinstance(error["message"], str) and error["message"].strip(), error


def machine_for(client, finished: list[int]):
    """The state machine class, bound to this test's client (one database per test)."""

    class PhonesAndServer(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            community = make_community()
            self.community_id = community.id
            b1 = make_user("butler", community_id=community.id)
            b2 = make_user("butler", community_id=community.id)
            sup = make_user("supervisor", community_id=community.id)
            self.role = {b1.id: "butler", b2.id: "butler", sup.id: "supervisor"}
            self.headers = {uid: auth(user) for uid, user in ((b1.id, b1), (b2.id, b2), (sup.id, sup))}
            g1, g2 = make_grid(community, b1), make_grid(community, b2)
            self.grids = [g1.id, g2.id]
            self.butler_of = {g1.id: b1.id, g2.id: b2.id}
            self.households: list[str] = []
            # Ids are random; hypothesis must see the same choices in the same order when it replays
            # a sequence of steps, so records are offered in the order the test first met them.
            self.rank: dict[str, int] = {}
            self.grid_of: dict[str, str] = {}
            self.household_of: dict[tuple[str, str], str] = {}
            self.author: dict[tuple[str, str], str] = {}
            self.version: dict[tuple[str, str], int] = {}
            for grid, butler in ((g1, b1), (g1, b1), (g2, b2)):
                h = make_household(community, grid)
                person, visit = make_person(h), make_visit(h, butler)
                self.households.append(h.id)
                for rid in (h.id, person.id, visit.id):
                    self.rank[rid] = len(self.rank)
                self.grid_of[h.id] = grid.id
                for key in (("household", h.id), ("person", person.id), ("visit", visit.id)):
                    self.household_of[key] = h.id
                    self.version[key] = 1
                self.author[("visit", visit.id)] = butler.id
            # The model of what the server holds: who last wrote each field (at which version, from
            # which phone) and what; what is deleted or purged; conflicts; when households were lost.
            self.meta: dict[tuple[str, str, str], tuple[int, str]] = {}
            self.value: dict[tuple[str, str, str], object] = {}
            self.deleted: set[tuple[str, str]] = set()
            self.purged: set[tuple[str, str]] = set()
            self.conflicts: dict[str, dict] = {}
            self.lost_at: dict[tuple[str, str], list[datetime]] = defaultdict(list)
            self.sent: dict[str, Sent] = {}
            self.typed = 0
            self.phones = [Phone("b1-a", b1.id, "butler", self.headers[b1.id]),
                           Phone("b1-b", b1.id, "butler", self.headers[b1.id]),
                           Phone("b2", b2.id, "butler", self.headers[b2.id]),
                           Phone("sup", sup.id, "supervisor", self.headers[sup.id])]

        # ---- the model's rules ----------------------------------------------------------------
        def in_scope(self, user_id: str, household_id: str) -> bool:
            return self.role[user_id] == "supervisor" or self.butler_of[self.grid_of[household_id]] == user_id

        def in_order(self, keys) -> list[tuple[str, str]]:
            return sorted(keys, key=lambda k: (k[0], self.rank.get(k[1], len(self.rank)), k[1]))

        def unique(self, phone: Phone) -> str:
            self.typed += 1
            return f"{phone.name}写的第{self.typed}条"

        def queue(self, phone: Phone, kind: str, body: dict, *, valid: bool = True,
                  record: tuple[str, str] | None = None) -> None:
            typed_at = _now()
            body = {"mid": str(uuid.uuid4()), "at": typed_at.isoformat(), **body}
            sent = Sent(phone, body, kind, typed_at, valid, record=record or (body["type"], body["id"]))
            self.sent[body["mid"]] = sent
            phone.outbox.append(sent)

        @initialize(limit=st.sampled_from(PAGE_LIMITS))
        def first_sync(self, limit):
            """Each phone is installed and pulls its user's scope (page by page)."""
            for phone in self.phones:
                self.sync_phone(phone, limit=limit)

        # ---- rules: typing offline ------------------------------------------------------------
        @rule(data=st.data(), p=st.integers(0, 3))
        def edit(self, data, p):
            """Change one field of a record the phone shows, based on the version it shows."""
            phone = self.phones[p]
            keys = self.in_order(k for k in phone.replica if k[0] in EDITS)
            if not keys:
                return
            rtype, rid = data.draw(st.sampled_from(keys), label="record")
            self.type_into(data, phone, rtype, rid, data.draw(st.sampled_from(EDITS[rtype]), label="field"))

        @rule(data=st.data(), p=st.integers(0, 3), q=st.integers(0, 3), then_sync=st.booleans())
        def edit_the_same_field_on_two_phones(self, data, p, q, then_sync):
            """Two phones (two people, or one person's two phones) change the same field offline,
            and perhaps come online one after the other."""
            if p == q:
                return
            first, second = self.phones[p], self.phones[q]
            keys = self.in_order(k for k in first.replica.keys() & second.replica.keys() if k[0] in EDITS)
            if not keys:
                return
            rtype, rid = data.draw(st.sampled_from(keys), label="record")
            name = data.draw(st.sampled_from(EDITS[rtype]), label="field")
            self.type_into(data, first, rtype, rid, name)
            self.type_into(data, second, rtype, rid, name)
            if then_sync:
                self.sync_phone(first)
                self.sync_phone(second)

        def type_into(self, data, phone: Phone, rtype: str, rid: str, name: str) -> None:
            valid = True
            if name == "status":
                value = data.draw(st.sampled_from(HOUSEHOLD_STATUSES), label="status")
            elif name == "visit_cycle_days":
                value = data.draw(st.sampled_from([7, 30, 90, 0, 731]), label="visit_cycle_days")
                valid = 1 <= value <= 730
            elif name == "satisfaction":
                value = data.draw(st.integers(0, 6), label="satisfaction")
                valid = 1 <= value <= 5
            else:
                value = self.unique(phone)
            self.queue(phone, "edit", {"type": rtype, "id": rid, "op": "put",
                                       "base": phone.replica[(rtype, rid)]["version"], "fields": {name: value}},
                       valid=valid)

        @rule(data=st.data(), p=st.integers(0, 2), rtype=st.sampled_from(["visit", "touchpoint"]))
        def record_work(self, data, p, rtype):
            """A butler records a visit or a touchpoint, with an id the phone chooses."""
            phone = self.phones[p]
            households = [rid for _, rid in self.in_order(k for k in phone.replica if k[0] == "household")]
            if not households:
                return
            household_id = data.draw(st.sampled_from(households), label="household")
            now = _now().isoformat()
            valid = True
            if rtype == "visit":
                satisfaction = data.draw(st.integers(0, 6), label="satisfaction")
                answered = data.draw(st.booleans(), label="checklist answered")  # else refused: records nothing
                valid = 1 <= satisfaction <= 5 and answered
                fields = {"household_id": household_id, "visited_at": now, "notes": self.unique(phone),
                          "satisfaction": satisfaction}
                fields = complete_visit(fields) if answered else fields
            else:
                fields = {"household_id": household_id, "at": now, "summary": self.unique(phone),
                          "channel": data.draw(st.sampled_from(CHANNELS), label="channel")}
            rid = str(uuid.uuid4())
            self.rank[rid] = len(self.rank)
            self.queue(phone, "create", {"type": rtype, "id": rid, "op": "put", "base": None,
                                         "fields": fields}, valid=valid)

        @rule(data=st.data(), p=st.integers(0, 3))
        def delete_person(self, data, p):
            phone = self.phones[p]
            people = self.in_order(k for k in phone.replica if k[0] == "person")
            if not people:
                return
            rtype, rid = data.draw(st.sampled_from(people), label="person")
            if not data.draw(st.sampled_from([False, False, True]), label="confirmed"):
                return  # people are deleted rarely: the others' edits need someone to edit
            self.queue(phone, "delete", {"type": rtype, "id": rid, "op": "delete",
                                         "base": phone.replica[(rtype, rid)]["version"], "fields": {}})

        @rule(data=st.data())
        def settle(self, data):
            """A party to a conflict (or the supervisor) settles one its phone shows as open, with
            one of the two values."""
            shown_open = [(p, rid) for p, phone in enumerate(self.phones)
                          for _, rid in self.in_order(k for k, row in phone.replica.items()
                                                      if k[0] == "conflict" and row["data"]["status"] == "open")]
            if not shown_open:
                return
            p, cid = data.draw(st.sampled_from(shown_open), label="phone, conflict")
            phone = self.phones[p]
            shown = phone.replica[("conflict", cid)]["data"]
            chosen = data.draw(st.sampled_from([shown["kept"]["value"], shown["other"]["value"]]), label="chosen")
            self.queue(phone, "settle", {"type": "conflict", "id": cid, "op": "put", "base": None,
                                         "fields": {"chosen": chosen}},
                       record=(shown["record_type"], shown["record_id"]))

        # ---- rules: syncing -------------------------------------------------------------------
        @rule(p=st.integers(0, 3), limit=st.sampled_from(PAGE_LIMITS), stop_after=st.sampled_from([None, 1, 2]))
        def sync(self, p, limit, stop_after):
            self.sync_phone(self.phones[p], limit=limit, stop_after=stop_after)

        @rule(p=st.integers(0, 3), limit=st.sampled_from(PAGE_LIMITS))
        def sync_and_lose_the_answer(self, p, limit):
            """The server applies the batch; the answer never reaches the phone, which keeps its
            outbox and cursor and will send the same mutations again."""
            phone = self.phones[p]
            if phone.outbox:
                self.post(phone, list(phone.outbox), phone.cursor, limit)

        # ---- rules: the office ----------------------------------------------------------------
        @rule(h=st.integers(0, 2))
        def reassign(self, h):
            """The supervisor moves a household to the other butler's grid, over REST."""
            household_id = self.households[h]
            old_grid = self.grid_of[household_id]
            new_grid = next(g for g in self.grids if g != old_grid)
            old_butler = self.butler_of[old_grid]
            supervisor = next(uid for uid, role in self.role.items() if role == "supervisor")
            before = _now()
            r = client.patch(f"/api/v1/households/{household_id}", json={"grid_id": new_grid},
                             headers=self.headers[supervisor])
            assert r.status_code == 200, r.get_json()
            key = ("household", household_id)
            self.version[key] += 1
            assert r.get_json()["version"] == self.version[key]
            self.grid_of[household_id] = new_grid
            self.lost_at[(old_butler, household_id)].append(before)
            for phone in self.phones:
                if phone.user_id == old_butler and key in phone.replica:
                    phone.must_evict.add(household_id)

        @rule()
        def purge(self):
            """The nightly purge forgets every tombstone and eviction so far (older than now)."""
            db.session.rollback()
            purge_tombstones(db.session, older_than=utcnow() + timedelta(seconds=1))
            db.session.commit()
            self.purged |= self.deleted
            self.lost_at.clear()  # the evictions that gave work done before a move its grace are gone

        # ---- a phone's side of the protocol ---------------------------------------------------
        def post(self, phone: Phone, batch: list[Sent], cursor: str | None, limit: int) -> dict:
            body = {"client_id": phone.client_id, "schema": 1, "cursor": cursor, "limit": limit,
                    "mutations": [s.body for s in batch]}
            r = client.post("/api/v1/sync", data=json.dumps(body),
                            headers={**phone.headers, "Content-Type": "application/json"})
            assert r.status_code == 200, r.get_json()
            answer = r.get_json()
            # In order, one result each (promise 2); the first answer again for a resend (promise 1).
            assert [x["mid"] for x in answer["results"]] == [s.body["mid"] for s in batch]
            for sent, result in zip(batch, answer["results"]):
                if sent.result is None:
                    self.first_answer(sent, result)
                else:
                    assert result == sent.result, f"a resend of {sent.body} was answered differently"
            assert len(answer["changes"]) <= limit
            return answer

        def sync_phone(self, phone: Phone, *, limit: int = 1000, stop_after: int | None = None) -> None:
            batch = list(phone.outbox)
            answer = self.post(phone, batch, phone.cursor, limit)
            for sent in batch:
                phone.outbox.remove(sent)
                if sent.result["status"] == "rejected":
                    phone.rejected[sent.body["mid"]] = sent  # the phone keeps it and shows why
            self.take_page(phone, answer)
            pages = 1
            while answer["more"]:
                if stop_after is not None and pages >= stop_after:
                    return  # the network went away between two pages
                assert pages < MAX_PAGES, f"{phone}'s pull never ends (reset: {answer.get('reset')})"
                answer = self.post(phone, [], phone.cursor, limit)
                self.take_page(phone, answer)
                pages += 1

        def take_page(self, phone: Phone, answer: dict) -> None:
            if answer.get("reset"):
                phone.replica.clear()  # drop the replica; the outbox stays
                phone.must_evict.clear()
            on_page = set()
            for change in answer["changes"]:
                key = (change["type"], change["id"])
                assert key not in on_page, f"{key} twice on one page (promise 5): {answer['changes']}"
                on_page.add(key)
                if change["op"] == "put":
                    held = phone.replica.get(key)
                    assert held is None or change["version"] >= held["version"], (key, held, change)
                    assert change["data"]["id"] == change["id"] and change["data"]["version"] == change["version"]
                    phone.replica[key] = {"version": change["version"], "data": change["data"]}
                    if change["type"] == "household":
                        phone.must_evict.discard(change["id"])  # it came back: evicted, then put again
                elif change["op"] == "delete":
                    phone.replica.pop(key, None)
                else:
                    assert change["op"] == "evict", change
                    phone.replica.pop(key, None)
                    if change["type"] == "household":
                        phone.must_evict.discard(change["id"])
            phone.cursor = answer["cursor"]
            if not answer["more"]:
                assert not phone.must_evict, f"{phone} was never told to evict {phone.must_evict}"

        # ---- the model's expectation of each first answer -------------------------------------
        def expect(self, sent: Sent):
            """("rejected", codes or None for any typed error) or (status, version)."""
            user, client_id = sent.phone.user_id, sent.phone.client_id
            key = sent.record
            if sent.kind == "create":
                household_id = sent.body["fields"]["household_id"]
                if not sent.valid:  # a bad satisfaction fails the wire format before a checklist left empty
                    bad = sent.body["fields"].get("satisfaction") not in range(1, 6)
                    return "rejected", ({"out_of_range"} if bad else {"required"}) if self.in_scope(user, household_id) else None
                if self.in_scope(user, household_id) or any(sent.typed_at < lost for lost in
                                                             self.lost_at[(user, household_id)]):
                    return "applied", 1  # in scope, or done before the household was taken away
                return "rejected", {"out_of_scope"}
            if key in self.purged:
                if sent.kind == "delete":
                    return "applied", None
                return "rejected", None  # the record is forgotten: a put would create it, without its fields
            household_id = self.household_of[key]
            if sent.kind == "settle":
                conflict = self.conflicts[sent.body["id"]]
                if not self.in_scope(user, household_id):
                    return "rejected", {"not_found"}  # a party who lost the household lost its conflicts
                if conflict["status"] != "open":
                    return "rejected", {"already_settled"}
                if self.meta[(*key, conflict["field"])][0] > conflict["record_version"]:
                    # A value typed after the conflict stands; choosing it closes the conflict.
                    if sent.body["fields"]["chosen"] == self.value[(*key, conflict["field"])]:
                        return "applied", conflict["version"] + 1
                    return "rejected", {"changed_since_conflict"}
                if key in self.deleted:
                    return "rejected", {"not_found"}
            if not self.in_scope(user, household_id):
                return "rejected", {"out_of_scope"} if sent.kind != "settle" else None
            if sent.kind == "delete":
                if key in self.deleted:
                    return "applied", self.version[key]
                base = sent.body["base"] or 0
                if any(v > base and c != client_id for (t, i, _), (v, c) in self.meta.items() if (t, i) == key):
                    return "rejected", {"changed_since_seen"}
                return "applied", self.version[key] + 1
            if key in self.deleted:
                return "rejected", {"record_deleted"}
            if not sent.valid:
                return "rejected", {"out_of_range"}
            if key[0] in ("visit", "touchpoint") and self.role[user] == "butler" and self.author[key] != user:
                return "rejected", {"out_of_scope"}  # a butler changes only their own visits
            if sent.kind == "settle":
                return "applied", self.conflicts[sent.body["id"]]["version"] + 1
            (name, value), = sent.body["fields"].items()
            last = self.meta.get((*key, name))
            seen = sent.body["base"] or 0
            if last and last[0] > seen and last[1] != client_id and self.value[(*key, name)] != value:
                return "conflict", self.version[key] + 1
            return ("applied" if seen >= self.version[key] else "merged"), self.version[key] + 1

        def first_answer(self, sent: Sent, result: dict) -> None:
            sent.result = result
            status, detail = self.expect(sent)
            assert result["status"] == status, (sent.kind, sent.body, result, (status, detail))
            if status == "rejected":
                _check_typed_errors(result["errors"])
                if detail is not None:
                    assert {e["code"] for e in result["errors"]} == detail, (sent.body, result)
                return
            assert result.get("version") == detail, (sent.body, result, detail)
            client_id, key = sent.phone.client_id, sent.record
            sent.seen = sent.body["base"] or 0
            if sent.kind == "create":
                self.version[key] = 1
                self.household_of[key] = sent.body["fields"]["household_id"]
                self.author[key] = sent.phone.user_id
                for name, value in sent.body["fields"].items():
                    self.meta[(*key, name)], self.value[(*key, name)] = (1, client_id), value
                sent.record_version = 1
            elif sent.kind == "delete":
                if key not in self.deleted and key not in self.purged:
                    self.version[key] += 1
                    self.deleted.add(key)
                    sent.record_version = self.version[key]
            elif sent.kind == "settle":
                conflict = self.conflicts[sent.body["id"]]
                closes_only = self.meta[(*key, conflict["field"])][0] > conflict["record_version"]
                conflict["status"], conflict["version"] = "settled", detail
                if closes_only:
                    return  # on the value that stands: nothing written
                sent.seen = conflict["record_version"]
                self.version[key] += 1
                self.meta[(*key, conflict["field"])] = (self.version[key], client_id)
                self.value[(*key, conflict["field"])] = sent.body["fields"]["chosen"]
                sent.record_version = self.version[key]
            else:
                (name, value), = sent.body["fields"].items()
                if status == "conflict":
                    (conflict,) = result["conflicts"]
                    assert (conflict["field"], conflict["yours"], conflict["theirs"], conflict["kept"]) == (
                        name, value, self.value[(*key, name)], "yours"), (result, self.value[(*key, name)])
                    assert conflict["conflict_id"] not in self.conflicts
                    self.rank[conflict["conflict_id"]] = len(self.rank)
                    self.conflicts[conflict["conflict_id"]] = {
                        "record": key, "field": name, "status": "open", "version": 1,
                        "record_version": self.version[key] + 1}
                else:
                    assert "conflicts" not in result, result
                self.version[key] += 1
                self.meta[(*key, name)], self.value[(*key, name)] = (self.version[key], client_id), value
                sent.record_version = self.version[key]

        # ---- the end: every phone syncs, then the three promises --------------------------------
        def teardown(self):
            if sys.exc_info()[0] is not None:
                return  # a step failed: that is the report; the end state means nothing
            for _round in range(2):  # push everything; then pull what the phones after one pushed
                for phone in self.phones:
                    self.sync_phone(phone)
            assert not any(phone.outbox for phone in self.phones)
            self.check_replicas()
            self.check_nothing_typed_is_lost()
            self.check_nothing_applied_twice()
            finished.append(len(self.sent))

        def fresh_view(self, user_id: str) -> dict:
            phone = Phone("fresh", user_id, self.role[user_id], self.headers[user_id])
            self.sync_phone(phone)
            return phone.replica

        def check_replicas(self) -> None:
            for user_id in self.role:
                expected = self.fresh_view(user_id)
                for phone in self.phones:
                    if phone.user_id != user_id:
                        continue
                    extra = sorted(set(phone.replica) - set(expected))
                    missing = sorted(set(expected) - set(phone.replica))
                    stale = sorted(k for k in set(phone.replica) & set(expected) if phone.replica[k] != expected[k])
                    assert not (extra or missing or stale), f"{phone}: extra {extra}, missing {missing}, stale {stale}"
                households = {rid for t, rid in expected if t == "household"}
                assert households == {h for h in self.households if self.in_scope(user_id, h)}
                if self.role[user_id] == "supervisor":
                    assert {rid for t, rid in expected if t == "conflict"} == set(self.conflicts)

        def check_nothing_typed_is_lost(self) -> None:
            db.session.rollback()
            writes: dict[tuple[str, str, str], list[Sent]] = defaultdict(list)
            removal: dict[tuple[str, str], Sent] = {}  # the delete that deleted the record
            for sent in self.sent.values():
                assert sent.result is not None, f"{sent.body} was never answered"
                if sent.result["status"] == "rejected":
                    assert sent.phone.rejected.get(sent.body["mid"]) is sent, "a rejected mutation was dropped"
                    continue
                if sent.kind == "delete":
                    if sent.record_version is not None:
                        removal[sent.record] = sent
                    continue
                if sent.kind == "settle":
                    if sent.record_version is not None:  # else it closed the conflict on the value that stands
                        writes[(*sent.record, self.conflicts[sent.body["id"]]["field"])].append(sent)
                    continue
                for name in sent.body["fields"]:
                    if name not in TIME_FIELDS:
                        writes[(*sent.record, name)].append(sent)
            stored_conflicts = defaultdict(set)
            for c in db.session.scalars(sa.select(SyncConflict).where(SyncConflict.community_id == self.community_id)):
                stored_conflicts[(c.record_type, c.record_id, c.field)] |= {_canonical(c.kept_value),
                                                                            _canonical(c.other_value)}
            for (rtype, rid, name), ws in writes.items():
                record = db.session.get(registry()[rtype].model, rid)
                alive = record is not None and not record.deleted
                current = registry()[rtype].schema().dump(record).get(name, MISSING) if alive else MISSING
                gone = removal.get((rtype, rid))

                def typed(w: Sent):
                    return w.body["fields"]["chosen"] if w.kind == "settle" else w.body["fields"][name]

                def knew(o: Sent, value) -> bool:
                    """Whether the writer of `o` had seen `value` in the field before `o` replaced it:
                    it typed it itself, or its base was at or after a write that put it there."""
                    return any(typed(w) == value and w.record_version < (o.record_version or 1 << 62) and (
                        o.phone.client_id == w.phone.client_id or o.seen >= w.record_version) for w in ws)

                for w in ws:
                    value = typed(w)
                    if alive and current == value:
                        continue
                    if _canonical(value) in stored_conflicts[(rtype, rid, name)]:
                        continue
                    if any(o.record_version > w.record_version and knew(o, value) for o in ws):
                        continue  # replaced by someone who had seen it (or typed it too)
                    if not alive and gone and knew(gone, value):
                        continue  # deleted by someone who had seen it
                    raise AssertionError(
                        f"{w.phone} typed {name}={value!r} on {rtype} {rid} (answer {w.result}); it is not the "
                        f"current value ({'deleted' if not alive else current!r}), not in a conflict record, and "
                        f"no one who saw it replaced it: silently lost")
            db.session.rollback()

        def check_nothing_applied_twice(self) -> None:
            db.session.rollback()
            for (rtype, rid), version in self.version.items():
                if (rtype, rid) in self.purged:
                    continue
                record = db.session.get(registry()[rtype].model, rid)
                assert record is not None, (rtype, rid)
                assert record.version == version, f"{rtype} {rid}: version {record.version}, the writes make {version}"
                assert record.deleted == ((rtype, rid) in self.deleted)
            by_user = defaultdict(set)
            for sent in self.sent.values():
                by_user[sent.phone.user_id].add(sent.body["mid"])
            for user_id in self.role:
                stored = set(db.session.scalars(sa.select(SyncMutation.mid).where(SyncMutation.user_id == user_id)))
                assert stored == by_user[user_id], "one stored answer per mutation sent"
            conflicts = db.session.scalar(sa.select(sa.func.count()).select_from(SyncConflict)
                                          .where(SyncConflict.community_id == self.community_id))
            assert conflicts == len(self.conflicts)
            db.session.rollback()

    return PhonesAndServer


def test_phones_editing_offline_converge_and_lose_nothing(client):
    finished: list[int] = []
    machine = machine_for(client, finished)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=20, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
    assert finished, "no example ran to its end"


# ---- reproductions of what the machine found (each failed before its fix) ------------------------

AT = "2026-11-27T09:15:02+08:00"


class _Phone:
    """A bare client: pushes mutations, keeps a replica and a cursor."""

    def __init__(self, client, user):
        self.client, self.headers, self.client_id = client, auth(user), str(uuid.uuid4())
        self.cursor, self.replica = None, {}

    def sync(self, *mutations, limit=1000):
        body = {"client_id": self.client_id, "schema": 1, "cursor": self.cursor, "limit": limit,
                "mutations": list(mutations)}
        r = self.client.post("/api/v1/sync", data=json.dumps(body),
                             headers={**self.headers, "Content-Type": "application/json"})
        assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:300])
        answer = r.get_json()
        if answer.get("reset"):
            self.replica.clear()
        for change in answer["changes"]:
            key = (change["type"], change["id"])
            if change["op"] == "put":
                self.replica[key] = change["version"]
            else:
                self.replica.pop(key, None)
        self.cursor = answer["cursor"]
        return answer

    def pull_all(self, limit=1000, max_pages=MAX_PAGES):
        for _ in range(max_pages):
            if not self.sync(limit=limit)["more"]:
                return
        raise AssertionError(f"still more after {max_pages} pages")


def _put(rtype, rid, fields, base=None):
    return {"mid": str(uuid.uuid4()), "type": rtype, "id": rid, "op": "put", "base": base, "fields": fields, "at": AT}


@pytest.fixture
def small_world(session):
    community = make_community()
    b1, b2 = make_user("butler", community_id=community.id), make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    g1, g2 = make_grid(community, b1), make_grid(community, b2)
    h1 = make_household(community, g1)
    person = make_person(h1)
    make_visit(h1, b1)
    return {"b1": b1, "b2": b2, "supervisor": supervisor, "g1": g1.id, "g2": g2.id, "h1": h1.id,
            "person": person.id}


def _move(client, world, grid):
    r = client.patch(f"/api/v1/households/{world['h1']}", json={"grid_id": grid}, headers=auth(world["supervisor"]))
    assert r.status_code == 200, r.get_json()


def _purge(session):
    purge_tombstones(session, older_than=utcnow() + timedelta(seconds=1))
    session.commit()


def test_a_resend_longer_than_a_page_ends_after_tombstones_were_purged(client, small_world, session):
    """Fixed in sync/engine.py: the horizon check reset every page of a full resend whose position
    (walking old live records) lay below the horizon, so any first sync or reset longer than one
    page started over for ever once anything had been purged."""
    phone = _Phone(client, small_world["b1"])
    phone.pull_all()
    _Phone(client, small_world["b1"]).sync(
        {**_put("person", small_world["person"], {}, base=1), "op": "delete"})
    _purge(session)
    phone.pull_all(limit=2)  # reset, then a resend of several pages
    newcomer = _Phone(client, small_world["b1"])
    newcomer.pull_all(limit=2)  # a first sync of several pages
    assert phone.replica == newcomer.replica
    assert ("person", small_world["person"]) not in phone.replica


def test_a_resend_interrupted_by_a_purge_still_hears_of_what_left_its_scope(client, small_world, session):
    """Fixed in sync/engine.py: a resend must reset when removals made after it began (its base)
    were purged; exempting resends from the horizon altogether lost this eviction."""
    phone = _Phone(client, small_world["b1"])
    assert phone.sync(limit=2)["more"]  # the network goes away after the first page...
    assert ("household", small_world["h1"]) in phone.replica
    _move(client, small_world, small_world["g2"])  # ...the household leaves the butler's grid...
    _purge(session)  # ...and the night's purge forgets that eviction
    phone.pull_all(limit=2)
    assert not {k for k in phone.replica if k[0] in ("household", "person", "visit")}


def test_settling_a_conflict_on_a_purged_record_is_a_typed_rejection(client, small_world, session):
    """Fixed in server/syncing/store.py: settling read the conflict's record without checking that
    it still exists; once a deleted record's tombstone was purged, the settle was a 500."""
    supervisor, butler = _Phone(client, small_world["supervisor"]), _Phone(client, small_world["b1"])
    pid = small_world["person"]
    supervisor.sync(_put("person", pid, {"notes": "甲"}, base=1))
    (result,) = butler.sync(_put("person", pid, {"notes": "乙"}, base=1))["results"]
    conflict_id = result["conflicts"][0]["conflict_id"]
    assert butler.sync({**_put("person", pid, {}, base=3), "op": "delete"})["results"][0]["status"] == "applied"
    _purge(session)
    (settled,) = supervisor.sync(_put("conflict", conflict_id, {"chosen": "甲"}))["results"]
    assert settled["status"] == "rejected"
    _check_typed_errors(settled["errors"])


def test_a_conflict_comes_back_with_its_household(client, small_world):
    """Fixed in server/syncing/changes.py: a party who loses a household is sent an evict for its
    conflicts, but when the household came back only the household and its records were sent
    again, so the phone never saw the (still open) conflict again though a fresh pull had it."""
    supervisor, butler = _Phone(client, small_world["supervisor"]), _Phone(client, small_world["b1"])
    hid = small_world["h1"]
    butler.pull_all()
    supervisor.sync(_put("household", hid, {"notes": "甲"}, base=1))
    (result,) = butler.sync(_put("household", hid, {"notes": "乙"}, base=1))["results"]
    conflict = ("conflict", result["conflicts"][0]["conflict_id"])
    butler.pull_all()
    assert conflict in butler.replica
    _move(client, small_world, small_world["g2"])
    butler.pull_all()
    assert conflict not in butler.replica  # it left with the household
    _move(client, small_world, small_world["g1"])
    butler.pull_all()
    fresh = _Phone(client, small_world["b1"])
    fresh.pull_all()
    assert conflict in fresh.replica
    assert butler.replica == fresh.replica


@pytest.mark.parametrize("settler", ["b1", "supervisor"])
def test_a_phone_that_settles_on_the_other_party_s_value_may_then_edit_the_field(client, small_world, settler):
    """Fixed in server/resources/service.py: a settle that keeps the other party's value writes it
    with that party's rights, and the field was stamped as changed by that party from the settler's
    phone, a writer that never was. The settler's own next edit, typed offline after the settle
    and sent behind it, was then a conflict with the value it had itself just chosen."""
    phones = {"b1": _Phone(client, small_world["b1"]), "supervisor": _Phone(client, small_world["supervisor"])}
    other = next(phone for name, phone in phones.items() if name != settler)
    pid = small_world["person"]
    for phone in phones.values():
        phone.pull_all()
    phones[settler].sync(_put("person", pid, {"name": "甲"}, base=1))
    (met,) = other.sync(_put("person", pid, {"name": "乙"}, base=1))["results"]
    assert met["status"] == "conflict"
    conflict_id = met["conflicts"][0]["conflict_id"]
    phones[settler].pull_all()
    assert phones[settler].replica[("person", pid)] == 3
    # Offline: the settler keeps the other party's value, then corrects the name; then it syncs.
    settled, edited = phones[settler].sync(_put("conflict", conflict_id, {"chosen": "乙"}),
                                           _put("person", pid, {"name": "乙（核对后）"}, base=3))["results"]
    assert settled["status"] == "applied"
    assert (edited["status"], edited["version"]) == ("merged", 5), edited
    # The other party's phone, still at the version of the conflict, did not see that choice.
    (late,) = other.sync(_put("person", pid, {"name": "丙"}, base=3))["results"]
    assert late["status"] == "conflict", late
