// Registers the service worker (sw.js) and offers the user a new version once one has installed.
//
// Unless told otherwise this module does it by itself at the page's load event, with the banner
// #update-banner of index.html. app.js takes over by calling registerServiceWorker() before that
// event, or by setting window.GUANJIA_NO_AUTO_SW = true in its top-level code.

const WORKER_SCRIPT = "/sw.js";
const WORKER_SCOPE = "/";
const BANNER_TEXT = {
  "zh-CN": { message: "新版本可用", button: "更新" },
  en: { message: "A new version is available", button: "Update" },
};

let registering = null;

/**
 * Register the service worker once; later calls return the same promise of the registration (null
 * where service workers are unsupported). onUpdateReady(apply) runs whenever a new version is
 * installed and waiting; apply() activates it and reloads the page once it controls the page.
 */
export function registerServiceWorker({ onUpdateReady = () => {} } = {}) {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  // "none": the browser always asks the server for sw.js, never its HTTP cache, so updates are seen.
  registering ??= navigator.serviceWorker
    .register(WORKER_SCRIPT, { scope: WORKER_SCOPE, updateViaCache: "none" })
    .then((registration) => {
      watchForUpdates(registration, onUpdateReady);
      return registration;
    });
  return registering;
}

/** Show #update-banner; its button calls apply(). text: { message, button }, else by the page's language. */
export function showUpdateBanner(apply, text = defaultBannerText()) {
  const banner = document.getElementById("update-banner");
  if (!banner) return;
  const button = banner.querySelector("button");
  banner.querySelector("[data-update-message]").textContent = text.message;
  button.textContent = text.button;
  button.disabled = false;
  button.onclick = () => {
    button.disabled = true;
    apply();
  };
  banner.hidden = false;
}

function watchForUpdates(registration, onUpdateReady) {
  // A worker that waits behind an active one is an update; the very first worker activates by itself.
  const offer = () => onUpdateReady(() => applyUpdate(registration));
  if (registration.waiting && registration.active) offer();
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && registration.active && registration.active !== worker) offer();
    });
  });
  // The browser checks for a new sw.js on navigations only; a page left open all day also checks
  // whenever it comes back into view (and fails quietly when offline).
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") registration.update().catch(() => {});
  });
}

let reloadArmed = false;

function applyUpdate(registration) {
  if (!registration.waiting) return;  // already applied, or replaced by a newer one that offers itself
  if (!reloadArmed) {
    reloadArmed = true;
    // The new worker claims this page on activation; reload once so that the page runs its files.
    navigator.serviceWorker.addEventListener("controllerchange", () => window.location.reload(), { once: true });
  }
  registration.waiting.postMessage({ type: "SKIP_WAITING" });
}

function defaultBannerText() {
  return document.documentElement.lang.startsWith("en") ? BANNER_TEXT.en : BANNER_TEXT["zh-CN"];
}

function registerByDefault() {
  if (window.GUANJIA_NO_AUTO_SW || registering) return;
  registerServiceWorker({ onUpdateReady: (apply) => showUpdateBanner(apply) })
    .catch((error) => console.warn("service worker not registered:", error));
}

// After load: the first visit's downloads go to the page before the worker precaches the shell.
if (document.readyState === "complete") setTimeout(registerByDefault, 0);
else window.addEventListener("load", registerByDefault, { once: true });
