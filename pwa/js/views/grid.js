// 我的网格 My grid: the butler's home screen. Today's check-in card (views/checkin.js), then the
// households by building and unit, with search, filters and each household's visit state. A grid may
// hold 2,000 households: the row list is built once per store change and the DOM gets ~100 rows at a
// time, more as the end of the list scrolls into view.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { checkinCard } from "./checkin.js";
import { custodyDueCard } from "./custody.js";
import { joinRequestsLink } from "./joining.js";
import { incidentLinks } from "./incident.js";
import {
  chip, dateLabel, dueMark, groupLabel, isOpenTicket, lastVisitOf, localDate, numberIn, peopleOf, syncMark,
  tagList, tagName, tagsOf, visitDue,
} from "./common.js";

extend({
  "zh-CN": {
    grid: {
      hello: "您好，{name}", summary: "共 {total} 户 · {due} 户待走访", search: "搜索房号或姓名，如 301、3-1-301",
      filter_due: "待走访/逾期", filter_open: "有未结工单", filters: "筛选",
      shown: "找到 {n} 户", none: "没有符合条件的住户。", empty: "您的网格里还没有住户。同步后会显示在这里。",
      last_visit: "上次走访 {date}", open_tickets: "{n} 个未结工单", no_name: "（未登记住户）",
    },
  },
  en: {
    grid: {
      hello: "Hello, {name}", summary: "{total} households · {due} due for a visit",
      search: "Room (301, 3-1-301) or name",
      filter_due: "Due / overdue", filter_open: "Open tickets", filters: "Filters",
      shown: "{n} found", none: "No household matches.", empty: "No households in your grid yet. They appear after a sync.",
      last_visit: "Last visit {date}", open_tickets: "Open tickets: {n}", no_name: "(no one recorded)",
    },
  },
});

const PAGE = 100; // rows added to the DOM at a time
const REBUILD_DELAY_MS = 50; // a sync round notifies several times: build once
const collator = new Intl.Collator("zh-CN", { numeric: true });

// What the butler chose stays while the app runs, so coming back from a household keeps the place.
const kept = { query: "", due: false, open: false, tags: new Set(), shown: PAGE, scrollY: 0 };

/** Every household of the grid with what the list shows and filters on, sorted by address. */
function buildRows() {
  const today = Date.now();
  const rows = store.all("household").map((household) => {
    const people = peopleOf(household.id);
    const last = lastVisitOf(household.id);
    const tags = tagsOf(household, people);
    const b = numberIn(household.building) ?? household.building;
    const u = numberIn(household.unit) ?? household.unit ?? "";
    const room = String(household.room ?? "");
    return {
      id: household.id, household, people, last, tags, room,
      main: people[0]?.name ?? "",
      due: visitDue(household, last, today),
      openTickets: store.all("ticket", household.id).filter(isOpenTicket).length,
      group: `${household.building}\u0000${household.unit ?? ""}`,
      codes: [`${b}-${u}-${room}`, `${b}-${room}`],
      text: normalise([household.building, household.unit ?? "", room].join("") + "\n"
        + people.map((p) => p.name).join("\n") + "\n" + tags.join("\n")),
    };
  });
  return rows.sort((a, b) => collator.compare(a.household.building, b.household.building)
    || collator.compare(a.household.unit ?? "", b.household.unit ?? "") || collator.compare(a.room, b.room));
}

/** Full-width digits and dashes (a Chinese keyboard's) as ASCII; separators as "-"; lower case. */
function normalise(text) {
  return String(text).replace(/[０-９Ａ-Ｚａ-ｚ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[－—–/／]/g, "-").toLowerCase();
}

function matches(row, query) {
  if (!query) return true;
  const q = normalise(query).trim();
  const code = q.replace(/[\s.·]+/g, "-");
  if (/^[\d-]+$/.test(code)) {
    return row.room.startsWith(code) || row.codes.some((c) => c.startsWith(code));
  }
  return row.text.includes(q.replace(/\s+/g, ""));
}

function visible(rows) {
  return rows.filter((row) => matches(row, kept.query)
    && (!kept.due || row.due.state !== "ok")
    && (!kept.open || row.openTickets > 0)
    && [...kept.tags].every((tag) => row.tags.includes(tag)));
}

function rowItem(row) {
  const { household } = row;
  return h("li", { class: "hh-row" },
    h("a", { href: `#/household/${encodeURIComponent(row.id)}`, "data-testid": "household-row", "data-id": row.id,
             "data-room": row.room },
      h("span", { class: "hh-row-top" },
        h("strong", { class: "room" }, row.room),
        h("span", { class: "name" }, row.main || t("grid.no_name")),
        dueMark(row.due),
        syncMark("household", household.id)),
      h("span", { class: "hh-row-sub" },
        row.last
          ? h("time", { datetime: localDate(row.last), "data-testid": "last-visit" }, t("grid.last_visit", { date: dateLabel(row.last) }))
          : null,
        row.openTickets ? h("span", { class: "flag open" }, t("grid.open_tickets", { n: row.openTickets })) : null,
        tagList(row.tags))));
}

export function gridView(root) {
  let rows = buildRows();
  let shown = [];
  let rendered = 0;
  const user = store.meta.user ?? {};
  const summary = h("p", { class: "summary", "data-testid": "grid-summary" });
  const chips = h("div", { class: "chips filters", role: "group", "aria-label": t("grid.filters") });
  const count = h("p", { class: "grid-count", role: "status", "data-testid": "grid-count" });
  const list = h("ul", { class: "grid-list", "data-testid": "households" });
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const search = h("input", {
    type: "search", value: kept.query, placeholder: t("grid.search"), "aria-label": t("grid.search"),
    enterkeyhint: "search", "data-testid": "grid-search", autocomplete: "off",
    oninput: () => { kept.query = search.value; kept.shown = PAGE; refresh(); window.scrollTo(0, 0); },
  });

  // The day's check-in (签到/签退) comes first: it is the butler's first tap of the morning.
  const checkin = user.role === "butler" ? checkinCard() : null;
  // An emergency under way comes before everything: its door-knock list is a tap away.
  const incidents = h("div", { class: "inc-slot" }, incidentLinks());
  // Then the homes in custody whose inspection is due or overdue (nothing when none is).
  const custodyBox = h("div", { "data-testid": "custody-due-box" });
  const drawCustody = () => fill(custodyBox, ...[custodyDueCard()].filter(Boolean));
  drawCustody();
  fill(root, h("section", { class: "butler grid-screen" },
    h("h2", { class: "hello", "data-testid": "greeting" }, t("grid.hello", { name: user.name ?? "" })),
    incidents, checkin?.el, joinRequestsLink(), custodyBox, summary, search, chips, count, list, sentinel));

  // Append the next page of rows, with a group header wherever the building or unit changes.
  function more() {
    const end = Math.min(shown.length, rendered + PAGE);
    const items = [];
    for (let i = rendered; i < end; i += 1) {
      if (i === 0 || shown[i].group !== shown[i - 1].group) {
        items.push(h("li", { class: "group", "data-testid": "group" }, h("h3", {}, groupLabel(shown[i].household))));
      }
      items.push(rowItem(shown[i]));
    }
    list.append(...items);
    rendered = end;
    kept.shown = Math.max(kept.shown, rendered);
    sentinel.hidden = rendered >= shown.length;
  }

  function drawChips() {
    const tags = new Map();
    for (const row of rows) for (const tag of row.tags) tags.set(tag, (tags.get(tag) ?? 0) + 1);
    const due = rows.filter((row) => row.due.state !== "ok").length;
    const open = rows.filter((row) => row.openTickets > 0).length;
    for (const tag of kept.tags) if (!tags.has(tag)) kept.tags.delete(tag);
    summary.textContent = t("grid.summary", { total: rows.length, due });
    fill(chips, 
      chip(`${t("grid.filter_due")} ${due}`, { pressed: kept.due, testid: "filter-due",
        onclick: () => { kept.due = !kept.due; kept.shown = PAGE; refresh(); } }),
      chip(`${t("grid.filter_open")} ${open}`, { pressed: kept.open, testid: "filter-open",
        onclick: () => { kept.open = !kept.open; kept.shown = PAGE; refresh(); } }),
      ...[...tags].sort((a, b) => b[1] - a[1]).map(([tag, n]) => chip(`${tagName(tag)} ${n}`, {
        pressed: kept.tags.has(tag), testid: "filter-tag", value: tag,
        onclick: () => { if (!kept.tags.delete(tag)) kept.tags.add(tag); kept.shown = PAGE; refresh(); },
      })));
  }

  function refresh() {
    drawChips();
    shown = visible(rows);
    const filtered = kept.query.trim() || kept.due || kept.open || kept.tags.size;
    count.textContent = !rows.length ? t("grid.empty") : !shown.length ? t("grid.none")
      : filtered ? t("grid.shown", { n: shown.length }) : "";
    list.replaceChildren();
    rendered = 0;
    const target = kept.shown;
    while (rendered < Math.min(target, shown.length)) more();
    sentinel.hidden = rendered >= shown.length;
    watch();
  }

  // The sentinel below the last row asks for more as it nears the screen. Observing afresh after each
  // page makes the observer report again if the sentinel is still in view (short rows, tall screen).
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && rendered < shown.length) {
      more();
      watch();
    }
  }, { rootMargin: "600px 0px" });
  function watch() {
    observer.unobserve(sentinel);
    if (rendered < shown.length) observer.observe(sentinel);
  }

  refresh();
  if (kept.scrollY) requestAnimationFrame(() => window.scrollTo(0, kept.scrollY));

  let timer = null;
  const unsubscribe = store.subscribe(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      rows = buildRows();
      refresh();
      fill(incidents, incidentLinks());
      drawCustody();
    }, REBUILD_DELAY_MS);
  });
  return () => {
    kept.scrollY = window.scrollY;
    clearTimeout(timer);
    observer.disconnect();
    unsubscribe();
    checkin?.cleanup();
  };
}
