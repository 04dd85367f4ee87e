// The open app's channel for news of tickets, which needs no push service: while logged in, online
// and in view, one long poll at a time (GET /api/v1/notifications?after=<cursor>&wait=25). News
// makes the app sync now and shows a notice over the tabs that opens the ticket when tapped.

import * as api from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

const WAIT_S = 25; // the server's longest wait
const FIRST_BACKOFF_MS = 2000;
const MAX_BACKOFF_MS = 60_000;
const TOAST_MS = 10_000;

let wanted = false; // start() called and not stopped
let looping = false; // the one loop is alive (perhaps waiting for an answer)
let cursor = null;
let cursorToken = null; // the login the cursor belongs to
let wake = () => {};
let abandon = () => {}; // give up waiting for the poll in flight
let toastTimer = null;

const active = () => wanted && Boolean(store.meta.token) && navigator.onLine && document.visibilityState === "visible";

/** Run the loop whenever the app is in view and online; called at login and at start. */
export function start() {
  if (!wanted) {
    document.addEventListener("visibilitychange", kick);
    window.addEventListener("online", kick);
    window.addEventListener("offline", () => { abandon(); kick(); }); // its answer could never come
  }
  wanted = true;
  kick();
}

export function stop() {
  wanted = false;
  kick();
}

/** True while the loop runs (for the tests). */
export const running = () => looping;

// Re-check now: a loop sleeping after an error wakes (to retry or to end); none running starts one.
function kick() {
  wake();
  if (!looping && active()) loop();
}

async function loop() {
  looping = true;
  let failures = 0;
  try {
    while (active()) {
      const token = store.meta.token;
      if (cursorToken !== token) cursor = null; // another login: start from now
      try {
        const path = cursor === null ? "/notifications"
          : `/notifications?after=${encodeURIComponent(cursor)}&wait=${WAIT_S}`;
        const response = await Promise.race([api.get(path, { timeoutMs: (WAIT_S + 15) * 1000 }),
          new Promise((_, reject) => { abandon = () => reject(new Error("offline")); })]);
        if (!response.ok) throw new Error(`HTTP ${response.status}`); // a 401 is the sync client's to handle
        const answer = await response.json();
        if (store.meta.token !== token) continue; // logged out (or in as another) meanwhile
        const news = cursor === null ? [] : answer.events ?? []; // the first answer is only where to start
        cursor = answer.cursor ?? cursor;
        cursorToken = token;
        failures = 0;
        if (news.length) received(news);
      } catch {
        failures += 1;
        if (active()) await sleep(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1)));
      }
    }
  } finally {
    looping = false;
  }
}

function sleep(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });
}

function received(events) {
  sync.syncNow();
  const last = events[events.length - 1];
  const [subject, what] = String(last.event).split(".");
  // live_created, live_updated, live_escalated (tickets); live_order_created, live_order_updated,
  // live_notice_published, live_join_request_created, live_login_failed, live_device_revoked,
  // live_incident_raised, live_incident_closed
  if (events.some((e) => String(e.event).startsWith("join_request."))) {
    // The count beside 入住申请 follows at once (the list itself stays on the server until opened).
    window.dispatchEvent(new CustomEvent("guanjia:join-requests"));
  }
  const key = subject === "ticket" ? `live_${what}` : `live_${subject}_${what}`;
  const text = t(key, { title: last.title ?? "" });
  showToast((text === key ? t("live_other", { title: last.title ?? "" }) : text)
    + (events.length > 1 ? ` (+${events.length - 1})` : ""), last.id, openPath(last.event, last.id));
}

/** Where a tapped event leads: its ticket, the orders (a resident's are on 服务), or its notice. */
export function openPath(event, id) {
  const subject = String(event ?? "").split(".")[0];
  if (subject === "order") return store.meta.user?.role === "resident" ? "#/services" : "#/orders";
  if (subject === "join_request") return "#/join-requests";
  if (subject === "notice") return id ? `#/notice/${encodeURIComponent(id)}` : "#/notices";
  // An emergency: the butler's door-knock list; a resident's app leads that route home, to the banner.
  if (subject === "incident") return id ? `#/incident/${encodeURIComponent(id)}` : "#/grid";
  if (subject === "login" || subject === "device") return null;  // the account's own: its id is no ticket
  return id ? `#/ticket/${encodeURIComponent(id)}` : null;
}

/** A notice over the tabs; tapping it opens the ticket. One at a time: the newest replaces the last. */
function showToast(text, id, path) {
  document.querySelector(".toast")?.remove();
  const el = h("button", { type: "button", class: "toast live", "aria-live": "polite", "data-testid": "live-toast",
                           "data-id": id }, text);
  el.addEventListener("click", () => {
    el.remove();
    if (path) location.hash = path;
  });
  document.body.append(el);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.remove(), TOAST_MS);
}
