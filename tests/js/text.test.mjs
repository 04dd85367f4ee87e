// Text the phone sends (pwa/js/text.js): cut by code point, never leaving half of a character.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { Replica } from "../../pwa/js/replica.js";
import { cut, wellFormed } from "../../pwa/js/text.js";
import { excerpt } from "../../pwa/js/views/household-logic.js";
import { NOTE_MAX, visitFields } from "../../pwa/js/views/visit-logic.js";

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

test("a cut through an emoji keeps the emoji whole or leaves it out, never half of it", () => {
  const text = "a😀b";
  assert.equal("a😀b".slice(0, 2), "a\uD83D"); // what .slice did: half an emoji
  assert.equal(cut(text, 1), "a");
  assert.equal(cut(text, 2), "a😀");
  assert.equal(cut(text, 3), "a😀b");
  assert.equal(cut("😀".repeat(600), 500), "😀".repeat(500));
  assert.equal(cut("", 5), "");
});

test("a cut counts characters as the server does, not UTF-16 units", () => {
  assert.equal(Array.from(cut("𠀀".repeat(10), 8)).length, 8); // a CJK character outside the BMP
  assert.equal(cut("走访顺利", 2), "走访");
});

test("a visit's checklist note is cut to the server's limit without a lone surrogate", () => {
  const note = "x".repeat(NOTE_MAX - 1) + "😀😀";
  const form = { kind: "routine", checklist: { door: { ok: false, note } }, satisfaction: null, products: [] };
  const sent = visitFields(form, { needs: [], notes: "", followUp: null }).checklist.door.note;
  assert.equal(Array.from(sent).length, NOTE_MAX);
  assert.ok(!LONE.test(sent));
  assert.ok(sent.endsWith("😀"));
});

test("an excerpt never ends in half an emoji", () => {
  const shown = excerpt("x".repeat(39) + "😀 之后", 40);
  assert.equal(shown, "x".repeat(39) + "😀…");
  assert.ok(!LONE.test(shown));
});

test("lone surrogates in what a change sends become U+FFFD, through lists and objects", () => {
  assert.equal(wellFormed("a\uD800b"), "a\uFFFDb");
  assert.equal(wellFormed("\uDC00"), "\uFFFD");
  assert.equal(wellFormed("😀"), "😀");
  assert.deepEqual(wellFormed({ notes: "\uD83D", tags: ["ok", "\uDE00"], checklist: { door: { note: "x\uD800" } }, n: 3 }),
                   { notes: "\uFFFD", tags: ["ok", "\uFFFD"], checklist: { door: { note: "x\uFFFD" } }, n: 3 });
});

test("the outbox never holds a lone surrogate, whatever the form gave it", () => {
  const replica = new Replica();
  const { mutation, local } = replica.change("person", "p1", { name: "王\uD800" }, { mid: "m1", at: "2026-11-27T09:15:02+08:00", n: 1 });
  assert.equal(mutation.fields.name, "王\uFFFD");
  assert.equal(local.data.name, "王\uFFFD");
});
