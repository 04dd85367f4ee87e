// The Sync screen (同步, views/outbox.js), pure logic: the status line's case, the order of refused
// changes and conflicts (and when their lists need drawing again), which errors belong to which field,
// a conflict's two sides, and how a refused value is edited as text and read back. No DOM, no store, no
// words (the view adds those), so that Node's test runner checks it (tests/js).

/** Which status line the screen shows (outbox.<key> in i18n), with what fills it in.
 * `status` is sync.js's; `refused` is how many changes the server refused. */
export function statusLine({ status, online, unsent, refused }) {
  if (status.running) return { key: "running" };
  if (status.outdated) return { key: "outdated" };
  if (!online && unsent) return { key: "offline_wait" };
  if (status.lastError && status.failures) return { key: "failed", retryAt: status.retryAt ?? null };
  if (unsent) return { key: "waiting" };
  return refused ? { key: "needs_you", params: { n: refused } } : { key: "all_sent" };
}

/** Refused changes in the order they were made. */
export const refusedInOrder = (rejected) => [...rejected].sort((a, b) => (a.n ?? 0) - (b.n ?? 0));

/** What the refused list shows: it is drawn again only when this changes (a sync finishing must not
 * wipe a half-typed fix). */
export const refusedSignature = (rejected) => JSON.stringify(rejected.map((m) => [m.mid, m.fields, m.errors]));

/** Open conflicts, oldest first. */
export const conflictsInOrder = (conflicts) =>
  [...conflicts].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));

/** What the conflict list shows, with each conflict's sync state (stateOf(id)). */
export const conflictsSignature = (conflicts, stateOf) => JSON.stringify(conflicts.map((c) => [c, stateOf(c.id)]));

/** The fields a refused change carried, to fix and resend (a delete carries none). */
export const changeFields = (m) => (m.op === "delete" ? {} : m.fields ?? {});

/** The field an error names: "mutations.0.fields.x" from a 422 reads as x. */
export const fieldOf = (error) => String(error.field ?? "").split(".").pop();

/** The errors about one field. */
export const fieldErrors = (errors, field) => errors.filter((e) => fieldOf(e) === field);

/** The errors about no field the change carried: said above the form. */
export const generalErrors = (errors, fields) => errors.filter((e) => !(fieldOf(e) in fields));

/** A conflict's two sides: mine first, then theirs; when both are this user's (two phones), told apart by
 * which synced later. `label` is the side's name (outbox.<label> in i18n). */
export function sidesOf(c, myId) {
  const isMe = (userId) => Boolean(userId) && userId === myId;
  const kept = { which: "kept", value: c.kept?.value ?? null, at: c.kept?.at ?? null, mine: isMe(c.kept?.user_id) };
  const other = { which: "other", value: c.other?.value ?? null, at: null, mine: isMe(c.other?.user_id) };
  const as = (s, side, label) => ({ ...s, side, label });
  if (kept.mine && other.mine) return [as(kept, "later", "mine_later"), as(other, "earlier", "mine_earlier")];
  if (kept.mine) return [as(kept, "mine", "mine"), as(other, "theirs", "theirs")];
  if (other.mine) return [as(other, "mine", "mine"), as(kept, "theirs", "theirs")];
  return [as(kept, "kept", "kept"), as(other, "replaced", "replaced")];
}

/** Whether two values are the same (a missing one counts as null). */
export function sameValue(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

const LONG_TEXT = new Set(["notes", "description", "resolution_note", "summary", "note", "rating_comment"]);

/** The input for one field of a refused change: "reference" (an id chosen elsewhere, shown as what it
 * names and sent back unchanged, unless the server refused it), "choice" (a select of `choices`, the
 * field's allowed values), "boolean", "number", "json", "long" (a text area) or "text". */
export function editorKind(field, value, { choices = null, bad = false } = {}) {
  if (/_id$/.test(field) && typeof value === "string" && !bad) return "reference";
  if (choices) return "choice";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return "number";
  if (value !== null && typeof value === "object" && !isPlainList(value)) return "json";
  if (LONG_TEXT.has(field) || (typeof value === "string" && (value.length > 60 || value.includes("\n")))) return "long";
  return "text";
}

/** A choice's options: the allowed values, after what was typed when it is not one of them (kept, even
 * if wrong, so the user sees it). */
export const choiceOptions = (choices, value) => (choices.includes(value) ? choices : [value, ...choices]);

export function isPlainList(value) {
  return Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number");
}

/** A value as text to edit. */
export function editText(value) {
  if (value === null || value === undefined) return "";
  if (isPlainList(value)) return value.join("、");
  if (typeof value === "object") return JSON.stringify(value, null, 1);
  return String(value);
}

/** Text back to a value of the type the field had; throws when it cannot be read. */
export function parseEdit(original, text) {
  const raw = String(text ?? "");
  const trimmed = raw.trim();
  if (typeof original === "boolean") return trimmed === "true";
  if (typeof original === "number") {
    if (trimmed === "") return null;
    const n = Number(trimmed);
    if (!Number.isFinite(n)) throw new Error("not a number");
    return n;
  }
  if (isPlainList(original)) {
    const items = trimmed.split(/[、,，;；]\s*/).map((s) => s.trim()).filter(Boolean);
    return original.length && original.every((v) => typeof v === "number") ? items.map(Number) : items;
  }
  if (original !== null && typeof original === "object") return trimmed === "" ? null : JSON.parse(trimmed);
  if (original === null || original === undefined) {
    if (trimmed === "") return null;
    return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : raw; // a number left empty before
  }
  return raw;
}
