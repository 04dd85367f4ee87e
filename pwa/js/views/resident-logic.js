// The resident's app, pure logic: which screens a resident has, how a request's progress reads,
// what a resident may do with a request or an order now, and the order of lists. No DOM, no store,
// no words (the screens in resident.js add those), so that Node's test runner checks it (tests/js).

/** The resident's tabs, in order: route name and the i18n key of its label. */
export const RESIDENT_TABS = [["mine", "nav_mine"], ["services", "nav_services"], ["notices", "nav_notices"],
                              ["voice", "nav_voice"], ["sync", "nav_me"]];
export const RESIDENT_HOME = "mine";

// Screens a resident may open; a butler's screen (or an old link to one) leads to the nearest of these.
const RESIDENT_ROUTES = new Set(["mine", "report", "request", "services", "notices", "notice", "sync", "members",
                                 "password", "voice", "poll", "activity"]);
const BUTLER_TO_RESIDENT = { ticket: "request", tickets: "mine" };

/** The screen a resident sees for a route: its own, or the resident's version of a butler's. */
export function residentRoute(route) {
  if (RESIDENT_ROUTES.has(route.name)) return route;
  const name = BUTLER_TO_RESIDENT[route.name];
  if (name && (name !== "request" || route.args?.length)) return { ...route, name };
  return { name: RESIDENT_HOME, args: [], query: {} };
}

// ---- requests (报事报修) ------------------------------------------------------------------------------

/** The way a request normally goes, as the resident reads it (已提交 … 已关闭). */
export const PROGRESS = ["new", "dispatched", "accepted", "in_progress", "resolved", "closed"];
const STAMPS = { new: "created_at", accepted: "accepted_at", resolved: "resolved_at", closed: "closed_at" };

/**
 * The request's progress as steps: [{step, at, state}] with state "done", "current" or "todo".
 * A cancelled request reads 已提交 → 已取消; a reopened one (resolved, then back to work) reads as
 * being worked on again.
 */
export function progress(ticket) {
  const status = ticket?.status ?? "new";
  const at = (step) => (STAMPS[step] ? ticket?.[STAMPS[step]] ?? null : null);
  if (status === "cancelled") {
    return [{ step: "new", at: at("new"), state: "done" }, { step: "cancelled", at: null, state: "current" }];
  }
  const reached = Math.max(0, PROGRESS.indexOf(status));
  return PROGRESS.map((step, i) => ({
    step, at: i <= reached ? at(step) : null, state: i < reached ? "done" : i === reached ? "current" : "todo",
  }));
}

const CANCELLABLE = new Set(["new", "dispatched"]); // before a butler has taken it (server/tickets/service.py)
const RATEABLE = new Set(["resolved", "closed"]);

/** What the resident may do with a request now (the server's rules for residents). */
export function ticketActions(ticket) {
  const status = ticket?.status;
  return {
    cancel: CANCELLABLE.has(status),
    close: status === "resolved",
    rate: RATEABLE.has(status),
  };
}

export function isOpenRequest(ticket) {
  return !["closed", "cancelled"].includes(ticket?.status);
}

/** Newest first by a time field; records the server has not stamped yet (just made here) go on top. */
export function newestFirst(records, field = "created_at") {
  const time = (r) => {
    const value = Date.parse(r?.[field] ?? "");
    return Number.isNaN(value) ? Infinity : value;
  };
  return [...records].sort((a, b) => time(b) - time(a) || String(a.id).localeCompare(String(b.id)));
}

// ---- orders ---------------------------------------------------------------------------------------------

export const MAX_QUANTITY = 999; // the server's limit

export function clampQuantity(n) {
  const value = Math.trunc(Number(n));
  return Number.isFinite(value) ? Math.min(MAX_QUANTITY, Math.max(1, value)) : 1;
}

/** An order's way, as the resident reads it: 已下单 → 已确认 → 已送达; a cancelled one ends 已取消, a
 * refunded one goes on to 已退款. Steps [{step, at, state}] with state "done", "current" or "todo". */
export const ORDER_STEPS = ["placed", "confirmed", "delivered"];
const ORDER_STAMPS = { placed: "created_at", confirmed: "confirmed_at", delivered: "delivered_at",
                       cancelled: "cancelled_at", refunded: "refunded_at" };

export function orderTimeline(order) {
  const status = order?.status ?? "placed";
  let way = ORDER_STEPS;
  if (status === "cancelled") way = [...ORDER_STEPS.filter((s) => s === "placed" || order?.[ORDER_STAMPS[s]]), "cancelled"];
  if (status === "refunded") way = [...ORDER_STEPS, "refunded"];
  const at = way.indexOf(status);
  return way.map((step, i) => ({ step, at: order?.[ORDER_STAMPS[step]] ?? null,
                                 state: i < at ? "done" : i === at ? "current" : "todo" }));
}

/** The orders a butler has to act on: just placed (confirm) and confirmed (deliver), oldest first. */
export function ordersToFulfil(orders) {
  const waiting = (status) => orders.filter((o) => !o.deleted && (o.status ?? "placed") === status)
    .sort((a, b) => String(a.created_at ?? "").localeCompare(String(b.created_at ?? "")));
  return { confirm: waiting("placed"), deliver: waiting("confirmed") };
}

/** A resident may cancel an order only while it is just placed (server/products/service.py). */
export function orderCancellable(order) {
  return order?.status === "placed" || order?.status === undefined;
}

// ---- notices (公告) ----------------------------------------------------------------------------------------

/** The notices to show: published by now, not deleted, newest first. A notice set for later shows
 * once its time comes, even with no signal (the phone already holds it). */
export function publishedNotices(notices, now = Date.now(), building = null) {
  const shown = notices.filter((n) => {
    const at = Date.parse(n?.published_at ?? "");
    // One building's notice is for that building's residents; a butler (building null) reads them all.
    return !Number.isNaN(at) && at <= now && (!building || !n.building || n.building === building);
  });
  const newest = newestFirst(shown, "published_at");
  return [...newest.filter((n) => n.pinned), ...newest.filter((n) => !n.pinned)]; // pinned on top
}

/** Notices not opened yet on this phone (seen: ids already read). */
export function unreadNotices(notices, seen = []) {
  const read = new Set(seen);
  return notices.filter((n) => !read.has(n.id));
}
