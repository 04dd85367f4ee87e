// The app: start from IndexedDB (works with no network), route between screens, wire sync.
// Layers (house style): db.js → replica.js/store.js → sync.js → views/*.js (DOM only).

import { fill, h } from "./dom.js";
import { lang, onLang, setLang, t } from "./i18n.js";
import * as session from "./session.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { routes } from "./views/index.js";
import { registerServiceWorker, showUpdateBanner } from "/update.js";

window.GUANJIA_NO_AUTO_SW = true; // this module registers the worker itself (below)

const main = () => document.getElementById("view");
let cleanup = null;

/** "#/household/abc?x=1" -> {name: "household", args: ["abc"], query: {x: "1"}} */
export function parseRoute(hash = location.hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "grid", ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name, args, query: Object.fromEntries(new URLSearchParams(search)) };
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
  const route = loggedIn ? parseRoute() : { name: "login", args: [], query: {} };
  const view = routes[route.name] ?? routes.grid;
  cleanup = view(root, route, { go, rerender: render }) ?? null;
  renderNav(route.name);
}

// Screens reached from a household belong to the grid tab.
const TAB_OF = { household: "grid", visit: "grid", touchpoint: "grid", recommend: "grid", ticket: "tickets" };

function renderNav(name) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  const current = TAB_OF[name] ?? name;
  const unsent = session.unsent();
  const conflicts = store.openConflicts().length;
  fill(nav, ...[["grid", t("nav_grid")], ["tickets", t("nav_tickets")], ["sync", t("nav_sync")]].map(([name, label]) =>
    h("a", { href: `#/${name}`, class: current === name ? "current" : "", "aria-current": current === name ? "page" : false },
      label,
      name === "sync" && unsent + conflicts ? h("span", { class: "badge", "data-testid": "unsent-badge" }, String(unsent + conflicts)) : null)));
}

async function boot() {
  document.getElementById("lang")?.addEventListener("click", () => setLang(lang() === "zh-CN" ? "en" : "zh-CN"));
  onLang(languageChanged);
  window.addEventListener("hashchange", render);
  await store.load();
  store.subscribe(() => renderNav(parseRoute().name));
  render();
  if (store.meta.token) startSync();
}

let syncStarted = false;
let applyUpdate = null; // set once a new version has installed and waits

export function startSync() {
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
    unauthorized: async () => {
      // The token is dead (logged out elsewhere, or the device revoked): log in again. Nothing unsent
      // is dropped here.
      if (store.meta.token) await store.setMeta({ token: null }); // not after a logout's wipe
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
window.addEventListener("offline", showNetwork);
onLang(showNetwork);
showNetwork();

window.guanjia = { store, sync, session, go }; // for the browser tests and for support on a phone
boot();
