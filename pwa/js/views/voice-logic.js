// Pure rules of the community's voice (共治) on the phone: which polls and activities to show, the id
// every phone gives one household's answer (so a retry or a second phone cannot count twice), whether
// an answer is complete, and how an answer's state reads (已提交 / 待同步 / 未通过). No DOM, no storage.
// Run: node --test tests/js

// The server's namespace for answer ids (server/voice/service.py ANSWER_NAMESPACE).
export const ANSWER_NAMESPACE = "6f1d2c4e-8a3b-5c7d-9e0f-1a2b3c4d5e6f";
export const ACTIVITY_NAMESPACE = "0b7e1f3a-5c2d-5e4f-8a6b-7c8d9e0f1a2b";

const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** RFC 4122 UUID version 5 (SHA-1) of `name` in `namespace`. */
export async function uuid5(namespace, name) {
  const ns = Uint8Array.from(namespace.replace(/-/g, "").match(/../g), (b) => parseInt(b, 16));
  const text = new TextEncoder().encode(name);
  const input = new Uint8Array(ns.length + text.length);
  input.set(ns);
  input.set(text, ns.length);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const h = hex(digest);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The one id of a household's answer to a poll (or a resident's, for a poll answered per resident). */
export function answerId(poll, householdId, userId) {
  const voter = poll.one_per === "resident" ? `/${userId}` : "";
  return uuid5(ANSWER_NAMESPACE, `${poll.id}/${householdId}${voter}`);
}

/** The one id of a household's sign-up to an activity. */
export function signupId(activityId, householdId) {
  return uuid5(ACTIVITY_NAMESPACE, `${activityId}/${householdId}`);
}

const at = (text) => (text ? Date.parse(text) : NaN);

/** "upcoming", "open", "closed" by this phone's clock (the server decides; this only orders the screen). */
export function pollPhase(poll, now) {
  if (poll.closed_at || now >= at(poll.closes_at)) return "closed";
  return now < at(poll.opens_at) ? "upcoming" : "open";
}

/** What a resident is shown: their building's polls and the whole community's, open first, closing soonest first. */
export function visiblePolls(polls, now, building) {
  const order = { open: 0, upcoming: 1, closed: 2 };
  return polls
    .filter((p) => !p.building || building == null || p.building === building)
    .map((p) => ({ poll: p, phase: pollPhase(p, now) }))
    .sort((a, b) => order[a.phase] - order[b.phase] || at(a.poll.closes_at) - at(b.poll.closes_at));
}

/** Activities to come, soonest first; those started are left out. */
export function upcomingActivities(activities, now, building) {
  return activities
    .filter((a) => (!a.building || building == null || a.building === building) && at(a.starts_at) > now)
    .sort((a, b) => at(a.starts_at) - at(b.starts_at));
}

/** Places left (null: no limit). */
export function placesLeft(activity) {
  return activity.capacity == null ? null : Math.max(0, activity.capacity - (activity.taken ?? 0));
}

/**
 * The answer the form holds, as the server takes it: picks is {questionId: [option ids] | score}.
 * Returns {answers, missing}: missing lists the questions not answered yet (nothing is sent then).
 */
export function buildAnswers(questions, picks) {
  const answers = [];
  const missing = [];
  for (const q of questions) {
    const pick = picks[q.id];
    if (q.type === "score") {
      if (Number.isInteger(pick) && pick >= 1 && pick <= 5) answers.push({ question_id: q.id, score: pick });
      else missing.push(q.id);
    } else {
      const chosen = (Array.isArray(pick) ? pick : []).filter((id) => q.options.some((o) => o.id === id));
      if (chosen.length && (q.type === "multi" || chosen.length === 1)) answers.push({ question_id: q.id, options: chosen });
      else missing.push(q.id);
    }
  }
  return { answers, missing };
}

/** A pick after a tap: single replaces, multi toggles, score sets. */
export function tap(picks, question, value) {
  if (question.type === "multi") {
    const now = new Set(picks[question.id] ?? []);
    if (now.has(value)) now.delete(value); else now.add(value);
    return { ...picks, [question.id]: [...now] };
  }
  return { ...picks, [question.id]: question.type === "score" ? value : [value] };
}

/**
 * How this phone's answer stands, honestly: "none" (not answered here), "pending" (待同步: saved on the
 * phone, not yet at the server), "submitted" (已提交: the server has it), "elsewhere" (the household
 * answered from another phone or at the door: counted once, this one was not needed), "refused".
 */
export function answerState(record, syncState, errors = []) {
  if (syncState === "rejected") {
    return errors.some((e) => e.code === "already_answered") ? "elsewhere" : "refused";
  }
  if (!record) return "none";
  return syncState === "pending" ? "pending" : "submitted";
}
