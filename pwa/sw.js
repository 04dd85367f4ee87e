// The service worker of 睿管家: keeps the app shell in a versioned cache so that the app opens with
// no network, and leaves the API to the network so that the app always learns when it is offline.
// A classic script, not a module: named constants, then one handler per event, then their helpers.
"use strict";

// Written by the server as it serves this file (server/pwa.py): every file of the app and a hash of
// their contents, so neither can go stale by hand. Served as a plain file it stays "dev" and empty.
const BUILD = { version: "dev", shell: [] };

const CACHE_PREFIX = "guanjia-shell-";
const SHELL_CACHE = CACHE_PREFIX + BUILD.version;
const SHELL_PATHS = new Set(BUILD.shell);
// A navigation to a URL that is not a file of the shell gets the app itself, which routes on the client.
const NAVIGATION_FALLBACK = "/";
// Never answered from a cache: the app must see the network's own failure to know that it is offline.
const NETWORK_ONLY_PREFIXES = ["/api/"];
// Left to the browser itself: the open app's long poll (pwa/js/live.js). Held by this worker, it
// would keep it busy, and a new version that the user accepted activates only once the active one
// has no request in flight: an update would wait for the poll, which the app renews at once.
const LONG_POLL_PATH = "/api/v1/notifications";
const MESSAGES = { SKIP_WAITING: "SKIP_WAITING", GET_VERSION: "GET_VERSION" };
// The Background Sync tag the app registers after a save (pwa/js/sync.js).
const SYNC_TAG = "guanjia-sync";
// A push message's title by its event (the worker has no i18n.js: the notification speaks Chinese).
const PUSH_TITLES = { "ticket.created": "新工单", "ticket.updated": "工单有更新", "ticket.escalated": "工单已超时",
                      "order.created": "新订单", "order.updated": "订单有更新", "notice.published": "新公告",
                      "join_request.created": "新的入住申请", "login.failed": "账号安全提醒",
                      "device.revoked": "设备已退出登录", "incident.raised": "突发事件", "incident.closed": "突发事件已解除" };
const PUSH_ICON = "/icons/icon-192.png";

// install: this version counts as installed only once its cache holds the whole shell. It does not
// skip waiting: open pages keep the version they started with until the user accepts the update.
self.addEventListener("install", (event) => {
  event.waitUntil(precacheShell());
});

// activate: drop earlier versions' caches, then take over the pages opened before any worker ran.
self.addEventListener("activate", (event) => {
  event.waitUntil(removeOldCaches().then(() => self.clients.claim()));
});

// fetch: navigations and shell files from this version's cache. The API goes to the network from
// here, never from a cache, so the app sees the network's own failure when it is offline (and the
// worker's fetch is one that the browser's offline mode, real or emulated in tests, does cut).
// Anything else is left to the browser.
self.addEventListener("fetch", (event) => {
  const answer = answerFromShell(event.request) || networkOnly(event.request);
  if (answer) event.respondWith(answer);
});

// message: SKIP_WAITING comes from the update banner (update.js) once the user accepts a new version;
// GET_VERSION answers on the given port, for an "about" screen and for the tests.
self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === MESSAGES.SKIP_WAITING) {
    self.skipWaiting();
  } else if (type === MESSAGES.GET_VERSION && event.ports[0]) {
    event.ports[0].postMessage({ version: BUILD.version });
  }
});

// sync: Background Sync (Chromium) wakes the worker when the network is back after a save made
// offline. The app holds the outbox and the sync client, so the worker asks every open page to sync
// now; with no page open, the app syncs when it is next opened (as it does in browsers without this).
self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(askPagesToSync());
});

// push: the server's poke {event, id, title} (server/notify): show it, and have open pages sync to
// read the rest. Each ticket has one notification (its tag): a newer poke replaces the older one.
self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data?.json() ?? {};
  } catch {
    // Not JSON: still a notification (a push must show one), with nothing to open.
  }
  if (!payload || typeof payload !== "object") payload = {};
  const id = payload.id ? String(payload.id) : "";
  event.waitUntil((async () => {
    try {
      await self.registration.showNotification(PUSH_TITLES[payload.event] ?? "睿管家 通知", {
        body: payload.title ? String(payload.title) : "", tag: id ? `ticket-${id}` : "guanjia", icon: PUSH_ICON,
        data: { id, event: payload.event ?? null },
      });
    } finally {
      await askPagesToSync({ type: "push", payload }); // once the notification is there
    }
  })());
});

// notificationclick: bring the app forward on the ticket (an open page is told to go there and
// sync; with none, a new one opens there and syncs as it starts).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openTicket(event.notification.data?.id ?? "", event.notification.data?.event ?? ""));
});

async function openTicket(id, about = "") {
  const subject = String(about).split(".")[0];
  const path = subject === "order" ? "/#/orders" : subject === "join_request" ? "/#/join-requests"
    : subject === "notice" ? (id ? `/#/notice/${encodeURIComponent(id)}` : "/")
    : subject === "incident" ? (id ? `/#/incident/${encodeURIComponent(id)}` : "/")
    : subject === "login" || subject === "device" ? "/"  // the account's own: its id is no ticket
    : id ? `/#/ticket/${encodeURIComponent(id)}` : "/";
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const page = pages.find((p) => p.focused) ?? pages[0];
  if (!page) return self.clients.openWindow(path);
  await page.focus().catch(() => {}); // allowed only right after a click
  page.postMessage({ type: "open", id, event: about });
}

async function askPagesToSync(message = { type: "sync" }) {
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const page of pages) page.postMessage(message);
}

async function precacheShell() {
  const cache = await caches.open(SHELL_CACHE);
  // "reload" fetches past the HTTP cache, so a new version never stores its predecessor's files.
  await cache.addAll(BUILD.shell.map((path) => new Request(path, { cache: "reload" })));
}

async function removeOldCaches() {
  const stale = (await caches.keys()).filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE);
  await Promise.all(stale.map((name) => caches.delete(name)));
}

// A promise of the response when the shell answers this request; null leaves it to the network.
function answerFromShell(request) {
  if (request.method !== "GET") return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (NETWORK_ONLY_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) return null;
  if (request.mode === "navigate") return fromShell(request, NAVIGATION_FALLBACK);
  if (SHELL_PATHS.has(url.pathname)) return fromShell(request, null);
  return null;
}

function networkOnly(request) {
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (!NETWORK_ONLY_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) return null;
  if (url.pathname === LONG_POLL_PATH) return null;
  return fetch(request);
}

async function fromShell(request, fallback) {
  // This version's cache only: while an update waits, its newer files must not mix into this page.
  const cache = await caches.open(SHELL_CACHE);
  const cached = (await cache.match(request, { ignoreSearch: true }))
    || (fallback && (await cache.match(fallback)));
  return cached || fetch(request);
}
