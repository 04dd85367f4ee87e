// Setting one's own password, the pure part (pwa/js/views/password-logic.js).
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { localProblems, mustChange, passwordRoute, problemsByField } from "../../pwa/js/views/password-logic.js";

const route = (name) => ({ name, args: [], query: {} });

test("while a supervisor's password must change, every route leads to the password screen", () => {
  const user = { role: "technician", must_change_password: true };
  for (const name of ["jobs", "grid", "sync", "ticket"]) assert.equal(passwordRoute(user, route(name)).name, "password");
  assert.ok(mustChange(user));
});

test("a user with their own password goes where they asked, an old saved user too", () => {
  assert.deepEqual(passwordRoute({ must_change_password: false }, route("jobs")), route("jobs"));
  assert.deepEqual(passwordRoute({ role: "butler" }, route("grid")), route("grid")); // saved before the flag existed
  assert.equal(mustChange(null), false);
});

test("the server's problems go beside their fields, the rest under the form", () => {
  const found = problemsByField([
    { field: "current_password", code: "wrong_password", message: "当前密码不正确。" },
    { field: "new_password", code: "too_short", message: "新密码至少需要 8 个字符。" },
    { field: "_schema", code: "invalid_type", message: "请求内容的格式不正确。" },
  ]);
  assert.deepEqual(found, { current_password: ["当前密码不正确。"], new_password: ["新密码至少需要 8 个字符。"],
                            _form: ["请求内容的格式不正确。"] });
  assert.deepEqual(problemsByField(undefined), {});
});

test("empty fields and a short new password are said before asking the server", () => {
  assert.deepEqual(localProblems("", ""), { current_password: ["required"], new_password: ["required"] });
  assert.deepEqual(localProblems("old one", "short"), { new_password: ["too_short"] });
  assert.deepEqual(localProblems("old one", "long enough"), {});
});
