// Logging in (the phone registers itself as a device) and out (first send what is unsent, then wipe
// every local record).

import * as api from "./api.js";
import { forgetSubscription } from "./push.js";
import * as photos from "./photos.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { cut } from "./text.js";

export class LoginError extends Error {}

export async function login(username, password) {
  const clientId = store.meta.clientId || store.uuid();
  let response;
  try {
    response = await api.post("/auth/login", { username, password, client_id: clientId,
                                              device_name: deviceName() }, { token: null });
  } catch {
    throw new LoginError("offline");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new LoginError(body.message || `HTTP ${response.status}`);
  await begin(body, clientId);
  return body.user;
}

/** Keep a new session ({token, user}: a login, or an account just made by joining a household). */
export async function begin(body, clientId = store.meta.clientId || store.uuid()) {
  if (store.meta.user && store.meta.user.id !== body.user.id) {
    await store.wipe(); // another person's records never show to this one
  }
  await store.setMeta({ token: body.token, user: body.user, clientId, cursor: store.meta.cursor ?? null });
  // Ask the browser not to clear our data under storage pressure (best effort; Chromium decides).
  try { await navigator.storage?.persist?.(); } catch { /* not offered here */ }
}

let ended = null; // why the last session ended without the user logging out: "signed_out" | "device_revoked"

/** Why the login screen is showing, if the server ended the session; read once. */
export function takeEndReason() {
  const reason = ended;
  ended = null;
  return reason;
}

/**
 * The server refused the token. A device revoked as lost (or of an account that was closed) deletes
 * every local record, unsent ones too: whoever holds the phone now must not read the customer files.
 * Any other dead token (a password reset, a logout elsewhere) keeps the outbox for the next login.
 */
export async function tokenRefused(error) {
  if (error?.error === "device_revoked" || error?.details?.wipe) {
    ended = "device_revoked";
    forgetSubscription(); // not awaited: the server dropped the subscription at the revocation already
    await syncIdle();
    await store.wipe();
    return;
  }
  ended = "signed_out";
  if (store.meta.token) await store.setMeta({ token: null }); // not after a logout's wipe
}

export class PasswordError extends Error {
  constructor(message, { offline = false, signedOut = false, status = 0, fields = [] } = {}) {
    super(message);
    Object.assign(this, { offline, signedOut, status, fields });
  }
}

/**
 * Set the user's own password (POST /me/password): online only, nothing queued. The server logs out
 * the user's other devices and keeps this one; the user it answers (must_change_password false now)
 * replaces the saved one. Throws PasswordError: `offline`, `signedOut` (the token died: the login
 * screen follows), or the server's refusal with its field errors.
 */
export async function changePassword(currentPassword, newPassword) {
  let response;
  try {
    response = await api.post("/me/password", { current_password: currentPassword, new_password: newPassword });
  } catch {
    throw new PasswordError("offline", { offline: true });
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    await tokenRefused(body);
    throw new PasswordError(body.message || "unauthorized", { signedOut: true, status: 401 });
  }
  if (!response.ok) {
    throw new PasswordError(body.message || `HTTP ${response.status}`,
                            { status: response.status, fields: body.details?.errors ?? [] });
  }
  await store.setMeta({ user: body });
  return body;
}

/** The server refused a request until the user sets their own password: the app asks for it first
 * (views/password.js). Nothing on the phone changes but the saved user's flag. */
export async function passwordRequired() {
  if (store.meta.user && !store.meta.user.must_change_password) {
    await store.setMeta({ user: { ...store.meta.user, must_change_password: true } });
  }
}

/** Unsent work on this phone: queued changes, refused ones waiting for a fix, and photos whose bytes
 * the server does not have yet. */
export function unsent() {
  const progress = photos.progress();
  return store.unsentCount() + store.rejected().length + (progress.count - progress.done) + progress.refused;
}

/**
 * Log out: sync first; with anything still unsent, return {unsent: n} and change nothing unless
 * `force` (the user saw the warning and chose to lose it). Otherwise revoke the token and wipe.
 */
export async function logout({ force = false } = {}) {
  if (store.unsentCount()) await sync.syncNow();
  await syncIdle(); // a round in flight is counted, not left to write after the wipe
  await photos.uploadAll(); // photos' bytes too, while there is signal (one under way already: counted)
  const left = unsent();
  if (left && !force) return { unsent: left };
  forgetSubscription(); // no pushes to a logged-out phone; not awaited (the server drops them at logout too)
  try {
    await api.post("/auth/logout", undefined, { timeoutMs: 5000 });
  } catch {
    // Offline: the token still dies with the local copy; a supervisor can revoke the device too.
  }
  // A sync answered after the wipe would write this user's records into a new, empty database.
  await syncIdle();
  await store.wipe();
  return { unsent: 0 };
}

/** Resolves once no sync round is running. */
function syncIdle() {
  if (!sync.getStatus().running) return Promise.resolve();
  return new Promise((resolve) => {
    const off = sync.onStatus((status) => {
      if (status.running) return;
      off();
      resolve();
    });
  });
}

export function deviceName() {
  const ua = navigator.userAgent;
  const model = /\(([^)]+)\)/.exec(ua)?.[1] ?? "browser";
  return cut(model, 100); // the device name the server keeps (at most 100 characters)
}
