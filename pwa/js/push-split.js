// When a push keeps failing on the server (500), find the one change at fault and set it aside, so
// the rest of the outbox goes on: the server judges each change alone and answers a bad one
// `rejected`, but a server bug on one record could still fail the whole batch every time, and the
// phone would resend the same batch for ever. Pure: Node's test runner checks it (tests/js).

export const SPLIT_AFTER = 3; // the same push failing this many times in a row: start looking

/** A fresh state: nothing failing. */
export const calm = () => ({ failures: 0, splitting: false });

/**
 * What to do after a push answered `status` for `sent` changes:
 * - `{ kind: "wait" }`: try again later, as is (a server briefly down or busy: 502, 503, 504);
 * - `{ kind: "split", batch }`: send only the first `batch` of them next, at once;
 * - `{ kind: "set_aside" }`: the one change sent fails alone: set it aside, shown on the Sync screen.
 * Returns the action and the next state.
 */
export function afterFailure(state, status, sent) {
  if (status !== 500 || sent < 1) return { action: { kind: "wait" }, state };
  const failures = state.failures + 1;
  if (!state.splitting && failures < SPLIT_AFTER) return { action: { kind: "wait" }, state: { ...state, failures } };
  // Once looking, each failure halves the batch at once: the change at fault is found in log2(n) pushes.
  if (sent > 1) return { action: { kind: "split", batch: Math.ceil(sent / 2) }, state: { failures, splitting: true } };
  return { action: { kind: "set_aside" }, state: calm() };
}

/** After a push went through: still looking (the change at fault is further on) or calm again. */
export function afterSuccess(state) {
  return { ...state, failures: 0 };
}
