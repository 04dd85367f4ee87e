// The back office's lists (a technician of 工程, 保洁, 秩序 or an outside vendor): 我的工单 my jobs
// (#/jobs) and 抢单 the team's pool (#/pool). A job opens on the butler's ticket screen (#/ticket/<id>,
// views/tickets.js), which gives a technician their own moves. Offline like a butler: every move is a
// store.save that the outbox sends when there is signal.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { byHanded, isMyJob, isPoolJob, teamOf } from "./backoffice-logic.js";
import { ticketList } from "./tickets.js";

extend({
  "zh-CN": {
    backoffice: {
      mine: "我的工单", none_mine: "没有派给您的工单。", done: "已完工，等待确认",
      pool: "班组待抢工单", none_pool: "班组里没有等待抢单的工单。", no_team: "您还没有加入班组，请联系主管。",
    },
  },
  en: {
    backoffice: {
      mine: "My jobs", none_mine: "No jobs handed to you.", done: "Finished, waiting to be closed",
      pool: "Jobs waiting in your team's pool", none_pool: "Nothing waits in your team's pool.",
      no_team: "You are not in a team yet; ask your supervisor.",
    },
  },
});

const me = () => store.meta.user?.id ?? null;

function watch(root, draw) {
  let signature = null;
  const redraw = () => {
    const { key, view } = draw();
    if (key === signature) return;
    signature = key;
    fill(root, view());
  };
  redraw();
  return store.subscribe(redraw);
}

/** #/jobs: what is handed to me, open first, finished ones after. */
export function jobsView(root) {
  return watch(root, () => {
    const jobs = store.all("ticket").filter((x) => isMyJob(x, me())).sort(byHanded);
    const open = jobs.filter((x) => x.status !== "resolved");
    const done = jobs.filter((x) => x.status === "resolved");
    const states = jobs.map((x) => [x, store.state("ticket", x.id)]);
    return {
      key: JSON.stringify(states),
      view: () => h("div", { class: "ts-screen" },
        ticketList("jobs-mine", t("backoffice.mine"), open, t("backoffice.none_mine")),
        done.length ? ticketList("jobs-done", t("backoffice.done"), done, "") : null),
    };
  });
}

/** #/pool: what waits in my team's pool (抢单). */
export function poolView(root) {
  return watch(root, () => {
    const team = teamOf(store.all("team"), me());
    const pool = team ? store.all("ticket").filter((x) => isPoolJob(x, team.id)).sort(byHanded) : [];
    return {
      key: JSON.stringify([team?.id ?? null, pool.map((x) => [x, store.state("ticket", x.id)])]),
      view: () => h("div", { class: "ts-screen" },
        team ? ticketList("jobs-pool", `${t("backoffice.pool")} · ${team.name}`, pool, t("backoffice.none_pool"))
          : h("p", { class: "card muted", "data-testid": "no-team" }, t("backoffice.no_team"))),
    };
  });
}
