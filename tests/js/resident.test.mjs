// Pure logic of the resident's app (pwa/js/views/resident-logic.js): which screen a route leads to,
// how a request's progress reads, what a resident may do now, and the order of lists.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PROGRESS, RESIDENT_HOME, RESIDENT_TABS, clampQuantity, isOpenRequest, newestFirst, orderCancellable, progress,
  publishedNotices, residentRoute, ticketActions, unreadNotices,
} from "../../pwa/js/views/resident-logic.js";

const route = (name, args = [], query = {}) => ({ name, args, query });

test("a resident's own screens open as they are", () => {
  for (const name of ["mine", "report", "services", "notices", "voice", "sync"]) {
    assert.deepEqual(residentRoute(route(name)), route(name));
  }
  assert.deepEqual(residentRoute(route("request", ["t1"])), route("request", ["t1"]));
  assert.deepEqual(residentRoute(route("notice", ["n1"], { x: "1" })), route("notice", ["n1"], { x: "1" }));
});

test("the butler's screens and the empty route lead a resident home", () => {
  for (const name of ["grid", "household", "visit", "touchpoint", "recommend", "nonsense"]) {
    assert.deepEqual(residentRoute(route(name, ["h1"])), route(RESIDENT_HOME));
  }
  assert.equal(RESIDENT_HOME, "mine");
});

test("a link to a butler's ticket screen opens the resident's request", () => {
  assert.deepEqual(residentRoute(route("ticket", ["t1"])), route("request", ["t1"]));
  assert.deepEqual(residentRoute(route("ticket")), route(RESIDENT_HOME));
  assert.deepEqual(residentRoute(route("tickets")), route("mine"));
});

test("the resident's tabs: my requests, services, notices, polls and events, me (the sync screen)", () => {
  assert.deepEqual(RESIDENT_TABS.map(([name]) => name), ["mine", "services", "notices", "voice", "sync"]);
});

test("progress of a new request: submitted is current, the rest to come", () => {
  const steps = progress({ status: "new", created_at: "2026-11-27T01:00:00Z" });
  assert.deepEqual(steps.map((s) => s.step), PROGRESS);
  assert.deepEqual(steps.map((s) => s.state), ["current", "todo", "todo", "todo", "todo", "todo"]);
  assert.equal(steps[0].at, "2026-11-27T01:00:00Z");
});

test("a request made on this phone and not yet sent reads as submitted", () => {
  const steps = progress({ category: "repair" });
  assert.equal(steps[0].state, "current");
  assert.equal(steps[0].at, null);
});

test("progress of a resolved request: the earlier steps done, with their times", () => {
  const ticket = { status: "resolved", created_at: "a", accepted_at: "b", resolved_at: "c" };
  const steps = progress(ticket);
  assert.deepEqual(steps.map((s) => [s.step, s.state, s.at]), [
    ["new", "done", "a"], ["dispatched", "done", null], ["accepted", "done", "b"], ["in_progress", "done", null],
    ["resolved", "current", "c"], ["closed", "todo", null],
  ]);
});

test("a closed request has every step done and closed current", () => {
  const steps = progress({ status: "closed", closed_at: "d" });
  assert.equal(steps.at(-1).state, "current");
  assert.equal(steps.at(-1).at, "d");
  assert.ok(steps.slice(0, -1).every((s) => s.state === "done"));
});

test("a cancelled request reads submitted, then cancelled", () => {
  assert.deepEqual(progress({ status: "cancelled", created_at: "a" }).map((s) => [s.step, s.state]),
                   [["new", "done"], ["cancelled", "current"]]);
});

test("a resident cancels only before a butler takes it, closes and rates only once resolved", () => {
  const can = (status) => ticketActions({ status });
  assert.deepEqual(can("new"), { cancel: true, close: false, rate: false });
  assert.deepEqual(can("dispatched"), { cancel: true, close: false, rate: false });
  for (const status of ["accepted", "in_progress", "cancelled"]) {
    assert.deepEqual(can(status), { cancel: false, close: false, rate: false }, status);
  }
  assert.deepEqual(can("resolved"), { cancel: false, close: true, rate: true });
  assert.deepEqual(can("closed"), { cancel: false, close: false, rate: true });
});

test("open requests are those not closed or cancelled", () => {
  assert.deepEqual(["new", "dispatched", "accepted", "in_progress", "resolved", "closed", "cancelled"]
    .filter((status) => isOpenRequest({ status })), ["new", "dispatched", "accepted", "in_progress", "resolved"]);
});

test("newest first, and a record not yet stamped by the server on top", () => {
  const list = [{ id: "a", created_at: "2026-11-01T00:00:00Z" }, { id: "b" },
                { id: "c", created_at: "2026-11-20T00:00:00Z" }];
  assert.deepEqual(newestFirst(list).map((x) => x.id), ["b", "c", "a"]);
  assert.deepEqual(list.map((x) => x.id), ["a", "b", "c"]); // the input is left as it was
});

test("notices: published ones only, newest first; a later one waits for its time", () => {
  const now = Date.parse("2026-11-27T12:00:00Z");
  const notices = [
    { id: "old", published_at: "2026-11-01T00:00:00Z" },
    { id: "later", published_at: "2026-11-28T00:00:00Z" },
    { id: "new", published_at: "2026-11-27T08:00:00+08:00" },
    { id: "undated" },
  ];
  assert.deepEqual(publishedNotices(notices, now).map((n) => n.id), ["new", "old"]);
  assert.deepEqual(publishedNotices(notices, Date.parse("2026-11-29T00:00:00Z")).map((n) => n.id),
                   ["later", "new", "old"]);
});

test("unread notices are those not opened on this phone", () => {
  const notices = [{ id: "a" }, { id: "b" }, { id: "c" }];
  assert.deepEqual(unreadNotices(notices, ["b"]).map((n) => n.id), ["a", "c"]);
  assert.deepEqual(unreadNotices(notices).map((n) => n.id), ["a", "b", "c"]);
});

test("order quantities stay within 1 and the server's 999", () => {
  assert.deepEqual([0, 1, 2.7, 999, 1000, "x", -3].map(clampQuantity), [1, 1, 2, 999, 999, 1, 1]);
});

test("an order can be cancelled only while just placed (or not yet answered)", () => {
  assert.deepEqual(["placed", "confirmed", "delivered", "cancelled", undefined]
    .map((status) => orderCancellable({ status })), [true, false, false, false, true]);
});
