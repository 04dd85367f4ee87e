// Web Push, one of two channels for news of tickets (the other, live.js, works while the app is open).
// Push often cannot work: no Push API (iOS outside the Home Screen), permission refused, or a push
// service out of reach (Chrome's is blocked in mainland China; headless Chromium has none). Then the
// state says why and the app relies on live.js. Nothing here waits without a time limit.

import * as api from "./api.js";
import * as store from "./store.js";

const SUBSCRIBE_TIMEOUT_MS = 10_000; // subscribe() never settles where the push service is unreachable
const READY_TIMEOUT_MS = 5_000;

/** The Push API is here; on iOS only in an app opened from the Home Screen. */
export function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** iOS gives web push only to an app added to the Home Screen (16.4+): say so instead of "unsupported". */
export function needsHomeScreen() {
  const ios = /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  return ios && !navigator.standalone && !matchMedia("(display-mode: standalone)").matches;
}

/** Why push is "unavailable" ("timeout", "push_service", "no_key", "refused", "offline", "error"), else null. */
export function reason() {
  return store.meta.push?.state === "unavailable" ? store.meta.push.reason : null;
}

/** "unsupported" | "denied" | "off" | "on" | "unavailable" */
export async function pushState() {
  if (!supported() || needsHomeScreen()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  const kept = store.meta.push;
  if (kept?.state === "unavailable") return "unavailable";
  if (kept?.state !== "on") return "off";
  const subscription = await currentSubscription();
  return subscription ? "on" : "off";
}

/** Ask for permission, subscribe and register with the server. Resolves to the new state. */
export async function enablePush() {
  if (!supported() || needsHomeScreen()) return "unsupported";
  const permission = await Notification.requestPermission();
  if (permission === "denied") return "denied";
  if (permission !== "granted") return "off"; // the question was dismissed: ask again next time
  let failure = "offline"; // what went wrong if the next step fails
  try {
    const keyResponse = await api.get("/push/key", { timeoutMs: 10_000 });
    failure = keyResponse.status === 503 ? "no_key" : "error";
    if (!keyResponse.ok) throw new Error(`HTTP ${keyResponse.status}`);
    const key = fromBase64Url((await keyResponse.json()).key);
    failure = "push_service";
    const registration = await within(navigator.serviceWorker.ready, READY_TIMEOUT_MS);
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameBytes(subscription.options?.applicationServerKey, key)) {
      await subscription.unsubscribe().catch(() => {}); // made for an earlier server key: useless now
      subscription = null;
    }
    subscription ??= await within(
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), SUBSCRIBE_TIMEOUT_MS);
    failure = "offline";
    const { endpoint, keys } = subscription.toJSON();
    const response = await api.post("/push/subscriptions", { endpoint, keys });
    failure = response.status === 422 ? "refused" : "error";
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { id } = await response.json();
    await store.setMeta({ push: { state: "on", id, endpoint } });
    return "on";
  } catch (error) {
    const why = error?.message === "timeout" ? "timeout" : failure;
    console.warn("push unavailable:", why, error);
    await store.setMeta({ push: { state: "unavailable", reason: why } });
    return "unavailable";
  }
}

/** Stop pushes to this phone: unsubscribe here and forget it on the server (best effort). */
export async function disablePush() {
  const id = store.meta.push?.id;
  await forgetSubscription();
  if (id) {
    try {
      await api.request("DELETE", `/push/subscriptions/${encodeURIComponent(id)}`, undefined, { timeoutMs: 5000 });
    } catch {
      // Offline: the push service soon reports the endpoint gone, and the server drops it then.
    }
  }
  await store.setMeta({ push: null });
  return pushState();
}

/** Unsubscribe in this browser only (at logout: the server drops the device's subscriptions). */
export async function forgetSubscription() {
  try {
    const subscription = await currentSubscription();
    await within(subscription?.unsubscribe() ?? Promise.resolve(), 5000);
  } catch {
    // Nothing to undo, or the push service is out of reach: the server forgets it anyway.
  }
}

async function currentSubscription() {
  if (!supported()) return null;
  const registration = await within(navigator.serviceWorker.ready, READY_TIMEOUT_MS).catch(() => null);
  return (await registration?.pushManager.getSubscription()) ?? null;
}

function within(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("timeout")), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function fromBase64Url(text) {
  const base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function sameBytes(buffer, bytes) {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  return a.length === bytes.length && a.every((b, i) => b === bytes[i]);
}
