// What the butler's screens share: how a household and a person are named, phone masking, visit
// due dates, sync marks, chips, a tag editor and a short "saved" notice. DOM, store.js and sync.js's status only.

import { fill, h } from "../dom.js";
import { day, extend, lang, t } from "../i18n.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { cut } from "../text.js";
import { NAMES as CATEGORY_NAMES } from "../ticket-categories.js";

extend({
  "zh-CN": {
    common: {
      building: "{n}栋", unit: "{n}单元", group: "{building} {unit}", address: "{building} {unit} {room}",
      back: "返回", save: "保存", cancel: "取消", edit: "编辑", add: "添加", remove: "删除 {tag}",
      saved_offline: "已保存在手机上，待同步（离线）", saved_sending: "已保存，正在同步…", saved_synced: "已同步",
      saved_refused: "同步失败：请到「同步」页查看原因并改正", pending: "未同步", rejected: "被退回",
      pending_title: "此记录还未发送到服务器", rejected_title: "服务器拒收了此修改，请在“同步”页处理",
      not_found: "找不到这户（可能已调出您的网格）。", to_grid: "回到我的网格",
      reveal: "显示", hide: "隐藏", reveal_label: "显示 {name} 的完整号码", hide_label: "隐藏 {name} 的号码",
      call: "拨打",
      never: "从未走访", overdue: "逾期", due_soon: "{n}天内到期", due_today: "今天到期",
      tag_input: "输入后点“添加”", tags: "标签",
      // Value labels as the tickets and sync screens word them (wording.js): one value, one name.
      status: { self_occupied: "自住", rented: "出租", vacant: "空置", custody: "托管" },
      relation: { owner: "业主", family: "家属", tenant: "租户", other: "其他" },
      kind: { routine: "例行走访", new_owner: "新业主", follow_up: "回访", complaint: "投诉", emergency: "突发事件",
              in: "签到", out: "签退" }, // the last two: a check-in's kind (views/checkin.js)
      channel: { lobby: "大堂", phone: "电话", wechat: "微信", visit: "上门", other: "其他" },
      ticket_status: { new: "新建", dispatched: "已派单", accepted: "已接单", in_progress: "处理中",
                       resolved: "已解决", closed: "已关闭", cancelled: "已取消" },
      ticket_category: CATEGORY_NAMES["zh-CN"], // the server's list (ticket-categories.js)
      order_status: { placed: "已下单", confirmed: "已确认", delivered: "已送达", cancelled: "已取消", refunded: "已退款" },
      unit_name: {},
      tag_name: {}, // the tags the app suggests (household-logic.js) are stored in Chinese
      // an emergency's (views/incident.js), and a household's answer to one
      incident_kind: { water_cut: "停水", power_cut: "停电", leak: "漏水", lift_entrapment: "电梯困人", fire_alarm: "火警",
                       typhoon: "台风", health_notice: "卫生防疫", other: "其他" },
      severity: { notice: "通知", serious: "严重", critical: "危急" },
      answer: { safe: "安全", need_help: "需要帮助", not_home: "无人应答" },
    },
  },
  en: {
    common: {
      building: "Bldg {n}", unit: "Unit {n}", group: "{building} · {unit}", address: "{building}, {unit}, {room}",
      back: "Back", save: "Save", cancel: "Cancel", edit: "Edit", add: "Add", remove: "Remove {tag}",
      saved_offline: "Saved on the phone; waiting to sync (offline)", saved_sending: "Saved; syncing…",
      saved_synced: "Synced", saved_refused: "Not synced: open Sync to see why and fix it", pending: "Not synced", rejected: "Refused",
      pending_title: "Not yet sent to the server", rejected_title: "The server refused this change; see Sync",
      not_found: "This household is not here (it may have left your grid).", to_grid: "Back to my grid",
      reveal: "Show", hide: "Hide", reveal_label: "Show {name}'s full number", hide_label: "Hide {name}'s number",
      call: "Call",
      never: "Never visited", overdue: "Overdue", due_soon: "Due in {n} d", due_today: "Due today",
      tag_input: "Type, then tap Add", tags: "Tags",
      status: { self_occupied: "Owner-occupied", rented: "Rented", vacant: "Vacant", custody: "In custody" },
      relation: { owner: "Owner", family: "Family", tenant: "Tenant", other: "Other" },
      kind: { routine: "Routine visit", new_owner: "New owner", follow_up: "Follow-up", complaint: "Complaint",
              emergency: "Emergency", in: "Check in", out: "Check out" },
      channel: { lobby: "Lobby", phone: "Phone", wechat: "WeChat", visit: "Visit", other: "Other" },
      ticket_status: { new: "New", dispatched: "Dispatched", accepted: "Accepted", in_progress: "In progress",
                       resolved: "Resolved", closed: "Closed", cancelled: "Cancelled" },
      ticket_category: CATEGORY_NAMES.en,
      order_status: { placed: "Placed", confirmed: "Confirmed", delivered: "Delivered", cancelled: "Cancelled",
                      refunded: "Refunded" },
      unit_name: { 桶: "bottle", 次: "job", 小时: "hour", 月: "month" },
      tag_name: { 行动不便: "Limited mobility", 独居老人: "Elderly, living alone", 有小孩: "Young children",
                  孕妇: "Pregnant", 养宠物: "Has pets", 空巢: "Empty nest", 租户: "Tenant" },
      incident_kind: { water_cut: "Water cut", power_cut: "Power cut", leak: "Leak", lift_entrapment: "Trapped in a lift",
                       fire_alarm: "Fire alarm", typhoon: "Typhoon", health_notice: "Health notice", other: "Other" },
      severity: { notice: "Notice", serious: "Serious", critical: "Critical" },
      answer: { safe: "Safe", need_help: "Needs help", not_home: "No answer" },
    },
  },
});

// The server's value lists (server/community/models.py, server/visits/models.py), in their order.
export const HOUSEHOLD_STATUSES = ["self_occupied", "rented", "vacant", "custody"];
export const RELATIONS = ["owner", "family", "tenant", "other"];
export const VISIT_KINDS = ["routine", "new_owner", "follow_up", "complaint", "emergency"];
export const CHANNELS = ["lobby", "phone", "wechat", "visit", "other"];
const CLOSED_TICKETS = new Set(["resolved", "closed", "cancelled"]);
const DEFAULT_CYCLE_DAYS = 90; // the server's default for a household
export const DUE_SOON_DAYS = 7;
const DAY_MS = 86_400_000;

/** A label from one of the value lists above, or the raw value if it is new to this app. */
export function label(list, value) {
  const text = t(`common.${list}.${value}`);
  return text === `common.${list}.${value}` ? String(value ?? "") : text;
}

// ---- households and people ----------------------------------------------------------------------
/** The number in "3", "3栋" or "3号楼" (null when there is none): for sorting and for "3-1-301". */
export function numberIn(value) {
  const match = /\d+/.exec(String(value ?? ""));
  return match ? match[0] : null;
}

/** "3" or "3栋" → 3栋 (Bldg 3 in English); anything else as written. */
export function buildingLabel(building) {
  const raw = String(building ?? "");
  return /^\d+\s*栋?$/.test(raw) ? t("common.building", { n: numberIn(raw) }) : raw;
}

export function unitLabel(unit) {
  const raw = String(unit ?? "");
  return /^\d+\s*(?:单元)?$/.test(raw) ? t("common.unit", { n: numberIn(raw) }) : raw;
}

/** "3栋 1单元": the grid's group header. */
export function groupLabel(household) {
  if (!household.unit) return buildingLabel(household.building);
  return t("common.group", { building: buildingLabel(household.building), unit: unitLabel(household.unit) });
}

export function addressLabel(household) {
  if (!household.unit) return `${buildingLabel(household.building)} ${household.room}`;
  return t("common.address", { building: buildingLabel(household.building), unit: unitLabel(household.unit),
                               room: household.room });
}

/** The household's people, the main one first: owners, then in the order they were recorded. */
export function peopleOf(householdId) {
  const rank = (p) => (p.relation === "owner" || !p.relation ? 0 : 1);
  return store.all("person", householdId).sort((a, b) => rank(a) - rank(b)
    || String(a.created_at ?? "~").localeCompare(String(b.created_at ?? "~")) || String(a.name).localeCompare(String(b.name)));
}

/** Tags of the household and of its people, each once. */
export function tagsOf(household, people) {
  return [...new Set([...(household.tags ?? []), ...people.flatMap((p) => p.tags ?? [])])];
}

export function isOpenTicket(ticket) {
  return !CLOSED_TICKETS.has(ticket.status);
}

export function productName(product) {
  return (lang() === "en" && product.name_en) || product.name;
}

export function unitName(unit) {
  return t(`common.unit_name.${unit}`) === `common.unit_name.${unit}` ? unit : t(`common.unit_name.${unit}`);
}

/** The catalogue code of a product record (its id on the wire is the code). */
export const productCode = (product) => product.code ?? product.id;

// ---- phone numbers: masked unless the butler asks --------------------------------------------------
/** 13800138000 → 138****8000; short numbers keep only their last two digits. */
export function maskPhone(phone) {
  const digits = String(phone ?? "");
  if (digits.length >= 11) return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
  if (digits.length > 4) return `${"*".repeat(digits.length - 2)}${digits.slice(-2)}`;
  return "*".repeat(digits.length);
}

/** A masked number with a button that shows it (and a call link) until tapped again. */
export function phoneField(phone, name, { revealed = false, onToggle = () => {} } = {}) {
  const text = h("span", { class: "phone-number", "data-testid": "phone" }, revealed ? phone : maskPhone(phone));
  const button = h("button", { type: "button", class: "small secondary", "aria-pressed": String(revealed),
                               "aria-label": t(revealed ? "common.hide_label" : "common.reveal_label", { name }),
                               "data-testid": "reveal-phone", onclick: () => onToggle(!revealed) },
    t(revealed ? "common.hide" : "common.reveal"));
  const call = revealed ? h("a", { class: "call", href: `tel:${String(phone).replace(/[^\d+]/g, "")}` }, t("common.call")) : null;
  return h("span", { class: "phone" }, text, button, call);
}

// ---- dates and visit cycles ---------------------------------------------------------------------
const pad = (n) => String(n).padStart(2, "0");

/** The phone's local calendar date of a time, as YYYY-MM-DD. */
export function localDate(value) {
  const d = value instanceof Date ? value : new Date(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** 11月27日 this year, 2025/11/27 another year. */
export function dateLabel(value) {
  if (!value) return "";
  const d = new Date(value);
  if (d.getFullYear() === new Date().getFullYear()) return day(value);
  return d.toLocaleDateString(lang(), { year: "numeric", month: "numeric", day: "numeric" });
}

function midnight(value) {
  const d = new Date(value);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** The latest visited_at of a household's visits (ISO string) or null. */
export function lastVisitOf(householdId) {
  let best = null;
  let bestTime = -Infinity;
  for (const visit of store.all("visit", householdId)) {
    const time = Date.parse(visit.visited_at);
    if (time > bestTime) [best, bestTime] = [visit.visited_at, time];
  }
  return best;
}

/**
 * Where a household stands in its visit cycle: {state: "never" | "overdue" | "due" | "ok", days}
 * where days is how many days remain until the next visit is due (negative when overdue).
 */
export function visitDue(household, lastVisit, today = Date.now()) {
  if (!lastVisit) return { state: "never", days: null };
  const cycle = Number(household.visit_cycle_days) || DEFAULT_CYCLE_DAYS;
  const days = Math.round((midnight(lastVisit) + cycle * DAY_MS - midnight(today)) / DAY_MS);
  if (days < 0) return { state: "overdue", days };
  return { state: days <= DUE_SOON_DAYS ? "due" : "ok", days };
}

/** The small mark of a visit state (none when the household is not due). */
export function dueMark(due) {
  if (due.state === "ok") return null;
  const text = due.state === "never" ? t("common.never") : due.state === "overdue" ? t("common.overdue")
    : due.days === 0 ? t("common.due_today") : t("common.due_soon", { n: due.days });
  return h("span", { class: `flag ${due.state === "due" ? "due" : "overdue"}`, "data-testid": "due-mark",
                     "data-state": due.state }, text);
}

// ---- sync state of a record ---------------------------------------------------------------------
/** "未同步" for unsent changes, "被退回" for refused ones, nothing when the server has it. */
export function syncMark(type, id) {
  const state = store.state(type, id);
  if (state === "pending") return h("span", { class: "flag pending", title: t("common.pending_title"), "data-testid": "sync-mark" }, t("common.pending"));
  if (state === "rejected") return h("a", { class: "flag rejected", href: "#/sync", title: t("common.rejected_title"), "data-testid": "sync-mark" }, t("common.rejected"));
  return null;
}

// ---- small controls -----------------------------------------------------------------------------
/** A toggle chip: a button that says whether it is on (aria-pressed). */
/** A chip that toggles (aria-pressed), or with `radio` one choice of a radiogroup (aria-checked). */
export function chip(text, { pressed = false, radio = false, onclick, testid, value } = {}) {
  const state = radio ? { role: "radio", "aria-checked": String(Boolean(pressed)) }
    : { "aria-pressed": String(Boolean(pressed)) };
  return h("button", { type: "button", class: "toggle", ...state, onclick, "data-testid": testid, "data-value": value },
           text);
}

/** A tag in the reader's language: the app's suggested tags have English names; one a butler typed
 * shows as typed (and is stored as typed, whatever the language). */
export function tagName(tag) {
  const names = t("common.tag_name");
  return Object.hasOwn(names, tag) ? names[tag] : tag;
}

export function tagList(tags) {
  return tags.length
    ? h("span", { class: "taglist" }, tags.map((tag) => h("span", { class: "tagpill" }, tagName(tag))))
    : null;
}

/**
 * Chips for a list of short strings: suggestions to tap on or off, and free entry.
 * suggestions: [{value, label}]. Returns {el, value()}.
 */
export function tagEditor({ values = [], suggestions = [], legend, testid, maxLength = 30 }) {
  const chosen = [...values];
  const chips = h("div", { class: "chips" });
  const input = h("input", { type: "text", maxlength: maxLength, enterkeyhint: "done", placeholder: t("common.tag_input"),
                             "aria-label": legend, "data-testid": testid ? `${testid}-input` : null,
                             onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); addTyped(); } } });
  const labelOf = (value) => suggestions.find((s) => s.value === value)?.label ?? value;
  const draw = () => {
    const shown = [...suggestions.map((s) => s.value), ...chosen.filter((v) => !suggestions.some((s) => s.value === v))];
    fill(chips, ...shown.map((value) => chip(labelOf(value), {
      pressed: chosen.includes(value), value, testid: testid ? `${testid}-chip` : null,
      onclick: () => {
        const at = chosen.indexOf(value);
        if (at >= 0) chosen.splice(at, 1);
        else chosen.push(value);
        draw();
      },
    })));
  };
  function addTyped() {
    for (const part of input.value.split(/[,，、;；]/)) {
      const value = cut(part.trim(), maxLength);
      if (value && !chosen.includes(value)) chosen.push(value);
    }
    input.value = "";
    draw();
  }
  draw();
  const el = h("fieldset", { class: "tag-editor", "data-testid": testid },
    h("legend", {}, legend), chips,
    h("div", { class: "inline" }, input, h("button", { type: "button", class: "secondary", onclick: addTyped }, t("common.add"))));
  return { el, value: () => { addTyped(); return [...chosen]; } };
}

/** A short notice over the tabs ("saved"), which outlives the screen that raised it. */
export function toast(text, ms = 4000) {
  document.querySelector(".toast")?.remove();
  const el = h("div", { class: "toast", role: "status", "data-testid": "toast" }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

/** After a save, what is true of the record now, kept true while it shows: 已同步 once the server has
 * it, 正在同步 while it goes, 待同步（离线）without signal, 同步失败 (and where to fix it) if refused. */
export function savedToast(type, id) {
  const line = () => {
    const state = store.state(type, id);
    if (state === "rejected") return t("common.saved_refused");
    // No signal, or the last try did not reach the server: it waits on the phone.
    const waiting = !navigator.onLine || sync.getStatus().failures > 0;
    if (state === "pending") return t(waiting ? "common.saved_offline" : "common.saved_sending");
    return t("common.saved_synced");
  };
  const el = toast(line(), 6000);
  const draw = () => {
    if (!el.isConnected) return stop();
    el.textContent = line();
    el.dataset.state = store.state(type, id);
  };
  const offStore = store.subscribe(draw), offSync = sync.onStatus(draw);
  const stop = () => { offStore(); offSync(); };
  draw();
  setTimeout(stop, 6000);
}

/** The line at the top of a household's sub-screens: back to the file, and whose home it is. */
export function householdHeader(household) {
  const main = peopleOf(household.id)[0];
  return h("a", { class: "back", href: `#/household/${encodeURIComponent(household.id)}` },
    h("span", { "aria-hidden": "true" }, "‹ "), addressLabel(household), main ? ` · ${main.name}` : "");
}

export function notFound(root) {
  fill(root, h("section", { class: "butler" }, h("div", { class: "card" }, h("p", {}, t("common.not_found")),
    h("a", { class: "button", href: "#/grid" }, t("common.to_grid")))));
}

/** The fields of `next` that differ from `before` (compared as JSON). */
export function changed(before, next) {
  const out = {};
  for (const [name, value] of Object.entries(next)) {
    if (JSON.stringify(before?.[name] ?? null) !== JSON.stringify(value ?? null)) out[name] = value;
  }
  return out;
}
