// Pure logic of the Sync screen (pwa/js/views/outbox-logic.js): the status line, the order of refused
// changes and conflicts, errors by field, a conflict's sides, and editing a refused value as text.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  changeFields, choiceOptions, conflictsInOrder, conflictsSignature, editText, editorKind, fieldErrors, fieldOf,
  generalErrors, parseEdit, refusedInOrder, refusedSignature, sameValue, sidesOf, statusLine,
} from "../../pwa/js/views/outbox-logic.js";

const idle = { running: false, outdated: false, lastError: null, failures: 0, retryAt: null };

test("the status line: syncing and updating first, then offline with work waiting, failures, waiting, refused", () => {
  const line = (status, more = {}) => statusLine({ status: { ...idle, ...status }, online: true, unsent: 0, refused: 0, ...more });
  assert.deepEqual(line({ running: true, outdated: true }, { online: false, unsent: 3 }), { key: "running" });
  assert.deepEqual(line({ outdated: true }, { online: false, unsent: 3 }), { key: "outdated" });
  assert.deepEqual(line({ lastError: "network", failures: 2 }, { online: false, unsent: 3 }), { key: "offline_wait" });
  assert.deepEqual(line({ lastError: "network", failures: 2, retryAt: 1700000000000 }, { unsent: 3 }),
    { key: "failed", retryAt: 1700000000000 });
  assert.deepEqual(line({ lastError: "network", failures: 0 }, { unsent: 3 }), { key: "waiting" }); // recovered
  assert.deepEqual(line({}, { online: false, unsent: 0 }), { key: "all_sent" }); // offline, nothing to send
  assert.deepEqual(line({}, { refused: 2 }), { key: "needs_you", params: { n: 2 } });
  assert.deepEqual(line({}, { unsent: 1, refused: 2 }), { key: "waiting" });
});

test("refused changes in the order they were made; the list is redrawn only when what it shows changes", () => {
  const rejected = [{ mid: "b", n: 5, fields: { a: 1 }, errors: [] }, { mid: "a", n: 2, fields: {}, errors: [] }, { mid: "c" }];
  assert.deepEqual(refusedInOrder(rejected).map((m) => m.mid), ["c", "a", "b"]);
  assert.deepEqual(rejected.map((m) => m.mid), ["b", "a", "c"]); // the list given is left as it was
  const before = refusedSignature(rejected);
  assert.equal(refusedSignature(rejected.map((m) => ({ ...m, rejectedAt: "later" }))), before);
  assert.notEqual(refusedSignature([{ ...rejected[0], errors: [{ code: "required" }] }, ...rejected.slice(1)]), before);
});

test("conflicts oldest first, redrawn when one or its sync state changes", () => {
  const conflicts = [{ id: "2", created_at: "2026-11-02T00:00:00Z" }, { id: "1", created_at: "2026-11-01T00:00:00Z" }];
  assert.deepEqual(conflictsInOrder(conflicts).map((c) => c.id), ["1", "2"]);
  const synced = conflictsSignature(conflicts, () => "synced");
  assert.equal(conflictsSignature(conflicts, () => "synced"), synced);
  assert.notEqual(conflictsSignature(conflicts, (id) => (id === "1" ? "pending" : "synced")), synced);
});

test("a refused change's fields to fix; errors by the field they name, the rest said above the form", () => {
  assert.deepEqual(changeFields({ op: "delete", fields: { a: 1 } }), {});
  assert.deepEqual(changeFields({ op: "put", fields: { a: 1 } }), { a: 1 });
  assert.deepEqual(changeFields({ op: "put" }), {});
  assert.equal(fieldOf({ field: "mutations.0.fields.phone" }), "phone");
  assert.equal(fieldOf({}), "");
  const errors = [{ field: "phone", code: "invalid_phone" }, { field: "mutations.0.fields.phone", code: "too_long" },
                  { field: "household_id", code: "out_of_scope" }, { code: "forbidden" }];
  assert.deepEqual(fieldErrors(errors, "phone").map((e) => e.code), ["invalid_phone", "too_long"]);
  assert.deepEqual(generalErrors(errors, { phone: "1", name: "x" }).map((e) => e.code), ["out_of_scope", "forbidden"]);
});

test("a conflict's sides: mine first; both mine are told apart by which synced later", () => {
  const c = { kept: { value: "A", at: "2026-11-01T09:00:00+08:00", user_id: "u1" }, other: { value: "B", user_id: "u2" } };
  const pick = (sides) => sides.map((s) => [s.side, s.label, s.which, s.value]);
  assert.deepEqual(pick(sidesOf(c, "u1")), [["mine", "mine", "kept", "A"], ["theirs", "theirs", "other", "B"]]);
  assert.deepEqual(pick(sidesOf(c, "u2")), [["mine", "mine", "other", "B"], ["theirs", "theirs", "kept", "A"]]);
  assert.deepEqual(pick(sidesOf(c, "u3")), [["kept", "kept", "kept", "A"], ["replaced", "replaced", "other", "B"]]);
  const twoPhones = { kept: { value: "A", user_id: "u1" }, other: { value: "B", user_id: "u1" } };
  assert.deepEqual(pick(sidesOf(twoPhones, "u1")),
    [["later", "mine_later", "kept", "A"], ["earlier", "mine_earlier", "other", "B"]]);
  assert.equal(sidesOf(c, "u1")[0].at, "2026-11-01T09:00:00+08:00");
  assert.equal(sidesOf(c, "u1")[1].at, null); // the replaced value's time is not known
  assert.deepEqual(pick(sidesOf({ kept: { value: "A" }, other: { value: "B" } }, undefined))[0], ["kept", "kept", "kept", "A"]);
});

test("the same value: a missing one is null, lists and objects by content", () => {
  assert.ok(sameValue(undefined, null));
  assert.ok(sameValue(["a", "b"], ["a", "b"]));
  assert.ok(!sameValue(["a", "b"], ["b", "a"]));
  assert.ok(!sameValue(0, null));
});

test("each value is edited in the input that fits it", () => {
  assert.equal(editorKind("household_id", "h-1"), "reference");
  assert.equal(editorKind("household_id", "h-1", { bad: true }), "text"); // refused: the user may change it
  assert.equal(editorKind("relation", "owner", { choices: ["owner", "family"] }), "choice");
  assert.equal(editorKind("consent", true), "boolean");
  assert.equal(editorKind("area_m2", 88.5), "number");
  assert.equal(editorKind("checklist", { leaks: { ok: true } }), "json");
  assert.equal(editorKind("tags", ["独居老人"]), "text"); // a plain list reads as 独居老人、空巢
  assert.equal(editorKind("notes", ""), "long");
  assert.equal(editorKind("name", "x".repeat(61)), "long");
  assert.equal(editorKind("name", "a\nb"), "long");
  assert.equal(editorKind("name", "王阿姨"), "text");
  assert.equal(editorKind("phone", null), "text");
});

test("a choice keeps what was typed, even when it is not one of the allowed values", () => {
  assert.deepEqual(choiceOptions(["owner", "family"], "family"), ["owner", "family"]);
  assert.deepEqual(choiceOptions(["owner", "family"], "boss"), ["boss", "owner", "family"]);
});

test("values as text to edit, and back to their own type", () => {
  assert.equal(editText(null), "");
  assert.equal(editText(["独居老人", "空巢"]), "独居老人、空巢");
  assert.equal(editText({ a: 1 }), '{\n "a": 1\n}');
  assert.equal(editText(12), "12");
  assert.equal(parseEdit(true, "false"), false);
  assert.equal(parseEdit(false, " true "), true);
  assert.equal(parseEdit(3, " 4.5 "), 4.5);
  assert.equal(parseEdit(3, ""), null);
  assert.throws(() => parseEdit(3, "four"), /not a number/);
  assert.deepEqual(parseEdit(["a"], "独居老人、空巢, 有小孩；孕妇"), ["独居老人", "空巢", "有小孩", "孕妇"]);
  assert.deepEqual(parseEdit([1, 2], "3,4"), [3, 4]);
  assert.deepEqual(parseEdit([], ""), []);
  assert.deepEqual(parseEdit({ a: 1 }, '{"a": 2}'), { a: 2 });
  assert.equal(parseEdit({ a: 1 }, " "), null);
  assert.throws(() => parseEdit({ a: 1 }, "{oops"), SyntaxError);
  assert.equal(parseEdit(null, ""), null);
  assert.equal(parseEdit(null, "42"), 42); // a number left empty before
  assert.equal(parseEdit(undefined, "王"), "王");
  assert.equal(parseEdit("old", "  new  "), "  new  "); // text is kept as typed
});
