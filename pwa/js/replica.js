// The phone's copy of its records, in memory: what the server sent (the replica), what the user
// changed and has not yet seen come back (local records), the queue of unsent changes (the outbox)
// and what the server refused (rejected). Pure logic, no IndexedDB and no DOM, so that Node's test
// runner checks it (tests/js). db.js persists what this module decides; store.js joins the two.

import { wellFormed } from "./text.js";

export const key = (type, id) => `${type}/${id}`;

/** Types whose records hang on a household (a household evict takes them along). */
export const HOUSEHOLD_CHILDREN = new Set(["person", "visit", "touchpoint", "ticket", "order", "conflict", "attachment",
  "incident_check", "custody_contract", "custody_inspection"]);

export class Replica {
  constructor() {
    this.server = new Map(); // key -> {type, id, version, data}: the latest the server sent
    this.local = new Map(); // key -> {key, type, id, data}: the user's version, until the server's catches up
    this.outbox = []; // mutations in the order made: {n, mid, type, id, op, base, fields, at}
    this.rejected = new Map(); // mid -> the mutation, with the server's `errors`
    this.byHousehold = new Map(); // household id -> Set of keys of records that hang on it
    this.householdOf = new Map(); // key -> the household id it is indexed under
    this._states = null; // key -> "pending" | "rejected", rebuilt on demand
  }

  // ---- reading ---------------------------------------------------------------------------------
  /** The record as the user sees it: their own unsent or refused version first. */
  get(type, id) {
    const k = key(type, id);
    const local = this.local.get(k);
    if (local) return local.deleted ? null : local.data;
    return this.server.get(k)?.data ?? null;
  }

  /** Every visible record of a type, or of a type that hangs on households, of one household. */
  all(type, householdId) {
    const keys = householdId === undefined ? this._keysOfType(type) : [...(this.byHousehold.get(householdId) ?? [])]
      .filter((k) => k.startsWith(`${type}/`));
    const out = [];
    for (const k of new Set(keys)) {
      const [, id] = split(k);
      const record = this.get(type, id);
      if (record) out.push(record);
    }
    return out;
  }

  _keysOfType(type) {
    const prefix = `${type}/`;
    const keys = [];
    for (const k of this.server.keys()) if (k.startsWith(prefix)) keys.push(k);
    for (const k of this.local.keys()) if (k.startsWith(prefix) && !this.server.has(k)) keys.push(k);
    return keys;
  }

  /** Whether the record has changes the server has not answered yet, or refused. */
  state(type, id) {
    if (!this._states) {
      // Built once per change of the outbox or the refusals, not per record on screen.
      this._states = new Map();
      for (const m of this.outbox) this._states.set(key(m.type, m.id), "pending");
      for (const m of this.rejected.values()) this._states.set(key(m.type, m.id), "rejected");
    }
    return this._states.get(key(type, id)) ?? "synced";
  }

  // ---- writing (the user) ----------------------------------------------------------------------
  /**
   * A change the user made: the mutation to queue and the local record to keep, which db.js writes
   * in one transaction. `base` is the server version the user last saw (null for a new record).
   */
  change(type, id, typed, { mid, at, n }) {
    const fields = wellFormed(typed); // no lone surrogate leaves the phone: the server would refuse it
    const k = key(type, id);
    const before = this.get(type, id);
    const base = this.server.get(k)?.version ?? null;
    const mutation = { n, mid, type, id, op: "put", base, fields, at };
    const local = { key: k, type, id, data: { ...(before ?? {}), ...fields, id } };
    return { mutation, local };
  }

  remove(type, id, { mid, at, n }) {
    const k = key(type, id);
    const base = this.server.get(k)?.version ?? null;
    const mutation = { n, mid, type, id, op: "delete", base, fields: {}, at };
    const local = { key: k, type, id, data: this.get(type, id) ?? { id }, deleted: true };
    return { mutation, local };
  }

  /** Keep what db.js has written (after the transaction committed). */
  noteChange({ mutation, local }) {
    this._states = null;
    this.outbox.push(mutation);
    this.local.set(local.key, local);
    this._reindex(local.key);
  }

  /** Forget everything (logout). */
  clear() {
    for (const map of [this.server, this.local, this.rejected, this.byHousehold, this.householdOf]) map.clear();
    this.outbox = [];
    this._states = null;
  }

  // ---- loading ----------------------------------------------------------------------------------
  /** Rebuild from what IndexedDB holds: server records in the order written, then the rest. */
  load({ serverRecords = [], local = [], outbox = [], rejected = [] }) {
    this._states = null;
    for (const r of serverRecords) this._putServer(r);
    for (const l of local) {
      this.local.set(l.key, l);
      this._reindex(l.key);
    }
    this.outbox = [...outbox].sort((a, b) => a.n - b.n);
    for (const m of rejected) this.rejected.set(m.mid, m);
  }

  // ---- syncing ----------------------------------------------------------------------------------
  /** The next batch to push: the oldest unsent mutations, in order. */
  nextBatch(max) {
    return this.outbox.slice(0, max);
  }

  /**
   * One sync round's answer, decided in memory; returns what db.js must write in one transaction:
   * {acked: [n], rejected: [mutation], puts: [server record], removed: [key], localPut: [local],
   * localDelete: [key], reset}. Call `commit(plan)` once it is written.
   */
  plan(sent, results, changes, { reset = false } = {}) {
    const plan = { acked: [], rejected: [], puts: [], removed: [], localPut: [], localDelete: [], reset };
    const byMid = new Map(sent.map((m) => [m.mid, m]));
    const touched = new Set();
    const answered = new Set();
    const accepted = new Map(); // key -> the version the server gave a change of ours this round
    for (const result of results) {
      const m = byMid.get(result.mid);
      if (!m) continue;
      answered.add(m.n);
      plan.acked.push(m.n);
      touched.add(key(m.type, m.id));
      if (result.status === "rejected") plan.rejected.push({ ...m, errors: result.errors ?? [], rejectedAt: new Date().toISOString() });
      else if (m.op === "put" && result.version) accepted.set(key(m.type, m.id), result.version);
    }
    const gone = new Set();
    for (const c of changes) {
      const k = key(c.type, c.id);
      touched.add(k);
      if (c.op === "put") {
        plan.puts.push({ type: c.type, id: c.id, version: c.version, data: c.data });
        gone.delete(k);
      } else {
        gone.add(k);
        if (c.op === "evict" && c.type === "household") {
          for (const child of this.byHousehold.get(c.id) ?? []) {
            gone.add(child);
            touched.add(child);
          }
        }
      }
    }
    plan.removed = [...gone];
    // What the user sees of each touched record after this round.
    const outboxAfter = this.outbox.filter((m) => !answered.has(m.n));
    const rejectedAfter = [...this.rejected.values(), ...plan.rejected];
    const serverAfter = new Map(plan.puts.map((r) => [key(r.type, r.id), r]));
    if (reset) for (const k of this.local.keys()) touched.add(k);
    for (const k of touched) {
      const pending = outboxAfter.filter((m) => key(m.type, m.id) === k);
      const refused = rejectedAfter.filter((m) => key(m.type, m.id) === k);
      const server = gone.has(k) ? null : serverAfter.get(k) ?? (reset ? null : this.server.get(k));
      if (!pending.length && !refused.length) {
        // The user's version gives way to the server's copy of it, once that copy is here (it may
        // come on a later page): until then a visit just sent must not vanish from the screen.
        // (Not for a record of a household this phone no longer holds: the server will not send it.)
        const household = this.local.get(k)?.data?.household_id;
        const held = !household || (!gone.has(key("household", household))
          && (serverAfter.has(key("household", household)) || this.server.has(key("household", household))));
        const waiting = accepted.has(k) && !gone.has(k) && held && (server?.version ?? 0) < accepted.get(k);
        if (this.local.has(k) && !waiting) plan.localDelete.push(k);
        continue;
      }
      if (!pending.length) continue; // refused: the user's values stay as they typed them
      // Unsent changes stand over the server's latest: the user keeps seeing what they typed.
      const [type, id] = split(k);
      let data = server ? { ...server.data } : { ...(this.local.get(k)?.data ?? { id }) };
      let deleted = false;
      for (const m of pending) {
        if (m.op === "delete") deleted = true;
        else data = { ...data, ...m.fields };
      }
      plan.localPut.push({ key: k, type, id, data, ...(deleted ? { deleted } : {}) });
    }
    return plan;
  }

  commit(plan) {
    this._states = null;
    if (plan.reset) {
      const keys = [...this.server.keys()];
      this.server.clear();
      for (const k of keys) this._reindex(k);
    }
    const acked = new Set(plan.acked);
    this.outbox = this.outbox.filter((m) => !acked.has(m.n));
    for (const m of plan.rejected) this.rejected.set(m.mid, m);
    for (const k of plan.removed) {
      this.server.delete(k);
      this._reindex(k);
    }
    for (const r of plan.puts) this._putServer(r);
    for (const k of plan.localDelete) {
      this.local.delete(k);
      this._reindex(k);
    }
    for (const l of plan.localPut) {
      this.local.set(l.key, l);
      this._reindex(l.key);
    }
  }

  /** The user fixed a refused change and sends it again (a new mutation), or gives it up. */
  resolveRejected(mid) {
    this._states = null;
    this.rejected.delete(mid);
  }

  // ---- indexes ----------------------------------------------------------------------------------
  _putServer(r) {
    const k = key(r.type, r.id);
    this.server.set(k, r);
    this._reindex(k);
  }

  /** File the record under the household its visible version hangs on (or none, if gone). */
  _reindex(k) {
    const [type] = split(k);
    if (!HOUSEHOLD_CHILDREN.has(type)) return;
    const before = this.householdOf.get(k);
    const data = this.local.get(k)?.data ?? this.server.get(k)?.data;
    const after = data?.household_id ?? null;
    if (before === after) return;
    if (before) this.byHousehold.get(before)?.delete(k);
    if (after) {
      let keys = this.byHousehold.get(after);
      if (!keys) this.byHousehold.set(after, (keys = new Set()));
      keys.add(k);
      this.householdOf.set(k, after);
    } else {
      this.householdOf.delete(k);
    }
  }
}

function split(k) {
  const slash = k.indexOf("/");
  return [k.slice(0, slash), k.slice(slash + 1)];
}
