// Emergencies (突发事件), pure logic: which incidents touch a building, what a resident's banner says,
// the butler's door-knock list (who to knock on, in what order, from when), and the deterministic id of
// a household's answer (UUIDv5, RFC 4122 §4.3). No DOM, no store, no words (views/incident.js adds
// those), so that Node's test runner checks it (tests/js). Everything comes from the phone's replica:
// the list works with no signal.

// The server's value lists (server/incidents), in their order.
export const KINDS = ["water_cut", "power_cut", "leak", "lift_entrapment", "fire_alarm", "typhoon", "health_notice",
                      "other"];
export const SEVERITIES = ["notice", "serious", "critical"];
export const ANSWERS = ["safe", "need_help", "not_home"];
export const DEFAULT_KNOCK_MINUTES = 15;
export const KNOCK_RANGE = [1, 240]; // minutes, as the server takes them
export const VULNERABLE_AGE = 75; // an elderly person living alone: at least this old, the only member
export const ALL_CLEAR_SHOWN_MS = 24 * 3_600_000; // a resident sees 已解除 for a day after the all-clear
const MINUTE_MS = 60_000;
const collator = new Intl.Collator("zh-CN", { numeric: true });

// ---- UUIDv5 ----------------------------------------------------------------------------------------
function uuidBytes(uuid) {
  const hex = String(uuid).replace(/-/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${uuid}`);
  return Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
}

function uuidText(bytes) {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** UUID version 5 (SHA-1 of the namespace's 16 bytes and the name's UTF-8), as Python's uuid.uuid5. */
export async function uuid5(namespace, name) {
  const ns = uuidBytes(namespace);
  const nameBytes = new TextEncoder().encode(String(name));
  const data = new Uint8Array(ns.length + nameBytes.length);
  data.set(ns);
  data.set(nameBytes, ns.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-1", data)).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8] & 0x3f) | 0x80; // the RFC 4122 variant
  return uuidText(hash);
}

/** The id of a household's answer to an incident: a resident and a butler answering offline write the
 * same record, which the server merges. */
export function checkId(incidentId, householdId) {
  return uuid5(incidentId, householdId);
}

// ---- which incidents ----------------------------------------------------------------------------------
export const isOpen = (incident) => Boolean(incident) && !incident.deleted && !incident.ended_at;

/** An incident for the whole community ([] buildings) or naming the building. */
export function affects(incident, building) {
  const buildings = incident?.buildings ?? [];
  return !buildings.length || buildings.includes(building);
}

export const isUrgent = (incident) => incident?.severity === "serious" || incident?.severity === "critical";

const severityRank = (incident) => -SEVERITIES.indexOf(incident.severity ?? "notice");
const newestFirst = (a, b) => String(b.started_at ?? "").localeCompare(String(a.started_at ?? ""));

/** Open incidents, the most severe first, then the newest. */
export function openIncidents(incidents) {
  return incidents.filter(isOpen).sort((a, b) => severityRank(a) - severityRank(b) || newestFirst(a, b));
}

// ---- the resident's banner ----------------------------------------------------------------------------
/**
 * What the resident's home shows at its top, or null: the open incident affecting their building (the
 * most severe, then the newest) with the household's answer, or else one that ended within the last day
 * (已解除). `stateOf(checkId)` is the answer's sync state ("pending" | "rejected" | "synced").
 * state: "ask" (no answer yet), "queued" (answered, not yet on the server), "told" (on the server),
 * "refused" (the server refused it), "all_clear".
 */
export function residentBanner(incidents, { building, checks = [], now = Date.now(), stateOf = () => "synced" }) {
  const mine = incidents.filter((i) => i && !i.deleted && affects(i, building));
  const open = openIncidents(mine)[0];
  if (open) {
    const check = checks.find((c) => c.incident_id === open.id && ANSWERS.includes(c.answer)) ?? null;
    if (!check) return { incident: open, state: "ask", check: null, urgent: isUrgent(open) };
    const sync = stateOf(check.id);
    const state = sync === "pending" ? "queued" : sync === "rejected" ? "refused" : "told";
    return { incident: open, state, check, urgent: isUrgent(open) };
  }
  const ended = mine.filter((i) => i.ended_at && now - Date.parse(i.ended_at) < ALL_CLEAR_SHOWN_MS)
    .sort((a, b) => String(b.ended_at).localeCompare(String(a.ended_at)))[0];
  return ended ? { incident: ended, state: "all_clear", check: null, urgent: false } : null;
}

// ---- the butler's door-knock list ---------------------------------------------------------------------
/** The floor in a room number: "301" → 3, "1502" → 15, "12" → null (no floor in it). */
export function floorOf(room) {
  const digits = /\d+/.exec(String(room ?? ""))?.[0];
  if (!digits || digits.length < 3) return null;
  return Number(digits.slice(0, -2));
}

/** An elderly person living alone: the household's only member, born at least 75 years ago. Birth
 * years are on the phone only where the person consented; without one nobody is presumed elderly. */
export function isVulnerable(people, now = Date.now()) {
  if (people.length !== 1) return false;
  const year = new Date(now).getFullYear();
  const born = people[0]?.birth_year;
  return Number.isInteger(born) && born <= year - VULNERABLE_AGE;
}

/** When knocking starts: started_at plus knock_after_minutes (ms since the epoch). */
export function knockAt(incident) {
  const minutes = Number.isInteger(incident.knock_after_minutes) ? incident.knock_after_minutes : DEFAULT_KNOCK_MINUTES;
  return Date.parse(incident.started_at) + minutes * MINUTE_MS;
}

/** Whole minutes until knocking starts (0 once it has). */
export function minutesLeft(incident, now = Date.now()) {
  return Math.max(0, Math.ceil((knockAt(incident) - now) / MINUTE_MS));
}

function byAddress(a, b) {
  const fa = floorOf(a.household.room);
  const fb = floorOf(b.household.room);
  return collator.compare(String(a.household.building), String(b.household.building))
    || (fa ?? Infinity) - (fb ?? Infinity)
    || collator.compare(String(a.household.unit ?? ""), String(b.household.unit ?? ""))
    || collator.compare(String(a.household.room ?? ""), String(b.household.room ?? ""));
}

/**
 * The door-knock list of one incident over the butler's households (`peopleOf(id)`, `checkOf(id)`: the
 * household's people and its answer to this incident, or null). Returns
 * {phase: "waiting" | "knock", minutesLeft, rows, answered, counts}:
 * rows: households needing the butler: those that asked for help first, then those with no answer
 * "safe" or "need_help" (none, or 无人应答), the vulnerable first, each group by building, floor, unit,
 * room. Before knock time they wait for the residents (phase "waiting", 等待住户确认).
 * answered: those that said they are safe, by address. Each row: {household, check, vulnerable, need}
 * with need "help" | "knock" | "wait" | "safe".
 */
export function knockList(incident, households, { peopleOf = () => [], checkOf = () => null, now = Date.now() } = {}) {
  const phase = now >= knockAt(incident) ? "knock" : "waiting";
  const rows = [];
  const answered = [];
  const counts = { households: 0, safe: 0, need_help: 0, not_home: 0, none: 0, vulnerable: 0 };
  for (const household of households) {
    if (!affects(incident, household.building)) continue;
    const check = checkOf(household.id) ?? null;
    const answer = ANSWERS.includes(check?.answer) ? check.answer : null;
    const vulnerable = isVulnerable(peopleOf(household.id), now);
    counts.households += 1;
    counts[answer ?? "none"] += 1;
    if (vulnerable) counts.vulnerable += 1;
    const need = answer === "safe" ? "safe" : answer === "need_help" ? "help" : phase === "knock" ? "knock" : "wait";
    (need === "safe" ? answered : rows).push({ household, check, vulnerable, need });
  }
  const rank = (row) => (row.need === "help" ? 0 : 1) * 2 + (row.vulnerable ? 0 : 1);
  rows.sort((a, b) => rank(a) - rank(b) || byAddress(a, b));
  answered.sort(byAddress);
  return { phase, minutesLeft: minutesLeft(incident, now), rows, answered, counts };
}

/** The buildings of the butler's households, for raising an incident (sorted as the grid sorts). */
export function buildingsOf(households) {
  return [...new Set(households.map((h) => h.building).filter(Boolean))].sort(collator.compare);
}

/** What a new incident raised on the phone may send, or {errors}: kind, severity, a title, buildings. */
export function incidentForm({ kind, severity, title, body = "", buildings = [], knockAfter }, { known = [], now = new Date() } = {}) {
  const errors = {};
  if (!KINDS.includes(kind)) errors.kind = "required";
  if (!SEVERITIES.includes(severity)) errors.severity = "required";
  const cleanTitle = String(title ?? "").trim();
  if (!cleanTitle) errors.title = "required";
  const chosen = [...new Set(buildings)].filter((b) => known.includes(b));
  const minutes = knockAfter === undefined || knockAfter === "" ? DEFAULT_KNOCK_MINUTES : Number(knockAfter);
  if (!Number.isInteger(minutes) || minutes < KNOCK_RANGE[0] || minutes > KNOCK_RANGE[1]) errors.knock_after_minutes = "range";
  if (Object.keys(errors).length) return { errors };
  return { fields: { kind, severity, title: cleanTitle, body: String(body ?? "").trim(), buildings: chosen,
                     knock_after_minutes: minutes, started_at: now.toISOString() } };
}
