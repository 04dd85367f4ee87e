// Joining a household, the phone's pure logic (pwa/js/views/joining-logic.js).
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  accountProblems, displayCode, isUnbound, looksLikeCode, mayRemove, normalizeCode, publicRoute,
} from "../../pwa/js/views/joining-logic.js";

test("a typed code ignores case, spaces and dashes, and is shown in two groups of four", () => {
  assert.equal(normalizeCode(" abcd-efgh "), "ABCDEFGH");
  assert.equal(displayCode("abcdefgh"), "ABCD-EFGH");
  assert.ok(looksLikeCode("abcd efgh"));
  assert.ok(!looksLikeCode("ABCD-EFG")); // too short
  assert.ok(!looksLikeCode("ABCD-EFG0")); // 0 is not in the alphabet (it reads like O)
});

test("nobody logged in reaches the login, joining with a code and asking to join, nothing else", () => {
  for (const name of ["login", "join", "ask"]) assert.equal(publicRoute({ name, args: [], query: {} }).name, name);
  assert.equal(publicRoute({ name: "grid", args: [], query: {} }).name, "login");
  assert.equal(publicRoute({ name: "household", args: ["x"], query: {} }).name, "login");
});

test("a resident with no household sees only their request; a butler is never 'unbound'", () => {
  assert.ok(isUnbound({ role: "resident", household_id: null }));
  assert.ok(!isUnbound({ role: "resident", household_id: "h" }));
  assert.ok(!isUnbound({ role: "butler", household_id: null }));
});

test("an owner may remove family and tenants, nobody else and not themselves", () => {
  const owner = { id: "o", household_role: "owner" };
  assert.ok(mayRemove(owner, { id: "f", household_role: "family" }));
  assert.ok(mayRemove(owner, { id: "t", household_role: "tenant" }));
  assert.ok(!mayRemove(owner, { id: "o2", household_role: "owner" }));
  assert.ok(!mayRemove(owner, owner));
  assert.ok(!mayRemove({ id: "f", household_role: "family" }, { id: "t", household_role: "tenant" }));
});

test("a new account needs a name, a username and a password of eight or more", () => {
  assert.deepEqual(accountProblems({ username: "wang", password: "12345678", name: "王" }), []);
  assert.deepEqual(accountProblems({ username: " ", password: "short", name: "" }), ["username", "name", "password"]);
});
