// 户档案 Household file: the address and status, the people (phones masked until asked), visits,
// touchpoints, tickets and orders, and the buttons for the work done there. Edits save at once,
// offline; a record not yet on the server says so.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import { custodyLink } from "./custody.js";
import { photoStrip, thumbRow } from "./photos.js";
import { photosOf } from "../photos-logic.js";
import {
  HOUSEHOLD_STATUSES, RELATIONS, addressLabel, changed, dateLabel, dueMark, label, lastVisitOf, notFound,
  peopleOf, phoneField, productCode, productName, savedToast, syncMark, tagEditor, tagList, tagName, visitDue,
} from "./common.js";
import {
  CYCLE_DAYS, FIRST_BIRTH_YEAR, HOUSEHOLD_TAGS, PERSON_TAGS, cycleDays, excerpt, newPersonRelation, ordersNewestFirst,
  personFields, personProblem, problemCount, recentTouchpoints, suggestions, ticketsNewestFirst, visitThumbs,
  visitsNewestFirst,
} from "./household-logic.js";

extend({
  "zh-CN": {
    household: {
      status: "状态", area: "{n} 平方米", cycle: "走访周期", cycle_days: "每 {n} 天", notes: "备注", tags: "标签",
      last_visit: "上次走访", never: "从未走访", edit: "编辑户信息",
      people: "家庭成员", add_person: "添加成员", no_people: "还没有登记家庭成员。",
      name: "姓名", relation: "关系", phone: "电话", birth_year: "出生年份", born: "{n}年生",
      consent: "住户同意留存电话和出生年份", consent_yes: "已授权留存联系方式", consent_no: "未授权：不可记录电话和出生年份",
      consent_withdrawn: "取消授权后，电话和出生年份将被删除。",
      edit_person: "编辑", new_person: "新成员",
      visits: "走访记录", no_visits: "还没有走访记录。", problems: "{n} 项问题", satisfaction: "满意度 {n}",
      touchpoints: "最近触点", tickets: "工单", no_tickets: "没有工单。", orders: "订单", no_orders: "没有订单。",
      recommended: "管家推荐", quantity: "×{n}",
      do_visit: "脱鞋入户", do_touchpoint: "触点", do_recommend: "推荐", do_invite: "邀请住户",
      err_name: "请填写姓名", err_phone: "电话号码格式不正确", err_year: "出生年份应在 1900 到今年之间",
      err_cycle: "走访周期应为 1 到 730 天",
    },
  },
  en: {
    household: {
      status: "Status", area: "{n} m²", cycle: "Visit cycle", cycle_days: "every {n} days", notes: "Notes", tags: "Tags",
      last_visit: "Last visit", never: "Never visited", edit: "Edit household",
      people: "People", add_person: "Add a person", no_people: "No one recorded yet.",
      name: "Name", relation: "Relation", phone: "Phone", birth_year: "Year of birth", born: "born {n}",
      consent: "Agrees that we keep their phone and year of birth", consent_yes: "Agreed to keep contact details",
      consent_no: "No consent: phone and year of birth cannot be kept",
      consent_withdrawn: "Withdrawing consent deletes the phone and year of birth.",
      edit_person: "Edit", new_person: "New person",
      visits: "Visits", no_visits: "No visits yet.", problems: "{n} problems", satisfaction: "Satisfaction {n}",
      touchpoints: "Recent touchpoints", tickets: "Tickets", no_tickets: "No tickets.", orders: "Orders", no_orders: "No orders.",
      recommended: "Recommended by a butler", quantity: "×{n}",
      do_visit: "Home visit", do_touchpoint: "Contact", do_recommend: "Offer", do_invite: "Invite",
      err_name: "Enter a name", err_phone: "This phone number is not valid", err_year: "Year of birth must be 1900 to this year",
      err_cycle: "The visit cycle must be 1 to 730 days",
    },
  },
});

export function householdView(root, route, app) {
  const hid = route.args[0];
  // editing: "household", a person's id or "new-person". A sync while the butler types must not
  // redraw the form away, so redraws wait until it closes. Revealed phones stay shown only while this
  // screen is open; `open` turns false when the butler leaves it.
  const ui = { editing: null, revealed: new Set(), open: true };
  window.scrollTo(0, 0);

  function draw() {
    if (!ui.open) return; // a save that finishes after the butler moved on must not draw over the next screen
    const household = store.get("household", hid);
    if (!household) return notFound(root);
    fill(root, h("section", { class: "butler household-screen", "data-testid": "household" },
      householdCard(household), peopleCard(household), custodyLink(hid), visitsCard(), touchpointsCard(), ticketsCard(),
      ordersCard(),
      h("div", { class: "action-bar" },
        h("a", { class: "button primary", href: `#/visit/${encodeURIComponent(hid)}`, "data-testid": "do-visit" }, t("household.do_visit")),
        h("a", { class: "button", href: `#/touchpoint/${encodeURIComponent(hid)}`, "data-testid": "do-touchpoint" }, t("household.do_touchpoint")),
        h("a", { class: "button", href: `#/recommend/${encodeURIComponent(hid)}`, "data-testid": "do-recommend" }, t("household.do_recommend")),
        h("a", { class: "button", href: `#/invite/${encodeURIComponent(hid)}`, "data-testid": "do-invite" }, t("household.do_invite")))));
  }

  function startEditing(what) {
    ui.editing = what;
    draw();
  }

  function stopEditing() {
    ui.editing = null;
    draw();
  }

  // ---- the household ----------------------------------------------------------------------------
  function householdCard(household) {
    if (ui.editing === "household") return householdForm(household);
    const last = lastVisitOf(hid);
    const cycle = household.visit_cycle_days ?? CYCLE_DAYS.default;
    return h("article", { class: "card" },
      h("div", { class: "title-row" },
        h("h2", { "data-testid": "address" }, addressLabel(household)), syncMark("household", hid)),
      h("dl", { class: "hh-facts" },
        h("dt", {}, t("household.status")),
        h("dd", { "data-testid": "household-status" }, label("status", household.status ?? "self_occupied"),
          household.area_m2 ? ` · ${t("household.area", { n: household.area_m2 })}` : ""),
        h("dt", {}, t("household.cycle")), h("dd", {}, t("household.cycle_days", { n: cycle })),
        h("dt", {}, t("household.last_visit")),
        h("dd", {}, last ? dateLabel(last) : t("household.never"), " ", dueMark(visitDue(household, last))),
        household.tags?.length ? [h("dt", {}, t("household.tags")), h("dd", {}, tagList(household.tags))] : null,
        household.notes ? [h("dt", {}, t("household.notes")), h("dd", { class: "notes", "data-testid": "household-notes" }, household.notes)] : null),
      h("button", { type: "button", class: "secondary", "data-testid": "edit-household", onclick: () => startEditing("household") }, t("household.edit")));
  }

  function householdForm(household) {
    const status = h("select", { name: "status" }, HOUSEHOLD_STATUSES.map((s) =>
      h("option", { value: s, selected: (household.status ?? "self_occupied") === s }, label("status", s))));
    const tags = tagEditor({ values: household.tags ?? [], suggestions: suggestions(HOUSEHOLD_TAGS, tagName), legend: t("household.tags"), testid: "household-tags" });
    const notes = h("textarea", { name: "notes", rows: 3, maxlength: 5000 }, household.notes ?? "");
    const cycle = h("input", { name: "visit_cycle_days", type: "number", inputmode: "numeric", min: CYCLE_DAYS.min,
                               max: CYCLE_DAYS.max, value: household.visit_cycle_days ?? CYCLE_DAYS.default });
    const error = h("p", { class: "error", role: "alert", hidden: true });
    async function submit(event) {
      event.preventDefault();
      const days = cycleDays(cycle.value);
      if (days === null) return showError(error, t("household.err_cycle"));
      const fields = changed(household, { status: status.value, tags: tags.value(), notes: notes.value, visit_cycle_days: days });
      if (Object.keys(fields).length) {
        await store.save("household", hid, fields);
        savedToast("household", hid);
      }
      stopEditing();
    }
    return h("form", { class: "card", "data-testid": "household-form", onsubmit: submit },
      h("h2", {}, addressLabel(household)),
      h("label", {}, h("span", {}, t("household.status")), status),
      tags.el,
      h("label", {}, h("span", {}, t("household.notes")), notes),
      h("label", {}, h("span", {}, t("household.cycle")), cycle),
      error, formButtons());
  }

  // ---- people -------------------------------------------------------------------------------------
  function peopleCard() {
    const people = peopleOf(hid);
    return h("article", { class: "card" },
      h("h3", {}, t("household.people"), ` (${people.length})`),
      people.length ? h("ul", { class: "people" }, people.map((p) => h("li", { "data-testid": "person", "data-id": p.id },
        ui.editing === p.id ? personForm(p) : personItem(p)))) : h("p", {}, t("household.no_people")),
      ui.editing === "new-person" ? personForm(null)
        : h("button", { type: "button", class: "secondary", "data-testid": "add-person", onclick: () => startEditing("new-person") }, t("household.add_person")));
  }

  function personItem(p) {
    const revealed = ui.revealed.has(p.id);
    return [
      h("div", { class: "title-row" },
        h("strong", { class: "person-name" }, p.name), h("span", {}, label("relation", p.relation ?? "owner")),
        syncMark("person", p.id)),
      p.phone ? h("div", {}, phoneField(p.phone, p.name, { revealed, onToggle: (show) => {
        if (show) ui.revealed.add(p.id);
        else ui.revealed.delete(p.id);
        draw();
      } })) : null,
      p.birth_year ? h("div", {}, t("household.born", { n: p.birth_year })) : null,
      tagList(p.tags ?? []),
      p.notes ? h("p", { class: "notes", "data-testid": "person-notes" }, p.notes) : null,
      h("p", { class: "consent" }, p.consent ? t("household.consent_yes") : t("household.consent_no")),
      h("button", { type: "button", class: "secondary small", "data-testid": "edit-person", onclick: () => startEditing(p.id) }, t("household.edit_person")),
    ];
  }

  function personForm(p) {
    const relation0 = newPersonRelation(peopleOf(hid));
    const before = p ?? { name: "", relation: relation0, consent: false, phone: null, birth_year: null, tags: [], notes: "" };
    const name = h("input", { name: "name", required: true, maxlength: 100, value: before.name, autocomplete: "off" });
    const relation = h("select", { name: "relation" }, RELATIONS.map((r) =>
      h("option", { value: r, selected: (before.relation ?? "owner") === r }, label("relation", r))));
    const consent = h("input", { type: "checkbox", name: "consent", checked: Boolean(before.consent), onchange: consentChanged });
    const phone = h("input", { name: "phone", type: "tel", inputmode: "tel", maxlength: 24, value: before.phone ?? "", autocomplete: "off" });
    const birthYear = h("input", { name: "birth_year", type: "number", inputmode: "numeric", min: FIRST_BIRTH_YEAR,
                                   max: new Date().getFullYear(), value: before.birth_year ?? "" });
    const tags = tagEditor({ values: before.tags ?? [], suggestions: suggestions(PERSON_TAGS, tagName), legend: t("household.tags"), testid: "person-tags" });
    const notes = h("textarea", { name: "notes", rows: 3, maxlength: 5000 }, before.notes ?? "");
    const warning = h("p", { class: "consent-warning", hidden: true }, t("household.consent_withdrawn"));
    const error = h("p", { class: "error", role: "alert", hidden: true });
    function consentChanged() {
      // Without consent the server keeps no phone and no year of birth (PIPL): nor do we.
      phone.disabled = birthYear.disabled = !consent.checked;
      if (!consent.checked) phone.value = birthYear.value = "";
      warning.hidden = consent.checked || !before.consent;
    }
    consentChanged();
    async function submit(event) {
      event.preventDefault();
      const typed = { name: name.value, relation: relation.value, consent: consent.checked, phone: phone.value,
                      birthYear: birthYear.value, tags: tags.value(), notes: notes.value };
      const problem = personProblem(typed, new Date().getFullYear());
      if (problem) return showError(error, t(`household.${problem}`));
      const next = personFields(typed, { consentBefore: Boolean(before.consent), isNew: !p });
      let saved = p;
      if (p) {
        const fields = changed(before, next);
        if (Object.keys(fields).length) await store.save("person", p.id, fields);
      } else {
        saved = await store.create("person", { household_id: hid, ...next });
      }
      savedToast("person", saved.id);
      stopEditing();
    }
    return h("form", { class: "person-form", "data-testid": "person-form", onsubmit: submit },
      p ? null : h("h4", {}, t("household.new_person")),
      h("label", {}, h("span", {}, t("household.name")), name),
      h("label", {}, h("span", {}, t("household.relation")), relation),
      h("label", { class: "check" }, consent, h("span", {}, t("household.consent"))),
      warning,
      h("label", {}, h("span", {}, t("household.phone")), phone),
      h("label", {}, h("span", {}, t("household.birth_year")), birthYear),
      tags.el,
      h("label", {}, h("span", {}, t("household.notes")), notes),
      error, formButtons());
  }

  // ---- history ----------------------------------------------------------------------------------
  function visitsCard() {
    const visits = visitsNewestFirst(store.all("visit", hid));
    return h("article", { class: "card" }, h("h3", {}, t("household.visits"), ` (${visits.length})`),
      visits.length ? h("ul", { class: "history", "data-testid": "visits" }, visits.map((v) => {
        const problems = problemCount(v);
        return h("li", {}, h("a", { href: `#/visit/${encodeURIComponent(hid)}/${encodeURIComponent(v.id)}`, "data-testid": "visit", "data-id": v.id },
          h("span", { class: "title-row" },
            h("time", { datetime: v.visited_at }, dateLabel(v.visited_at)), h("strong", {}, label("kind", v.kind ?? "routine")),
            v.satisfaction ? h("span", { class: "sat", "aria-label": t("household.satisfaction", { n: v.satisfaction }) }, `★${v.satisfaction}`) : null,
            problems ? h("span", { class: "flag overdue" }, t("household.problems", { n: problems })) : null,
            syncMark("visit", v.id)),
          v.notes ? h("span", { class: "excerpt" }, excerpt(v.notes)) : null,
          visitPhotos(v)));
      })) : h("p", {}, t("household.no_visits")));
  }

  /** A visit's photos, small, in its row (the row opens the visit, where they show large). */
  function visitPhotos(v) {
    const { shown, more } = visitThumbs(photos.of("visit", v.id), v.id);
    return thumbRow(shown, { more, testid: "visit-thumbs" });
  }

  function touchpointsCard() {
    const touchpoints = recentTouchpoints(store.all("touchpoint", hid));
    if (!touchpoints.length) return null;
    return h("article", { class: "card" }, h("h3", {}, t("household.touchpoints")),
      h("ul", { class: "history", "data-testid": "touchpoints" }, touchpoints.map((tp) => h("li", { "data-testid": "touchpoint" },
        h("span", { class: "title-row" }, h("time", { datetime: tp.at }, dateLabel(tp.at)), h("strong", {}, label("channel", tp.channel)),
          syncMark("touchpoint", tp.id)),
        tp.summary ? h("span", { class: "excerpt" }, excerpt(tp.summary)) : null,
        photoStrip(photosOf(photos.of("touchpoint", tp.id), { recordType: "touchpoint", recordId: tp.id }),
                   { onDelete: photos.remove, retake: true })))));
  }

  function ticketsCard() {
    const tickets = ticketsNewestFirst(store.all("ticket", hid));
    return h("article", { class: "card" }, h("h3", {}, t("household.tickets"), ` (${tickets.length})`),
      tickets.length ? h("ul", { class: "history", "data-testid": "tickets" }, tickets.map((tk) => h("li", {},
        h("a", { href: `#/ticket/${encodeURIComponent(tk.id)}` },
          h("span", { class: "title-row" }, h("strong", {}, label("ticket_category", tk.category)),
            h("span", { class: `flag ticket-${tk.status}` }, label("ticket_status", tk.status ?? "new")), syncMark("ticket", tk.id)),
          tk.description ? h("span", { class: "excerpt" }, excerpt(tk.description)) : null)))) : h("p", {}, t("household.no_tickets")));
  }

  function ordersCard() {
    const orders = ordersNewestFirst(store.all("order", hid));
    const products = new Map(store.all("product").map((p) => [productCode(p), p]));
    return h("article", { class: "card" }, h("h3", {}, t("household.orders"), ` (${orders.length})`),
      orders.length ? h("ul", { class: "history", "data-testid": "orders" }, orders.map((o) => {
        const product = products.get(o.product_code);
        return h("li", { "data-testid": "order" }, h("span", { class: "title-row" },
          h("strong", {}, product ? productName(product) : o.product_code), h("span", {}, t("household.quantity", { n: o.quantity ?? 1 })),
          h("span", { class: "flag" }, label("order_status", o.status ?? "placed")),
          o.recommended_by ? h("span", { class: "tagpill" }, t("household.recommended")) : null,
          syncMark("order", o.id)),
          o.created_at ? h("time", { datetime: o.created_at }, dateLabel(o.created_at)) : null);
      })) : h("p", {}, t("household.no_orders")));
  }

  function formButtons() {
    return h("div", { class: "form-buttons" },
      h("button", { type: "button", class: "secondary", onclick: stopEditing }, t("common.cancel")),
      h("button", { type: "submit", "data-testid": "save" }, t("common.save")));
  }

  draw();
  const unsubscribe = store.subscribe(() => { if (!ui.editing) draw(); }); // closing a form redraws
  return () => {
    ui.open = false;
    unsubscribe();
  };
}

function showError(el, message) {
  el.textContent = message;
  el.hidden = false;
  el.scrollIntoView?.({ block: "center" });
}
