// Simplified Chinese first, English second. Views take every word from here.

const STRINGS = {
  "zh-CN": {
    app: "睿管家", switch: "English", login: "登录", username: "用户名", password: "密码", submit: "登录",
    offline_login: "没有网络，无法登录。请到有信号的地方再试。", logout: "退出登录",
    have_invite: "我有邀请码", ask_to_join: "没有邀请码？申请入住",
    logout_unsent: "还有 {n} 条记录未同步。现在退出，这些记录会丢失。", logout_anyway: "仍然退出",
    logout_wait: "先不退出", logging_out: "正在同步后退出…",
    nav_grid: "我的网格", nav_tickets: "工单", nav_orders: "订单", nav_sync: "同步",
    nav_mine: "我的报修", nav_services: "服务", nav_notices: "公告", nav_me: "我的", // a resident's tabs
    nav_voice: "投票活动", // polls and activities (views/voice.js): a resident's and a butler's tab
    nav_jobs: "我的工单", nav_pool: "抢单", // a technician's
    loading: "正在加载…", offline: "离线", online: "在线",
    update_ready: "新版本可用", update_apply: "更新",
    // notifications (push.js, live.js, the sync screen)
    live_created: "新工单：{title}", live_updated: "工单有更新：{title}", live_escalated: "工单已超时：{title}",
    live_order_created: "新订单：{title}", live_order_updated: "订单有更新：{title}", live_notice_published: "新公告：{title}",
    live_join_request_created: "新的入住申请：{title}", live_login_failed: "账号安全提醒：{title}",
    live_device_revoked: "{title}", live_incident_raised: "突发事件：{title}", live_incident_closed: "突发事件已解除：{title}",
    live_other: "睿管家 通知：{title}", push_title: "推送通知", push_on: "已开启", push_off: "未开启",
    push_unsupported: "此设备不支持推送，已改用应用内提醒", push_unavailable: "推送服务不可用（如网络屏蔽），已改用应用内提醒",
    push_denied: "已被拒绝，请在系统设置中允许", push_enable: "开启推送", push_disable: "关闭推送", push_busy: "请稍候…",
    push_ios: "iPhone 需先在 Safari 中点“分享”→“添加到主屏幕”，再从主屏幕打开，才能开启推送。",
    outdated: "应用版本过旧，正在更新…", signed_out: "登录已失效，请重新登录。您未同步的记录仍保存在本机。",
    device_revoked: "此设备已被主管注销，本机上的所有数据（包括未同步的记录）已清除。如需继续使用，请重新登录。",
    roles: { butler: "管家", resident: "住户", supervisor: "主管", admin: "管理员" },
  },
  en: {
    app: "Guanjia", switch: "中文", login: "Log in", username: "Username", password: "Password", submit: "Log in",
    offline_login: "No network, so you cannot log in now. Try again where there is signal.", logout: "Log out",
    have_invite: "I have an invite code", ask_to_join: "No invite code? Ask to join",
    logout_unsent: "{n} records are not synced yet. If you log out now, they will be lost.",
    logout_anyway: "Log out anyway", logout_wait: "Stay logged in", logging_out: "Syncing, then logging out…",
    nav_grid: "My grid", nav_tickets: "Tickets", nav_orders: "Orders", nav_sync: "Sync",
    nav_mine: "My requests", nav_services: "Services", nav_notices: "Notices", nav_me: "Me",
    nav_voice: "Polls & events",
    nav_jobs: "My jobs", nav_pool: "Team pool",
    loading: "Loading…", offline: "Offline", online: "Online",
    update_ready: "A new version is available", update_apply: "Update",
    live_created: "New ticket: {title}", live_updated: "Ticket updated: {title}", live_escalated: "Ticket overdue: {title}",
    live_order_created: "New order: {title}", live_order_updated: "Order updated: {title}",
    live_notice_published: "New notice: {title}", live_join_request_created: "New request to join: {title}",
    live_login_failed: "Several failed logins to your account", live_incident_raised: "Emergency: {title}",
    live_incident_closed: "All clear: {title}", live_device_revoked: "Your longest-idle device was logged out to make room",
    live_other: "Guanjia: {title}", push_title: "Push notifications", push_on: "On", push_off: "Off",
    push_unsupported: "This device cannot get push notifications; in-app alerts are used instead",
    push_unavailable: "The push service is out of reach (blocked network?); in-app alerts are used instead",
    push_denied: "Blocked: allow notifications in the system settings", push_enable: "Turn on push",
    push_disable: "Turn off push", push_busy: "One moment…",
    push_ios: "On iPhone, first tap Share → Add to Home Screen in Safari and open the app from the Home Screen.",
    outdated: "This version is too old; updating…", signed_out: "You have been signed out. Your unsynced records are still on this phone.",
    device_revoked: "A supervisor revoked this device: everything stored on it, unsynced records included, has been deleted. Log in again to go on.",
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
