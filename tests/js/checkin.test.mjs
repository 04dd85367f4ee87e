// Pure logic of the butler's check-in card (pwa/js/views/checkin-logic.js): which check-ins are today's
// on the phone's calendar, today's first 签到 and last 签退, and which tap comes next.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, dayState, localDay, todays } from "../../pwa/js/views/checkin-logic.js";

process.env.TZ = "Asia/Shanghai"; // the phone's zone: read by Date when the tests run

const NOW = new Date("2026-11-27T10:00:00+08:00");
const c = (id, kind, at) => ({ id, kind, at });

test("days and times are the phone's local ones", () => {
  assert.equal(localDay("2026-11-26T23:30:00Z"), "2026-11-27"); // 07:30 in Shanghai, the next day
  assert.equal(localDay("2026-11-27T15:59:00Z"), "2026-11-27");
  assert.equal(localDay("2026-11-27T16:00:00Z"), "2026-11-28");
  assert.equal(localDay("not a time"), "");
  assert.equal(clock("2026-11-27T00:42:10Z"), "08:42");
  assert.equal(clock("2026-11-27T08:42:00+08:00"), "08:42");
});

test("only today's check-ins count, oldest first, whatever offset they were written with", () => {
  const list = [c("b", "out", "2026-11-27T10:01:00Z"), c("y", "in", "2026-11-26T15:59:00Z"),
                c("a", "in", "2026-11-26T23:30:00Z"), c("t", "in", "2026-11-28T08:00:00+08:00"),
                c("k", "nap", "2026-11-27T09:00:00+08:00"), null];
  assert.deepEqual(todays(list, NOW).map((x) => x.id), ["a", "b"]);
});

test("before any tap the butler is to check in", () => {
  const state = dayState([c("y", "in", "2026-11-26T08:40:00+08:00")], { now: NOW });
  assert.deepEqual(state, { firstIn: null, lastOut: null, next: "in", count: 0 });
});

test("after a check-in the next tap is 签退, and the card knows the record's sync state", () => {
  const state = dayState([c("a", "in", "2026-11-27T08:42:00+08:00")],
                         { now: NOW, stateOf: (id) => (id === "a" ? "pending" : "synced") });
  assert.equal(state.next, "out");
  assert.equal(state.firstIn.id, "a");
  assert.equal(state.firstIn.state, "pending");
  assert.equal(state.lastOut, null);
});

test("the first 签到 and the last 签退 of the day are shown", () => {
  const list = [c("i2", "in", "2026-11-27T13:30:00+08:00"), c("o1", "out", "2026-11-27T12:00:00+08:00"),
                c("i1", "in", "2026-11-27T08:42:00+08:00"), c("o2", "out", "2026-11-27T18:05:00+08:00")];
  const state = dayState(list, { now: new Date("2026-11-27T19:00:00+08:00") });
  assert.equal(state.firstIn.id, "i1");
  assert.equal(state.lastOut.id, "o2");
  assert.equal(state.next, "in"); // checked out: a new day's (or a break's) 签到 comes next
  assert.equal(state.count, 4);
});

test("a refused check-in is shown but does not count as done", () => {
  const list = [c("r", "in", "2026-11-27T08:30:00+08:00")];
  const state = dayState(list, { now: NOW, stateOf: () => "rejected" });
  assert.equal(state.firstIn.state, "rejected");
  assert.equal(state.next, "in");
  assert.equal(state.count, 0);
  const again = dayState([...list, c("ok", "in", "2026-11-27T08:35:00+08:00")],
                         { now: NOW, stateOf: (id) => (id === "r" ? "rejected" : "synced") });
  assert.equal(again.firstIn.id, "ok");
  assert.equal(again.next, "out");
});
