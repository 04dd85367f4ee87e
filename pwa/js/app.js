// The app: start from IndexedDB (works with no network), route between screens, wire sync.
// Layers (house style): db.js → replica.js/store.js → sync.js → views/*.js (DOM only).

import { fill, h } from "./dom.js";
import { lang, onLang, setLang, t } from "./i18n.js";
import * as session from "./session.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import * as live from "./live.js";
import * as photos from "./photos.js";
import { refreshMe } from "./joining.js";
import { routes } from "./views/index.js";
import { RESIDENT_TABS, residentRoute } from "./views/resident-logic.js";
import { isUnbound, publicRoute } from "./views/joining-logic.js";
import { TECH_TABS, techRoute } from "./views/backoffice-logic.js";
import { mustChange, passwordRoute } from "./views/password-logic.js";
import { registerServiceWorker, showUpdateBanner } from "/update.js";

window.GUANJIA_NO_AUTO_SW = true; // this module registers the worker itself (below)

const main = () => document.getElementById("view");
let cleanup = null;

/** "#/household/abc?x=1" -> {name: "household", args: ["abc"], query: {x: "1"}} */
export function parseRoute(hash = location.hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "grid", ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
  const route = { name, args, query: Object.fromEntries(new URLSearchParams(search)) };
  if (!store.meta.token) return publicRoute(route); // the login, or joining a household
  // A password a supervisor chose: the user sets their own before anything else (views/password.js).
  if (mustChange(store.meta.user)) return passwordRoute(store.meta.user, route);
  // A resident bound to no household yet sees only where their request stands.
  if (isUnbound(store.meta.user)) return { name: "pending", args: [], query: {} };
  if (isTechnician()) return techRoute(route); // a technician's home is 我的工单
  return isResident() ? residentRoute(route) : route; // a resident's home is 我的报修, not the grid
}

// The logged-in user's role picks the app's screens: a resident gets the resident's (views/resident.js),
// a technician of the back office theirs (views/backoffice.js).
function isResident() {
  return store.meta.user?.role === "resident";
}

function isTechnician() {
  return store.meta.user?.role === "technician";
}

export function go(path) {
  location.hash = `#/${path}`;
}

function renderChrome() {
  document.documentElement.lang = lang();
  document.title = t("app");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

/** A new language redraws the screen, unless it holds a form: what is typed there is never lost,
 * and the form speaks the new language the next time it opens. */
function languageChanged() {
  if (store.meta.token && main().querySelector("form")) {
    renderChrome();
    renderNav(parseRoute().name);
  } else {
    render();
  }
}

function render() {
  renderChrome();
  const root = main();
  if (cleanup) cleanup();
  cleanup = null;
  const loggedIn = Boolean(store.meta.token);
  document.body.classList.toggle("logged-in", loggedIn);
  const route = parseRoute();
  const view = routes[route.name] ?? routes.grid;
  cleanup = view(root, route, { go, rerender: render, startSync }) ?? null;
  renderNav(route.name);
}

// Screens reached from a household belong to the grid tab.
const TAB_OF = { household: "grid", visit: "grid", touchpoint: "grid", recommend: "grid", ticket: "tickets",
                 report: "mine", request: "mine", notice: "notices", invite: "grid", "join-requests": "grid",
                 members: "sync", password: "sync", incident: "grid", "incident-new": "grid", poll: "voice",
                 activity: "voice" };
const BUTLER_TABS = [["grid", "nav_grid"], ["tickets", "nav_tickets"], ["orders", "nav_orders"], ["notices", "nav_notices"],
                     ["voice", "nav_voice"], ["sync", "nav_sync"]];

function renderNav(name) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  const current = isTechnician() && name === "ticket" ? "jobs" : TAB_OF[name] ?? name;
  if (isUnbound(store.meta.user)) return fill(nav); // nothing to go to until the butler approves
  if (mustChange(store.meta.user)) return fill(nav); // nothing until the password is the user's own
  const unsent = session.unsent();
  const conflicts = store.openConflicts().length;
  fill(nav, ...(isTechnician() ? TECH_TABS : isResident() ? RESIDENT_TABS : BUTLER_TABS).map(([name, label]) =>
    h("a", { href: `#/${name}`, class: current === name ? "current" : "", "aria-current": current === name ? "page" : false },
      t(label),
      name === "sync" && unsent + conflicts ? h("span", { class: "badge", "data-testid": "unsent-badge" }, String(unsent + conflicts)) : null)));
}

async function boot() {
  document.getElementById("lang")?.addEventListener("click", () => setLang(lang() === "zh-CN" ? "en" : "zh-CN"));
  onLang(languageChanged);
  window.addEventListener("hashchange", render);
  await store.load();
  await photos.load();
  store.subscribe(() => renderNav(parseRoute().name));
  store.subscribe(() => { if (!store.meta.token) photos.clear(); }); // logged out: the database went
  render();
  // Not while the password must change: the server would refuse it (the outbox waits, kept).
  if (store.meta.token && !mustChange(store.meta.user)) startSync();
  if (isResident()) refreshResident();
}

/** A resident's household can change while the app is closed (approved, removed by the owner, moved
 * out): read who they are now, and redraw if their household changed. Offline, the saved user stays. */
async function refreshResident() {
  const before = store.meta.user?.household_id ?? null;
  try {
    const user = await refreshMe();
    if ((user.household_id ?? null) !== before) render();
  } catch {
    // offline, or a dead token (the sync client deals with that)
  }
}

let syncStarted = false;
let applyUpdate = null; // set once a new version has installed and waits

export function startSync() {
  live.start(); // news of tickets while the app is open (a push message syncs through sync.js)
  if (syncStarted) return sync.syncNow();
  syncStarted = true;
  return sync.start({
    outdated: async () => {
      // 426: this app is too old for the server. The outbox stays in IndexedDB; take the new version
      // as soon as it is here (no question asked: this one cannot sync any more) and reload into it.
      showNotice(t("outdated"));
      if (applyUpdate) return applyUpdate();
      const registration = await registerServiceWorker();
      await registration?.update().catch(() => {});
    },
    unauthorized: async (error) => {
      // The token is dead: log in again. A revoked device has wiped itself first (session.js).
      await session.tokenRefused(error);
      render();
    },
    passwordRequired: async () => {
      // A supervisor reset the password meanwhile: ask for the user's own first; the outbox waits.
      await session.passwordRequired();
      render();
    },
  });
}

function showNotice(text) {
  const net = document.getElementById("net");
  if (net) net.textContent = text;
}

function showNetwork() {
  showNotice(sync.getStatus().outdated ? t("outdated") : navigator.onLine ? "" : t("offline"));
}

registerServiceWorker({
  onUpdateReady: (apply) => {
    applyUpdate = apply;
    if (sync.getStatus().outdated) apply();
    else showUpdateBanner(apply, { message: t("update_ready"), button: t("update_apply") });
  },
}).catch((error) => console.warn("service worker not registered:", error));
window.addEventListener("online", showNetwork);
// A tapped notification (sw.js): show its ticket, and sync to have its latest.
navigator.serviceWorker?.addEventListener("message", (event) => {
  if (event.data?.type !== "open") return;
  const path = live.openPath(event.data.event, event.data.id);
  if (path) location.hash = path;
  if (store.meta.token) startSync();
});
window.addEventListener("offline", showNetwork);
onLang(showNetwork);
showNetwork();

window.guanjia = { store, sync, session, photos, go }; // for the browser tests and for support on a phone
boot();
