// Pure logic of orders and notices on the phones (pwa/js/views/resident-logic.js): an order's timeline
// as the resident reads it, what a butler has to confirm and deliver, and which notices show, in what
// order. Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { orderTimeline, ordersToFulfil, publishedNotices } from "../../pwa/js/views/resident-logic.js";

const steps = (order) => orderTimeline(order).map((s) => `${s.step}:${s.state}`);

test("a placed order reads placed now, confirmed and delivered to come", () => {
  assert.deepEqual(steps({ status: "placed", created_at: "2026-12-06T08:00:00Z" }),
    ["placed:current", "confirmed:todo", "delivered:todo"]);
});

test("each step carries its time once it happened", () => {
  const timeline = orderTimeline({ status: "delivered", created_at: "a", confirmed_at: "b", delivered_at: "c" });
  assert.deepEqual(timeline.map((s) => [s.step, s.state, s.at]),
    [["placed", "done", "a"], ["confirmed", "done", "b"], ["delivered", "current", "c"]]);
});

test("a cancelled order ends cancelled after the steps it went through", () => {
  assert.deepEqual(steps({ status: "cancelled" }), ["placed:done", "cancelled:current"]);
  assert.deepEqual(steps({ status: "cancelled", confirmed_at: "b" }), ["placed:done", "confirmed:done", "cancelled:current"]);
});

test("a refunded order goes on past delivered", () => {
  assert.deepEqual(steps({ status: "refunded" }), ["placed:done", "confirmed:done", "delivered:done", "refunded:current"]);
});

test("a new order made on this phone (no status yet) reads placed", () => {
  assert.equal(orderTimeline({})[0].state, "current");
});

test("a butler confirms the placed orders and delivers the confirmed ones, oldest first", () => {
  const orders = [{ id: "a", status: "placed", created_at: "2026-12-06T09:00:00Z" },
                  { id: "b", status: "placed", created_at: "2026-12-06T08:00:00Z" },
                  { id: "c", status: "confirmed", created_at: "2026-12-06T07:00:00Z" },
                  { id: "d", status: "delivered" }, { id: "e", status: "cancelled" }];
  const { confirm, deliver } = ordersToFulfil(orders);
  assert.deepEqual(confirm.map((o) => o.id), ["b", "a"]);
  assert.deepEqual(deliver.map((o) => o.id), ["c"]);
});

test("pinned notices come first, and a resident reads their building's and the community's", () => {
  const notices = [{ id: "old-pinned", published_at: "2026-11-01T00:00:00Z", pinned: true },
                   { id: "new", published_at: "2026-12-01T00:00:00Z" },
                   { id: "b3", published_at: "2026-12-02T00:00:00Z", building: "3" },
                   { id: "later", published_at: "2099-01-01T00:00:00Z" }];
  const now = Date.parse("2026-12-06T00:00:00Z");
  assert.deepEqual(publishedNotices(notices, now).map((n) => n.id), ["old-pinned", "b3", "new"]);
  assert.deepEqual(publishedNotices(notices, now, "1").map((n) => n.id), ["old-pinned", "new"]);
  assert.deepEqual(publishedNotices(notices, now, "3").map((n) => n.id), ["old-pinned", "b3", "new"]);
});
