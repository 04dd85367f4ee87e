// The sync client: speaks docs/sync-protocol.md (push + paged pull in one POST), retries with
// backoff, resends idempotently (the same mid), and runs whenever there may be something to do:
// on open, when the app becomes visible, when the network comes back, after each save, on a timer,
// from Background Sync and when a push arrives (both through the service worker's message). After
// each sync, photos whose records the server now has send their bytes (photos.js).

import * as api from "./api.js";
import * as photos from "./photos.js";
import { afterFailure, afterSuccess, calm } from "./push-split.js";
import * as store from "./store.js";

export const SCHEMA = 1;
const PAGE = 1000; // changes per pull page
const BATCH = 200; // mutations per push (the server takes up to 500)
const TIMER_MS = 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const TEMPLATE_MAX_AGE_MS = 60 * 60_000;

const status = { running: false, again: false, failures: 0, lastError: null, retryAt: null, outdated: false };
const statusListeners = new Set();
let retryTimer = null;
let batchSize = BATCH;
let pushFaults = calm(); // a push that keeps failing on the server: see push-split.js
let onOutdated = () => {};
let onUnauthorized = () => {};
let onPasswordRequired = () => {};

export function getStatus() {
  return { ...status };
}

export function onStatus(listener) {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

function tell() {
  for (const listener of statusListeners) listener(getStatus());
}

/**
 * Run one sync now (or once more after the current one). Resolves when the phone has pushed all it
 * could and pulled until `more` is false, or when a failure has scheduled a retry. Returns true if
 * everything is through.
 */
export async function syncNow() {
  if (!store.meta.token) return false;
  if (status.running) {
    status.again = true;
    return false;
  }
  status.running = true;
  tell();
  let ok = false;
  try {
    do {
      status.again = false;
      ok = await rounds();
    } while (status.again && ok);
  } finally {
    status.running = false;
    tell();
  }
  // Not awaited: a sync is through when its records are; the bytes follow at the link's own pace.
  photos.uploadAll();
  return ok;
}

function request(sent, cursor = store.meta.cursor ?? null) {
  const body = { client_id: store.meta.clientId, schema: SCHEMA, cursor, limit: PAGE,
                 mutations: sent.map(({ n, ...m }) => m) };
  return api.post("/sync", body, { timeoutMs: 60_000 });
}

async function rounds() {
  let next = null; // a pull of the next page, sent while this one is being stored
  for (;;) {
    if (!store.meta.token) return false; // logged out meanwhile
    const sent = next ? [] : store.replica.nextBatch(batchSize);
    let response;
    try {
      response = await (next ?? request(sent));
    } catch (error) {
      return failed(error); // offline, or the server did not answer in time
    } finally {
      next = null;
    }
    if (response.status === 200) {
      const answer = await response.json();
      if ((answer.results ?? []).length !== sent.length) return failed(new Error("incomplete answer"));
      if (answer.more) {
        // The next page's request needs only this page's cursor: let the server work on it while
        // this page goes into IndexedDB. Unsent changes wait for the round after.
        next = request([], answer.cursor);
        next.catch(() => {}); // its failure is handled when it is awaited
      }
      await store.applyRound(sent, answer);
      status.failures = 0;
      status.lastError = null;
      if (sent.length) pushFaults = afterSuccess(pushFaults);
      if (!pushFaults.splitting) batchSize = BATCH; // while looking for a change at fault, halves go on
      if (!answer.more && store.replica.outbox.length === 0) {
        pushFaults = calm();
        batchSize = BATCH;
        await refreshTemplate();
        return true;
      }
      continue;
    }
    const error = await response.json().catch(() => ({}));
    if (response.status === 413 && sent.length > 1) {
      batchSize = Math.max(1, Math.floor(sent.length / 2)); // too large: send less at a time
      continue;
    }
    if (response.status === 422 && sent.length) {
      // An envelope the server cannot read: set that mutation aside (shown on the sync screen), go on.
      const culprits = culpritsOf(error, sent);
      await store.setAside(culprits, (error.details?.errors ?? []).map(({ field, code, message }) => ({ field, code, message })));
      continue;
    }
    if (response.status === 426) {
      status.outdated = true;
      onOutdated();
      return failed(new Error(error.message || "client_outdated"), { retry: false });
    }
    if (response.status === 401) {
      onUnauthorized(error);
      return failed(new Error(error.message || "unauthorized"), { retry: false });
    }
    if (response.status === 403 && error.error === "password_change_required") {
      // Nothing was taken in and nothing is dropped: the outbox waits until the password is the user's own.
      onPasswordRequired(error);
      return failed(new Error(error.message || "password_change_required"), { retry: false });
    }
    const fault = afterFailure(pushFaults, response.status, sent.length);
    pushFaults = fault.state;
    if (fault.action.kind === "split") {
      batchSize = fault.action.batch;
      continue;
    }
    if (fault.action.kind === "set_aside") {
      batchSize = BATCH;
      // Only if the server answers without it: a server failing on every request is no change's fault.
      const without = await request([]).catch(() => null);
      if (without?.status === 200) {
        // The server failed on this change alone, again and again: keep it aside, shown with why.
        await store.setAside(sent, [{ field: null, code: error.error || "internal_error",
                                      message: error.message || `HTTP ${response.status}` }]);
        continue;
      }
    }
    const retryAfter = Number(response.headers.get("Retry-After"));
    return failed(new Error(error.message || `HTTP ${response.status}`), { after: retryAfter > 0 ? retryAfter * 1000 : null });
  }
}

/** The community's visit checklist, kept for offline visits; fetched again at most hourly. */
async function refreshTemplate() {
  const fetchedAt = Date.parse(store.meta.visitTemplateAt ?? "") || 0;
  if (Date.now() - fetchedAt < TEMPLATE_MAX_AGE_MS) return;
  try {
    const response = await api.get("/visit-template");
    if (response.ok) await store.setMeta({ visitTemplate: await response.json(), visitTemplateAt: new Date().toISOString() });
  } catch {
    // Offline again: the kept checklist (or the built-in one) serves.
  }
}

function culpritsOf(error, sent) {
  const named = new Set();
  for (const e of error.details?.errors ?? []) {
    const match = /^mutations\.(\d+)/.exec(e.field ?? "");
    if (match) named.add(Number(match[1]));
  }
  // Nothing named: the batch as a whole is refused; set aside the first so the rest can go on.
  return named.size ? sent.filter((_, i) => named.has(i)) : sent.slice(0, 1);
}

function failed(error, { retry = true, after = null } = {}) {
  status.failures += 1;
  status.lastError = error.message;
  if (retry) {
    // Exponential backoff with jitter: 2 s, 4 s, 8 s … up to five minutes.
    const delay = after ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(status.failures, 12)) * (0.75 + Math.random() / 2);
    status.retryAt = Date.now() + delay;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => syncNow(), delay);
  }
  return false;
}

let saveTimer = null;

/** Wire the triggers; called once the user is logged in. */
export function start({ outdated = () => {}, unauthorized = () => {}, passwordRequired = () => {} } = {}) {
  onOutdated = outdated;
  onUnauthorized = unauthorized;
  onPasswordRequired = passwordRequired;
  store.onSave(() => {
    // Offline, Background Sync (where the browser has it) wakes us when the network is back.
    registerBackgroundSync();
    if (!navigator.onLine) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => syncNow(), 300); // several quick saves go in one request
  });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") syncNow(); });
  window.addEventListener("online", () => syncNow());
  setInterval(() => { if (document.visibilityState === "visible") syncNow(); }, TIMER_MS);
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "sync" || event.data?.type === "push") syncNow();
  });
  return syncNow();
}

/** Ask the browser to wake the service worker when the network returns (Chromium has it). */
export async function registerBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register("guanjia-sync");
  } catch {
    // No Background Sync here (Firefox, Safari): the other triggers cover it.
  }
}
