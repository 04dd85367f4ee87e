// 订单 Orders: what the butler's grid has ordered and waits on them (#/orders): new orders to confirm,
// confirmed ones to deliver, and a cancel with a reason. Every step is a store.save: instant and
// offline (the outbox sends it when there is signal); the resident sees the step on their phone.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { householdAddress, reason, stateMark, when } from "./wording.js";
import { label, productName } from "./common.js";
import { ordersToFulfil } from "./resident-logic.js";

extend({
  "zh-CN": {
    orders: {
      title: "订单", to_confirm: "待确认", to_deliver: "待送达", none_confirm: "没有待确认的订单。",
      none_deliver: "没有待送达的订单。", confirm: "确认订单", deliver: "已送达", cancel: "取消订单",
      cancel_reason: "取消原因（必填）", cancel_reason_hint: "例如：缺货", cancel_yes: "确定取消", cancel_no: "不取消",
      reason_required: "请填写取消原因。", note: "备注：{note}", refused: "服务器没有接受这个修改：",
    },
  },
  en: {
    orders: {
      title: "Orders", to_confirm: "To confirm", to_deliver: "To deliver", none_confirm: "No orders to confirm.",
      none_deliver: "No orders to deliver.", confirm: "Confirm", deliver: "Delivered", cancel: "Cancel order",
      cancel_reason: "Why is it cancelled? (required)", cancel_reason_hint: "e.g. out of stock",
      cancel_yes: "Cancel it", cancel_no: "Keep it", reason_required: "Please give a reason.",
      note: "Note: {note}", refused: "The server did not accept this change:",
    },
  },
});

const o = (key, params) => t(`orders.${key}`, params);

function orderCard(order) {
  const product = store.get("product", order.product_code);
  const status = order.status ?? "placed";
  const save = (fields) => store.save("order", order.id, fields);
  const refused = store.rejected().filter((m) => m.type === "order" && m.id === order.id);
  const reasonInput = h("input", { name: "reason", maxlength: 500, placeholder: o("cancel_reason_hint"),
                                   "aria-label": o("cancel_reason"), "data-testid": "order-cancel-reason" });
  const error = h("p", { class: "error", role: "alert", hidden: true }, o("reason_required"));
  const cancelPanel = h("form", { class: "confirm", hidden: true, "data-testid": "order-cancel-form", onsubmit: async (event) => {
    event.preventDefault();
    if (!reasonInput.value.trim()) { error.hidden = false; return; }
    await save({ status: "cancelled", reason: reasonInput.value.trim() });
  } }, h("label", {}, o("cancel_reason"), reasonInput), error,
    h("div", { class: "btn-row" },
      h("button", { type: "submit", class: "danger", "data-testid": "order-cancel-yes" }, o("cancel_yes")),
      h("button", { type: "button", class: "secondary", onclick: () => { cancelPanel.hidden = true; } }, o("cancel_no"))));
  const step = status === "placed" ? ["confirmed", o("confirm"), "order-confirm"]
    : status === "confirmed" ? ["delivered", o("deliver"), "order-deliver"] : null;
  return h("li", { class: "card", "data-testid": "butler-order", "data-id": order.id, "data-status": status },
    h("p", {}, h("strong", {}, product ? productName(product) : order.product_code, ` × ${order.quantity ?? 1}`), " ",
      h("span", { class: `chip order-${status}`, "data-testid": "order-status" }, label("order_status", status)), " ",
      stateMark("order", order.id)),
    h("p", {}, householdAddress(order.household_id), " · ", order.created_at ? when(order.created_at) : ""),
    order.note ? h("p", { class: "muted" }, o("note", { note: order.note })) : null,
    refused.length ? h("div", { class: "refused", role: "alert" }, h("p", {}, o("refused")),
      h("ul", {}, refused.flatMap((m) => (m.errors ?? []).map((e) => h("li", { class: "error" }, reason(e)))))) : null,
    step ? h("div", { class: "btn-row" },
      h("button", { type: "button", class: "primary", "data-testid": step[2],
                    onclick: async (event) => { event.currentTarget.disabled = true; await save({ status: step[0] }); } },
        step[1]),
      h("button", { type: "button", class: "secondary", "data-testid": "order-cancel",
                    onclick: () => { cancelPanel.hidden = false; reasonInput.focus(); } }, o("cancel"))) : null,
    cancelPanel);
}

export function ordersView(root) {
  let signature = null;
  const draw = () => {
    const orders = store.all("order");
    const next = JSON.stringify([orders, orders.map((x) => store.state("order", x.id)), store.rejected().length]);
    if (next === signature || root.querySelector("[data-testid=order-cancel-form]:not([hidden])")) return;
    signature = next;
    const { confirm, deliver } = ordersToFulfil(orders);
    fill(root, h("div", { class: "orders", "data-testid": "butler-orders" },
      h("h2", {}, o("to_confirm"), ` (${confirm.length})`),
      confirm.length ? h("ul", { class: "plain", "data-testid": "orders-to-confirm" }, confirm.map(orderCard))
        : h("p", { class: "empty" }, o("none_confirm")),
      h("h2", {}, o("to_deliver"), ` (${deliver.length})`),
      deliver.length ? h("ul", { class: "plain", "data-testid": "orders-to-deliver" }, deliver.map(orderCard))
        : h("p", { class: "empty" }, o("none_deliver"))));
  };
  draw();
  return store.subscribe(draw);
}
