// 工单 Tickets: the butler's own tickets and the new ones waiting in their grid (#/tickets), and one
// ticket with its timeline and the moves the state machine allows a butler (#/ticket/<id>). A
// technician of the back office opens the same ticket screen with their own moves (抢单, accept,
// start, finish, 转派, 退回; views/backoffice.js has their lists), and a butler hands a ticket to a
// team from it (指派).
// Every action is a store.save: instant and offline; a refusal comes back on the ticket and on 同步.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import { CATEGORIES } from "../ticket-categories.js";
import { addressOf, ago, categoryLabel, householdAddress, reason, stateMark, statusLabel, when } from "./wording.js";
import { isOpenTicket } from "./common.js";
import { HANDABLE, handoffSteps, teamOf, techActions } from "./backoffice-logic.js";
import { photoPicker, photoStrip } from "./photos.js";
import { photosOf } from "../photos-logic.js";

extend({
  "zh-CN": {
    tickets: {
      escalated_accept: "超时未接单", escalated_resolve: "超时未解决",
      urgent: "紧急", urgent_choice: "紧急（如漏水殃及邻居、有人被困电梯）",
      mine: "我的工单", new: "新工单", none_mine: "没有进行中的工单。",
      none_new: "没有等待接单的工单。", to_me: "派给我", raise: "新建工单",
      raise_title: "为住户新建工单", household: "住户", pick_household: "请选择住户",
      category: "类别", description: "描述", description_hint: "住户反映了什么问题？",
      create: "保存工单", cancel: "取消", no_households: "您的网格里还没有住户。",
      back: "‹ 返回工单", not_found: "找不到这张工单。它可能已不在您的网格里。",
      timeline: "进度", raised: "报事", waiting: "等待同步",
      accept: "接单", start: "开始处理", resolve: "已解决",
      resolution_note: "处理说明", resolution_label: "处理说明：",
      resolution_hint: "做了什么？例如：更换阀芯", note_required: "请填写处理说明。",
      rate: "后台评价", rate_hint: "为完成这项工作的后台团队打分（1 最差，5 最好）。",
      rated: "已评 {n} 分", star: "{n} 分",
      pending: "已保存在本机，有网络时自动同步。",
      refused: "服务器没有接受您对这张工单的修改：", fix_on_sync: "到“同步”页修改",
      discard: "放弃此修改",
      discard_confirm: "放弃后，您对这张工单的这次修改会被删除，工单恢复为服务器上的样子。",
      discard_yes: "确定放弃", claimed_by_other: "这张工单已由其他人处理。",
      settle_first: "请先处理上面被拒绝的修改：改正后重新发送，或放弃。",
      backoffice: "后台处理中", none_backoffice: "没有交给后台的工单。",
      grab: "抢单", finish: "完工", hand_on: "转派 / 退回", assign: "指派给后台",
      team: "班组", pick_team: "请选择班组", person: "人员", anyone: "班组内任何人（抢单）",
      handoff_note: "说明", handoff_hint: "为什么转交？例如：需要电梯维保", return_hint: "退回原因（必填）",
      transfer: "转派", return: "退回管家", team_required: "请选择班组。", reason_required: "退回时请写明原因。",
      handoff_assigned: "指派给 {to}", handoff_transferred: "转派给 {to}", handoff_returned: "退回管家",
      handoff_grabbed: "{to} 抢单",
    },
  },
  en: {
    tickets: {
      escalated_accept: "Not accepted in time", escalated_resolve: "Not resolved in time",
      urgent: "Urgent", urgent_choice: "Urgent (a leak reaching the neighbours, someone stuck in a lift)",
      mine: "My tickets", new: "New tickets", none_mine: "No tickets in progress.",
      none_new: "No tickets waiting to be taken.", to_me: "Sent to me", raise: "New ticket",
      raise_title: "Raise a ticket for a household", household: "Household",
      pick_household: "Choose a household", category: "Category", description: "Description",
      description_hint: "What did the resident report?", create: "Save ticket", cancel: "Cancel",
      no_households: "There are no households in your grid yet.", back: "‹ Back to tickets",
      not_found: "This ticket is not on this phone. It may have left your grid.",
      timeline: "Progress", raised: "Raised", waiting: "waiting to sync",
      accept: "Accept", start: "Start work", resolve: "Resolved",
      resolution_note: "Resolution note", resolution_label: "Resolution:",
      resolution_hint: "What was done? e.g. replaced the valve", note_required: "Please write a resolution note.",
      rate: "Rate the back office", rate_hint: "Rate the team that did the work (1 worst, 5 best).",
      rated: "Rated {n}", star: "{n} points",
      pending: "Saved on this phone; it syncs by itself when there is signal.",
      refused: "The server did not accept your change to this ticket:",
      fix_on_sync: "Fix it on the Sync screen", discard: "Discard this change",
      discard_confirm: "Your change to this ticket will be deleted and the ticket shows as the server has it.",
      discard_yes: "Discard", claimed_by_other: "Someone else is handling this ticket.",
      settle_first: "First deal with the refused change above: fix and resend it, or discard it.",
      backoffice: "With the back office", none_backoffice: "No tickets handed to the back office.",
      grab: "Take this job", finish: "Finish", hand_on: "Pass on / return", assign: "Hand to the back office",
      team: "Team", pick_team: "Choose a team", person: "Person", anyone: "Anyone in the team (pool)",
      handoff_note: "Note", handoff_hint: "Why pass it on? e.g. needs the lift vendor",
      return_hint: "Reason for returning (required)", transfer: "Pass on", return: "Return to the butler",
      team_required: "Please choose a team.", reason_required: "Please give a reason for returning it.",
      handoff_assigned: "Handed to {to}", handoff_transferred: "Passed on to {to}",
      handoff_returned: "Returned to the butler", handoff_grabbed: "Taken by {to}",
    },
  },
});

const FINISHED = new Set(["closed", "cancelled"]);
const TAKEABLE = new Set(["new", "dispatched"]);
const HELD = new Set(["accepted", "in_progress", "resolved", "closed"]);
const RATEABLE = new Set(["resolved", "closed"]);

const me = () => store.meta.user?.id ?? null;
const isTechnician = () => store.meta.user?.role === "technician";
const myTeamId = () => teamOf(store.all("team"), me())?.id ?? null;

/** Where the job is: the household's address from the phone's copy, else the one on the ticket (a
 * technician holds no household file). */
export function whereOf(ticket) {
  if (ticket.household_id && store.get("household", ticket.household_id)) return householdAddress(ticket.household_id);
  return ticket.address || householdAddress(null);
}
const drafts = new Map(); // ticket id -> the resolution note being typed (kept across redraws)
const missingNote = new Set(); // tickets whose Resolve was tapped with no note (the message survives redraws)

/** New: waiting to be taken, in my grid (its household is on this phone) or sent to me. */
export function isNew(ticket) {
  if (!TAKEABLE.has(ticket.status)) return false;
  if (ticket.team_id && ticket.assignee_id !== me()) return false; // with the back office
  if (ticket.assignee_id === me()) return true;
  return !ticket.assignee_id && Boolean(store.get("household", ticket.household_id));
}

/** Mine: held by me and not finished, or taken on this phone and not yet answered by the server. */
export function isMine(ticket) {
  if (FINISHED.has(ticket.status) || isNew(ticket)) return false;
  if (ticket.assignee_id === me()) return true;
  return HELD.has(ticket.status) && store.state("ticket", ticket.id) !== "synced";
}

const refusedOf = (id) => store.rejected().filter((m) => m.type === "ticket" && m.id === id);
const byAge = (a, b) => String(a.created_at ?? "\uffff").localeCompare(String(b.created_at ?? "\uffff"));
// Urgent tickets (紧急) first, then the oldest.
const urgentFirst = (a, b) => (b.priority === "urgent") - (a.priority === "urgent") || byAge(a, b);

function statusChip(status) {
  return h("span", { class: `status-chip status-${status}`, "data-testid": "ticket-status" }, statusLabel(status));
}

function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, label);
}

/** Handed to the back office and not finished: the butler follows it. */
export function isWithBackOffice(ticket) {
  return Boolean(ticket.team_id) && HANDABLE.has(ticket.status) && ticket.assignee_id !== me();
}

export function ticketRow(ticket) {
  const sentToMe = ticket.status === "dispatched" && ticket.assignee_id === me();
  return h("li", {},
    h("a", { class: "tk-row", href: `#/ticket/${encodeURIComponent(ticket.id)}`, "data-testid": "ticket-row",
             "data-id": ticket.id },
      h("span", { class: "tk-main" },
        ticket.priority === "urgent" ? urgentMark() : null,
        h("strong", {}, categoryLabel(ticket.category)), " ", statusChip(ticket.status),
        sentToMe ? h("span", { class: "mark" }, t("tickets.to_me")) : null,
        ticket.escalated && isOpenTicket(ticket)
          ? h("span", { class: "mark rejected", "data-testid": "ticket-escalated" }, t(`tickets.escalated_${ticket.escalated}`)) : null,
        stateMark("ticket", ticket.id)),
      h("span", { class: "tk-sub" }, whereOf(ticket), " · ", ago(ticket.handed_at ?? ticket.created_at))));
}

export function urgentMark() {
  return h("span", { class: "mark urgent", "data-testid": "ticket-urgent" }, t("tickets.urgent"));
}

export function ticketList(testid, title, tickets, empty) {
  return h("section", { class: "card", "data-testid": testid },
    h("h2", {}, title, " ", h("span", { class: "tally" }, String(tickets.length))),
    tickets.length ? h("ul", { class: "tk-rows" }, tickets.map(ticketRow)) : h("p", { class: "muted" }, empty));
}

/** #/tickets, #/tickets?new=1, #/tickets?household=<id> (the form open for that household). */
export function ticketsView(root, route, { go }) {
  let raising = Boolean(route.query?.new || route.query?.household);
  let signature = "";

  const draw = (force = false) => {
    const tickets = store.all("ticket");
    const mine = tickets.filter(isMine).sort(urgentFirst);
    const fresh = tickets.filter(isNew).sort(urgentFirst);
    const handed = tickets.filter((x) => !isMine(x) && isWithBackOffice(x)).sort(urgentFirst);
    const next = JSON.stringify([raising, mine.map((x) => [x, store.state("ticket", x.id)]), fresh, handed]);
    if (!force && next === signature) return; // a sync must not wipe a half-filled form
    signature = next;
    const raise = () => { raising = true; draw(true); };
    fill(root, h("div", { class: "ts-screen" },
      ticketList("tickets-mine", t("tickets.mine"), mine, t("tickets.none_mine")),
      ticketList("tickets-new", t("tickets.new"), fresh, t("tickets.none_new")),
      handed.length ? ticketList("tickets-backoffice", t("tickets.backoffice"), handed, t("tickets.none_backoffice")) : null,
      raising ? raiseForm()
        : button(`＋ ${t("tickets.raise")}`, raise, { class: "wide secondary", "data-testid": "ticket-raise" })));
  };

  function raiseForm() {
    const households = store.all("household").sort((a, b) =>
      addressOf(a).localeCompare(addressOf(b), "zh-CN", { numeric: true }));
    if (!households.length) return h("p", { class: "card muted" }, t("tickets.no_households"));
    const chosen = route.query?.household;
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const form = h("form", { class: "card tk-form", "data-testid": "ticket-form", onsubmit: submit },
      h("h2", {}, t("tickets.raise_title")),
      h("label", {}, h("span", {}, t("tickets.household")),
        h("select", { name: "household_id", required: true },
          h("option", { value: "" }, t("tickets.pick_household")),
          households.map((x) => h("option", { value: x.id, selected: x.id === chosen }, addressOf(x))))),
      h("label", {}, h("span", {}, t("tickets.category")),
        h("select", { name: "category", required: true },
          CATEGORIES.map((c) => h("option", { value: c }, categoryLabel(c))))),
      h("label", {}, h("span", {}, t("tickets.description")),
        h("textarea", { name: "description", rows: 3, maxlength: 2000, placeholder: t("tickets.description_hint") })),
      h("label", { class: "check tk-urgent" }, h("input", { type: "checkbox", name: "urgent", "data-testid": "ticket-urgent-choice" }),
        h("span", {}, t("tickets.urgent_choice"))),
      error,
      h("div", { class: "btn-row" },
        h("button", { type: "submit", "data-testid": "ticket-create" }, t("tickets.create")),
        button(t("tickets.cancel"), () => { raising = false; draw(true); }, { class: "secondary" })));

    async function submit(event) {
      event.preventDefault();
      const data = new FormData(form);
      const householdId = String(data.get("household_id") ?? "");
      if (!householdId) {
        error.textContent = t("tickets.pick_household");
        error.hidden = false;
        return;
      }
      const ticket = await store.create("ticket", {
        household_id: householdId, category: String(data.get("category")),
        description: String(data.get("description") ?? "").trim(),
        priority: data.get("urgent") ? "urgent" : "normal",
      });
      raising = false;
      go(`ticket/${encodeURIComponent(ticket.id)}`);
    }
    return form;
  }

  draw(true);
  return store.subscribe(() => draw());
}

// ---- one ticket -----------------------------------------------------------------------------------

function timeline(ticket) {
  const waiting = store.state("ticket", ticket.id) === "pending" ? t("tickets.waiting") : "";
  const s = ticket.status;
  const steps = [["new", ticket.created_at, t("tickets.raised")]];
  for (const step of handoffSteps(ticket, store.all("team"))) {
    const to = [step.team, step.person].filter(Boolean).join(" · ");
    steps.push([`handoff-${step.kind}`, step.at, t(`tickets.handoff_${step.kind}`, { to }), step.note]);
  }
  if (s === "dispatched") steps.push(["dispatched", null]);
  if (ticket.accepted_at || HELD.has(s)) steps.push(["accepted", ticket.accepted_at]);
  if (s === "in_progress") steps.push(["in_progress", null]);
  if (ticket.resolved_at || RATEABLE.has(s)) steps.push(["resolved", ticket.resolved_at]);
  if (ticket.closed_at || s === "closed") steps.push(["closed", ticket.closed_at]);
  if (s === "cancelled") steps.push(["cancelled", null]);
  return h("ol", { class: "timeline", "data-testid": "ticket-timeline" },
    steps.map(([step, at, label, note], i) => {
      const current = i === steps.length - 1;
      // A step the phone has made but the server has not stamped yet reads "waiting to sync".
      const time = at ? when(at) : current || step === "new" ? waiting : "";
      return h("li", { class: current ? "current" : "", "data-step": step },
        h("span", {}, label ?? statusLabel(step)), time ? h("span", { class: "muted" }, ` ${time}`) : null,
        note ? h("span", { class: "muted handoff-note" }, `：${note}`) : null);
    }));
}

function refusals(ticket, redraw) {
  const refused = refusedOf(ticket.id);
  if (!refused.length) return null;
  return h("section", { class: "card refused", "data-testid": "ticket-rejected", role: "alert" },
    h("p", {}, h("strong", {}, t("tickets.refused"))),
    refused.map((m) => {
      const discard = async () => { await store.discard(m.mid); redraw(); };
      const confirm = h("div", { class: "confirm", hidden: true },
        h("p", {}, t("tickets.discard_confirm")),
        h("div", { class: "btn-row" },
          button(t("tickets.discard_yes"), discard, { class: "danger", "data-testid": "ticket-discard-confirm" }),
          button(t("tickets.cancel"), () => { confirm.hidden = true; }, { class: "secondary" })));
      return h("div", { class: "refusal", "data-mid": m.mid },
        h("ul", {}, (m.errors ?? []).map((e) =>
          h("li", { class: "error", "data-code": e.code, "data-testid": "reason" }, reason(e)))),
        h("div", { class: "btn-row" },
          h("a", { class: "button secondary", href: "#/sync" }, t("tickets.fix_on_sync")),
          button(t("tickets.discard"), () => { confirm.hidden = false; },
                 { class: "danger-outline", "data-testid": "ticket-discard" })),
        confirm);
    }));
}

/** The moves the state machine allows a butler from here (server/tickets/service.py). */
function actions(ticket) {
  const save = (fields) => store.save("ticket", ticket.id, fields);
  const state = store.state("ticket", ticket.id);
  if (state === "rejected") return [h("p", { class: "muted" }, t("tickets.settle_first"))];
  if (isTechnician()) return techActionList(ticket, save);
  const out = [];
  if (TAKEABLE.has(ticket.status) && (!ticket.assignee_id || ticket.assignee_id === me())) {
    out.push(button(t("tickets.accept"), () => save({ status: "accepted" }),
                    { class: "wide", "data-testid": "ticket-accept" }));
  } else if (HELD.has(ticket.status) && ticket.assignee_id && ticket.assignee_id !== me() && state === "synced") {
    return [h("p", { class: "muted" }, t("tickets.claimed_by_other"))];
  }
  if (ticket.status === "accepted") {
    out.push(button(t("tickets.start"), () => save({ status: "in_progress" }),
                    { class: "wide", "data-testid": "ticket-start" }));
  }
  if (ticket.status === "accepted" || ticket.status === "in_progress") out.push(resolveForm(ticket, save));
  if (RATEABLE.has(ticket.status)) out.push(rating(ticket, save));
  if (HANDABLE.has(ticket.status) && store.all("team").length) out.push(handOnForm(ticket, save, false));
  return out;
}

/** A technician's moves (server/tickets/handoff.py): 抢单 from the pool, accept, start, finish with a
 * note, pass on or return. Each one a store.save: instant, offline, sent by the outbox. */
function techActionList(ticket, save) {
  const can = techActions(ticket, me(), myTeamId());
  const out = [];
  if (can.grab) out.push(button(t("tickets.grab"), () => save({ status: "accepted" }), { class: "wide", "data-testid": "ticket-grab" }));
  if (can.accept) out.push(button(t("tickets.accept"), () => save({ status: "accepted" }), { class: "wide", "data-testid": "ticket-accept" }));
  if (can.start) out.push(button(t("tickets.start"), () => save({ status: "in_progress" }), { class: "wide", "data-testid": "ticket-start" }));
  if (can.finish) out.push(resolveForm(ticket, save, t("tickets.finish")));
  if (can.handOn) out.push(handOnForm(ticket, save, true));
  if (!out.length && ticket.assignee_id && ticket.assignee_id !== me() && HANDABLE.has(ticket.status)) {
    return [h("p", { class: "muted" }, t("tickets.claimed_by_other"))];
  }
  return out;
}

/** 指派 (a butler), 转派 / 退回 (a technician): a team, maybe one of its people, and a note. */
function handOnForm(ticket, save, technician) {
  const teams = store.all("team").sort((a, b) => String(a.name).localeCompare(String(b.name), "zh-CN"));
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const person = h("select", { name: "assignee_id", "data-testid": "handoff-person" });
  const team = h("select", { name: "team_id", "data-testid": "handoff-team", onchange: fillPeople },
    h("option", { value: "" }, t("tickets.pick_team")),
    teams.map((x) => h("option", { value: x.id }, x.company ? `${x.name}（${x.company}）` : x.name)));
  const note = h("textarea", { name: "handoff_note", rows: 2, maxlength: 500, "data-testid": "handoff-note",
                               placeholder: technician ? t("tickets.return_hint") : t("tickets.handoff_hint") });
  function fillPeople() {
    const chosen = teams.find((x) => x.id === team.value);
    fill(person, h("option", { value: "" }, t("tickets.anyone")),
      (chosen?.members ?? []).filter((m) => m.id !== me()).map((m) => h("option", { value: m.id }, m.name)));
  }
  fillPeople();
  const fail = (key) => { error.textContent = t(key); error.hidden = false; };
  const handOn = () => {
    if (!team.value) return fail("tickets.team_required");
    return save({ team_id: team.value, assignee_id: person.value || null, handoff_note: note.value.trim() });
  };
  const giveBack = () => {
    if (!note.value.trim()) return fail("tickets.reason_required");
    return save({ team_id: null, handoff_note: note.value.trim() });
  };
  return h("details", { class: "handoff", "data-testid": "ticket-handoff" },
    h("summary", {}, technician ? t("tickets.hand_on") : t("tickets.assign")),
    h("label", {}, h("span", {}, t("tickets.team")), team),
    h("label", {}, h("span", {}, t("tickets.person")), person),
    h("label", {}, h("span", {}, t("tickets.handoff_note")), note),
    error,
    h("div", { class: "btn-row" },
      button(technician ? t("tickets.transfer") : t("tickets.assign"), handOn, { "data-testid": "handoff-send" }),
      technician ? button(t("tickets.return"), giveBack, { class: "secondary", "data-testid": "handoff-return" }) : null));
}

function resolveForm(ticket, save, label = t("tickets.resolve")) {
  const error = h("p", { class: "error", role: "alert", hidden: !missingNote.has(ticket.id) }, t("tickets.note_required"));
  const note = h("textarea", {
    name: "resolution_note", rows: 3, maxlength: 2000, required: true, placeholder: t("tickets.resolution_hint"),
    "data-testid": "ticket-note",
    oninput: () => { drafts.set(ticket.id, note.value); missingNote.delete(ticket.id); error.hidden = true; },
  });
  note.value = drafts.get(ticket.id) ?? ticket.resolution_note ?? "";
  async function submit(event) {
    event.preventDefault();
    const text = note.value.trim();
    if (!text) { // the note is what the resident and the supervisor read later: required here
      missingNote.add(ticket.id);
      error.hidden = false;
      note.focus();
      return;
    }
    drafts.delete(ticket.id);
    missingNote.delete(ticket.id);
    await save({ status: "resolved", resolution_note: text });
  }
  return h("form", { class: "resolve", "data-testid": "ticket-resolve-form", novalidate: true, onsubmit: submit },
    h("label", {}, h("span", {}, t("tickets.resolution_note")), note),
    error,
    h("button", { type: "submit", class: "wide", "data-testid": "ticket-resolve" }, label));
}

function rating(ticket, save) {
  const current = ticket.backoffice_rating ?? null;
  return h("fieldset", { class: "rating", "data-testid": "ticket-rating" },
    h("legend", {}, t("tickets.rate")),
    h("p", { class: "muted" }, current ? t("tickets.rated", { n: current }) : t("tickets.rate_hint")),
    h("div", { class: "rating-buttons" }, [1, 2, 3, 4, 5].map((n) =>
      button(String(n), () => save({ backoffice_rating: n }), {
        "aria-pressed": n === current ? "true" : "false", "aria-label": t("tickets.star", { n }), "data-rating": n,
      }))));
}

/** The ticket's photos: the fault as reported (the resident's or the butler's), then before and after
 * the repair, each with 拍照 / 从相册选 while the ticket is open. A photo is saved at once, offline, and
 * taken away at once (删除 → 确定删除, one's own, while the ticket is open); a refused one of one's own
 * has 重新拍摄. */
function photoCard(ticket) {
  const all = photos.of("ticket", ticket.id);
  const open = !FINISHED.has(ticket.status);
  const group = (role) => {
    const shown = photosOf(all, { recordType: "ticket", recordId: ticket.id, role });
    const picker = role === "photo" || !open ? null : photoPicker({ testid: `ticket-${role}`, onPicked: (photo) =>
      photos.attach(photo.sha256, { type: "ticket", id: ticket.id, household_id: ticket.household_id }, { role }) });
    if (!shown.length && !picker) return null;
    return h("div", { class: "photo-group", "data-role": role },
      h("h4", {}, t(`photos.${role}`)),
      photoStrip(shown, { testid: `ticket-photos-${role}`, onDelete: open ? photos.remove : null, retake: true }), picker);
  };
  return h("section", { class: "card", "data-testid": "ticket-photos" }, h("h3", {}, t("photos.title")),
    group("photo"), group("before"), group("after"));
}

const photoSignature = (id) => photos.of("ticket", id).map((a) => [a.id, photos.stateOf(a).state]);

/** #/ticket/<id> */
export function ticketView(root, route) {
  const id = route.args?.[0];
  let signature = null;
  const draw = (force = false) => {
    const ticket = id ? store.get("ticket", id) : null;
    const state = store.state("ticket", id);
    const next = JSON.stringify([ticket, state, refusedOf(id), photoSignature(id)]);
    if (!force && next === signature) return; // keep what is being typed, and the focus
    signature = next;
    const back = h("a", { class: "back", href: isTechnician() ? "#/jobs" : "#/tickets" }, t("tickets.back"));
    if (!ticket) {
      fill(root, h("div", { class: "ts-screen" }, back,
        h("p", { class: "card muted", "data-testid": "ticket-missing" }, t("tickets.not_found"))));
      return;
    }
    const typing = document.activeElement?.name === "resolution_note";
    const resolution = ticket.resolution_note && RATEABLE.has(ticket.status)
      ? h("p", { class: "resolution" }, h("strong", {}, t("tickets.resolution_label")), " ", ticket.resolution_note) : null;
    fill(root, h("div", { class: "ts-screen" }, back,
      h("article", { class: "card ticket", "data-testid": "ticket", "data-id": ticket.id },
        h("h2", {}, ticket.priority === "urgent" ? urgentMark() : null, categoryLabel(ticket.category), " ",
          statusChip(ticket.status), stateMark("ticket", ticket.id)),
        h("p", { class: "address", "data-testid": "ticket-address" }, whereOf(ticket)),
        ticket.description
          ? h("p", { class: "description", "data-testid": "ticket-description" }, ticket.description) : null,
        resolution,
        state === "pending" ? h("p", { class: "muted", "data-testid": "ticket-pending" }, t("tickets.pending")) : null),
      refusals(ticket, () => draw(true)),
      photoCard(ticket),
      h("section", { class: "card" }, h("h3", {}, t("tickets.timeline")), timeline(ticket)),
      h("section", { class: "card", "data-testid": "ticket-actions" }, actions(ticket))));
    if (typing) root.querySelector("textarea[name=resolution_note]")?.focus();
  };
  draw(true);
  const offStore = store.subscribe(() => draw());
  const offPhotos = photos.subscribe(() => draw());
  return () => { offStore(); offPhotos(); };
}
