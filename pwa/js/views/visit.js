// 脱鞋入户 Home visit form (#/visit/<household id> new, #/visit/<household id>/<visit id> edit):
// kind, the community's checklist, needs found, satisfaction, product interest, notes and a follow-up
// date. Saving writes to the phone at once (it syncs later) and goes back to the household.

import { h } from "../dom.js";
import { extend, lang, t } from "../i18n.js";
import * as store from "../store.js";
import {
  VISIT_KINDS, changed, chip, dateLabel, householdHeader, label, notFound, productCode, productName, tagEditor, toast,
} from "./common.js";

extend({
  "zh-CN": {
    visit: {
      title_new: "脱鞋入户", title_edit: "编辑走访 · {date}", kind: "走访类型", checklist: "入户检查",
      all_ok: "其余全部正常", ok: "正常", problem: "有问题", note: "说明（可选）", add_note: "加备注",
      needs: "发现的需求", satisfaction: "满意度", products: "感兴趣的服务", notes: "走访记录", follow_up: "跟进日期",
      stars: { 1: "很不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "很满意" },
      save: "保存走访", saving: "正在保存…", draft_restored: "已恢复上次未保存的内容。",
    },
  },
  en: {
    visit: {
      title_new: "Home visit", title_edit: "Edit visit · {date}", kind: "Kind of visit", checklist: "Checklist",
      all_ok: "Mark the rest OK", ok: "OK", problem: "Problem", note: "Note (optional)", add_note: "Add a note",
      needs: "Needs found", satisfaction: "Satisfaction", products: "Interested in", notes: "Notes", follow_up: "Follow up on",
      stars: { 1: "Very unhappy", 2: "Unhappy", 3: "So-so", 4: "Happy", 5: "Very happy" },
      save: "Save visit", saving: "Saving…", draft_restored: "What you typed last time is back.",
    },
  },
});

// server/visits/models.py DEFAULT_CHECKLIST: used until the community's own has been fetched.
const DEFAULT_CHECKLIST = [
  { key: "utilities", zh: "水电气", en: "Water, power, gas" },
  { key: "doors_windows", zh: "门窗", en: "Doors and windows" },
  { key: "leaks", zh: "渗漏", en: "Leaks" },
  { key: "fire_safety", zh: "消防安全", en: "Fire safety" },
  { key: "drains", zh: "下水管道", en: "Drains" },
  { key: "appliances", zh: "家电设施", en: "Appliances and fittings" },
  { key: "elderly_safety", zh: "老人安全（防滑、扶手）", en: "Safety of the elderly (grip, rails)" },
];

// Needs butlers meet most; stored in Chinese whatever the screen's language, so reports read alike.
const NEEDS = [
  ["桶装水", "Bottled water"], ["保洁", "Cleaning"], ["家电维修", "Appliance repair"], ["管道疏通", "Drain clearing"],
  ["老人关怀", "Care for the elderly"], ["儿童托管", "Childcare"], ["停车位", "Parking space"], ["快递代收", "Parcel pick-up"],
  ["房屋托管", "Property custody"],
];
const NOTE_MAX = 500; // the server's limit of a checklist note

export function visitView(root, route, app) {
  const [hid, vid] = route.args;
  const household = store.get("household", hid);
  if (!household) return notFound(root);
  window.scrollTo(0, 0);
  let open = true;
  const before = vid ? store.get("visit", vid) : null;
  // What was typed and not yet saved (the app was closed, reloaded or killed): it comes back as it was.
  const draftName = `visit/${hid}/${vid ?? "new"}`;
  const kept = store.draft(draftName);
  const draft = kept && (!before || kept.version === before.version) ? kept : null;
  const start = draft ?? before;
  const id = draft?.id ?? (before ? vid : store.uuid()); // chosen once: a second Save updates, never duplicates
  const form = {
    kind: start?.kind ?? "routine",
    checklist: JSON.parse(JSON.stringify(start?.checklist ?? {})), // a copy: the form edits it
    satisfaction: start?.satisfaction ?? null,
    products: [...(start?.products_interest ?? [])],
  };

  const template = store.meta.visitTemplate?.items?.length ? store.meta.visitTemplate.items : DEFAULT_CHECKLIST;
  // Items this visit holds that the template no longer has (or never had) stay, named by their key.
  const items = [...template, ...Object.keys(form.checklist).filter((k) => !template.some((i) => i.key === k))
    .map((key) => ({ key, zh: key }))];
  const itemLabel = (item) => (lang() === "en" && item.en) || item.zh || item.key;

  // ---- kind ---------------------------------------------------------------------------------------
  const kinds = h("div", { class: "chips", role: "radiogroup", "aria-label": t("visit.kind") });
  const drawKinds = () => kinds.replaceChildren(...VISIT_KINDS.map((kind) => {
    const c = chip(label("kind", kind), { pressed: form.kind === kind, value: kind, testid: "kind",
                                          onclick: () => { form.kind = kind; drawKinds(); } });
    c.setAttribute("role", "radio");
    c.setAttribute("aria-checked", String(form.kind === kind));
    return c;
  }));
  drawKinds();

  // ---- checklist ----------------------------------------------------------------------------------
  const checklist = h("div", { class: "checklist" });
  const showNote = new Set(Object.entries(form.checklist).filter(([, v]) => v?.note).map(([k]) => k));
  function setItem(key, ok) {
    const entry = form.checklist[key];
    if (entry && entry.ok === ok) delete form.checklist[key]; // tapping the chosen answer again clears it
    else form.checklist[key] = { ok, note: entry?.note ?? "" };
    if (ok === false) showNote.add(key);
    drawChecklist(ok === false ? key : null);
  }
  function drawChecklist(focusKey = null) {
    checklist.replaceChildren(...items.map((item) => {
      const entry = form.checklist[item.key];
      const note = entry && showNote.has(item.key)
        ? h("input", { type: "text", class: "check-note", maxlength: NOTE_MAX, value: entry.note ?? "",
                       placeholder: t("visit.note"), "aria-label": `${itemLabel(item)} ${t("visit.note")}`,
                       "data-testid": "check-note", oninput: (e) => { entry.note = e.target.value; } })
        : null;
      const row = h("div", { class: `check-item${entry?.ok === false ? " problem" : ""}`, "data-testid": "check-item", "data-key": item.key },
        h("span", { class: "check-label" }, itemLabel(item)),
        h("div", { class: "seg" },
          h("button", { type: "button", class: "ok", "aria-pressed": String(entry?.ok === true), "data-testid": "check-ok",
                        onclick: () => setItem(item.key, true) }, t("visit.ok")),
          h("button", { type: "button", class: "bad", "aria-pressed": String(entry?.ok === false), "data-testid": "check-problem",
                        onclick: () => setItem(item.key, false) }, t("visit.problem"))),
        note,
        entry && !note ? h("button", { type: "button", class: "link-dark small", onclick: () => { showNote.add(item.key); drawChecklist(item.key); } },
          t("visit.add_note")) : null);
      if (note && focusKey === item.key) requestAnimationFrame(() => note.focus());
      return row;
    }));
  }
  drawChecklist();
  const allOk = h("button", { type: "button", class: "secondary", "data-testid": "all-ok", onclick: () => {
    for (const item of items) if (!form.checklist[item.key]) form.checklist[item.key] = { ok: true, note: "" };
    drawChecklist();
  } }, t("visit.all_ok"));

  // ---- needs, satisfaction, products --------------------------------------------------------------
  const needs = tagEditor({ values: start?.needs ?? [], legend: t("visit.needs"), testid: "needs",
                            suggestions: NEEDS.map(([zh, en]) => ({ value: zh, label: lang() === "en" ? en : zh })) });

  const stars = h("div", { class: "sat-row", role: "radiogroup", "aria-label": t("visit.satisfaction") });
  const drawStars = () => stars.replaceChildren(...[1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", class: "sat-btn", role: "radio", "aria-checked": String(form.satisfaction === n),
    "aria-pressed": String(form.satisfaction === n), "aria-label": `${n} ${t(`visit.stars.${n}`)}`, "data-testid": "satisfaction",
    "data-value": n, onclick: () => { form.satisfaction = form.satisfaction === n ? null : n; drawStars(); },
  }, h("span", { class: "sat-n" }, `${n}★`), h("span", { class: "sat-label" }, t(`visit.stars.${n}`)))));
  drawStars();

  const catalogue = store.all("product").filter((p) => p.active !== false)
    .sort((a, b) => String(a.category).localeCompare(String(b.category)) || productCode(a).localeCompare(productCode(b)));
  const products = h("div", { class: "chips" });
  const drawProducts = () => {
    const known = new Map(catalogue.map((p) => [productCode(p), productName(p)]));
    for (const code of form.products) if (!known.has(code)) known.set(code, store.get("product", code) ? productName(store.get("product", code)) : code);
    products.replaceChildren(...[...known].map(([code, name]) => chip(name, {
      pressed: form.products.includes(code), value: code, testid: "product",
      onclick: () => {
        form.products = form.products.includes(code) ? form.products.filter((c) => c !== code) : [...form.products, code];
        drawProducts();
      },
    })));
  };
  drawProducts();

  const notes = h("textarea", { name: "notes", rows: 4, maxlength: 10000, "data-testid": "visit-notes" }, start?.notes ?? "");
  const followUp = h("input", { type: "date", name: "follow_up_at", value: start?.follow_up_at ?? "", "data-testid": "follow-up" });
  const saveButton = h("button", { type: "submit", class: "primary", "data-testid": "save-visit" }, t("visit.save"));

  async function submit(event) {
    event.preventDefault();
    saveButton.disabled = true;
    saveButton.textContent = t("visit.saving");
    const checklistOut = {};
    for (const [key, entry] of Object.entries(form.checklist)) {
      checklistOut[key] = { ok: entry.ok, note: String(entry.note ?? "").trim().slice(0, NOTE_MAX) };
    }
    // Only the visit schema's fields (server/visits/schemas.py); the server fills in the butler.
    const fields = { kind: form.kind, checklist: checklistOut, needs: needs.value(), satisfaction: form.satisfaction,
                     products_interest: form.products, notes: notes.value, follow_up_at: followUp.value || null };
    try {
      if (before) {
        const diff = changed(before, fields);
        if (Object.keys(diff).length) await store.save("visit", id, diff);
      } else {
        if (fields.satisfaction === null) delete fields.satisfaction;
        if (fields.follow_up_at === null) delete fields.follow_up_at;
        await store.save("visit", id, { household_id: hid, visited_at: store.nowWithOffset(), ...fields });
      }
    } catch (error) {
      saveButton.disabled = false;
      saveButton.textContent = t("visit.save");
      throw error;
    }
    clearTimeout(draftTimer);
    await store.dropDraft(draftName);
    toast(t("common.saved"));
    if (open) app.go(`household/${encodeURIComponent(hid)}`); // unless the butler already went elsewhere
  }

  let draftTimer = null;
  function keepDraft() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(() => store.saveDraft(draftName, {
      id, version: before?.version ?? null, kind: form.kind, checklist: form.checklist, satisfaction: form.satisfaction,
      products_interest: form.products, needs: needs.value(), notes: notes.value, follow_up_at: followUp.value || null,
    }), 300);
  }

  root.replaceChildren(h("form", { class: "butler visit-screen", "data-testid": "visit-form", onsubmit: submit,
                                   oninput: keepDraft, onclick: keepDraft },
    householdHeader(household),
    h("h2", {}, before ? t("visit.title_edit", { date: dateLabel(before.visited_at) }) : t("visit.title_new")),
    draft ? h("p", { class: "notice", role: "status", "data-testid": "draft-restored" }, t("visit.draft_restored")) : null,
    h("fieldset", { class: "card" }, h("legend", {}, t("visit.kind")), kinds),
    h("fieldset", { class: "card" }, h("legend", {}, t("visit.checklist")), checklist, allOk),
    h("div", { class: "card" }, needs.el),
    h("fieldset", { class: "card" }, h("legend", {}, t("visit.satisfaction")), stars),
    catalogue.length || form.products.length ? h("fieldset", { class: "card" }, h("legend", {}, t("visit.products")), products) : null,
    h("div", { class: "card" },
      h("label", {}, h("span", {}, t("visit.notes")), notes),
      h("label", {}, h("span", {}, t("visit.follow_up")), followUp)),
    h("div", { class: "action-bar" },
      h("a", { class: "button", href: `#/household/${encodeURIComponent(hid)}`,
               onclick: () => { clearTimeout(draftTimer); store.dropDraft(draftName); } }, t("common.cancel")),
      saveButton)));
  return () => { open = false; };
}
