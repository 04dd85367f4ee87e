// Emergencies (突发事件) on the phone. A resident's home opens with the banner of an open incident of
// their building (紧急 for serious and critical) and two big buttons, 我家安全 / 需要帮助; then what is
// true (待同步, 已告知管家), and 已解除 with the all-clear note. A butler's grid links each open incident
// (#/incident/<id>): counts and the door-knock list of their households, each door answered with
// 安全 / 需要帮助 / 无人应答; and 上报突发事件 (#/incident-new). Every answer is the household's one
// incident_check (its id a UUIDv5 of the incident and the household), saved like every record: at once,
// offline too. DOM and store.js only; the rules are in incident-logic.js.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { addressLabel, buildingLabel, peopleOf, toast } from "./common.js";
import { when } from "./wording.js";
import {
  ANSWERS, KINDS, SEVERITIES, buildingsOf, checkId, incidentForm, knockAt, knockList, openIncidents, residentBanner,
} from "./incident-logic.js";

extend({
  "zh-CN": {
    incident: {
      urgent: "紧急", notice: "通知", since: "开始于 {time}", whole: "全小区", buildings: "涉及：{list}",
      // the resident's banner
      ask: "您家现在安全吗？请点一下告诉管家。", safe_button: "我家安全", help_button: "需要帮助",
      note: "想告诉管家的话（可以不写）", note_hint: "例如：家里有老人行动不便",
      you_said: "您已回复：{answer}", answer: { safe: "我家安全", need_help: "需要帮助", not_home: "家中无人" },
      told: "已告知管家", queued: "待同步：有信号后会自动告诉管家", refused: "没有提交成功，请到“我的”页面处理",
      change: "改为：{answer}", all_clear: "已解除", all_clear_of: "已解除：{title}",
      // the butler's screens
      open_n: "突发事件进行中：{title}", raise: "上报突发事件", back: "‹ 返回我的网格",
      counts: "共 {households} 户 · 安全 {safe} · 需要帮助 {need_help} · 无人应答 {not_home} · 未回复 {none}",
      waiting: "等待住户确认：还有 {n} 分钟开始上门", knock: "请上门确认以下住户",
      wait_mark: "等待住户确认", knock_mark: "需上门", help_mark: "需要帮助", vulnerable: "独居老人",
      not_home_mark: "无人应答",
      door_label: "{address}：{answer}", none_left: "所有住户都已确认安全。", answered: "已确认安全（{n} 户）",
      ended: "主管已宣布解除：{note}", not_found: "找不到这个突发事件。", saved: "已记录：{address} {answer}",
      pending: "待同步", vulnerable_hint: "“独居老人”按手机上有的出生年份判断（须本人同意登记）。",
      // raising one
      new_title: "上报突发事件", f_kind: "什么事", f_severity: "严重程度", f_title: "标题", f_title_hint: "例如：3栋停水",
      f_body: "说明（可以不写）", f_buildings: "涉及的楼栋（都不选 = 全小区）", f_knock: "多少分钟后上门确认",
      submit: "上报", cancel: "取消", need: { kind: "请选择什么事。", severity: "请选择严重程度。", title: "请写标题。",
                                               knock_after_minutes: "请填 1 到 240 之间的整数。" },
      raised: "已上报，联网后自动同步",
    },
  },
  en: {
    incident: {
      urgent: "Emergency", notice: "Notice", since: "Since {time}", whole: "Whole community", buildings: "Buildings: {list}",
      ask: "Is your home safe now? Tap to tell your butler.", safe_button: "We are safe", help_button: "We need help",
      note: "Anything to tell your butler (optional)", note_hint: "e.g. an elderly person here cannot walk far",
      you_said: "You said: {answer}", answer: { safe: "We are safe", need_help: "We need help", not_home: "Nobody home" },
      told: "Your butler has been told", queued: "Waiting for signal: your butler will be told automatically",
      refused: "Not accepted; see the Me page", change: "Change to: {answer}", all_clear: "All clear",
      all_clear_of: "All clear: {title}",
      open_n: "Emergency under way: {title}", raise: "Report an emergency", back: "‹ Back to my grid",
      counts: "{households} homes · safe {safe} · need help {need_help} · nobody home {not_home} · no answer {none}",
      waiting: "Waiting for residents: door-knocking starts in {n} min", knock: "Knock on these doors",
      wait_mark: "Waiting for residents", knock_mark: "Knock", help_mark: "Needs help", vulnerable: "Elderly, alone",
      not_home_mark: "Nobody home",
      door_label: "{address}: {answer}", none_left: "Every home has said it is safe.", answered: "Safe ({n})",
      ended: "A supervisor gave the all-clear: {note}", not_found: "This emergency is not here.",
      saved: "Noted: {address} {answer}", pending: "Not synced",
      vulnerable_hint: "“Elderly, alone” uses the birth years on this phone (recorded with consent only).",
      new_title: "Report an emergency", f_kind: "What happened", f_severity: "How serious", f_title: "Title",
      f_title_hint: "e.g. No water in building 3", f_body: "Details (optional)",
      f_buildings: "Buildings (none = the whole community)", f_knock: "Knock on doors after (minutes)",
      submit: "Report", cancel: "Cancel", need: { kind: "Choose what happened.", severity: "Choose how serious.",
                                                   title: "Write a title.", knock_after_minutes: "A whole number from 1 to 240." },
      raised: "Reported; it will sync when online",
    },
  },
});

const REDRAW_DELAY_MS = 50; // a sync round notifies several times: draw once
const ids = new Map(); // "incident/household" -> the answer's id: worked out once (a grid may hold 2,000 homes)

/** The ids of the answers of these households to an incident, by household id. */
async function checkIds(incident, households) {
  const missing = households.filter((x) => !ids.has(`${incident.id}/${x.id}`));
  await Promise.all(missing.map(async (x) => ids.set(`${incident.id}/${x.id}`, await checkId(incident.id, x.id))));
  return new Map(households.map((x) => [x.id, ids.get(`${incident.id}/${x.id}`)]));
}
const TICK_MS = 30_000; // knock time comes while the screen is open

/** Save the household's answer: its one incident_check, created or changed, offline too. */
export async function answer(incident, householdId, value, note = "") {
  const id = await checkId(incident.id, householdId);
  const fields = { incident_id: incident.id, household_id: householdId, answer: value, answered_at: store.nowWithOffset() };
  if (note) fields.note = note;
  return store.save("incident_check", id, fields);
}

function kindLabel(incident) {
  return t(`common.incident_kind.${KINDS.includes(incident.kind) ? incident.kind : "other"}`);
}

function incidentHead(incident, { urgent }) {
  const list = incident.buildings?.length ? incident.buildings.map(buildingLabel).join("、") : t("incident.whole");
  return [
    h("p", { class: "inc-flag", "data-testid": "incident-flag" },
      h("span", { class: `inc-mark ${urgent ? "urgent" : "notice"}` }, urgent ? t("incident.urgent") : t("incident.notice")),
      " ", kindLabel(incident)),
    h("h3", { class: "inc-title", "data-testid": "incident-title" }, incident.title),
    incident.body ? h("p", { class: "inc-body" }, incident.body) : null,
    h("p", { class: "inc-meta" }, t("incident.since", { time: when(incident.started_at) }), " · ",
      incident.buildings?.length ? t("incident.buildings", { list }) : list),
  ];
}

// ---- the resident's banner ----------------------------------------------------------------------------

/** The banner at the top of a resident's home, kept up to date: {el, cleanup}. The note typed stays
 * while the rest of the screen redraws (the banner only redraws when what it says changes). */
export function residentIncidentBanner() {
  const el = h("div", { class: "inc-host", "data-testid": "incident-host" });
  const note = h("textarea", { rows: 2, maxlength: 200, placeholder: t("incident.note_hint"), "data-testid": "incident-note" });
  let shown = "";
  let busy = false;

  const send = async (incident, value) => {
    if (busy) return;
    busy = true;
    try {
      await answer(incident, store.meta.user?.household_id, value, note.value.trim());
      note.value = "";
    } finally {
      busy = false;
      draw(true);
    }
  };

  function draw(force = false) {
    const household = store.meta.user?.household_id;
    const building = household ? store.get("household", household)?.building : null;
    const banner = household ? residentBanner(store.all("incident"), {
      building, checks: store.all("incident_check", household), stateOf: (id) => store.state("incident_check", id),
    }) : null;
    const signature = JSON.stringify([banner?.incident, banner?.state, banner?.check?.answer, navigator.onLine]);
    if (!force && signature === shown) return;
    shown = signature;
    if (!banner) return el.replaceChildren();
    const { incident, state, check, urgent } = banner;
    if (state === "all_clear") {
      return fill(el, h("section", { class: "card inc-banner clear", role: "status", "data-testid": "incident-banner",
                                               "data-state": state },
        h("p", { class: "inc-flag" }, h("span", { class: "inc-mark clear" }, t("incident.all_clear")), " ", kindLabel(incident)),
        h("h3", { class: "inc-title" }, t("incident.all_clear_of", { title: incident.title })),
        incident.all_clear_note ? h("p", { class: "inc-body", "data-testid": "incident-all-clear" }, incident.all_clear_note) : null));
    }
    const safe = h("button", { type: "button", class: "inc-answer safe", "data-testid": "incident-safe",
                               onclick: () => send(incident, "safe") }, t("incident.safe_button"));
    const help = h("button", { type: "button", class: "inc-answer help", "data-testid": "incident-help",
                               onclick: () => send(incident, "need_help") }, t("incident.help_button"));
    const other = check?.answer === "safe" ? help : safe;
    const said = check ? [
      h("p", { class: "inc-said", "data-testid": "incident-said" }, t("incident.you_said", { answer: t(`incident.answer.${check.answer}`) })),
      h("p", { class: `inc-sync ${state}`, "data-testid": "incident-sync", "data-state": state }, t(`incident.${state}`)),
      h("details", { class: "inc-change" }, h("summary", {}, t("incident.change", {
        answer: t(`incident.answer.${check.answer === "safe" ? "need_help" : "safe"}`) })),
        h("label", {}, h("span", {}, t("incident.note")), note), other),
    ] : [
      h("p", { class: "inc-ask" }, t("incident.ask")),
      h("div", { class: "inc-answers" }, safe, help),
      h("label", {}, h("span", {}, t("incident.note")), note),
    ];
    fill(el, h("section", {
      class: `card inc-banner ${urgent ? "urgent" : "notice"}`, role: urgent && !check ? "alert" : "status",
      "data-testid": "incident-banner", "data-state": state, "data-id": incident.id,
    }, ...incidentHead(incident, { urgent }), ...said));
  }

  draw();
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => draw(), REDRAW_DELAY_MS); };
  const unsubscribe = store.subscribe(later);
  window.addEventListener("online", later);
  window.addEventListener("offline", later);
  return { el, cleanup: () => {
    clearTimeout(timer);
    unsubscribe();
    window.removeEventListener("online", later);
    window.removeEventListener("offline", later);
  } };
}

// ---- the butler: a link on the grid, the incident and its door-knock list -------------------------------

/** Links to each open incident, for the grid's top (nothing when none is open), and 上报突发事件. */
export function incidentLinks() {
  const open = openIncidents(store.all("incident"));
  return h("div", { class: "inc-links", "data-testid": "incident-links" },
    open.map((incident) => h("a", {
      class: `card inc-link ${incident.severity === "notice" ? "notice" : "urgent"}`,
      href: `#/incident/${encodeURIComponent(incident.id)}`, "data-testid": "incident-link", "data-id": incident.id,
    }, t("incident.open_n", { title: incident.title }))),
    h("a", { class: "inc-raise", href: "#/incident-new", "data-testid": "incident-raise" }, t("incident.raise")));
}

function doorRow(incident, row) {
  const { household, check, vulnerable, need } = row;
  const address = addressLabel(household);
  const main = peopleOf(household.id)[0]?.name ?? "";
  const state = check ? store.state("incident_check", check.id) : "synced";
  const mark = need === "help" ? "help_mark" : need === "wait" ? "wait_mark" : need === "safe" ? null
    : check?.answer === "not_home" ? "not_home_mark" : "knock_mark";
  const tap = async (value) => {
    await answer(incident, household.id, value);
    toast(t("incident.saved", { address, answer: t(`common.answer.${value}`) }));
  };
  return h("li", { class: `inc-door ${need}`, "data-testid": "door", "data-id": household.id, "data-need": need,
                   "data-answer": check?.answer ?? "", "data-vulnerable": String(vulnerable) },
    h("p", { class: "inc-door-top" }, h("strong", { "data-testid": "door-address" }, address), " ", main,
      vulnerable ? h("span", { class: "inc-mark urgent", "data-testid": "door-vulnerable" }, t("incident.vulnerable")) : null,
      mark ? h("span", { class: `inc-mark ${need}`, "data-testid": "door-mark" }, t(`incident.${mark}`)) : null,
      state !== "synced" ? h("span", { class: "inc-mark pending", "data-testid": "door-pending" }, t("incident.pending")) : null),
    check?.note ? h("p", { class: "inc-door-note" }, check.note) : null,
    h("div", { class: "inc-door-buttons" }, ANSWERS.map((value) => h("button", {
      type: "button", class: check?.answer === value ? "primary" : "secondary", "data-testid": `door-${value}`,
      "aria-pressed": String(check?.answer === value),
      "aria-label": t("incident.door_label", { address, answer: t(`common.answer.${value}`) }),
      onclick: () => tap(value),
    }, t(`common.answer.${value}`)))));
}

export function incidentView(root, route) {
  const id = route.args[0] ?? openIncidents(store.all("incident"))[0]?.id;
  let latest = 0; // draws wait for the ids: only the latest one fills the screen
  const draw = async () => {
    const mine = ++latest;
    const incident = id ? store.get("incident", id) : null;
    if (!incident) {
      return fill(root, h("section", { class: "ts-screen" }, h("a", { class: "back", href: "#/grid" }, t("incident.back")),
        h("p", { "data-testid": "incident-missing" }, t("incident.not_found"))));
    }
    const households = store.all("household");
    const answerIds = await checkIds(incident, households);
    if (mine !== latest) return;
    const list = knockList(incident, households, {
      peopleOf: (householdId) => store.all("person", householdId),
      checkOf: (householdId) => store.get("incident_check", answerIds.get(householdId))
        ?? store.all("incident_check", householdId).find((c) => c.incident_id === incident.id) ?? null,
    });
    const urgent = incident.severity !== "notice";
    fill(root, h("section", { class: "ts-screen inc-screen", "data-testid": "incident-screen", "data-id": incident.id },
      h("a", { class: "back", href: "#/grid" }, t("incident.back")),
      h("div", { class: `card inc-banner ${incident.ended_at ? "clear" : urgent ? "urgent" : "notice"}` },
        ...incidentHead(incident, { urgent }),
        incident.ended_at ? h("p", { class: "inc-body", "data-testid": "incident-ended" },
          t("incident.ended", { note: incident.all_clear_note ?? "" })) : null),
      h("p", { class: "inc-counts", "data-testid": "incident-counts" }, t("incident.counts", list.counts)),
      h("p", { class: `inc-phase ${list.phase}`, role: "status", "data-testid": "incident-phase", "data-phase": list.phase },
        list.phase === "waiting" ? t("incident.waiting", { n: list.minutesLeft }) : t("incident.knock")),
      list.rows.length ? h("ul", { class: "inc-doors", "data-testid": "door-list" }, list.rows.map((row) => doorRow(incident, row)))
        : h("p", { "data-testid": "door-list-empty" }, t("incident.none_left")),
      list.answered.length ? h("details", { class: "inc-answered", "data-testid": "doors-safe" },
        h("summary", {}, t("incident.answered", { n: list.answered.length })),
        h("ul", { class: "inc-doors" }, list.answered.map((row) => doorRow(incident, row)))) : null,
      h("p", { class: "muted" }, t("incident.vulnerable_hint"))));
  };
  draw();
  let timer = null;
  const unsubscribe = store.subscribe(() => { clearTimeout(timer); timer = setTimeout(draw, REDRAW_DELAY_MS); });
  const tick = setInterval(draw, TICK_MS); // the minutes left
  // The moment knocking starts, to the second: the waiting households turn into doors to knock on.
  const incident = id ? store.get("incident", id) : null;
  const due = incident && !incident.ended_at ? knockAt(incident) - Date.now() : -1;
  const knockTimer = due >= 0 && due < 2 ** 31 - 1 ? setTimeout(draw, due + 50) : null;
  return () => { clearTimeout(timer); clearTimeout(knockTimer); clearInterval(tick); unsubscribe(); };
}

// ---- raising one ------------------------------------------------------------------------------------------

const DRAFT = "incident-new";

export function incidentNewView(root, _route, { go }) {
  const kept = store.draft(DRAFT) ?? {};
  const known = buildingsOf(store.all("household"));
  const keep = () => store.saveDraft(DRAFT, read());
  const select = (name, values, labelKey, current) => h("select", { name, "data-testid": `incident-${name}`, onchange: keep },
    h("option", { value: "" }, "—"),
    values.map((v) => h("option", { value: v, selected: v === current }, t(`${labelKey}.${v}`))));
  const kind = select("kind", KINDS, "common.incident_kind", kept.kind);
  const severity = select("severity", SEVERITIES, "common.severity", kept.severity ?? "serious");
  const title = h("input", { name: "title", maxlength: 100, placeholder: t("incident.f_title_hint"),
                             "data-testid": "incident-title-input", oninput: keep });
  title.value = kept.title ?? "";
  const body = h("textarea", { name: "body", rows: 3, maxlength: 4000, "data-testid": "incident-body", oninput: keep });
  body.value = kept.body ?? "";
  const knock = h("input", { name: "knock", type: "number", min: 1, max: 240, inputmode: "numeric",
                             "data-testid": "incident-knock", oninput: keep });
  knock.value = kept.knockAfter ?? "15";
  const boxes = known.map((b) => {
    const box = h("input", { type: "checkbox", value: b, "data-testid": "incident-building", onchange: keep });
    box.checked = (kept.buildings ?? []).includes(b);
    return h("label", { class: "inc-building" }, box, h("span", {}, buildingLabel(b)));
  });
  const error = h("p", { class: "error", role: "alert", hidden: true, "data-testid": "incident-error" });

  function read() {
    return { kind: kind.value, severity: severity.value, title: title.value, body: body.value, knockAfter: knock.value,
             buildings: boxes.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.value) };
  }

  async function submit(event) {
    event.preventDefault();
    const form = incidentForm(read(), { known });
    if (form.errors) {
      error.textContent = Object.keys(form.errors).map((k) => t(`incident.need.${k}`)).join(" ");
      error.hidden = false;
      return;
    }
    if (event.submitter) event.submitter.disabled = true; // one tap, one incident
    const saved = await store.create("incident", form.fields);
    await store.dropDraft(DRAFT);
    toast(t("incident.raised"));
    go(`incident/${encodeURIComponent(saved.id)}`);
  }

  fill(root, h("form", { class: "ts-screen inc-form", "data-testid": "incident-form", onsubmit: submit, novalidate: true },
    h("a", { class: "back", href: "#/grid" }, t("incident.back")),
    h("h2", {}, t("incident.new_title")),
    h("div", { class: "card" },
      h("label", {}, h("span", {}, t("incident.f_kind")), kind),
      h("label", {}, h("span", {}, t("incident.f_severity")), severity),
      h("label", {}, h("span", {}, t("incident.f_title")), title),
      h("label", {}, h("span", {}, t("incident.f_body")), body),
      h("fieldset", { class: "inc-buildings" }, h("legend", {}, t("incident.f_buildings")), boxes),
      h("label", {}, h("span", {}, t("incident.f_knock")), knock)),
    error,
    h("div", { class: "btn-row" },
      h("button", { type: "submit", class: "danger", "data-testid": "incident-submit" }, t("incident.submit")),
      h("a", { class: "button", href: "#/grid", onclick: () => store.dropDraft(DRAFT) }, t("incident.cancel")))));
}
