// The household file (户档案, views/household.js), pure logic: checking the household's and a person's
// form, the fields a person's save sends (consent decides about the phone and year of birth), and the
// order of the history lists. No DOM, no store, no words (the view adds those), so that Node's test
// runner checks it (tests/js).

import { photosOf } from "../photos-logic.js";
import { cut } from "../text.js";

export const PHONE = /^\+?[0-9][0-9 -]{4,19}$/; // the server's rule (server/community/schemas.py)
export const PERSON_TAGS = ["行动不便", "独居老人", "有小孩", "孕妇", "养宠物"];
export const HOUSEHOLD_TAGS = ["独居老人", "有小孩", "养宠物", "空巢", "租户"];
export const RECENT_TOUCHPOINTS = 5;
export const CYCLE_DAYS = { min: 1, max: 730, default: 90 }; // a household's visit cycle (the server's)
export const FIRST_BIRTH_YEAR = 1900;

/** The start of a long text, cut at n characters with "…". */
export const excerpt = (text, n = 40) => (text && cut(text, n) !== text ? `${cut(text, n)}…` : text ?? "");

/** Tag suggestions as the tag editor takes them, each labelled by `name` (the reader's language). */
export const suggestions = (values, name = (value) => value) => values.map((value) => ({ value, label: name(value) }));

/** The visit cycle typed, as days, or null when it is not a whole number of days in range. */
export function cycleDays(text) {
  const days = Number(text);
  return Number.isInteger(days) && days >= CYCLE_DAYS.min && days <= CYCLE_DAYS.max ? days : null;
}

/** A new person is the owner, unless the household has one already: then family. */
export const newPersonRelation = (people) => (people.some((x) => x.relation === "owner") ? "family" : "owner");

/** What is wrong with a person's form ("err_name", "err_phone", "err_year"), or null when nothing.
 * `phone` and `birthYear` are as typed; `thisYear` is the phone's current year. */
export function personProblem({ name, phone, birthYear }, thisYear) {
  const year = birthYear ? Number(birthYear) : null;
  const number = String(phone ?? "").trim() || null;
  if (!String(name ?? "").trim()) return "err_name";
  if (number && !PHONE.test(number)) return "err_phone";
  if (year !== null && (!Number.isInteger(year) || year < FIRST_BIRTH_YEAR || year > thisYear)) return "err_year";
  return null;
}

/** A person's fields from the form. The phone and year of birth go only with consent, or when consent
 * was withdrawn (as empty, so that the server erases them); a new person is sent no empty ones. */
export function personFields(form, { consentBefore = false, isNew = false } = {}) {
  const year = form.birthYear ? Number(form.birthYear) : null;
  const number = String(form.phone ?? "").trim() || null;
  const next = { name: form.name.trim(), relation: form.relation, consent: form.consent, tags: form.tags,
                 notes: form.notes };
  if (form.consent || consentBefore) Object.assign(next, { phone: number, birth_year: year });
  if (isNew) {
    if (next.phone === null) delete next.phone;
    if (next.birth_year === null) delete next.birth_year;
  }
  return next;
}

/** Visits, newest first. */
export const visitsNewestFirst = (visits) => [...visits].sort((a, b) => Date.parse(b.visited_at) - Date.parse(a.visited_at));

/** The latest touchpoints, newest first. */
export const recentTouchpoints = (touchpoints, n = RECENT_TOUCHPOINTS) =>
  [...touchpoints].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, n);

/** Tickets, newest first (one with no time yet last). */
export const ticketsNewestFirst = (tickets) =>
  [...tickets].sort((a, b) => String(b.created_at ?? "").localeCompare(String(a.created_at ?? "")));

/** Orders, newest first (one with no time yet last). */
export const ordersNewestFirst = (orders) =>
  [...orders].sort((a, b) => String(b.created_at ?? "~").localeCompare(String(a.created_at ?? "~")));

/** How many checklist items of a visit had a problem. */
export const problemCount = (visit) => Object.values(visit.checklist ?? {}).filter((item) => item && item.ok === false).length;

export const VISIT_THUMBS = 4; // thumbnails in a visit's row of the list; the rest are counted (+2)

/** A visit's photos for its row in the list (the visit's own and its checklist items', oldest first):
 * {shown, more}. */
export function visitThumbs(attachments, visitId, max = VISIT_THUMBS) {
  const all = photosOf(attachments, { recordType: "visit", recordId: visitId });
  return { shown: all.slice(0, max), more: Math.max(0, all.length - max) };
}
