// Pure logic of the household file (pwa/js/views/household-logic.js): checking its forms, what a
// person's save sends, and the order of the history lists.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cycleDays, excerpt, newPersonRelation, ordersNewestFirst, personFields, personProblem, problemCount,
  recentTouchpoints, suggestions, ticketsNewestFirst, visitThumbs, visitsNewestFirst,
} from "../../pwa/js/views/household-logic.js";

test("long texts are cut at 40 characters with an ellipsis", () => {
  assert.equal(excerpt("短"), "短");
  assert.equal(excerpt("字".repeat(40)), "字".repeat(40));
  assert.equal(excerpt("字".repeat(41)), `${"字".repeat(40)}…`);
  assert.equal(excerpt("abcdef", 3), "abc…");
  assert.equal(excerpt(undefined), "");
});

test("tag suggestions are their own labels, or named in the reader's language", () => {
  assert.deepEqual(suggestions(["空巢"]), [{ value: "空巢", label: "空巢" }]);
  // The value stays as stored (Chinese): only the label is the reader's.
  assert.deepEqual(suggestions(["空巢", "租户"], (tag) => ({ 空巢: "Empty nest" })[tag] ?? tag),
                   [{ value: "空巢", label: "Empty nest" }, { value: "租户", label: "租户" }]);
});

test("the visit cycle is a whole number of days from 1 to 730", () => {
  assert.equal(cycleDays("90"), 90);
  assert.equal(cycleDays("1"), 1);
  assert.equal(cycleDays("730"), 730);
  for (const bad of ["0", "731", "1.5", "", "abc", "-3"]) assert.equal(cycleDays(bad), null, bad);
});

test("a new person is the owner unless the household has one", () => {
  assert.equal(newPersonRelation([]), "owner");
  assert.equal(newPersonRelation([{ relation: "tenant" }]), "owner");
  assert.equal(newPersonRelation([{ relation: "family" }, { relation: "owner" }]), "family");
});

test("a person's form: a name is needed, then a valid phone, then a year of birth from 1900 to now", () => {
  const ok = { name: "王阿姨", phone: "", birthYear: "" };
  assert.equal(personProblem(ok, 2026), null);
  assert.equal(personProblem({ ...ok, name: "  " }, 2026), "err_name");
  assert.equal(personProblem({ ...ok, name: "", phone: "x" }, 2026), "err_name"); // the name is told first
  assert.equal(personProblem({ ...ok, phone: "138 0013 8000" }, 2026), null);
  assert.equal(personProblem({ ...ok, phone: "+86-13800138000" }, 2026), null);
  assert.equal(personProblem({ ...ok, phone: "1380" }, 2026), "err_phone");
  assert.equal(personProblem({ ...ok, phone: "call me" }, 2026), "err_phone");
  assert.equal(personProblem({ ...ok, phone: "   " }, 2026), null); // blank: no phone
  assert.equal(personProblem({ ...ok, birthYear: "1950" }, 2026), null);
  assert.equal(personProblem({ ...ok, birthYear: "2026" }, 2026), null);
  assert.equal(personProblem({ ...ok, birthYear: "2027" }, 2026), "err_year");
  assert.equal(personProblem({ ...ok, birthYear: "1899" }, 2026), "err_year");
  assert.equal(personProblem({ ...ok, birthYear: "1950.5" }, 2026), "err_year");
});

const typed = { name: " 王阿姨 ", relation: "owner", consent: true, phone: " 13800138000 ", birthYear: "1950",
                tags: ["独居老人"], notes: "" };

test("with consent a person's phone and year of birth are sent, trimmed and as a number", () => {
  assert.deepEqual(personFields(typed), { name: "王阿姨", relation: "owner", consent: true, tags: ["独居老人"],
                                         notes: "", phone: "13800138000", birth_year: 1950 });
});

test("without consent they are not sent; withdrawing consent sends them empty, for the server to erase", () => {
  const none = { ...typed, consent: false, phone: "", birthYear: "" };
  assert.equal("phone" in personFields(none), false);
  assert.equal("birth_year" in personFields(none), false);
  const withdrawn = personFields(none, { consentBefore: true });
  assert.equal(withdrawn.phone, null);
  assert.equal(withdrawn.birth_year, null);
  assert.equal(withdrawn.consent, false);
});

test("a new person is sent no empty phone or year of birth", () => {
  const fields = personFields({ ...typed, phone: "", birthYear: "" }, { isNew: true });
  assert.equal("phone" in fields, false);
  assert.equal("birth_year" in fields, false);
  assert.equal(personFields(typed, { isNew: true }).phone, "13800138000");
});

test("history lists are newest first; touchpoints only the latest five", () => {
  const visits = [{ id: "a", visited_at: "2026-11-01T09:00:00+08:00" }, { id: "b", visited_at: "2026-11-20T09:00:00+08:00" }];
  assert.deepEqual(visitsNewestFirst(visits).map((v) => v.id), ["b", "a"]);
  assert.deepEqual(visits.map((v) => v.id), ["a", "b"]); // the list given is left as it was
  const touchpoints = Array.from({ length: 7 }, (_, i) => ({ id: i, at: `2026-11-0${i + 1}T10:00:00Z` }));
  assert.deepEqual(recentTouchpoints(touchpoints).map((tp) => tp.id), [6, 5, 4, 3, 2]);
  const tickets = [{ id: "old", created_at: "2026-10-01T00:00:00Z" }, { id: "none" }, { id: "new", created_at: "2026-11-01T00:00:00Z" }];
  assert.deepEqual(ticketsNewestFirst(tickets).map((tk) => tk.id), ["new", "old", "none"]);
  const orders = [{ id: "old", created_at: "2026-10-01T00:00:00Z" }, { id: "none" }, { id: "new", created_at: "2026-11-01T00:00:00Z" }];
  assert.deepEqual(ordersNewestFirst(orders).map((o) => o.id), ["new", "old", "none"]);
});

test("a visit's problems are the checklist items answered 有问题", () => {
  assert.equal(problemCount({ checklist: { a: { ok: false }, b: { ok: true }, c: null, d: { ok: false, note: "x" } } }), 2);
  assert.equal(problemCount({}), 0);
});

test("a visit's row shows its first four photos, oldest first, and counts the rest", () => {
  const photo = (id, at, extra = {}) => ({ id, record_type: "visit", record_id: "v", taken_at: at, ...extra });
  const all = [
    photo("p3", "2026-12-06T09:03:00+08:00", { item: "leaks" }), photo("p1", "2026-12-06T09:01:00+08:00"),
    photo("p2", "2026-12-06T09:02:00+08:00"), photo("p5", "2026-12-06T09:05:00+08:00"),
    photo("p4", "2026-12-06T09:04:00+08:00"), photo("p6", "2026-12-06T09:06:00+08:00"),
    { id: "x", record_type: "visit", record_id: "other" }, { id: "t", record_type: "touchpoint", record_id: "v" },
  ];
  const { shown, more } = visitThumbs(all, "v");
  assert.deepEqual(shown.map((a) => a.id), ["p1", "p2", "p3", "p4"]); // the checklist item's too
  assert.equal(more, 2);
  assert.deepEqual(visitThumbs(all, "none"), { shown: [], more: 0 });
  assert.equal(visitThumbs(all, "v", 10).more, 0);
});
