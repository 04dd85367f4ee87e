// The butler's daily check-in (签到/签退), pure logic: which of the phone's check-ins are today's, what
// today's state is, and which tap comes next. No DOM, no store, no words (views/checkin.js adds those),
// so that Node's test runner checks it (tests/js). Days are the phone's own calendar days.

export const KINDS = ["in", "out"]; // 签到, 签退 (server/attendance/models.py)

const pad = (n) => String(n).padStart(2, "0");

/** The phone's local calendar day of a time, as YYYY-MM-DD ("" for no valid time). */
export function localDay(value) {
  const d = value instanceof Date ? value : new Date(value ?? NaN);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "08:42": the local time of day of a time. */
export function clock(value) {
  const d = value instanceof Date ? value : new Date(value);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The check-ins made on the same local day as `now`, oldest first. */
export function todays(checkins, now = new Date()) {
  const today = localDay(now);
  return checkins.filter((c) => c && KINDS.includes(c.kind) && localDay(c.at) === today)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || String(a.id).localeCompare(String(b.id)));
}

/**
 * Today at a glance: the first 签到 and the last 签退 of the day (records, or null), each with its sync
 * state (`stateOf(id)`: "pending" | "rejected" | "synced"), and which tap comes next: "in" until the
 * butler has checked in, "out" after that, "in" again after a 签退 (back from a break).
 * A refused check-in does not count as done: the tap is still to be made.
 */
export function dayState(checkins, { now = new Date(), stateOf = () => "synced" } = {}) {
  const mine = todays(checkins, now).map((c) => ({ ...c, state: stateOf(c.id) }));
  const standing = mine.filter((c) => c.state !== "rejected");
  const firstIn = mine.find((c) => c.kind === "in" && c.state !== "rejected")
    ?? mine.find((c) => c.kind === "in") ?? null;
  const outs = mine.filter((c) => c.kind === "out");
  const lastOut = [...outs].reverse().find((c) => c.state !== "rejected") ?? outs.at(-1) ?? null;
  const last = standing.at(-1) ?? null;
  return { firstIn, lastOut, next: last?.kind === "in" ? "out" : "in", count: standing.length };
}
