// The outbox's way past a change the server keeps failing on (pwa/js/push-split.js).
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { SPLIT_AFTER, afterFailure, afterSuccess, calm } from "../../pwa/js/push-split.js";

/** Play a server that answers 500 to any push holding change `bad` (of `n`), 200 otherwise. */
function play(n, bad) {
  const outbox = Array.from({ length: n }, (_, i) => i);
  let state = calm();
  let size = 200;
  const setAside = [];
  let pushes = 0;
  while (outbox.length && pushes < 1000) {
    const sent = outbox.slice(0, size);
    pushes += 1;
    if (!sent.includes(bad)) {
      outbox.splice(0, sent.length);
      state = afterSuccess(state);
      if (!state.splitting) size = 200;
      continue;
    }
    const { action, state: next } = afterFailure(state, 500, sent.length);
    state = next;
    if (action.kind === "split") size = action.batch;
    if (action.kind === "set_aside") {
      setAside.push(...sent);
      outbox.splice(0, sent.length);
      size = 200;
    }
  }
  return { setAside, pushes, left: outbox.length };
}

test("a change the server fails on every time is found and set aside, and everything else goes", () => {
  for (const [n, bad] of [[1, 0], [2, 1], [200, 0], [200, 137], [200, 199], [150, 75]]) {
    const { setAside, left, pushes } = play(n, bad);
    assert.deepEqual(setAside, [bad], `${n} ${bad}`);
    assert.equal(left, 0);
    assert.ok(pushes <= SPLIT_AFTER + 2 * Math.ceil(Math.log2(n + 1)) + 4, `${pushes} pushes for ${n}`);
  }
});

test("a server briefly down or busy is waited for, never split over", () => {
  let state = calm();
  for (const status of [502, 503, 504, 503, 503, 503, 503]) {
    const result = afterFailure(state, status, 200);
    assert.deepEqual(result.action, { kind: "wait" });
    state = result.state;
  }
  assert.deepEqual(state, calm());
});

test("a 500 is tried again as it is a few times before the batch is split", () => {
  let state = calm();
  for (let i = 1; i < SPLIT_AFTER; i += 1) {
    const result = afterFailure(state, 500, 200);
    assert.deepEqual(result.action, { kind: "wait" });
    state = result.state;
  }
  assert.deepEqual(afterFailure(state, 500, 200).action, { kind: "split", batch: 100 });
});

test("a pull alone failing is nobody's change", () => {
  assert.deepEqual(afterFailure(calm(), 500, 0).action, { kind: "wait" });
});

test("one change failing alone is set aside, and the state is calm again", () => {
  const looking = { failures: 5, splitting: true };
  const { action, state } = afterFailure(looking, 500, 1);
  assert.deepEqual(action, { kind: "set_aside" });
  assert.deepEqual(state, calm());
});
