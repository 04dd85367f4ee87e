// Pure logic of the phone's records (pwa/js/replica.js): merging pulled changes, the outbox's order,
// what the user sees while changes are unsent, refused or evicted. Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { Replica, key } from "../../pwa/js/replica.js";

const AT = "2026-11-27T09:15:02.000+08:00";
let counter = 0;
const ids = () => ({ mid: `m${++counter}`, at: AT });

function withServer(...records) {
  const r = new Replica();
  r.load({ serverRecords: records });
  return r;
}

function saved(r, change) {
  change.mutation.n = r.outbox.length ? r.outbox.at(-1).n + 1 : 1;
  r.noteChange(change);
  return change.mutation;
}

const household = (id, extra = {}) => ({ type: "household", id, version: 1, data: { id, building: "3", room: "101", ...extra } });
const person = (id, hid, extra = {}) => ({ type: "person", id, version: 1, data: { id, household_id: hid, name: "王", ...extra } });

test("a pulled put becomes the record the user sees", () => {
  const r = new Replica();
  const plan = r.plan([], [], [{ type: "household", id: "h1", op: "put", version: 2, data: { id: "h1", room: "101" } }]);
  r.commit(plan);
  assert.deepEqual(r.get("household", "h1"), { id: "h1", room: "101" });
  assert.deepEqual(plan.puts.map((p) => p.id), ["h1"]);
});

test("a change the user made shows at once and queues a mutation with the version they saw", () => {
  const r = withServer(household("h1", { notes: "" }));
  const m = saved(r, r.change("household", "h1", { notes: "独居老人" }, ids()));
  assert.equal(r.get("household", "h1").notes, "独居老人");
  assert.equal(m.base, 1);
  assert.deepEqual(m.fields, { notes: "独居老人" });
  assert.equal(r.state("household", "h1"), "pending");
});

test("a new record has no base, and its mutation carries only the fields typed", () => {
  const r = new Replica();
  const m = saved(r, r.change("visit", "v1", { household_id: "h1", notes: "好" }, ids()));
  assert.equal(m.base, null);
  assert.deepEqual(r.all("visit", "h1").map((v) => v.id), ["v1"]);
});

test("the outbox keeps the order changes were made in, and batches take the oldest first", () => {
  const r = new Replica();
  const first = saved(r, r.change("visit", "v1", { notes: "一" }, ids()));
  const second = saved(r, r.change("visit", "v1", { notes: "二" }, ids()));
  const third = saved(r, r.change("person", "p1", { name: "李" }, ids()));
  assert.deepEqual(r.nextBatch(2).map((m) => m.mid), [first.mid, second.mid]);
  assert.deepEqual(r.nextBatch(10).map((m) => m.mid), [first.mid, second.mid, third.mid]);
});

test("an acknowledged change leaves the outbox and the server's copy takes over", () => {
  const r = withServer(household("h1", { notes: "" }));
  const m = saved(r, r.change("household", "h1", { notes: "新" }, ids()));
  const plan = r.plan([m], [{ mid: m.mid, status: "applied", version: 2 }],
                      [{ type: "household", id: "h1", op: "put", version: 2, data: { id: "h1", notes: "新", room: "101" } }]);
  r.commit(plan);
  assert.equal(r.outbox.length, 0);
  assert.equal(r.local.size, 0);
  assert.equal(r.state("household", "h1"), "synced");
  assert.equal(r.get("household", "h1").notes, "新");
});

test("a server change to another field keeps the user's unsent change on top", () => {
  const r = withServer(household("h1", { notes: "", status: "occupied" }));
  saved(r, r.change("household", "h1", { notes: "我的" }, ids()));
  r.commit(r.plan([], [], [{ type: "household", id: "h1", op: "put", version: 2,
                             data: { id: "h1", notes: "", status: "vacant", room: "101" } }]));
  assert.deepEqual([r.get("household", "h1").notes, r.get("household", "h1").status], ["我的", "vacant"]);
});

test("a refused change keeps what the user typed and is listed with its errors", () => {
  const r = new Replica();
  const m = saved(r, r.change("visit", "v1", { household_id: "h1", satisfaction: 9 }, ids()));
  const errors = [{ field: "satisfaction", code: "out_of_range", message: "满意度必须在 1–5 之间。" }];
  r.commit(r.plan([m], [{ mid: m.mid, status: "rejected", errors }], []));
  assert.equal(r.outbox.length, 0);
  assert.deepEqual(r.rejected.get(m.mid).errors, errors);
  assert.equal(r.get("visit", "v1").satisfaction, 9);
  assert.equal(r.state("visit", "v1"), "rejected");
});

test("a household evict takes everything that hangs on it off the phone", () => {
  const r = withServer(household("h1"), person("p1", "h1"), person("p2", "h2"));
  saved(r, r.change("visit", "v-new", { household_id: "h1" }, ids()));
  const sent = [...r.outbox];
  const plan = r.plan(sent, [{ mid: sent[0].mid, status: "applied", version: 1 }],
                      [{ type: "household", id: "h1", op: "evict" }]);
  r.commit(plan);
  assert.equal(r.get("household", "h1"), null);
  assert.equal(r.get("person", "p1"), null);
  assert.equal(r.get("visit", "v-new"), null);
  assert.ok(r.get("person", "p2"));
  assert.ok(plan.removed.includes(key("person", "p1")));
});

test("a household evict takes its photos' records along (their bytes follow: photos.js prunes them)", () => {
  const photo = (id, hid) => ({ type: "attachment", id, version: 1,
                                data: { id, household_id: hid, record_type: "visit", record_id: "v1", sha256: id.repeat(64) } });
  const r = withServer(household("h1"), household("h2"), photo("a", "h1"), photo("b", "h2"));
  r.commit(r.plan([], [], [{ type: "household", id: "h1", op: "evict" }]));
  assert.equal(r.get("attachment", "a"), null);
  assert.deepEqual(r.all("attachment").map((a) => a.id), ["b"]);
});

test("an evicted record with an unsent change stays in the outbox (work before a reassignment is sent)", () => {
  const r = withServer(household("h1"), person("p1", "h1"));
  saved(r, r.change("person", "p1", { name: "改" }, ids()));
  r.commit(r.plan([], [], [{ type: "household", id: "h1", op: "evict" }]));
  assert.equal(r.outbox.length, 1);
  assert.equal(r.server.has(key("person", "p1")), false);
});

test("a delete tombstone removes the record", () => {
  const r = withServer(person("p1", "h1"));
  r.commit(r.plan([], [], [{ type: "person", id: "p1", op: "delete", version: 2 }]));
  assert.equal(r.get("person", "p1"), null);
  assert.deepEqual(r.all("person", "h1"), []);
});

test("a reset drops the server's records but keeps unsent changes and what they show", () => {
  const r = withServer(household("h1"), person("p1", "h1"));
  saved(r, r.change("visit", "v1", { household_id: "h1", notes: "离线" }, ids()));
  r.commit(r.plan([], [], [{ type: "household", id: "h1", op: "put", version: 3, data: { id: "h1" } }], { reset: true }));
  assert.equal(r.get("person", "p1"), null);
  assert.equal(r.outbox.length, 1);
  assert.equal(r.get("visit", "v1").notes, "离线");
  assert.ok(r.get("household", "h1"));
});

test("a record moved to another household is filed under the new one", () => {
  const r = withServer(person("p1", "h1"));
  r.commit(r.plan([], [], [{ type: "person", id: "p1", op: "put", version: 2, data: { id: "p1", household_id: "h2" } }]));
  assert.deepEqual(r.all("person", "h1"), []);
  assert.deepEqual(r.all("person", "h2").map((p) => p.id), ["p1"]);
});

test("a user's delete hides the record until the server confirms it", () => {
  const r = withServer(person("p1", "h1"));
  saved(r, r.remove("person", "p1", ids()));
  assert.equal(r.get("person", "p1"), null);
  assert.equal(r.outbox[0].op, "delete");
  assert.equal(r.outbox[0].base, 1);
});

test("a record's state follows its mutations: pending, then refused, then synced once given up", () => {
  const r = withServer(person("p1", "h1"));
  assert.equal(r.state("person", "p1"), "synced");
  const m = saved(r, r.change("person", "p1", { name: "" }, ids()));
  assert.equal(r.state("person", "p1"), "pending");
  r.commit(r.plan([m], [{ mid: m.mid, status: "rejected", errors: [] }], []));
  assert.equal(r.state("person", "p1"), "rejected");
  r.resolveRejected(m.mid);
  assert.equal(r.state("person", "p1"), "synced");
});

test("clearing forgets every record, change and refusal", () => {
  const r = withServer(person("p1", "h1"));
  saved(r, r.change("person", "p1", { name: "改" }, ids()));
  r.clear();
  assert.equal(r.get("person", "p1"), null);
  assert.equal(r.outbox.length, 0);
  assert.equal(r.state("person", "p1"), "synced");
  assert.deepEqual(r.all("person", "h1"), []);
});

test("a record just accepted stays as typed until the server's copy arrives on a later page", () => {
  const r = withServer(household("h1"));
  const m = saved(r, r.change("visit", "v1", { household_id: "h1", notes: "刚记的" }, ids()));
  r.commit(r.plan([m], [{ mid: m.mid, status: "applied", version: 1 }], [])); // its copy is on the next page
  assert.equal(r.outbox.length, 0);
  assert.equal(r.get("visit", "v1").notes, "刚记的");
  r.commit(r.plan([], [], [{ type: "visit", id: "v1", op: "put", version: 1, data: { id: "v1", household_id: "h1", notes: "刚记的" } }]));
  assert.equal(r.local.size, 0);
  assert.equal(r.get("visit", "v1").notes, "刚记的");
});

test("work accepted for a household the phone no longer holds leaves the phone", () => {
  const r = new Replica();
  const m = saved(r, r.change("visit", "v1", { household_id: "h-gone", notes: "调出前记的" }, ids()));
  r.commit(r.plan([m], [{ mid: m.mid, status: "applied", version: 1 }], []));
  assert.equal(r.get("visit", "v1"), null);
  assert.equal(r.local.size, 0);
});
