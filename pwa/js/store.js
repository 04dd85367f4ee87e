// The app's records for the views: reads from memory, writes through db.js (one transaction each)
// and tells the sync client. Views call only this module (and i18n.js); never IndexedDB or fetch.

import * as db from "./db.js";
import { Replica, key } from "./replica.js";

export const replica = new Replica();
export let meta = {};
const listeners = new Set();
let afterSave = () => {};

/** Called with no arguments whenever records change (a save, a sync); returns an unsubscribe. */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function notify() {
  for (const listener of listeners) listener();
}

/** The sync client asks to hear of each save (it syncs soon after, when online). */
export function onSave(callback) {
  afterSave = callback;
}

export async function load() {
  const stored = await db.loadAll();
  meta = stored.meta;
  replica.load(stored);
  return meta;
}

export async function setMeta(values) {
  await db.setMeta(values);
  meta = { ...meta, ...values };
}

// ---- drafts: a form's input kept as it is typed, so a reload or a killed app loses nothing ------------
export function draft(name) {
  return meta[`draft:${name}`] ?? null;
}

export function saveDraft(name, value) {
  return setMeta({ [`draft:${name}`]: value });
}

export function dropDraft(name) {
  return meta[`draft:${name}`] ? setMeta({ [`draft:${name}`]: null }) : Promise.resolve();
}

export function uuid() {
  return crypto.randomUUID();
}

/** Now, with the phone's offset (the contract's `at`: when the user made the change). */
export function nowWithOffset(date = new Date()) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const pad = (n, w = 2) => String(Math.abs(Math.trunc(n))).padStart(w, "0");
  const local = new Date(date.getTime() + offset * 60000).toISOString().slice(0, 23);
  return `${local}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// ---- reading --------------------------------------------------------------------------------------
export const get = (type, id) => replica.get(type, id);
export const all = (type, householdId) => replica.all(type, householdId);
export const state = (type, id) => replica.state(type, id);

export function unsentCount() {
  return replica.outbox.length;
}

export function rejected() {
  return [...replica.rejected.values()];
}

/** Open conflicts this user can settle. */
export function openConflicts() {
  return replica.all("conflict").filter((c) => c.status === "open");
}

// ---- writing ----------------------------------------------------------------------------------------
/** Save a new record or changed fields; instant and offline. Returns the record as now seen. */
export async function save(type, id, fields) {
  const change = replica.change(type, id, fields, { mid: uuid(), at: nowWithOffset() });
  change.mutation.n = await db.saveChange(change.mutation, change.local);
  replica.noteChange(change);
  notify();
  afterSave();
  return change.local.data;
}

export function create(type, fields) {
  return save(type, uuid(), fields);
}

export async function remove(type, id) {
  const change = replica.remove(type, id, { mid: uuid(), at: nowWithOffset() });
  change.mutation.n = await db.saveChange(change.mutation, change.local);
  replica.noteChange(change);
  notify();
  afterSave();
}

/** Send a refused change again with the user's corrections (a new mutation; the old one is answered). */
export async function resend(mid, corrected) {
  const old = replica.rejected.get(mid);
  if (!old) return;
  const change = old.op === "delete"
    ? replica.remove(old.type, old.id, { mid: uuid(), at: nowWithOffset() })
    : replica.change(old.type, old.id, { ...old.fields, ...corrected }, { mid: uuid(), at: nowWithOffset() });
  // The base stays what the user saw when they first made the change: a refusal is not a sighting.
  change.mutation.base = old.base;
  change.mutation.n = await db.settleRejected(mid, { mutation: change.mutation, local: change.local });
  replica.resolveRejected(mid);
  replica.noteChange(change);
  notify();
  afterSave();
}

/** Give up a refused change (the user chose to, after seeing it): the server's version shows again. */
export async function discard(mid) {
  const old = replica.rejected.get(mid);
  if (!old) return;
  const k = key(old.type, old.id);
  const stillPending = replica.outbox.some((m) => key(m.type, m.id) === k)
    || [...replica.rejected.values()].some((m) => m.mid !== mid && key(m.type, m.id) === k);
  await db.settleRejected(mid, { dropLocal: stillPending ? null : k });
  replica.resolveRejected(mid);
  if (!stillPending) {
    replica.local.delete(k);
    replica._reindex(k);
  }
  notify();
}

/** Settle a conflict by choosing a value (mine, theirs, or typed anew): a put of type conflict. */
export function settle(conflictId, chosen) {
  return save("conflict", conflictId, { chosen });
}

// ---- syncing (sync.js) -------------------------------------------------------------------------------
export async function applyRound(sent, answer) {
  if (!meta.token) return null; // logged out while this answer was on its way: it must not come back
  const plan = replica.plan(sent, answer.results ?? [], answer.changes ?? [], { reset: Boolean(answer.reset) });
  const now = new Date().toISOString();
  const newMeta = { cursor: answer.cursor, lastSync: now };
  await db.applyPlan(plan, newMeta);
  replica.commit(plan);
  meta = { ...meta, ...newMeta };
  if (db.wantsCompaction()) await db.compact([...replica.server.values()]);
  notify();
  return plan;
}

/** Set aside mutations whose envelope the server refused as a whole (422 naming them). */
export async function setAside(mutations, errors) {
  if (!meta.token) return;
  for (const m of mutations) {
    const rejectedAt = new Date().toISOString();
    const plan = { acked: [m.n], rejected: [{ ...m, errors, rejectedAt }], puts: [], removed: [], localPut: [],
                   localDelete: [], reset: false };
    await db.applyPlan(plan, {});
    replica.commit(plan);
  }
  notify();
}

export async function wipe() {
  meta = {}; // first: an answer arriving while the database goes is dropped (applyRound)
  await db.wipe();
  replica.clear();
  meta = {};
  notify();
}
