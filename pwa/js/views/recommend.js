// 推荐 Recommend a service product and order it for the household (#/recommend/<household id>).
// The server records the butler as the order's recommender (server/products/service.py): the
// phone sends only the household, the product, the quantity and a note.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as store from "../store.js";
import { householdHeader, notFound, productCode, productName, toast, unitName } from "./common.js";

extend({
  "zh-CN": {
    recommend: {
      title: "推荐服务", pick: "选择一项服务", interested: "住户有意向", quantity: "数量", less: "减少", more: "增加",
      note: "备注（可选）", total: "合计 {amount}", order: "为住户下单", ordered: "已为住户下单，联网后同步",
      none: "还没有可推荐的服务。同步后会显示在这里。", recorded: "下单将记为您的推荐。",
      category: { life: "生活管家", house: "房务管家", asset: "资产管家" },
    },
  },
  en: {
    recommend: {
      title: "Recommend a service", pick: "Choose a service", interested: "Resident is interested", quantity: "Quantity",
      less: "Fewer", more: "More", note: "Note (optional)", total: "Total {amount}", order: "Order for the household",
      ordered: "Ordered for the household; it will sync when online",
      none: "No services to recommend yet. They appear after a sync.", recorded: "The order is recorded as your recommendation.",
      category: { life: "Life butler", house: "House butler", asset: "Asset butler" },
    },
  },
});

const MAX_QUANTITY = 999; // the server's limit
const money = (n) => `¥${Number(n ?? 0).toFixed(2)}`;

export function recommendView(root, route, app) {
  const [hid] = route.args;
  const household = store.get("household", hid);
  if (!household) return notFound(root);
  window.scrollTo(0, 0);
  // What the household said it wanted on visits goes first.
  const interested = new Set(store.all("visit", hid).flatMap((v) => v.products_interest ?? []));
  const products = store.all("product").filter((p) => p.active !== false).sort((a, b) =>
    Number(interested.has(productCode(b))) - Number(interested.has(productCode(a)))
    || String(a.category).localeCompare(String(b.category)) || productCode(a).localeCompare(productCode(b)));
  const choice = { code: null, quantity: 1 };
  let open = true;

  const list = h("div", { class: "products", role: "radiogroup", "aria-label": t("recommend.pick") });
  const quantity = h("output", { class: "quantity", "aria-label": t("recommend.quantity"), "data-testid": "quantity" });
  const total = h("span", { class: "total", "data-testid": "total" });
  const note = h("input", { type: "text", name: "note", maxlength: 1000, placeholder: t("recommend.note"),
                            "aria-label": t("recommend.note"), "data-testid": "order-note" });
  const orderButton = h("button", { type: "submit", class: "primary", "data-testid": "place-order", disabled: true }, t("recommend.order"));
  const stepper = (delta, text) => h("button", { type: "button", class: "step", "aria-label": text,
    onclick: () => { choice.quantity = Math.min(MAX_QUANTITY, Math.max(1, choice.quantity + delta)); draw(); } }, delta > 0 ? "+" : "−");

  function draw() {
    fill(list, ...products.map((p) => {
      const code = productCode(p);
      return h("button", { type: "button", class: "product", role: "radio", "aria-checked": String(choice.code === code),
                           "data-testid": "product", "data-value": code, onclick: () => { choice.code = code; draw(); } },
        h("span", { class: "product-name" }, productName(p)),
        h("span", { class: "product-price" }, `${money(p.price)} / ${unitName(p.unit)}`),
        h("span", { class: "product-meta" }, h("span", {}, t(`recommend.category.${p.category}`)),
          interested.has(code) ? h("span", { class: "flag due" }, t("recommend.interested")) : null));
    }));
    const product = products.find((p) => productCode(p) === choice.code);
    quantity.textContent = String(choice.quantity);
    total.textContent = product ? t("recommend.total", { amount: money(product.price * choice.quantity) }) : t("recommend.pick");
    orderButton.disabled = !product;
  }

  async function submit(event) {
    event.preventDefault();
    if (!choice.code || orderButton.disabled) return;
    orderButton.disabled = true; // one tap, one order
    const fields = { household_id: hid, product_code: choice.code, quantity: choice.quantity };
    if (note.value.trim()) fields.note = note.value.trim();
    await store.create("order", fields);
    toast(t("recommend.ordered"));
    if (open) app.go(`household/${encodeURIComponent(hid)}`); // unless the butler already went elsewhere
  }

  fill(root, h("form", { class: "butler recommend-screen", onsubmit: submit },
    householdHeader(household),
    h("h2", {}, t("recommend.title")),
    h("p", { class: "hint" }, t("recommend.recorded")),
    products.length ? list : h("p", { class: "card" }, t("recommend.none")),
    h("div", { class: "action-bar order-panel" },
      h("div", { class: "order-row" },
        stepper(-1, t("recommend.less")), quantity, stepper(1, t("recommend.more")), total),
      note,
      orderButton)));
  draw();
  return () => { open = false; };
}
