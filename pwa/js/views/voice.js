// The community's voice (共治) on the phone: open polls and activities (#/voice), answering a poll
// (#/poll/<id>; a butler records an answer given at the door for a household of their grid), and
// signing up for an activity (#/activity/<id>). Every answer and sign-up is a store.save under the
// one id every phone gives it (voice-logic.js), so it works offline and counts once however often it
// is sent. The screen says honestly where it stands: 待同步 (on this phone only) or 已提交 (the server has it).

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { when } from "./wording.js";
import { addressLabel } from "./common.js";
import { live } from "./resident.js";
import {
  answerId, answerState, buildAnswers, placesLeft, pollPhase, signupId, tap, upcomingActivities, visiblePolls,
} from "./voice-logic.js";

extend({
  "zh-CN": {
    voice: {
      title: "投票与活动", polls: "征询与投票", activities: "社区活动", no_polls: "现在没有征询或投票。",
      no_activities: "近期没有活动。", closes: "{date} 截止", opens: "{date} 开始", starts: "{date} · {place}",
      phase: { open: "进行中", upcoming: "未开始", closed: "已截止" },
      kind: { vote: "投票", survey: "问卷", satisfaction: "满意度征询" },
      state: {
        none: "未作答", pending: "已保存在手机上，待同步（联网后自动提交）", submitted: "已提交，计入一次",
        elsewhere: "本户已经提交过（家人的手机或管家登记），只计一次", refused: "没有提交成功，请到“我的”页面查看原因",
      },
      anonymous: "匿名：服务器不保存谁选了什么，您的选择只留在这部手机上。",
      one_per_household: "一户一票", one_per_resident: "每人一票",
      score: "{n} 分", your_answer: "您的选择", submit: "提交", missing: "还有题目没有回答。",
      back: "‹ 返回投票与活动", not_found: "找不到这项内容。", closed_hint: "已经截止，不能再作答。",
      household: "为哪一户登记（上门征询）", pick_household: "请选择住户",
      people: "参加人数", less: "减少", more: "增加", sign_up: "报名", cancel: "取消报名",
      places_left: "剩余名额 {n} 人", no_limit: "不限名额", waiting_n: "候补 {n} 人",
      signup_state: { confirmed: "已报名", waiting: "已在候补名单上，有人取消时自动递补", cancelled: "已取消报名" },
      signed_offline: "已保存在手机上，待同步", signed_sent: "已提交",
    },
  },
  en: {
    voice: {
      title: "Polls & events", polls: "Polls and votes", activities: "Community events", no_polls: "No polls now.",
      no_activities: "No events coming up.", closes: "Closes {date}", opens: "Opens {date}", starts: "{date} · {place}",
      phase: { open: "Open", upcoming: "Not open yet", closed: "Closed" },
      kind: { vote: "Vote", survey: "Survey", satisfaction: "Satisfaction survey" },
      state: {
        none: "Not answered", pending: "Saved on this phone, waiting to sync (sent when there is signal)",
        submitted: "Sent; counted once", elsewhere: "Your household already answered (another phone or the butler); it counts once",
        refused: "Not accepted; see Me for why",
      },
      anonymous: "Anonymous: the server keeps no record of who chose what; your choice stays on this phone.",
      one_per_household: "One per household", one_per_resident: "One per resident",
      score: "{n} points", your_answer: "Your answer", submit: "Send", missing: "Some questions are not answered yet.",
      back: "‹ Back to polls & events", not_found: "This is not here.", closed_hint: "Closed; no more answers.",
      household: "Household answering (at the door)", pick_household: "Choose a household",
      people: "People coming", less: "Fewer", more: "More", sign_up: "Sign up", cancel: "Cancel sign-up",
      places_left: "{n} places left", no_limit: "No limit", waiting_n: "{n} waiting",
      signup_state: { confirmed: "Signed up", waiting: "On the waiting list; moved up when someone cancels", cancelled: "Cancelled" },
      signed_offline: "Saved on this phone, waiting to sync", signed_sent: "Sent",
    },
  },
});

const user = () => store.meta.user ?? {};
const isButler = () => user().role === "butler";
const myHouseholdId = () => user().household_id ?? null;
const myBuilding = () => (isButler() ? null : store.get("household", myHouseholdId() ?? "")?.building ?? null);

function refusalsOf(type, id) {
  return store.rejected().filter((m) => m.type === type && m.id === id).flatMap((m) => m.errors ?? []);
}

// Answer ids are computed (SHA-1, asynchronous): kept once known, so a redraw reads them at once.
const ids = new Map();
async function idFor(kind, ...parts) {
  const key = `${kind}:${parts.map((p) => (typeof p === "object" ? `${p.id}:${p.one_per}` : p)).join("/")}`;
  if (!ids.has(key)) ids.set(key, await (kind === "answer" ? answerId(...parts) : signupId(...parts)));
  return ids.get(key);
}

// ---- the list ----------------------------------------------------------------------------------------

export function voiceView(root) {
  let closed = false;
  const draw = async () => {
    const now = Date.now();
    const polls = visiblePolls(store.all("poll"), now, myBuilding());
    const household = myHouseholdId();
    const rows = [];
    for (const { poll, phase } of polls) {
      let state = null;
      if (household) {
        const id = await idFor("answer", poll, household, user().id);
        state = answerState(store.get("poll_answer", id), store.state("poll_answer", id), refusalsOf("poll_answer", id));
      }
      rows.push(h("li", {}, h("a", { class: "rs-row", href: `#/poll/${encodeURIComponent(poll.id)}`, "data-testid": "poll-row",
                                     "data-id": poll.id, "data-state": state ?? "" },
        h("span", { class: "rs-row-main" }, h("strong", {}, poll.title),
          h("span", { class: "rs-status" }, t(`voice.phase.${phase}`))),
        h("span", { class: "rs-row-sub" }, t(`voice.kind.${poll.kind}`), " · ", t("voice.closes", { date: when(poll.closes_at) }),
          state ? h("span", { class: `rs-mark ${state}` }, " ", t(`voice.state.${state}`)) : null))));
    }
    const activities = upcomingActivities(store.all("activity"), now, myBuilding());
    if (closed) return;
    fill(root, h("div", { class: "resident", "data-testid": "voice" },
      h("h2", {}, t("voice.polls")),
      rows.length ? h("section", { class: "card" }, h("ul", { class: "rs-rows" }, rows))
        : h("p", { class: "card rs-empty" }, t("voice.no_polls")),
      h("h2", {}, t("voice.activities")),
      activities.length ? h("section", { class: "card" }, h("ul", { class: "rs-rows" }, activities.map((a) => h("li", {},
        h("a", { class: "rs-row", href: `#/activity/${encodeURIComponent(a.id)}`, "data-testid": "activity-row", "data-id": a.id },
          h("span", { class: "rs-row-main" }, h("strong", {}, a.title)),
          h("span", { class: "rs-row-sub" }, t("voice.starts", { date: when(a.starts_at), place: a.place ?? "" }), " · ",
            placesLeft(a) == null ? t("voice.no_limit") : t("voice.places_left", { n: placesLeft(a) })))))))
        : h("p", { class: "card rs-empty" }, t("voice.no_activities"))));
  };
  draw();
  const stop = live(draw);
  return () => { closed = true; stop(); };
}

// ---- one poll ----------------------------------------------------------------------------------------

function questionBlock(question, picks, onTap, locked) {
  const chosen = picks[question.id];
  const choices = question.type === "score"
    ? [1, 2, 3, 4, 5].map((n) => [n, t("voice.score", { n })])
    : question.options.map((o) => [o.id, o.text]);
  const role = question.type === "multi" ? "checkbox" : "radio";
  return h("fieldset", { class: "card", "data-testid": "poll-question", "data-id": question.id },
    h("legend", {}, question.text),
    h("div", { class: "rs-tiles", role: role === "radio" ? "radiogroup" : "group" }, choices.map(([value, text]) => {
      const on = question.type === "score" ? chosen === value : (chosen ?? []).includes(value);
      return h("button", { type: "button", class: "rs-tile", role, "aria-checked": String(on), disabled: locked,
                           "data-testid": "poll-choice", "data-value": String(value), onclick: () => onTap(question, value) },
        h("strong", {}, text));
    })));
}

export function pollView(root, route) {
  const pollId = route.args?.[0];
  let picks = {};
  let householdId = isButler() ? (route.query?.household ?? "") : myHouseholdId();
  let message = "";
  let closed = false;
  const draw = async () => {
    const poll = pollId ? store.get("poll", pollId) : null;
    const back = h("a", { class: "back", href: "#/voice" }, t("voice.back"));
    if (!poll) {
      fill(root, h("div", { class: "resident" }, back, h("p", { class: "card" }, t("voice.not_found"))));
      return;
    }
    const id = householdId ? await idFor("answer", poll, householdId, user().id) : null;
    const record = id ? store.get("poll_answer", id) : null;
    const state = id ? answerState(record, store.state("poll_answer", id), refusalsOf("poll_answer", id)) : "none";
    const mine = record?.answers ?? (id ? store.meta.ballots?.[id] : null);
    const shown = state === "none" ? picks : Object.fromEntries((mine ?? []).map((c) => [c.question_id, c.score ?? c.options]));
    const phase = pollPhase(poll, Date.now());
    const locked = state !== "none" && state !== "refused" || phase !== "open";
    const households = isButler() ? store.all("household") : [];
    if (closed) return;
    fill(root, h("div", { class: "resident", "data-testid": "poll", "data-id": poll.id },
      back,
      h("h2", {}, poll.title),
      h("p", { class: "rs-row-sub" }, t(`voice.kind.${poll.kind}`), " · ",
        t(poll.one_per === "resident" ? "voice.one_per_resident" : "voice.one_per_household"), " · ",
        t("voice.closes", { date: when(poll.closes_at) })),
      poll.body ? h("p", { class: "card" }, poll.body) : null,
      poll.anonymous ? h("p", { class: "card note" }, t("voice.anonymous")) : null,
      isButler() ? h("label", { class: "card" }, t("voice.household"),
        h("select", { "data-testid": "poll-household", onchange: (e) => { householdId = e.target.value; picks = {}; draw(); } },
          h("option", { value: "" }, t("voice.pick_household")),
          households.map((hh) => h("option", { value: hh.id, selected: hh.id === householdId }, addressLabel(hh))))) : null,
      h("p", { class: `card rs-mark ${state}`, role: "status", "data-testid": "poll-state", "data-state": state },
        phase === "closed" && state === "none" ? t("voice.closed_hint") : t(`voice.state.${state}`)),
      poll.questions.map((q) => questionBlock(q, shown, (question, value) => { picks = tap(picks, question, value); message = ""; draw(); },
                                             locked || !householdId)),
      message ? h("p", { class: "card rs-mark rejected", role: "alert" }, message) : null,
      locked || !householdId ? null : h("button", {
        type: "button", class: "wide primary", "data-testid": "poll-submit",
        onclick: async (event) => {
          const { answers, missing } = buildAnswers(poll.questions, picks);
          if (missing.length) { message = t("voice.missing"); draw(); return; }
          event.currentTarget.disabled = true;
          if (poll.anonymous) await store.setMeta({ ballots: { ...(store.meta.ballots ?? {}), [id]: answers } });
          await store.save("poll_answer", id, { poll_id: poll.id, household_id: householdId, answers,
                                                answered_at: store.nowWithOffset() });
        } }, t("voice.submit"))));
  };
  draw();
  const stop = live(draw);
  return () => { closed = true; stop(); };
}

// ---- one activity ------------------------------------------------------------------------------------

export function activityView(root, route) {
  const activityId = route.args?.[0];
  let people = 1;
  let closed = false;
  const draw = async () => {
    const activity = activityId ? store.get("activity", activityId) : null;
    const back = h("a", { class: "back", href: "#/voice" }, t("voice.back"));
    const householdId = myHouseholdId();
    if (!activity || !householdId) {
      fill(root, h("div", { class: "resident" }, back, h("p", { class: "card" }, t("voice.not_found"))));
      return;
    }
    const id = await idFor("signup", activity.id, householdId);
    const signup = store.get("activity_signup", id);
    const sync = store.state("activity_signup", id);
    const active = signup && !signup.cancelled;
    if (closed) return;
    const left = placesLeft(activity);
    fill(root, h("div", { class: "resident", "data-testid": "activity", "data-id": activity.id },
      back,
      h("h2", {}, activity.title),
      h("p", { class: "rs-row-sub" }, t("voice.starts", { date: when(activity.starts_at), place: activity.place ?? "" })),
      activity.body ? h("p", { class: "card" }, activity.body) : null,
      h("p", { class: "card" }, left == null ? t("voice.no_limit") : t("voice.places_left", { n: left }),
        activity.waiting ? ` · ${t("voice.waiting_n", { n: activity.waiting })}` : ""),
      signup ? h("p", { class: `card rs-mark ${sync}`, role: "status", "data-testid": "signup-state", "data-state": sync },
        sync === "pending" ? t("voice.signed_offline") : sync === "rejected" ? t("voice.state.refused")
          : `${t(`voice.signup_state.${signup.cancelled ? "cancelled" : signup.state ?? "confirmed"}`)} · ${t("voice.signed_sent")}`) : null,
      active ? h("button", { type: "button", class: "wide secondary", "data-testid": "signup-cancel",
                             onclick: () => store.save("activity_signup", id, { cancelled: true }) }, t("voice.cancel"))
        : h("div", { class: "card" },
          h("p", {}, t("voice.people")),
          h("div", { class: "btn-row" },
            h("button", { type: "button", class: "secondary", "aria-label": t("voice.less"), onclick: () => { people = Math.max(1, people - 1); draw(); } }, "−"),
            h("strong", { "data-testid": "signup-people" }, String(people)),
            h("button", { type: "button", class: "secondary", "aria-label": t("voice.more"), onclick: () => { people = Math.min(20, people + 1); draw(); } }, "+")),
          h("button", { type: "button", class: "wide primary", "data-testid": "signup-submit",
                        onclick: () => store.save("activity_signup", id, signup
                          ? { cancelled: false, people } : { activity_id: activity.id, household_id: householdId, people }) },
            t("voice.sign_up")))));
  };
  draw();
  const stop = live(draw);
  return () => { closed = true; stop(); };
}
