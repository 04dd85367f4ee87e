// The home visit form (脱鞋入户, views/visit.js), pure logic: which draft comes back, the form's first
// state, the checklist's items and answers, the product chips, and the fields a save sends. No DOM, no
// store, no words (the view adds those), so that Node's test runner checks it (tests/js).

import { cut } from "../text.js";

// server/visits/models.py DEFAULT_CHECKLIST: used until the community's own has been fetched.
export const DEFAULT_CHECKLIST = [
  { key: "utilities", zh: "水电气", en: "Water, power, gas" },
  { key: "doors_windows", zh: "门窗", en: "Doors and windows" },
  { key: "leaks", zh: "渗漏", en: "Leaks" },
  { key: "fire_safety", zh: "消防安全", en: "Fire safety" },
  { key: "drains", zh: "下水管道", en: "Drains" },
  { key: "appliances", zh: "家电设施", en: "Appliances and fittings" },
  { key: "elderly_safety", zh: "老人安全（防滑、扶手）", en: "Safety of the elderly (grip, rails)" },
];

// Needs butlers meet most; stored in Chinese whatever the screen's language, so reports read alike.
export const NEEDS = [
  ["桶装水", "Bottled water"], ["保洁", "Cleaning"], ["家电维修", "Appliance repair"], ["管道疏通", "Drain clearing"],
  ["老人关怀", "Care for the elderly"], ["儿童托管", "Childcare"], ["停车位", "Parking space"], ["快递代收", "Parcel pick-up"],
  ["房屋托管", "Property custody"],
];
export const NOTE_MAX = 500; // the server's limit of a checklist note

/** The kept draft, unless the visit changed on the server since it was typed (another version). */
export function usableDraft(kept, before) {
  return kept && (!before || kept.version === before.version) ? kept : null;
}

/** The form's first state from the draft or the visit being edited (nothing: a new routine visit). */
export function initialForm(start) {
  return {
    kind: start?.kind ?? "routine",
    checklist: JSON.parse(JSON.stringify(start?.checklist ?? {})), // a copy: the form edits it
    satisfaction: start?.satisfaction ?? null,
    unrated: Boolean(start?.unrated), // 未评价, chosen on this form (kept in its draft, never sent)
    products: [...(start?.products_interest ?? [])],
  };
}

/** The checklist's items: the community's (else the default), then any item this visit holds that the
 * list no longer has (or never had), named by its key. */
export function checklistItems(templateItems, checklist) {
  const template = templateItems?.length ? templateItems : DEFAULT_CHECKLIST;
  return [...template, ...Object.keys(checklist).filter((k) => !template.some((i) => i.key === k))
    .map((key) => ({ key, zh: key }))];
}

/** An item's name in the language: English when asked and known, else Chinese, else its key. */
export const itemLabel = (item, language) => (language === "en" && item.en) || item.zh || item.key;

/** The items whose note is shown when the form opens: those that have one. */
export function notedKeys(checklist) {
  return new Set(Object.entries(checklist).filter(([, v]) => v?.note).map(([k]) => k));
}

/** The checklist after tapping ok (true) or problem (false) on an item: tapping the chosen answer
 * again clears it; a new answer keeps the note. Other items' entries are kept as they are. */
export function answerItem(checklist, key, ok) {
  const next = { ...checklist };
  const entry = next[key];
  if (entry && entry.ok === ok) delete next[key];
  else next[key] = { ok, note: entry?.note ?? "" };
  return next;
}

/** The checklist after 其余全部正常: every item not yet answered is ok. */
export function restAllOk(items, checklist) {
  const next = { ...checklist };
  for (const item of items) if (!next[item.key]) next[item.key] = { ok: true, note: "" };
  return next;
}

/** The needs offered as suggestions: stored in Chinese, shown in the language. */
export function needSuggestions(language) {
  return NEEDS.map(([zh, en]) => ({ value: zh, label: language === "en" ? en : zh }));
}

/** Tapping a star: that rating, or none when it was already chosen. */
export const tapStar = (current, n) => (current === n ? null : n);

/** The products offered: the active ones, by category, then by code. */
export function offeredProducts(products, codeOf) {
  return products.filter((p) => p.active !== false)
    .sort((a, b) => String(a.category).localeCompare(String(b.category)) || codeOf(a).localeCompare(codeOf(b)));
}

/** Codes of the product chips: the offered ones, then any this visit names that is no longer offered. */
export function productChipCodes(offeredCodes, chosen) {
  return [...new Set([...offeredCodes, ...chosen])];
}

/** The chosen products after tapping one: added at the end, or taken out. */
export function toggleProduct(chosen, code) {
  return chosen.includes(code) ? chosen.filter((c) => c !== code) : [...chosen, code];
}

/** The fields a save sends: only the visit schema's (server/visits/schemas.py), notes trimmed to the
 * server's limit; the server fills in the butler. */
export function visitFields(form, { needs, notes, followUp }) {
  const checklist = {};
  for (const [key, entry] of Object.entries(form.checklist)) {
    checklist[key] = { ok: entry.ok, note: cut(String(entry.note ?? "").trim(), NOTE_MAX) };
  }
  return { kind: form.kind, checklist, needs, satisfaction: form.satisfaction, products_interest: form.products,
           notes, follow_up_at: followUp || null };
}

/** A new visit's fields: what was left empty (no rating, no follow-up date) is not sent at all. */
export function newVisitFields(fields) {
  const out = { ...fields };
  if (out.satisfaction === null) delete out.satisfaction;
  if (out.follow_up_at === null) delete out.follow_up_at;
  return out;
}

/** Whether a checklist item shows its photos (and the buttons to take more): when it has a problem, and
 * always when it has photos, taken on this form or saved, whatever its answer. */
export function showsItemPhotos(entry, { taken = 0, saved = 0 } = {}) {
  return entry?.ok === false || taken > 0 || saved > 0;
}

/** The saved photos still shown on the form: those the user has not deleted on it (the deletes go with
 * the save; a cancel keeps every photo). */
export function withoutRemoved(attachments, removingIds) {
  const removing = new Set(removingIds ?? []);
  return attachments.filter((a) => !removing.has(a.id));
}

/** The quick choices of a follow-up date: in a week, two weeks, a month. */
export const FOLLOW_UP_DAYS = [7, 14, 30];

/** The local calendar day `days` after `today`, as a date field holds it (yyyy-mm-dd). */
export function dayAfter(days, today = new Date()) {
  const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() + days);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A date field's day in the app's language, whatever the phone's own (its picker may say mm/dd/yyyy):
 * 2026年12月20日周日, or Sun, December 20, 2026. "" for none. */
export function dayInWords(iso, language) {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  if (!found) return "";
  const d = new Date(Number(found[1]), Number(found[2]) - 1, Number(found[3]));
  return d.toLocaleDateString(language, { year: "numeric", month: "long", day: "numeric", weekday: "short" });
}

/** What a visit still lacks before it may be saved. A new one: the checklist's items not answered (each
 * one, or 其余全部正常), and whether satisfaction is neither chosen nor explicitly 未评价 — a visit that
 * records nothing of the home is no visit: it would count toward coverage. An edit (before: the visit as
 * stored): the items it had answered and the form no longer does; an answer may change, not be taken back
 * (the server's rule too). */
export function missingAnswers(items, form, before = null) {
  if (before) {
    const had = before.checklist ?? {};
    return { items: items.filter((item) => had[item.key] && !form.checklist[item.key]).map((item) => item.key),
             satisfaction: false };
  }
  return {
    items: items.filter((item) => !form.checklist[item.key]).map((item) => item.key),
    satisfaction: form.satisfaction === null && !form.unrated,
  };
}

/** Choosing 未评价 (the resident would not say) clears a star, and a star clears 未评价. */
export const tapUnrated = (form) => ({ ...form, unrated: !form.unrated, satisfaction: form.unrated ? form.satisfaction : null });
