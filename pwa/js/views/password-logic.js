// Setting one's own password, pure logic: whether the app must ask for it before anything else, and
// which problem the server named belongs beside which field. No DOM, no store (password.js adds
// those), so that Node's test runner checks it (tests/js). The server's rules: server/auth/service.py
// change_password.

export const FIELDS = ["current_password", "new_password"];
export const MIN_LENGTH = 8; // the server's rule (MIN_PASSWORD_LENGTH); the server checks it again

/** A supervisor chose this user's password: nothing else opens until they set their own. */
export function mustChange(user) {
  return Boolean(user?.must_change_password);
}

/** The screen for a route: the password screen while the user must change it, else the route. */
export function passwordRoute(user, route) {
  return mustChange(user) ? { name: "password", args: [], query: {} } : route;
}

/** The server's field errors by field ({current_password: [message], …}); those of no field shown
 * here (or of the request as a whole) under `_form`. */
export function problemsByField(errors) {
  const found = {};
  for (const e of errors ?? []) {
    const key = FIELDS.includes(e?.field) ? e.field : "_form";
    (found[key] ??= []).push(e?.message ?? e?.code ?? "");
  }
  return found;
}

/** What the phone can say before asking the server: each field filled in, the new one long enough. */
export function localProblems(current, next) {
  const found = {};
  if (!current) found.current_password = ["required"];
  if (!next) found.new_password = ["required"];
  else if (next.length < MIN_LENGTH) found.new_password = ["too_short"];
  return found;
}
