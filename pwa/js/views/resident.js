// The resident's app (住户): my requests with a big 报事报修 button (#/mine), raising one (#/report),
// one request with its progress, cancel, 确认完成 and a rating (#/request/<id>), services and my orders
// (#/services), notices (#/notices, #/notice/<id>). The same app as the butler's: the logged-in user's
// role picks these screens (app.js). Written for a resident of seventy: large text and buttons, plain
// words, and after each action a clear line saying whether it has reached the property office yet.
// Every write is a store.save/create: instant, offline, sent by the sync client when there is signal.
// A resident never sees the butler's rating of the back office or any internal note (the server
// leaves them out); these screens do not ask for them either.

import { fill, h } from "../dom.js";
import { day, extend, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import { custodyOwnerCard } from "./custody.js";
import { formStrip, photoPicker, photoStrip } from "./photos.js";
import { residentIncidentBanner } from "./incident.js";
import { photosOf } from "../photos-logic.js";
import { CATEGORIES, HINTS as CATEGORY_HINTS } from "../ticket-categories.js";
import { categoryLabel, reason, when } from "./wording.js";
import { addressLabel, label, productCode, productName, unitName } from "./common.js";
import {
  clampQuantity, isOpenRequest, newestFirst, orderCancellable, orderTimeline, progress, publishedNotices,
  ticketActions, unreadNotices,
} from "./resident-logic.js";

extend({
  "zh-CN": {
    resident: {
      hello: "您好，{name}", home_hint: "家里有什么问题，点下面的大按钮告诉我们。", report: "报事报修",
      mine: "我的报修", none: "您还没有报修记录。", open_n: "{n} 件进行中", latest_notice: "新公告",
      back_mine: "‹ 返回我的报修", report_title: "报事报修", pick_category: "第一步：请选择是什么事",
      describe: "第二步：请说说具体情况（可以不写）", add_photo: "拍张照片给管家看（可以不拍）", describe_hint: "例如：厨房水龙头一直滴水",
      submit: "提交报修", cancel_form: "不报了，返回", raised: "您的报修", need_category: "请先选择是什么事。",
      urgent_choice: "这是紧急情况（例如漏水到邻居家、有人被困电梯、闻到煤气味）", urgent_hint: "紧急报修会马上通知管家和主管。",
      urgent: "紧急",
      category_hint: CATEGORY_HINTS["zh-CN"], // the server's list (ticket-categories.js)
      status: {
        new: "待受理", dispatched: "已派单", accepted: "已接单", in_progress: "处理中", resolved: "已解决",
        closed: "已关闭", cancelled: "已取消",
      },
      step_hint: {
        new: "我们收到了您的报修", dispatched: "已交给您的管家", accepted: "管家已接单，会尽快上门",
        in_progress: "正在处理", resolved: "管家说已经处理好了", closed: "这件事已经完成", cancelled: "您取消了这次报修",
      },
      progress: "进度", now: "现在", your_words: "您说的情况：", resolution: "管家的处理说明：",
      saved_offline: "已保存，联网后自动提交", saved_sending: "已保存，正在提交…", saved_sent: "已提交成功",
      refused_short: "没有提交成功，原因见下方。", refused: "没有提交成功：", refused_more: "到“我的”页面处理",
      cancel: "取消报修", cancel_confirm: "确定要取消这次报修吗？", cancel_yes: "确定取消", cancel_no: "不取消",
      cancelled: "报修已取消。",
      close: "确认完成", close_hint: "问题解决了吗？解决了请点“确认完成”。",
      close_confirm: "确认问题已经解决了吗？确认后这件事就完成了。", close_yes: "是的，已经解决",
      close_no: "还没有", not_fixed: "还没有解决？请直接联系您的管家。", closed: "已确认完成。",
      rate: "请为这次服务打分", rate_hint: "1 星最不满意，5 星最满意", stars: "{n} 星",
      comment: "想说的话（可以不写）", rate_submit: "提交评价", rated: "谢谢您的评价！",
      your_rating: "您的评价：{n} 星", pick_stars: "请先点星星打分。", not_found: "找不到这条报修。",
      services: "服务", services_hint: "需要什么服务，点“预订”。管家会联系您确认。", book: "预订",
      quantity: "数量", less: "减少", more: "增加", note: "备注（可以不写）", note_hint: "例如：下午在家",
      confirm_order: "确认下单", cancel_book: "不订了", total: "合计 {amount}", ordered: "已下单：{name} × {n}。",
      my_orders: "我的订单", no_orders: "您还没有订单。",
      no_products: "还没有可以预订的服务。联网后会显示在这里。", order_cancel: "取消订单",
      order_cancel_confirm: "确定要取消这个订单吗？", order_cancel_yes: "确定取消", order_cancel_no: "不取消",
      order_cancelled: "订单已取消。", per: "{price} / {unit}",
      notices: "公告", no_notices: "现在没有公告。", unread: "未读", back_notices: "‹ 返回公告",
      notice_missing: "找不到这条公告。", published: "发布于 {date}", pinned: "置顶",
      not_fixed_choice: "还没修好", not_fixed_choice_hint: "勾选后，工单会退回给管家重新处理。",
      reopened: "已反馈还没修好，工单已退回管家重新处理。", order_reason: "原因：{reason}",
      order_step: { placed: "已下单", confirmed: "管家已确认", delivered: "已送达", cancelled: "已取消", refunded: "已退款" },
    },
  },
  en: {
    resident: {
      hello: "Hello, {name}", home_hint: "Something wrong at home? Tap the big button and tell us.",
      report: "Report a problem", mine: "My requests", none: "You have no requests yet.", open_n: "{n} open",
      latest_notice: "New notice", back_mine: "‹ Back to my requests", report_title: "Report a problem",
      pick_category: "Step 1: what is it about?", describe: "Step 2: tell us more (optional)", add_photo: "Show your butler a photo (optional)",
      describe_hint: "e.g. the kitchen tap keeps dripping", submit: "Send", cancel_form: "Never mind, go back",
      need_category: "First choose what it is about.",
      urgent_choice: "This is urgent (water leaking to the neighbours, someone stuck in a lift, a smell of gas)",
      urgent_hint: "An urgent request goes to your butler and the supervisors at once.", urgent: "Urgent",
      raised: "Your request",
      category_hint: CATEGORY_HINTS.en,
      status: {
        new: "Waiting to be taken", dispatched: "Passed to your butler", accepted: "Taken", in_progress: "Being worked on",
        resolved: "Fixed", closed: "Done", cancelled: "Cancelled",
      },
      step_hint: {
        new: "We have your request", dispatched: "Your butler has it", accepted: "Your butler will come soon",
        in_progress: "Being worked on", resolved: "The butler says it is fixed", closed: "All done",
        cancelled: "You cancelled this request",
      },
      progress: "Progress", now: "now", your_words: "What you said:", resolution: "What the butler did:",
      saved_offline: "Saved; it will be sent when there is signal", saved_sending: "Saved; sending…",
      saved_sent: "Sent", refused_short: "Not accepted; see below why.", refused: "Not accepted:",
      refused_more: "Deal with it on the Me page",
      cancel: "Cancel request", cancel_confirm: "Cancel this request?", cancel_yes: "Yes, cancel",
      cancel_no: "Keep it", cancelled: "Request cancelled.",
      close: "Confirm it is done", close_hint: "Is it fixed? Then tap “Confirm it is done”.",
      close_confirm: "Is the problem really fixed? This finishes the request.", close_yes: "Yes, it is fixed",
      close_no: "Not yet", not_fixed: "Not fixed yet? Please call your butler.", closed: "Confirmed as done.",
      rate: "Please rate the service", rate_hint: "1 star: very unhappy, 5 stars: very happy",
      stars: "{n} stars", comment: "Anything to add (optional)", rate_submit: "Send rating",
      rated: "Thank you for your rating!", your_rating: "Your rating: {n} stars",
      pick_stars: "Tap the stars first.", not_found: "This request is not here.",
      services: "Services", services_hint: "Tap “Book” for what you need. Your butler will call to confirm.",
      book: "Book", quantity: "Quantity", less: "Fewer", more: "More", note: "Note (optional)",
      note_hint: "e.g. home in the afternoon", confirm_order: "Place order", cancel_book: "Never mind",
      total: "Total {amount}", ordered: "Ordered: {name} × {n}.", my_orders: "My orders",
      no_orders: "You have no orders yet.", no_products: "No services to book yet. They appear when online.",
      order_cancel: "Cancel order", order_cancel_confirm: "Cancel this order?", order_cancel_yes: "Yes, cancel",
      order_cancel_no: "Keep it", order_cancelled: "Order cancelled.", per: "{price} / {unit}",
      notices: "Notices", no_notices: "No notices now.", unread: "New", back_notices: "‹ Back to notices",
      notice_missing: "This notice is not here.", published: "Published {date}", pinned: "Pinned",
      not_fixed_choice: "Not fixed yet", not_fixed_choice_hint: "Tick this and the ticket goes back to your butler.",
      reopened: "You said it is not fixed: the ticket is back with your butler.", order_reason: "Reason: {reason}",
      order_step: { placed: "Placed", confirmed: "Confirmed by your butler", delivered: "Delivered",
                    cancelled: "Cancelled", refunded: "Refunded" },
    },
  },
});

const r = (key, params) => t(`resident.${key}`, params);
const money = (n) => `¥${Number(n ?? 0).toFixed(2)}`;
const statusWord = (status) => r(`status.${status ?? "new"}`);

// A confirmation that outlives the screen that made it: shown on the next screen, with a live line
// saying whether the change has reached the server yet. {type, id, text}
let flash = null;

function syncLine(type, id) {
  const state = store.state(type, id);
  if (state === "rejected") return r("refused_short");
  if (state === "pending") return navigator.onLine ? r("saved_sending") : r("saved_offline");
  return r("saved_sent");
}

function flashBanner(matches = () => true) {
  if (!flash || !matches(flash)) return null;
  const state = store.state(flash.type, flash.id);
  return h("div", { class: `card done-banner ${state}`, role: "status", "data-testid": "confirmation",
                    "data-state": state },
    h("p", { class: "done-text" }, flash.text), h("p", { class: "done-sync" }, syncLine(flash.type, flash.id)));
}

/** Redraw on store changes and on the network coming and going (the banner's words change). */
export function live(draw) {
  const unsubscribe = store.subscribe(() => draw());
  const network = () => draw();
  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  return () => {
    unsubscribe();
    window.removeEventListener("online", network);
    window.removeEventListener("offline", network);
  };
}

function button(text, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, text);
}

/** An inline "are you sure?" under an action; returns [trigger, panel]. */
function confirmStep({ trigger, question, yes, no, onYes, testid }) {
  const panel = h("div", { class: "confirm", hidden: true, role: "alertdialog", "data-testid": `${testid}-confirm` },
    h("p", {}, question),
    h("div", { class: "btn-row" },
      button(yes, async (event) => { event.currentTarget.disabled = true; await onYes(); },
             { class: "danger", "data-testid": `${testid}-yes` }),
      button(no, () => { panel.hidden = true; }, { class: "secondary", "data-testid": `${testid}-no` })));
  const open = button(trigger, () => { panel.hidden = false; }, { class: "wide secondary", "data-testid": testid });
  return [open, panel];
}

function myHousehold() {
  const id = store.meta.user?.household_id;
  return id ? store.get("household", id) : null;
}

// ---- 我的报修 My requests (the resident's home) ------------------------------------------------------------

function requestRow(ticket) {
  const pending = store.state("ticket", ticket.id);
  return h("li", {},
    h("a", { class: "rs-row", href: `#/request/${encodeURIComponent(ticket.id)}`, "data-testid": "request-row",
             "data-id": ticket.id, "data-status": ticket.status ?? "new" },
      h("span", { class: "rs-row-main" },
        ticket.priority === "urgent" ? h("span", { class: "mark urgent", "data-testid": "request-urgent" }, r("urgent")) : null,
        h("strong", {}, categoryLabel(ticket.category)),
        h("span", { class: `rs-status status-${ticket.status ?? "new"}`, "data-testid": "request-status" },
          statusWord(ticket.status))),
      h("span", { class: "rs-row-sub" },
        ticket.created_at ? when(ticket.created_at) : "",
        pending !== "synced" ? h("span", { class: `rs-mark ${pending}` },
          pending === "rejected" ? r("refused_short") : r("saved_offline")) : null),
      ticket.description ? h("span", { class: "rs-row-text" }, ticket.description) : null));
}

export function residentHomeView(root) {
  window.scrollTo(0, 0);
  // An emergency of the building comes first; it keeps itself up to date, so a note being typed there
  // survives the redraws of the rest of the screen.
  const incident = residentIncidentBanner();
  const content = h("div");
  fill(root, h("div", { class: "resident" }, incident.el), content);
  const draw = () => {
    const household = myHousehold();
    const tickets = newestFirst(store.all("ticket"));
    const open = tickets.filter(isOpenRequest).length;
    const notices = unreadNotices(publishedNotices(store.all("notice"), Date.now(), myHousehold()?.building ?? null),
                                  store.meta.noticesSeen ?? []);
    fill(content, h("div", { class: "resident", "data-testid": "resident-home" },
      h("h2", { class: "rs-hello" }, r("hello", { name: store.meta.user?.name ?? "" })),
      household ? h("p", { class: "rs-address", "data-testid": "my-address" }, addressLabel(household)) : null,
      notices.length ? h("a", { class: "card rs-teaser", href: `#/notice/${encodeURIComponent(notices[0].id)}`,
                                "data-testid": "notice-teaser" },
        h("span", { class: "rs-flag" }, r("latest_notice")), " ", notices[0].title) : null,
      h("p", { class: "rs-hint" }, r("home_hint")),
      h("a", { class: "big-action", href: "#/report", "data-testid": "report-button" }, r("report")),
      household ? custodyOwnerCard(household.id) : null,
      h("section", { class: "card", "data-testid": "my-requests" },
        h("h3", {}, r("mine"), open ? h("span", { class: "rs-count" }, r("open_n", { n: open })) : null),
        tickets.length ? h("ul", { class: "rs-rows" }, tickets.map(requestRow))
          : h("p", { class: "rs-empty" }, r("none")))));
  };
  draw();
  const stop = live(draw);
  return () => { stop(); incident.cleanup(); };
}

// ---- 报事报修 Raise a request -------------------------------------------------------------------------------

const DRAFT = "resident-report";

export function residentReportView(root, _route, { go }) {
  window.scrollTo(0, 0);
  const kept = store.draft(DRAFT) ?? {};
  let category = CATEGORIES.includes(kept.category) ? kept.category : null;
  // A missing choice is said where the choice is made: inside its box, outlined, scrolled to and announced.
  const error = h("p", { class: "error", role: "alert", id: "report-category-error", "data-testid": "report-category-error",
                         hidden: true });
  const tiles = h("div", { class: "rs-tiles", role: "radiogroup", "aria-label": r("pick_category"),
                           "aria-describedby": "report-category-error" });
  const categoryBox = h("fieldset", { class: "card", "data-testid": "report-category-box" },
                        h("legend", {}, r("pick_category")), tiles, error);
  const markMissing = (missing) => {
    error.hidden = !missing;
    categoryBox.classList.toggle("invalid", missing);
    tiles.setAttribute("aria-invalid", String(missing));
  };
  const description = h("textarea", { name: "description", rows: 4, maxlength: 2000, placeholder: r("describe_hint"),
                                      "data-testid": "report-description", oninput: keep });
  description.value = kept.description ?? "";
  const urgent = h("input", { type: "checkbox", name: "urgent", "data-testid": "report-urgent", onchange: keep,
                              "aria-describedby": "report-urgent-hint" });
  urgent.checked = Boolean(kept.urgent);
  // Photos of the problem, taken before sending: named by the request once it is saved.
  let taken = [...(kept.photos ?? [])];
  const photoBox = h("div", { class: "card rs-field", "data-testid": "report-photos" });
  const drawPhotos = () => fill(photoBox, h("span", {}, r("add_photo")),
    formStrip(taken, { onRemove: (sha) => { taken = taken.filter((x) => x !== sha); photos.discardUnattached(sha); drawPhotos(); keep(); } }),
    photoPicker({ testid: "report-photo", onPicked: (photo) => {
      if (!taken.includes(photo.sha256)) taken = [...taken, photo.sha256];
      drawPhotos();
      keep();
    } }));
  drawPhotos();
  const submitButton = h("button", { type: "submit", class: "big-action", "data-testid": "report-submit" }, r("submit"));

  function keep() {
    store.saveDraft(DRAFT, { category, description: description.value, photos: taken, urgent: urgent.checked });
  }

  function drawTiles() {
    fill(tiles, ...CATEGORIES.map((c) => h("button", {
      type: "button", class: "rs-tile", role: "radio", "aria-checked": String(category === c), "data-value": c,
      "data-testid": "report-category", onclick: () => { category = c; markMissing(false); drawTiles(); keep(); },
    }, h("span", { class: "rs-tile-name" }, categoryLabel(c)), h("span", { class: "rs-tile-hint" }, r(`category_hint.${c}`)))));
  }

  async function submit(event) {
    event.preventDefault();
    if (!category) {
      error.textContent = r("need_category");
      markMissing(true);
      categoryBox.scrollIntoView?.({ block: "start" });
      tiles.querySelector("button")?.focus({ preventScroll: true });
      return;
    }
    submitButton.disabled = true; // one tap, one request
    // No household_id: the server files a resident's request under their own household (and
    // dispatches it to that grid's butler), so one raised before a move still lands at home.
    const ticket = await store.create("ticket", { category, description: description.value.trim(),
                                                  priority: urgent.checked ? "urgent" : "normal" });
    // The photo names the household the server will file the request under: the resident's own.
    const household = store.meta.user?.household_id;
    for (const sha of household ? taken : []) await photos.attach(sha, { type: "ticket", id: ticket.id, household_id: household });
    await store.dropDraft(DRAFT);
    flash = { type: "ticket", id: ticket.id, text: r("raised") };
    go(`request/${encodeURIComponent(ticket.id)}`);
  }

  drawTiles();
  fill(root, h("form", { class: "resident", "data-testid": "report-form", onsubmit: submit, novalidate: true },
    h("a", { class: "back", href: "#/mine" }, r("back_mine")),
    h("h2", {}, r("report_title")),
    categoryBox,
    h("label", { class: "card rs-field" }, h("span", {}, r("describe")), description),
    h("div", { class: "card" },
      h("label", { class: "rs-urgent" }, urgent, h("span", {}, r("urgent_choice"))),
      h("p", { class: "rs-hint", id: "report-urgent-hint" }, r("urgent_hint"))),
    photoBox,
    submitButton,
    h("a", { class: "button secondary wide", href: "#/mine", onclick: () => store.dropDraft(DRAFT) }, r("cancel_form"))));
}

// ---- one request ------------------------------------------------------------------------------------------

const ratingDrafts = new Map(); // ticket id -> {stars, comment} being chosen (kept across redraws)

function progressList(ticket) {
  const steps = progress(ticket);
  return h("ol", { class: "rs-progress", "data-testid": "request-progress" }, steps.map((s) =>
    h("li", { class: s.state, "data-step": s.step, "data-state": s.state,
              "aria-current": s.state === "current" ? "step" : false },
      h("span", { class: "rs-step-mark", "aria-hidden": "true" }, s.state === "todo" ? "○" : "●"),
      h("span", { class: "rs-step-body" },
        h("span", {}, h("strong", {}, statusWord(s.step)),
          s.state === "current" ? h("span", { class: "rs-now" }, ` （${r("now")}）`) : null),
        s.state !== "todo" ? h("span", { class: "rs-step-hint" }, r(`step_hint.${s.step}`)) : null,
        s.at ? h("span", { class: "rs-step-at" }, when(s.at)) : null))));
}

function refusals(ticket) {
  const refused = store.rejected().filter((m) => m.type === "ticket" && m.id === ticket.id);
  if (!refused.length) return null;
  return h("section", { class: "card refused", role: "alert", "data-testid": "request-refused" },
    h("p", {}, h("strong", {}, r("refused"))),
    h("ul", {}, refused.flatMap((m) => (m.errors ?? []).map((e) => h("li", { class: "error" }, reason(e))))),
    h("a", { class: "button secondary", href: "#/sync" }, r("refused_more")));
}

function stars(ticket, save) {
  const chosen = ratingDrafts.get(ticket.id) ?? { stars: ticket.rating ?? 0, comment: ticket.rating_comment ?? "",
                                                   notFixed: false };
  // With 1–2 stars the resident may say it is not fixed (还没修好): the ticket goes back to the butler.
  const notFixedBox = h("input", { type: "checkbox", name: "not_fixed", "data-testid": "rating-not-fixed",
                                   onchange: () => { chosen.notFixed = notFixedBox.checked; ratingDrafts.set(ticket.id, chosen); } });
  notFixedBox.checked = Boolean(chosen.notFixed);
  const notFixed = h("label", { class: "rs-not-fixed", hidden: !(chosen.stars && chosen.stars <= 2) },
    notFixedBox, " ", h("strong", {}, r("not_fixed_choice")), h("span", { class: "rs-hint" }, " ", r("not_fixed_choice_hint")));
  const error = h("p", { class: "error", role: "alert", hidden: true }, r("pick_stars"));
  const comment = h("textarea", { name: "rating_comment", rows: 3, maxlength: 1000, placeholder: r("comment"),
                                  "aria-label": r("comment"), "data-testid": "rating-comment",
                                  oninput: () => { chosen.comment = comment.value; ratingDrafts.set(ticket.id, chosen); } });
  comment.value = chosen.comment;
  const row = h("div", { class: "rs-stars", role: "radiogroup", "aria-label": r("rate") });
  const drawStars = () => fill(row, ...[1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", role: "radio", "aria-checked": String(n === chosen.stars), "aria-label": r("stars", { n }),
    class: n <= chosen.stars ? "on" : "", "data-rating": n, "data-testid": "rating-star",
    onclick: () => { chosen.stars = n; ratingDrafts.set(ticket.id, chosen); error.hidden = true;
                     notFixed.hidden = n > 2; drawStars(); },
  }, h("span", { class: "rs-star", "aria-hidden": "true" }, n <= chosen.stars ? "★" : "☆"), h("span", {}, String(n)))));
  drawStars();
  async function submit(event) {
    event.preventDefault();
    if (!chosen.stars) {
      error.hidden = false;
      return;
    }
    ratingDrafts.delete(ticket.id);
    const reopen = chosen.stars <= 2 && chosen.notFixed;
    flash = { type: "ticket", id: ticket.id, text: r(reopen ? "reopened" : "rated") };
    await save({ rating: chosen.stars, rating_comment: comment.value.trim(), ...(reopen ? { not_fixed: true } : {}) });
    window.scrollTo(0, 0);
  }
  return h("form", { class: "card rs-rating", "data-testid": "request-rating", onsubmit: submit, novalidate: true },
    h("h3", {}, r("rate")),
    ticket.rating ? h("p", { class: "rs-rated", "data-testid": "my-rating" },
      r("your_rating", { n: ticket.rating }), " ", "★".repeat(ticket.rating)) : h("p", { class: "rs-hint" }, r("rate_hint")),
    row, error, notFixed, comment,
    h("button", { type: "submit", class: "big-action", "data-testid": "rating-submit" }, r("rate_submit")));
}

function requestActions(ticket) {
  if (store.state("ticket", ticket.id) === "rejected") return [];
  const save = (fields) => store.save("ticket", ticket.id, fields);
  const can = ticketActions(ticket);
  const out = [];
  if (can.close) {
    const [trigger, panel] = confirmStep({
      trigger: r("close"), question: r("close_confirm"), yes: r("close_yes"), no: r("close_no"), testid: "request-close",
      onYes: async () => { flash = { type: "ticket", id: ticket.id, text: r("closed") }; await save({ status: "closed" }); },
    });
    trigger.className = "big-action";
    out.push(h("section", { class: "card" }, h("p", {}, r("close_hint")), trigger, panel,
      h("p", { class: "rs-hint" }, r("not_fixed"))));
  }
  if (can.rate) out.push(stars(ticket, save));
  if (can.cancel) {
    const [trigger, panel] = confirmStep({
      trigger: r("cancel"), question: r("cancel_confirm"), yes: r("cancel_yes"), no: r("cancel_no"),
      testid: "request-cancel",
      onYes: async () => { flash = { type: "ticket", id: ticket.id, text: r("cancelled") }; await save({ status: "cancelled" }); },
    });
    out.push(h("section", { class: "card" }, trigger, panel));
  }
  return out;
}

export function residentRequestView(root, route) {
  const id = route.args?.[0];
  window.scrollTo(0, 0);
  let signature = null;
  const draw = () => {
    const ticket = id ? store.get("ticket", id) : null;
    const state = id ? store.state("ticket", id) : "synced";
    const next = JSON.stringify([ticket, state, store.rejected().filter((m) => m.id === id), navigator.onLine, flash,
                                 photos.of("ticket", id).map((a) => [a.id, photos.stateOf(a).state])]);
    if (next === signature) return; // a sync that changed nothing here must not wipe a half-typed comment
    signature = next;
    const back = h("a", { class: "back", href: "#/mine" }, r("back_mine"));
    if (!ticket) {
      fill(root, h("div", { class: "resident" }, back,
        h("p", { class: "card", "data-testid": "request-missing" }, r("not_found"))));
      return;
    }
    const typing = document.activeElement?.name === "rating_comment";
    fill(root, h("div", { class: "resident", "data-testid": "request", "data-id": ticket.id },
      back,
      flashBanner((f) => f.type === "ticket" && f.id === ticket.id),
      h("article", { class: "card" },
        h("h2", {}, categoryLabel(ticket.category), " ",
          h("span", { class: `rs-status status-${ticket.status ?? "new"}`, "data-testid": "request-status" },
            statusWord(ticket.status))),
        ticket.description ? h("p", { class: "rs-text" }, h("strong", {}, r("your_words")), " ", ticket.description) : null,
        ticket.resolution_note ? h("p", { class: "rs-text", "data-testid": "request-resolution" },
          h("strong", {}, r("resolution")), " ", ticket.resolution_note) : null,
        state === "pending" && !flash ? h("p", { class: "rs-mark pending" }, syncLine("ticket", ticket.id)) : null,
        photoStrip(photosOf(photos.of("ticket", ticket.id), { recordType: "ticket", recordId: ticket.id }),
                   { testid: "request-photos", onDelete: isOpenRequest(ticket) ? photos.remove : null, retake: true })),
      refusals(ticket),
      requestActions(ticket),
      h("section", { class: "card" }, h("h3", {}, r("progress")), progressList(ticket))));
    if (typing) root.querySelector("textarea[name=rating_comment]")?.focus();
  };
  draw();
  const stop = live(draw);
  const offPhotos = photos.subscribe(() => draw());
  return () => { stop(); offPhotos(); flash = null; };
}

// ---- 服务 Services and my orders ---------------------------------------------------------------------------

// The catalogue in the order people need it most: 生活 (water), 房务 (cleaning, repair), 资产 (custody).
const SHELVES = ["life", "house", "asset"];

function productOf(code) {
  return store.get("product", code);
}

export function residentServicesView(root) {
  window.scrollTo(0, 0);
  const choice = { code: null, quantity: 1, note: "" };
  let signature = null;

  function orderPanel(product) {
    const code = productCode(product);
    const quantity = h("output", { class: "rs-qty", "data-testid": "order-quantity" }, String(choice.quantity));
    const total = h("span", { class: "rs-total", "data-testid": "order-total" },
      r("total", { amount: money(product.price * choice.quantity) }));
    const step = (delta, text) => button(delta > 0 ? "+" : "−", () => {
      choice.quantity = clampQuantity(choice.quantity + delta);
      quantity.textContent = String(choice.quantity);
      total.textContent = r("total", { amount: money(product.price * choice.quantity) });
    }, { class: "rs-step", "aria-label": text, "data-testid": delta > 0 ? "order-more" : "order-less" });
    const note = h("input", { type: "text", name: "note", maxlength: 1000, placeholder: r("note_hint"),
                              "aria-label": r("note"), "data-testid": "order-note",
                              oninput: () => { choice.note = note.value; } });
    note.value = choice.note;
    async function submit(event) {
      event.preventDefault();
      const place = event.submitter ?? event.currentTarget.querySelector("button[type=submit]");
      if (place) place.disabled = true; // one tap, one order
      // No household_id: the server files a resident's order under their own household.
      const fields = { product_code: code, quantity: choice.quantity };
      if (choice.note.trim()) fields.note = choice.note.trim();
      const order = await store.create("order", fields);
      flash = { type: "order", id: order.id, text: r("ordered", { name: productName(product), n: choice.quantity }) };
      Object.assign(choice, { code: null, quantity: 1, note: "" });
      draw(true);
      window.scrollTo(0, 0);
    }
    return h("form", { class: "rs-order", "data-testid": "order-form", onsubmit: submit },
      h("div", { class: "rs-qty-row" }, h("span", {}, r("quantity")), step(-1, r("less")), quantity, step(1, r("more"))),
      total,
      h("label", { class: "rs-field" }, h("span", {}, r("note")), note),
      h("div", { class: "btn-row" },
        h("button", { type: "submit", class: "primary", "data-testid": "order-place" }, r("confirm_order")),
        button(r("cancel_book"), () => { Object.assign(choice, { code: null, quantity: 1, note: "" }); draw(true); },
               { class: "secondary" })));
  }

  function productCard(product) {
    const code = productCode(product);
    const open = choice.code === code;
    return h("li", { class: `card rs-product${open ? " open" : ""}`, "data-testid": "product", "data-value": code },
      h("span", { class: "rs-product-name" }, productName(product)),
      h("span", { class: "rs-product-price" }, r("per", { price: money(product.price), unit: unitName(product.unit) })),
      open ? orderPanel(product) : button(r("book"), () => {
        Object.assign(choice, { code, quantity: 1, note: "" });
        draw(true);
      }, { class: "big-action", "data-testid": "product-book" }));
  }

  function orderRow(order) {
    const product = productOf(order.product_code);
    const state = store.state("order", order.id);
    const status = order.status ?? "placed";
    const cancel = orderCancellable(order) && status !== "cancelled" && state !== "rejected" ? confirmStep({
      trigger: r("order_cancel"), question: r("order_cancel_confirm"), yes: r("order_cancel_yes"),
      no: r("order_cancel_no"), testid: "order-cancel",
      onYes: async () => {
        flash = { type: "order", id: order.id, text: r("order_cancelled") };
        await store.save("order", order.id, { status: "cancelled" });
        window.scrollTo(0, 0);
      },
    }) : null;
    return h("li", { class: "rs-order-row", "data-testid": "my-order", "data-id": order.id, "data-status": status },
      h("span", { class: "rs-row-main" },
        h("strong", {}, product ? productName(product) : order.product_code, ` × ${order.quantity ?? 1}`),
        h("span", { class: `rs-status order-${status}`, "data-testid": "order-status" }, label("order_status", status))),
      h("span", { class: "rs-row-sub" }, order.created_at ? when(order.created_at) : "",
        state !== "synced" ? h("span", { class: `rs-mark ${state}` },
          state === "rejected" ? r("refused_short") : syncLine("order", order.id)) : null),
      order.note ? h("span", { class: "rs-row-text" }, order.note) : null,
      h("ol", { class: "rs-progress rs-order-steps", "data-testid": "order-timeline" }, orderTimeline(order).map((s) =>
        h("li", { class: s.state, "data-step": s.step, "data-state": s.state,
                  "aria-current": s.state === "current" ? "step" : false },
          h("span", { class: "rs-step-mark", "aria-hidden": "true" }, s.state === "todo" ? "○" : "●"),
          h("span", { class: "rs-step-body" }, h("strong", {}, r(`order_step.${s.step}`)),
            s.at ? h("span", { class: "rs-step-at" }, when(s.at)) : null)))),
      order.reason ? h("span", { class: "rs-row-text", "data-testid": "order-reason" },
        r("order_reason", { reason: order.reason })) : null,
      cancel);
  }

  const draw = (force = false) => {
    const rank = (p) => (SHELVES.includes(p.category) ? SHELVES.indexOf(p.category) : SHELVES.length);
    const products = store.all("product").filter((p) => p.active !== false).sort((a, b) =>
      rank(a) - rank(b) || productCode(a).localeCompare(productCode(b)));
    const orders = newestFirst(store.all("order"));
    const next = JSON.stringify([products, orders, orders.map((o) => store.state("order", o.id)), navigator.onLine,
                                 flash, choice.code]);
    if (!force && next === signature) return; // keep a half-typed note
    signature = next;
    fill(root, h("div", { class: "resident", "data-testid": "services" },
      flashBanner((f) => f.type === "order"),
      h("h2", {}, r("services")),
      h("p", { class: "rs-hint" }, r("services_hint")),
      products.length ? h("ul", { class: "rs-products" }, products.map(productCard))
        : h("p", { class: "card" }, r("no_products")),
      h("section", { class: "card", "data-testid": "my-orders" },
        h("h3", {}, r("my_orders")),
        orders.length ? h("ul", { class: "rs-rows" }, orders.map(orderRow)) : h("p", { class: "rs-empty" }, r("no_orders")))));
  };
  draw(true);
  const stop = live(draw);
  return () => { stop(); flash = null; };
}

// ---- 公告 Notices ---------------------------------------------------------------------------------------------

export function residentNoticesView(root) {
  window.scrollTo(0, 0);
  const draw = () => {
    // A resident reads their building's notices and the whole community's; a butler reads them all.
    const building = store.meta.user?.role === "resident" ? myHousehold()?.building ?? null : null;
    const notices = publishedNotices(store.all("notice"), Date.now(), building);
    const unread = new Set(unreadNotices(notices, store.meta.noticesSeen ?? []).map((n) => n.id));
    fill(root, h("div", { class: "resident", "data-testid": "notices" },
      h("h2", {}, r("notices")),
      notices.length ? h("section", { class: "card" }, h("ul", { class: "rs-rows" }, notices.map((n) => h("li", {},
        h("a", { class: "rs-row", href: `#/notice/${encodeURIComponent(n.id)}`, "data-testid": "notice-row", "data-id": n.id },
          h("span", { class: "rs-row-main" }, h("strong", {}, n.pinned ? `📌 ${n.title}` : n.title),
            n.pinned ? h("span", { class: "rs-flag", "data-testid": "notice-pinned" }, r("pinned")) : null,
            unread.has(n.id) ? h("span", { class: "rs-flag" }, r("unread")) : null),
          h("span", { class: "rs-row-sub" }, day(n.published_at)))))))
        : h("p", { class: "card rs-empty" }, r("no_notices"))));
  };
  draw();
  return live(draw);
}

export function residentNoticeView(root, route) {
  const id = route.args?.[0];
  window.scrollTo(0, 0);
  const draw = () => {
    const notice = id ? store.get("notice", id) : null;
    const back = h("a", { class: "back", href: "#/notices" }, r("back_notices"));
    if (!notice) {
      fill(root, h("div", { class: "resident" }, back,
        h("p", { class: "card", "data-testid": "notice-missing" }, r("notice_missing"))));
      return;
    }
    fill(root, h("div", { class: "resident" }, back,
      h("article", { class: "card rs-notice", "data-testid": "notice", "data-id": notice.id },
        h("h2", {}, notice.title),
        h("p", { class: "rs-row-sub" }, r("published", { date: when(notice.published_at) })),
        h("div", { class: "rs-notice-body" }, notice.body))));
  };
  draw();
  const seen = store.meta.noticesSeen ?? [];
  if (id && store.get("notice", id) && !seen.includes(id)) store.setMeta({ noticesSeen: [...seen, id].slice(-500) });
  return live(draw);
}
