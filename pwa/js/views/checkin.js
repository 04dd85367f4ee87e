// The check-in card (签到/签退) on the butler's home screen: today's state in words, with whether each
// tap has reached the server, and one big button, the tap that comes next (签到, or 签退 once checked
// in): what is done is said in words, never left to the look of a button. Small, so the grid shows. A tap is saved like every record (store.create): at
// once, offline too, and sent by the sync client. DOM and store.js only; the rules are in checkin-logic.js.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { clock, dayState } from "./checkin-logic.js";
import { toast } from "./common.js";

extend({
  "zh-CN": {
    checkin: {
      title: "今日考勤", in: "签到", out: "签退", none: "今日尚未签到",
      in_line: "{time} 已签到 · {state}", out_line: "{time} 已签退 · {state}",
      pending: "待同步", synced: "已同步", rejected: "被退回，请到“同步”页查看",
      done_in: "已签到 {time}", done_out: "已签退 {time}",
    },
  },
  en: {
    checkin: {
      title: "Today's attendance", in: "Check in", out: "Check out", none: "Not checked in today",
      in_line: "In at {time} · {state}", out_line: "Out at {time} · {state}",
      pending: "waiting to sync", synced: "synced", rejected: "refused: see Sync",
      done_in: "Checked in at {time}", done_out: "Checked out at {time}",
    },
  },
});

const REDRAW_DELAY_MS = 50; // a sync round notifies several times: draw once

function line(record, key) {
  if (!record) return null;
  const state = record.state;
  return h("p", { class: "checkin-line", "data-testid": `checkin-${record.kind}`, "data-state": state,
                  "data-id": record.id },
    t(key, { time: clock(record.at), state: t(`checkin.${state}`) }));
}

/** The card, kept up to date while it is on screen: {el, cleanup}. */
export function checkinCard() {
  const status = h("div", { class: "checkin-status", role: "status", "aria-live": "polite" });
  let busy = false;
  const tap = async (kind) => {
    if (busy) return; // one tap, one check-in
    busy = true;
    draw();
    try {
      const saved = await store.create("checkin", { kind, at: store.nowWithOffset() });
      toast(t(kind === "in" ? "checkin.done_in" : "checkin.done_out", { time: clock(saved.at) }));
    } finally {
      busy = false;
      draw();
    }
  };
  const buttons = Object.fromEntries(["in", "out"].map((kind) => [kind, h("button", {
    type: "button", "data-testid": `checkin-${kind}-button`, onclick: () => tap(kind) }, t(`checkin.${kind}`))]));
  const el = h("section", { class: "card checkin", "data-testid": "checkin-card", "aria-label": t("checkin.title") },
    h("div", { class: "checkin-text" }, h("h3", {}, t("checkin.title")), status), buttons.in, buttons.out);

  function draw() {
    const today = dayState(store.all("checkin"), { stateOf: (id) => store.state("checkin", id) });
    const lines = [line(today.firstIn, "checkin.in_line"), line(today.lastOut, "checkin.out_line")].filter(Boolean);
    fill(status, ...(lines.length ? lines : [h("p", { "data-testid": "checkin-none" }, t("checkin.none"))]));
    el.dataset.next = today.next;
    for (const [kind, button] of Object.entries(buttons)) {
      button.className = "primary";
      button.hidden = kind !== today.next;
      button.disabled = busy;
    }
  }

  draw();
  let timer = null;
  const unsubscribe = store.subscribe(() => {
    clearTimeout(timer);
    timer = setTimeout(draw, REDRAW_DELAY_MS);
  });
  // The day turns over while the app stays open (a night shift): look again every minute.
  const clockTimer = setInterval(draw, 60_000);
  return { el, cleanup: () => { clearTimeout(timer); clearInterval(clockTimer); unsubscribe(); } };
}
