// Joining a household, pure logic: codes as typed and shown, the roles in a household, which
// screens a person may see before they log in or while their request waits, and who may remove whom.
// No DOM, no store, no words, so that Node's test runner checks it (tests/js).

export const HOUSEHOLD_ROLES = ["owner", "family", "tenant"];
// Screens open to someone not logged in: the login itself, joining with a code, asking to join.
export const PUBLIC_ROUTES = new Set(["login", "join", "ask"]);
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"; // as the server's (server/joining/rules.py)
const CODE_LENGTH = 8;

/** The code as the server reads it: upper case, no spaces or dashes. */
export function normalizeCode(typed) {
  return String(typed ?? "").toUpperCase().replace(/[\s-]/g, "");
}

/** Whether a typed code can be one at all (the server still decides whether it is usable). */
export function looksLikeCode(typed) {
  const code = normalizeCode(typed);
  return code.length === CODE_LENGTH && [...code].every((ch) => ALPHABET.includes(ch));
}

/** Grouped in fours, to read aloud: ABCD-EFGH. */
export function displayCode(code) {
  const c = normalizeCode(code);
  return c.length > 4 ? `${c.slice(0, 4)}-${c.slice(4)}` : c;
}

/** The screen for a route when nobody is logged in: the public ones, else the login. */
export function publicRoute(route) {
  return PUBLIC_ROUTES.has(route.name) ? route : { name: "login", args: [], query: {} };
}

/** A resident bound to no household yet (a request waits, or they were removed): their status only. */
export function isUnbound(user) {
  return user?.role === "resident" && !user.household_id;
}

/** Whether `me` may remove `other` from the household (as server/joining/rules.py decides). */
export function mayRemove(me, other) {
  return Boolean(me && other && me.id !== other.id && me.household_role === "owner"
    && ["family", "tenant"].includes(other.household_role));
}

/** The new account's fields, checked before they are sent: the list of problems (field names). */
export function accountProblems({ username = "", password = "", name = "" } = {}, minPassword = 8) {
  const problems = [];
  if (!username.trim()) problems.push("username");
  if (!name.trim()) problems.push("name");
  if (password.length < minPassword) problems.push("password");
  return problems;
}
