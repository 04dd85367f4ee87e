// Pure logic of the home visit form (pwa/js/views/visit-logic.js): which draft comes back, the form's
// first state, the checklist's items and answers, the product chips, and what a save sends.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULT_CHECKLIST, FOLLOW_UP_DAYS, NOTE_MAX, checklistItems, dayAfter, dayInWords, missingAnswers, tapUnrated, initialForm, itemLabel, needSuggestions, newVisitFields, notedKeys,
  offeredProducts, productChipCodes, restAllOk, answerItem, showsItemPhotos, tapStar, toggleProduct, usableDraft, visitFields,
  withoutRemoved,
} from "../../pwa/js/views/visit-logic.js";

test("a draft comes back unless the visit has another version on the phone now", () => {
  const kept = { id: "v1", version: 3, notes: "typed" };
  assert.equal(usableDraft(kept, null), kept); // a new visit
  assert.equal(usableDraft(kept, { version: 3 }), kept);
  assert.equal(usableDraft(kept, { version: 4 }), null); // changed since: the draft would overwrite it
  assert.equal(usableDraft(null, { version: 3 }), null);
});

test("the form starts as a routine visit, or from the visit, with a checklist of its own", () => {
  assert.deepEqual(initialForm(null), { kind: "routine", checklist: {}, satisfaction: null, unrated: false, products: [] });
  const visit = { kind: "follow_up", checklist: { leaks: { ok: false, note: "滴水" } }, satisfaction: 4,
                  products_interest: ["water"] };
  const form = initialForm(visit);
  assert.deepEqual(form, { kind: "follow_up", checklist: { leaks: { ok: false, note: "滴水" } }, satisfaction: 4,
                           unrated: false, products: ["water"] });
  form.checklist.leaks.note = "changed";
  form.products.push("cleaning");
  assert.equal(visit.checklist.leaks.note, "滴水"); // the form edits copies
  assert.deepEqual(visit.products_interest, ["water"]);
});

test("the checklist is the community's, else the default, then items only this visit still holds", () => {
  assert.deepEqual(checklistItems(undefined, {}), DEFAULT_CHECKLIST);
  assert.deepEqual(checklistItems([], {}), DEFAULT_CHECKLIST);
  const own = [{ key: "gas", zh: "燃气", en: "Gas" }];
  assert.deepEqual(checklistItems(own, { gas: { ok: true }, old_item: { ok: false } }),
    [{ key: "gas", zh: "燃气", en: "Gas" }, { key: "old_item", zh: "old_item" }]);
});

test("an item is named in the language, falling back to Chinese, then to its key", () => {
  const item = { key: "gas", zh: "燃气", en: "Gas" };
  assert.equal(itemLabel(item, "en"), "Gas");
  assert.equal(itemLabel(item, "zh-CN"), "燃气");
  assert.equal(itemLabel({ key: "gas", zh: "燃气" }, "en"), "燃气");
  assert.equal(itemLabel({ key: "gas" }, "en"), "gas");
});

test("notes are shown at first for the items that have one", () => {
  assert.deepEqual([...notedKeys({ a: { ok: false, note: "x" }, b: { ok: true, note: "" }, c: null })], ["a"]);
});

test("answering an item: a new answer keeps the note, the same answer again clears it", () => {
  const other = { ok: true, note: "" };
  const start = { leaks: { ok: true, note: "看过" }, drains: other };
  const bad = answerItem(start, "leaks", false);
  assert.deepEqual(bad.leaks, { ok: false, note: "看过" });
  assert.equal(bad.drains, other); // the other entries are the same objects: notes typed into them stay
  assert.deepEqual(start.leaks, { ok: true, note: "看过" }); // the old checklist is left as it was
  assert.equal("leaks" in answerItem(bad, "leaks", false), false);
  assert.deepEqual(answerItem({}, "gas", true), { gas: { ok: true, note: "" } });
});

test("其余全部正常 answers ok every item not yet answered, and leaves the answered ones", () => {
  const items = [{ key: "a" }, { key: "b" }, { key: "c" }];
  const problem = { ok: false, note: "坏了" };
  assert.deepEqual(restAllOk(items, { b: problem }),
    { b: problem, a: { ok: true, note: "" }, c: { ok: true, note: "" } });
});

test("needs are kept in Chinese and offered in the language", () => {
  assert.deepEqual(needSuggestions("en")[0], { value: "桶装水", label: "Bottled water" });
  assert.deepEqual(needSuggestions("zh-CN")[0], { value: "桶装水", label: "桶装水" });
});

test("tapping the chosen star takes the rating back", () => {
  assert.equal(tapStar(null, 4), 4);
  assert.equal(tapStar(3, 4), 4);
  assert.equal(tapStar(4, 4), null);
});

test("products offered: the active ones by category, then code; chips add what the visit named", () => {
  const code = (p) => p.code ?? p.id;
  const products = [{ id: "water", category: "life" }, { id: "custody", category: "asset" },
                    { id: "old", category: "asset", active: false }, { id: "cleaning", category: "house" },
                    { id: "bread", code: "bread", category: "life" }];
  assert.deepEqual(offeredProducts(products, code).map(code), ["custody", "cleaning", "bread", "water"]);
  assert.deepEqual(productChipCodes(["water", "cleaning"], ["old", "water", "gone"]), ["water", "cleaning", "old", "gone"]);
  assert.deepEqual(toggleProduct(["water"], "cleaning"), ["water", "cleaning"]);
  assert.deepEqual(toggleProduct(["water", "cleaning"], "water"), ["cleaning"]);
});

test("a save sends the visit schema's fields, notes trimmed to the server's limit", () => {
  const form = { kind: "routine", checklist: { leaks: { ok: false, note: `  ${"水".repeat(NOTE_MAX + 10)}  ` },
                                                 gas: { ok: true } }, satisfaction: null, products: ["water"] };
  const fields = visitFields(form, { needs: ["保洁"], notes: "记录", followUp: "" });
  assert.deepEqual(fields, {
    kind: "routine", checklist: { leaks: { ok: false, note: "水".repeat(NOTE_MAX) }, gas: { ok: true, note: "" } },
    needs: ["保洁"], satisfaction: null, products_interest: ["water"], notes: "记录", follow_up_at: null,
  });
  assert.equal(visitFields(form, { needs: [], notes: "", followUp: "2026-12-01" }).follow_up_at, "2026-12-01");
});

test("a new visit leaves out what was left empty (no rating, no follow-up date)", () => {
  const fields = { kind: "routine", satisfaction: null, follow_up_at: null, notes: "" };
  assert.deepEqual(newVisitFields(fields), { kind: "routine", notes: "" });
  assert.deepEqual(newVisitFields({ satisfaction: 5, follow_up_at: "2026-12-01" }), { satisfaction: 5, follow_up_at: "2026-12-01" });
  assert.equal(fields.satisfaction, null); // the fields given are left as they were
});

test("a checklist item shows its photos whatever its answer, and its camera when it has a problem", () => {
  assert.equal(showsItemPhotos({ ok: false, note: "" }), true); // a problem: take a photo of it
  assert.equal(showsItemPhotos({ ok: true, note: "" }), false);
  assert.equal(showsItemPhotos(undefined), false);
  assert.equal(showsItemPhotos({ ok: true, note: "" }, { saved: 1 }), true); // fixed since, the photo still shows
  assert.equal(showsItemPhotos(undefined, { taken: 2 }), true); // taken, then the answer cleared
});

test("a saved photo deleted on the form is hidden until the save takes it away", () => {
  const saved = [{ id: "a" }, { id: "b" }, { id: "c" }];
  assert.deepEqual(withoutRemoved(saved, ["b"]).map((a) => a.id), ["a", "c"]);
  assert.deepEqual(withoutRemoved(saved, []), saved);
  assert.deepEqual(withoutRemoved(saved, undefined), saved); // a draft from before this form kept deletions
});

test("a quick follow-up date is a local calendar day, across a month's end", () => {
  const today = new Date(2026, 11, 28, 23, 30); // late in the evening, where UTC is already the next day or not
  assert.deepEqual(FOLLOW_UP_DAYS.map((n) => dayAfter(n, today)), ["2027-01-04", "2027-01-11", "2027-01-27"]);
});

test("the follow-up day is said in the app's language, not the phone's picker format", () => {
  assert.equal(dayInWords("2026-12-20", "zh-CN"), "2026年12月20日周日");
  assert.equal(dayInWords("2026-12-20", "en"), "Sun, December 20, 2026");
  assert.equal(dayInWords("", "zh-CN"), "");
  assert.equal(dayInWords("12/20/2026", "zh-CN"), "");
});

test("a new visit lacks every unanswered checklist item and a satisfaction unless 未评价 is chosen", () => {
  const items = [{ key: "doors" }, { key: "gas" }, { key: "leaks" }];
  const form = initialForm({ checklist: { gas: { ok: false, note: "阀门松" } } });
  assert.deepEqual(missingAnswers(items, form), { items: ["doors", "leaks"], satisfaction: true });
  const done = { ...form, checklist: restAllOk(items, form.checklist), satisfaction: 4 };
  assert.deepEqual(missingAnswers(items, done), { items: [], satisfaction: false });
  const unrated = tapUnrated({ ...done, satisfaction: 4 });
  assert.equal(unrated.satisfaction, null);
  assert.deepEqual(missingAnswers(items, unrated), { items: [], satisfaction: false });
  assert.equal(tapUnrated(unrated).unrated, false); // tapped again: asked once more
});

test("an edit may change an answer but not take one back, and asks for no satisfaction", () => {
  const items = [{ key: "doors" }, { key: "gas" }, { key: "leaks" }];
  const before = { checklist: { gas: { ok: true, note: "" }, leaks: { ok: true, note: "" } }, satisfaction: null };
  const form = initialForm(before);
  assert.deepEqual(missingAnswers(items, form, before), { items: [], satisfaction: false }); // doors: never answered
  const changed = { ...form, checklist: answerItem(form.checklist, "gas", false) };
  assert.deepEqual(missingAnswers(items, changed, before), { items: [], satisfaction: false });
  const cleared = { ...form, checklist: answerItem(form.checklist, "leaks", true) }; // the chosen answer tapped again
  assert.deepEqual(missingAnswers(items, cleared, before), { items: ["leaks"], satisfaction: false });
});
