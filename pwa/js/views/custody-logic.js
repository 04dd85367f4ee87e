// 房屋托管 custody inspections (views/custody.js), pure logic: a contract's status, when its next
// inspection is due, which homes are due or overdue, and whether every contracted service is answered.
// The same arithmetic as the server's (server/custody/service.py); days are the phone's local days.

export const SERVICES = ["airing", "cleaning", "leak_check", "power_check", "water_check", "key_kept", "bills"];
const DAY_MS = 86_400_000;

/** "YYYY-MM-DD" of a Date in the phone's time zone. */
export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A day ("YYYY-MM-DD") moved by n days. */
export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Days from one day to another (positive when `to` is later). */
export function daysBetween(from, to) {
  const at = (day) => Date.UTC(...day.split("-").map((n, i) => Number(n) - (i === 1 ? 1 : 0)));
  return Math.round((at(to) - at(from)) / DAY_MS);
}

/** upcoming before its start, ended after its end, active between (both days included). */
export function contractStatus(contract, today) {
  if (today < contract.start_date) return "upcoming";
  if (contract.end_date && today > contract.end_date) return "ended";
  return "active";
}

/** The next inspection's day: a cycle after the last one, or the contract's first day. */
export function nextDue(contract, lastDay) {
  if (!lastDay || lastDay < contract.start_date) return contract.start_date;
  return addDays(lastDay, contract.inspection_every_days ?? 14);
}

/** overdue after the due day, due on it, else later. */
export function dueState(due, today) {
  if (today > due) return "overdue";
  return today === due ? "due" : "later";
}

/** The latest inspection's local day among a household's inspections, or null. */
export function lastInspectionDay(inspections) {
  const times = inspections.map((i) => new Date(i.inspected_at).getTime()).filter((n) => !Number.isNaN(n));
  return times.length ? isoDay(new Date(Math.max(...times))) : null;
}

/**
 * The homes whose custody inspection is due or overdue today, most overdue first:
 * [{household, contract, due, state, late}]. `inspectionsOf(householdId)` gives a household's inspections.
 */
export function custodyDue(contracts, householdOf, inspectionsOf, today) {
  const out = [];
  for (const contract of contracts) {
    const household = householdOf(contract.household_id);
    if (!household || contractStatus(contract, today) !== "active") continue;
    const due = nextDue(contract, lastInspectionDay(inspectionsOf(contract.household_id)));
    const state = dueState(due, today);
    if (state !== "later") out.push({ household, contract, due, state, late: Math.max(0, daysBetween(due, today)) });
  }
  return out.sort((a, b) => (a.due < b.due ? -1 : a.due > b.due ? 1 : 0));
}

/** A contracted service not answered yet (the server refuses such an inspection). */
export function unanswered(services, checklist) {
  return services.filter((name) => typeof checklist[name]?.ok !== "boolean");
}

/** Tapping an answer sets it; tapping the chosen one again clears it (a note stays with a problem). */
export function answer(checklist, service, ok) {
  const next = { ...checklist };
  if (next[service]?.ok === ok) delete next[service];
  else next[service] = { ok, note: ok ? "" : next[service]?.note ?? "" };
  return next;
}

/** The fields of a new inspection as the server takes them. */
export function inspectionFields({ householdId, contract, checklist, done, at }) {
  const answers = {};
  for (const name of contract.services) {
    const entry = checklist[name];
    answers[name] = entry.ok ? { ok: true } : { ok: false, note: (entry.note ?? "").trim() };
  }
  return { household_id: householdId, contract_id: contract.id, inspected_at: at, checklist: answers, done: done.trim() };
}
