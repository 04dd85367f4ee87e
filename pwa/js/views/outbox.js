// 同步 Sync (#/sync), the phone's outbox in view: what is still on this phone only, when it last
// reached the server, what the server refused (fix and resend, or discard), conflicts to settle field
// by field; then push notifications and the account (logging out). A resident's 我的 tab too.

import { fill, h } from "../dom.js";
import { extend, lang, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as push from "../push.js";
import * as session from "../session.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { membersLink } from "./joining.js";
import { refusal } from "./photos.js";
import "./password.js"; // its words: the account card links to it
import {
  changeFields, choiceOptions, conflictsInOrder, conflictsSignature, editText, editorKind, fieldErrors, generalErrors,
  parseEdit, refusedInOrder, refusedSignature, sameValue, sidesOf, statusLine as statusCase,
} from "./outbox-logic.js";
import {
  ago, choicesFor, fieldLabel, householdAddress, householdIdOf, reason, showValue, typeLabel, when,
} from "./wording.js";

extend({
  "zh-CN": {
    outbox: {
      title: "同步", network: "网络", status: "同步状态", unsent: "未发送", unsent_n: "{n} 条",
      last: "上次同步", last_value: "{when}（{ago}）", never: "还没有同步过", now: "立即同步",
      running: "正在同步…", all_sent: "已全部同步", waiting: "有修改等待发送",
      offline_wait: "离线：有网络时会自动同步。", failed: "同步没有成功，将自动重试",
      retry_at: "（{time} 重试）", outdated: "应用版本过旧，正在更新…",
      needs_you: "有 {n} 条修改被拒绝，需要您处理",
      rejected: "被拒绝的修改", rejected_hint: "服务器没有接受这些修改。请改正后重新发送，或者放弃。",
      refused_at: "被拒绝于 {time}", delete_op: "这是一次删除。", resend: "改好了，重新发送",
      resend_delete: "重新发送删除", bad_format: "格式不正确：{label}", list_hint: "多个值之间用“、”分隔",
      discard: "放弃此修改", discard_yes: "确定放弃", cancel: "取消",
      discard_confirm: "放弃后，这条修改会从本机删除，无法恢复。记录会恢复为服务器上的样子。",
      conflicts: "待处理的冲突", conflicts_hint: "同一项内容在两处被改成了不同的值。请选择要保留的值。",
      field: "内容：", mine: "我的", theirs: "对方的", kept: "现在保留的值", replaced: "被替换的值",
      mine_later: "我后同步的", mine_earlier: "我先同步的", typed_at: "填写于 {time}",
      in_force: "当前生效", choose: "选这个", chosen_wait: "已选择“{value}”，等待同步。",
      settle_refused: "选择没有被接受，原因见上方“被拒绝的修改”。",
      account: "账户",
      photos: "照片", photos_line: "照片 {done}/{count} · {percent}%", photos_none: "没有要上传的照片。",
      photos_all: "照片已全部上传", photos_uploading: "照片上传中", photos_waiting: "照片等待上传（有网络时自动上传）",
      photos_refused: "{n} 张照片被拒收（照片仍保存在本机）", photo_row: "照片 {n}",
      photo_state: { uploading: "上传中 {percent}%", waiting: "等待上传", done: "已上传", refused: "被拒收" },
      storage: "本机存储", storage_line: "已用 {used}，可用 {quota}", storage_unknown: "这台手机不告诉我们存储空间。",
      storage_kept: "已申请长期保存：手机空间紧张时也不会自动清除。",
      storage_not_kept: "手机空间紧张时，浏览器可能清除本机数据；请尽早同步。",
    },
  },
  en: {
    outbox: {
      title: "Sync", network: "Network", status: "Sync status", unsent: "Not yet sent", unsent_n: "{n}",
      last: "Last sync", last_value: "{when} ({ago})", never: "Never synced yet", now: "Sync now",
      running: "Syncing…", all_sent: "Everything is synced", waiting: "Changes are waiting to be sent",
      offline_wait: "Offline: it syncs by itself when there is signal.",
      failed: "Sync did not succeed; it will retry by itself", retry_at: " (next try {time})",
      outdated: "This version is too old; updating…", needs_you: "{n} refused changes need you",
      rejected: "Refused changes",
      rejected_hint: "The server did not accept these changes. Fix and resend them, or discard them.",
      refused_at: "Refused {time}", delete_op: "This is a deletion.", resend: "Fixed — send again",
      resend_delete: "Send the deletion again", bad_format: "Wrong format: {label}",
      list_hint: "Separate several values with commas",
      discard: "Discard this change", discard_yes: "Discard", cancel: "Cancel",
      discard_confirm: "The change is deleted from this phone and cannot be recovered. "
        + "The record goes back to what the server has.",
      conflicts: "Conflicts to settle",
      conflicts_hint: "The same item was changed to different values in two places. Choose the value to keep.",
      field: "Item:", mine: "Mine", theirs: "Theirs", kept: "Value kept now", replaced: "Value replaced",
      mine_later: "Mine, synced later", mine_earlier: "Mine, synced earlier", typed_at: "entered {time}",
      in_force: "in force now", choose: "Choose this", chosen_wait: "Chose “{value}”; waiting to sync.",
      settle_refused: "The choice was not accepted; see Refused changes above.",
      account: "Account",
      photos: "Photos", photos_line: "Photos {done}/{count} · {percent}%", photos_none: "No photos to upload.",
      photos_all: "All photos uploaded", photos_uploading: "Photos uploading",
      photos_waiting: "Photos waiting to upload (they go by themselves when online)",
      photos_refused: "{n} photos refused (still kept on this phone)", photo_row: "Photo {n}",
      photo_state: { uploading: "Uploading {percent}%", waiting: "Waiting", done: "Uploaded", refused: "Refused" },
      storage: "Storage on this phone", storage_line: "{used} used of {quota} available",
      storage_unknown: "This phone does not tell us its storage.",
      storage_kept: "Kept for good: the browser will not clear it when the phone runs short of space.",
      storage_not_kept: "When the phone runs short of space the browser may clear this app's data; sync soon.",
    },
  },
});

export function syncView(root, _route, { rerender }) {
  const statusBox = h("section", { class: "card", "data-testid": "sync-status" });
  const rejectedBox = h("div", { "data-testid": "rejected-list" });
  const conflictBox = h("div", { "data-testid": "conflict-list" });
  const photoBox = h("section", { class: "card", "data-testid": "photo-uploads" });
  const storageBox = h("section", { class: "card", "data-testid": "storage" });
  const pushBox = h("section", { class: "card", "data-testid": "push" });
  const accountBox = h("section", { class: "card account", "data-testid": "account" });
  fill(root, h("div", { class: "ts-screen" },
    h("h2", { class: "screen-title" }, t("outbox.title")), statusBox, photoBox, rejectedBox, conflictBox, storageBox,
    pushBox, accountBox));

  // Lists are redrawn only when what they show changed: a sync finishing must not wipe a half-typed fix.
  const seen = { rejected: null, conflicts: null };
  const drafts = new Map(); // mid -> {field: text typed so far}

  function statusLine(status, online, unsent) {
    const line = statusCase({ status, online, unsent, refused: store.rejected().length });
    if (line.key === "failed") {
      const time = line.retryAt ? new Date(line.retryAt).toLocaleTimeString(lang()) : null;
      return t("outbox.failed") + (time ? t("outbox.retry_at", { time }) : "");
    }
    return t(`outbox.${line.key}`, line.params);
  }

  function drawStatus() {
    const status = sync.getStatus();
    const online = navigator.onLine;
    const unsent = store.unsentCount();
    const last = store.meta.lastSync;
    fill(statusBox, 
      h("dl", { class: "sync-facts" },
        h("dt", {}, t("outbox.network")),
        h("dd", {}, h("span", { class: `status-chip ${online ? "online" : "offline"}`, "data-testid": "network" },
          online ? t("online") : t("offline"))),
        h("dt", {}, t("outbox.status")),
        h("dd", {}, h("span", { "data-testid": "sync-line", role: "status" }, statusLine(status, online, unsent))),
        h("dt", {}, t("outbox.unsent")),
        h("dd", {}, h("strong", { class: "big", "data-testid": "unsent-count", "data-n": unsent },
          t("outbox.unsent_n", { n: unsent }))),
        h("dt", {}, t("outbox.last")),
        h("dd", { "data-testid": "last-sync" },
          last ? t("outbox.last_value", { when: when(last), ago: ago(last) }) : t("outbox.never"))),
      h("button", { type: "button", class: "wide", "data-testid": "sync-now", disabled: status.running,
                    onclick: () => sync.syncNow() }, status.running ? t("outbox.running") : t("outbox.now")));
  }

  function drawRejected(force = false) {
    const rejected = refusedInOrder(store.rejected());
    const signature = refusedSignature(rejected);
    if (!force && signature === seen.rejected) return;
    seen.rejected = signature;
    for (const mid of drafts.keys()) if (!rejected.some((m) => m.mid === mid)) drafts.delete(mid);
    fill(rejectedBox, rejected.length ? h("section", { class: "card" },
      h("h3", {}, t("outbox.rejected"), " ", h("span", { class: "tally" }, String(rejected.length))),
      h("p", { class: "muted" }, t("outbox.rejected_hint")),
      rejected.map(rejectedCard)) : "");
  }

  function rejectedCard(m) {
    const fields = changeFields(m);
    const errors = m.errors ?? [];
    const draft = drafts.get(m.mid) ?? {};
    drafts.set(m.mid, draft);
    const reasonItem = (e, tag) => h(tag, { class: "error", "data-code": e.code, "data-testid": "reason" }, reason(e));
    // The form: one input per field the change carried, as typed; the fields the server named stand out.
    const inputs = Object.entries(fields).map(([field, value]) => {
      const own = fieldErrors(errors, field);
      return h("label", { class: own.length ? "field invalid" : "field" },
        h("span", {}, fieldLabel(field)),
        editor(m.type, field, value, draft, own.length > 0),
        Array.isArray(value) ? h("small", { class: "muted" }, t("outbox.list_hint")) : null,
        own.map((e) => reasonItem(e, "small")));
    });
    const general = generalErrors(errors, fields);
    const formError = h("p", { class: "error", role: "alert", hidden: true });
    const form = h("form", { class: "fix", "data-testid": "fix-form", novalidate: true, onsubmit: resend },
      m.op === "delete" ? h("p", {}, t("outbox.delete_op")) : inputs,
      formError,
      h("button", { type: "submit", class: "wide", "data-testid": "resend" },
        m.op === "delete" ? t("outbox.resend_delete") : t("outbox.resend")));

    async function resend(event) {
      event.preventDefault();
      const corrected = {};
      for (const [field, original] of Object.entries(fields)) {
        const el = form.elements.namedItem(field);
        if (!el) continue;
        try {
          corrected[field] = parseEdit(original, el.value);
        } catch {
          formError.textContent = t("outbox.bad_format", { label: fieldLabel(field) });
          formError.hidden = false;
          el.focus();
          return;
        }
      }
      drafts.delete(m.mid);
      await store.resend(m.mid, corrected);
      drawRejected(true);
    }

    // Giving up is kept apart from the form and asks first: it loses what the user typed.
    const discard = async () => { await store.discard(m.mid); drawRejected(true); };
    const confirm = h("div", { class: "confirm", hidden: true, role: "alertdialog" },
      h("p", {}, t("outbox.discard_confirm")),
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "danger", "data-testid": "discard-confirm", onclick: discard },
          t("outbox.discard_yes")),
        h("button", { type: "button", class: "secondary", "data-testid": "discard-cancel",
                      onclick: () => { confirm.hidden = true; } }, t("outbox.cancel"))));
    return h("article", { class: "rejected", "data-testid": "rejected", "data-mid": m.mid, "data-type": m.type },
      h("h4", {}, recordTitle(m.type, m.id, m.fields)),
      m.rejectedAt ? h("p", { class: "muted" }, t("outbox.refused_at", { time: when(m.rejectedAt) })) : null,
      general.length ? h("ul", { class: "reasons" }, general.map((e) => reasonItem(e, "li"))) : null,
      form,
      h("div", { class: "discard" },
        h("button", { type: "button", class: "danger-outline", "data-testid": "discard",
                      onclick: () => { confirm.hidden = false; } }, t("outbox.discard")),
        confirm));
  }

  function drawConflicts(force = false) {
    const conflicts = conflictsInOrder(store.openConflicts());
    const signature = conflictsSignature(conflicts, (id) => store.state("conflict", id));
    if (!force && signature === seen.conflicts) return;
    seen.conflicts = signature;
    fill(conflictBox, conflicts.length ? h("section", { class: "card" },
      h("h3", {}, t("outbox.conflicts"), " ", h("span", { class: "tally" }, String(conflicts.length))),
      h("p", { class: "muted" }, t("outbox.conflicts_hint")),
      conflicts.map(conflictCard)) : "");
  }

  function conflictCard(c) {
    const state = store.state("conflict", c.id);
    const current = store.get(c.record_type, c.record_id)?.[c.field];
    const side = (s) => h("div", { class: "side", "data-side": s.side, "data-which": s.which },
      h("p", { class: "side-label" }, s.label, " ",
        s.which === "kept" && sameValue(current, s.value) ? h("span", { class: "mark" }, t("outbox.in_force")) : null),
      s.at ? h("p", { class: "muted" }, t("outbox.typed_at", { time: when(s.at) })) : null,
      h("p", { class: "value", "data-testid": "conflict-value" }, showValue(c.field, s.value)),
      state === "pending" ? null : h("button", { type: "button", class: "wide", "data-testid": `choose-${s.side}`,
                                                 onclick: () => store.settle(c.id, s.value) }, t("outbox.choose")));
    return h("article", { class: "conflict", "data-testid": "conflict", "data-id": c.id, "data-state": state },
      h("h4", {}, recordTitle(c.record_type, c.record_id, { household_id: c.household_id })),
      h("p", {}, t("outbox.field"), " ", h("strong", { "data-testid": "conflict-field" }, fieldLabel(c.field))),
      h("div", { class: "sides" }, sidesOf(c, store.meta.user?.id).map((s) => side({ ...s, label: t(`outbox.${s.label}`) }))),
      state === "pending" ? h("p", { class: "mark pending", "data-testid": "conflict-pending" },
        t("outbox.chosen_wait", { value: showValue(c.field, c.chosen) })) : null,
      state === "rejected" ? h("p", { class: "error" }, t("outbox.settle_refused")) : null);
  }

  // Photos: how many of the phone's own are through and how far the bytes are (照片 2/5 · 60%), each
  // one's state, and those the server refused with its reason (the photo stays on the phone).
  function drawPhotos() {
    const p = photos.progress();
    if (!p.photos.length) {
      fill(photoBox, h("h3", {}, t("outbox.photos")), h("p", { class: "muted", "data-testid": "photo-line" }, t("outbox.photos_none")));
      return;
    }
    const through = p.done === p.count;
    const headline = p.refused && through ? t("outbox.photos_refused", { n: p.refused })
      : through ? t("outbox.photos_all") : navigator.onLine ? t("outbox.photos_uploading") : t("outbox.photos_waiting");
    const rows = p.photos.map((ph, i) => {
      const state = ph.refused ? "refused" : ph.uploaded ? "done" : p.running || ph.offset ? "uploading" : "waiting";
      const percent = ph.size ? Math.floor((Math.min(ph.offset, ph.size) * 100) / ph.size) : 0;
      return h("li", { "data-testid": "photo-upload", "data-sha": ph.sha256, "data-state": state },
        t("outbox.photo_row", { n: i + 1 }), " · ", t(`outbox.photo_state.${state}`, { percent }),
        ph.refused ? h("span", { class: "error", "data-code": ph.refused }, " ", refusal(ph.refused)) : null);
    });
    fill(photoBox, h("h3", {}, t("outbox.photos")),
      h("p", { class: "big", "data-testid": "photo-line", "data-done": p.done, "data-count": p.count, "data-percent": p.percent },
        t("outbox.photos_line", p)),
      h("p", { role: "status" }, headline),
      h("progress", { max: 100, value: p.percent, "aria-label": t("outbox.photos") }),
      h("details", {}, h("summary", {}, t("outbox.photos")), h("ul", { class: "photo-progress" }, rows)));
  }

  // Storage: what this app uses of what the browser allows, and (once) the ask to keep it for good,
  // so that photos and the outbox are not cleared when the phone runs short of space.
  async function drawStorage() {
    const mb = (n) => `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MB`;
    let line = t("outbox.storage_unknown");
    let persisted = null;
    try {
      const estimate = await navigator.storage?.estimate?.();
      if (estimate?.quota) line = t("outbox.storage_line", { used: mb(estimate.usage ?? 0), quota: mb(estimate.quota) });
      persisted = await navigator.storage?.persisted?.();
      if (persisted === false && !store.meta.persistAsked && navigator.storage?.persist) {
        await store.setMeta({ persistAsked: true }); // asked once: the browser remembers its answer
        persisted = await navigator.storage.persist();
      }
    } catch {
      // No storage manager here: the line says so.
    }
    fill(storageBox, h("h3", {}, t("outbox.storage")),
      h("p", { "data-testid": "storage-line" }, line),
      persisted === null ? null : h("p", { class: "muted", "data-testid": "storage-persisted", "data-persisted": String(persisted) },
        t(persisted ? "outbox.storage_kept" : "outbox.storage_not_kept")));
  }

  // Push notifications: the state in words and one button. Off or not, live.js tells of news while
  // the app is open.
  let pushBusy = false;
  let pushDraws = 0;
  async function drawPush() {
    const n = ++pushDraws;
    const state = await push.pushState();
    if (n !== pushDraws) return; // a later drawing overtook this one
    const toggle = state !== "unsupported" && state !== "denied";
    fill(pushBox, 
      h("h3", {}, t("push_title")),
      h("p", { "data-testid": "push-state", "data-state": state, "data-reason": push.reason() ?? false },
        t(`push_${state}`)),
      state === "unsupported" && push.needsHomeScreen() ? h("p", { class: "muted" }, t("push_ios")) : "",
      toggle ? h("button", { type: "button", class: state === "on" ? "wide secondary" : "wide", disabled: pushBusy,
                             "data-testid": "push-toggle", onclick: () => togglePush(state === "on") },
        t(pushBusy ? "push_busy" : state === "on" ? "push_disable" : "push_enable")) : "");
  }

  async function togglePush(on) {
    pushBusy = true;
    drawPush();
    try {
      await (on ? push.disablePush() : push.enablePush());
    } finally {
      pushBusy = false;
      drawPush();
    }
  }

  function drawAccount() {
    const user = store.meta.user ?? {};
    const warning = h("div", { class: "confirm caution", role: "alertdialog", hidden: true,
                               "data-testid": "logout-warning" });
    const button = h("button", { type: "button", class: "wide danger-outline", "data-testid": "logout",
                                 onclick: () => logout() }, t("logout"));
    async function logout(force = false) {
      button.disabled = true;
      button.textContent = t("logging_out");
      warning.hidden = true;
      let result;
      try {
        result = await session.logout({ force });
      } finally {
        button.disabled = false;
        button.textContent = t("logout");
      }
      if (result?.unsent) { // nothing is lost without the user seeing this and choosing to
        fill(warning, 
          h("p", {}, h("strong", {}, t("logout_unsent", { n: result.unsent }))),
          h("div", { class: "btn-row" },
            h("button", { type: "button", "data-testid": "logout-cancel", onclick: () => { warning.hidden = true; } },
              t("logout_wait")),
            h("button", { type: "button", class: "danger", "data-testid": "logout-force", onclick: () => logout(true) },
              t("logout_anyway"))));
        warning.hidden = false;
        warning.scrollIntoView({ block: "center" });
        warning.querySelector("button")?.focus();
        return;
      }
      rerender(); // no token any more: the app shows the login screen
    }
    fill(accountBox, 
      h("h3", {}, t("outbox.account")),
      h("p", {}, user.name ?? "", user.role ? ` · ${t(`roles.${user.role}`)}` : ""),
      user.role === "resident" && user.household_id ? membersLink() : null,
      h("a", { href: "#/password", class: "button wide-link", "data-testid": "change-password" },
        t("my_password.title")),
      button, warning);
  }

  const onNetwork = () => drawStatus();
  window.addEventListener("online", onNetwork);
  window.addEventListener("offline", onNetwork);
  const clock = setInterval(drawStatus, 30_000); // "3 minutes ago" stays true
  const offStatus = sync.onStatus(drawStatus);
  const offStore = store.subscribe(() => {
    drawStatus();
    drawRejected();
    drawConflicts();
    drawPhotos();
  });
  const offPhotos = photos.subscribe(drawPhotos);
  drawStatus();
  drawPhotos();
  drawStorage();
  drawRejected(true);
  drawConflicts(true);
  drawPush();
  drawAccount();
  return () => {
    offStore();
    offPhotos();
    offStatus();
    clearInterval(clock);
    window.removeEventListener("online", onNetwork);
    window.removeEventListener("offline", onNetwork);
  };
}

// ---- helpers ------------------------------------------------------------------------------------

/** "住户档案 · 3栋 1单元 101" (with the person's name when it is about a person). */
function recordTitle(type, id, fields = {}) {
  const parts = [typeLabel(type)];
  if (type === "checkin") { // hangs on no household: its kind and time say which one it is
    const checkin = { ...(store.get(type, id) ?? {}), ...fields };
    return [...parts, showValue("kind", checkin.kind), when(checkin.at)].filter(Boolean).join(" · ");
  }
  const name = type === "person" ? fields?.name ?? store.get("person", id)?.name : null;
  if (name) parts.push(name);
  parts.push(householdAddress(householdIdOf(type, id, fields)));
  return parts.join(" · ");
}

/** An input for one field of a refused change, filled with what the user typed (or is typing). */
function editor(type, field, value, draft, bad) {
  const choices = typeof value === "string" ? choicesFor(type, field) : null;
  const kind = editorKind(field, value, { choices, bad });
  if (kind === "reference") {
    // An id chosen elsewhere (the household, …): shown as what it names, sent back unchanged.
    const shown = field === "household_id" ? householdAddress(value) : value;
    const kept = h("input", { type: "hidden", name: field });
    kept.value = value;
    return [h("input", { type: "text", readonly: true, value: shown, "data-field": field }), kept];
  }
  const remember = (event) => { draft[field] = event.target.value; };
  const attrs = { name: field, "aria-invalid": bad ? "true" : false, "data-field": field, oninput: remember };
  let el;
  if (kind === "choice") {
    el = h("select", { ...attrs, onchange: remember },
      choiceOptions(choices, value).map((c) => h("option", { value: c }, showValue(field, c))));
  } else if (kind === "boolean") {
    el = h("select", { ...attrs, onchange: remember },
      h("option", { value: "true" }, t("wording.yes")), h("option", { value: "false" }, t("wording.no")));
  } else if (kind === "number") {
    el = h("input", { ...attrs, type: "number", inputmode: "decimal", step: "any" });
  } else if (kind === "json") {
    el = h("textarea", { ...attrs, rows: 4, spellcheck: "false" });
  } else if (kind === "long") {
    el = h("textarea", { ...attrs, rows: 3 });
  } else {
    el = h("input", { ...attrs, type: "text" });
  }
  el.value = field in draft ? draft[field] : editText(value);
  return el;
}
