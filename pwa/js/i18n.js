// Simplified Chinese first, English second. Views take every word from here.

const STRINGS = {
  "zh-CN": {
    app: "睿管家", switch: "English", login: "登录", username: "用户名", password: "密码", submit: "登录",
    offline_login: "没有网络，无法登录。请到有信号的地方再试。", logout: "退出登录",
    logout_unsent: "还有 {n} 条记录未同步。现在退出，这些记录会丢失。", logout_anyway: "仍然退出",
    logout_wait: "先不退出", logging_out: "正在同步后退出…",
    nav_grid: "我的网格", nav_tickets: "工单", nav_sync: "同步",
    loading: "正在加载…", offline: "离线", online: "在线",
    update_ready: "新版本可用", update_apply: "更新",
    outdated: "应用版本过旧，正在更新…", signed_out: "登录已失效，请重新登录。您未同步的记录仍保存在本机。",
    roles: { butler: "管家", resident: "住户", supervisor: "主管", admin: "管理员" },
  },
  en: {
    app: "Guanjia", switch: "中文", login: "Log in", username: "Username", password: "Password", submit: "Log in",
    offline_login: "No network, so you cannot log in now. Try again where there is signal.", logout: "Log out",
    logout_unsent: "{n} records are not synced yet. If you log out now, they will be lost.",
    logout_anyway: "Log out anyway", logout_wait: "Stay logged in", logging_out: "Syncing, then logging out…",
    nav_grid: "My grid", nav_tickets: "Tickets", nav_sync: "Sync",
    loading: "Loading…", offline: "Offline", online: "Online",
    update_ready: "A new version is available", update_apply: "Update",
    outdated: "This version is too old; updating…", signed_out: "You have been signed out. Your unsynced records are still on this phone.",
    roles: { butler: "Butler", resident: "Resident", supervisor: "Supervisor", admin: "Administrator" },
  },
};

const LANG_KEY = "guanjia.lang"; // not personal data; read before IndexedDB opens
let current = localStorage.getItem(LANG_KEY) || "zh-CN";
const listeners = new Set();

export function lang() {
  return current;
}

export function setLang(value) {
  current = value in STRINGS ? value : "zh-CN";
  localStorage.setItem(LANG_KEY, current);
  document.documentElement.lang = current;
  for (const listener of listeners) listener(current);
}

export function onLang(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Add words (views keep theirs next to them): extend({ "zh-CN": {...}, en: {...} }). */
export function extend(more) {
  for (const [language, words] of Object.entries(more)) Object.assign(STRINGS[language], words);
}

/** The text for a key in the current language, with {name} filled from params. */
export function t(keyPath, params = {}) {
  const value = keyPath.split(".").reduce((node, part) => node?.[part], STRINGS[current])
    ?? keyPath.split(".").reduce((node, part) => node?.[part], STRINGS["zh-CN"]) ?? keyPath;
  if (typeof value !== "string") return value;
  return value.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Dates as people read them here: 11月27日 / 27 Nov. */
export function day(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleDateString(current, { month: "short", day: "numeric" });
}
