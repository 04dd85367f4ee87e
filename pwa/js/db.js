// The one module that touches IndexedDB (house style): the schema, and each write as one transaction.
//
// Server records are kept in *chunks*: one entry per pulled page (up to 1,000 records), not one per
// record. Writing 28,000 entries one by one takes ~5 s on a phone-class CPU; 28 chunks take ~0.4 s
// (docs/platform-facts.md, measured floors). Reading them back at start is as cheap. A record the
// server sends again lands in a new chunk and its old copy goes stale; chunks are compacted when stale
// copies pile up. Anything that must leave the phone (evict, delete, logout) is removed from the
// chunks at once, in the same transaction that records it.
//
// Stores: meta (key -> value), chunks (auto key -> {records}), local (the user's unsent or refused
// versions of records, by "type/id"), outbox (unsent mutations, by n: their order), rejected (by mid),
// photos (by sha256: a photo's bytes and thumbnail as Blobs, and how far its upload is; photos.js).
//
// Versions: 1 the first five stores; 2 adds photos. Each step runs only from the version the phone
// had, so a phone upgraded from 1 keeps its records and outbox.

const NAME = "guanjia";
const VERSION = 2;
export const CHUNK = 1000;

let db = null;
// Where each record's copies are: key -> Set of chunk ids (the last one added holds the live copy).
const copies = new Map();
let storedCopies = 0; // entries in all chunks, live or stale

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException("transaction aborted", "AbortError"));
    tx.onerror = () => reject(tx.error);
  });
}

export async function open() {
  if (db) return db;
  const req = indexedDB.open(NAME, VERSION);
  req.onupgradeneeded = (event) => {
    const d = req.result;
    if (event.oldVersion < 1) {
      d.createObjectStore("meta", { keyPath: "key" });
      d.createObjectStore("chunks", { autoIncrement: true });
      d.createObjectStore("local", { keyPath: "key" });
      d.createObjectStore("outbox", { keyPath: "n", autoIncrement: true });
      d.createObjectStore("rejected", { keyPath: "mid" });
    }
    if (event.oldVersion < 2) d.createObjectStore("photos", { keyPath: "sha256" });
  };
  db = await request(req);
  // Another tab deleting the database (a logout there) must not be blocked by this one.
  db.onversionchange = () => { db.close(); db = null; };
  return db;
}

/** Everything, for the start of the app: meta as an object, server records in the order written. */
export async function loadAll() {
  const d = await open();
  const tx = d.transaction(["meta", "chunks", "local", "outbox", "rejected"], "readonly");
  const [metaRows, chunkKeys, chunks, local, outbox, rejected] = await Promise.all([
    request(tx.objectStore("meta").getAll()),
    request(tx.objectStore("chunks").getAllKeys()),
    request(tx.objectStore("chunks").getAll()),
    request(tx.objectStore("local").getAll()),
    request(tx.objectStore("outbox").getAll()),
    request(tx.objectStore("rejected").getAll()),
  ]);
  copies.clear();
  storedCopies = 0;
  const serverRecords = [];
  chunks.forEach((chunk, i) => {
    for (const r of chunk.records) {
      noteCopy(`${r.type}/${r.id}`, chunkKeys[i]);
      serverRecords.push(r);
    }
  });
  const meta = Object.fromEntries(metaRows.map((row) => [row.key, row.value]));
  return { meta, serverRecords, local, outbox, rejected };
}

function noteCopy(k, chunkId) {
  let where = copies.get(k);
  if (!where) copies.set(k, (where = new Set()));
  where.add(chunkId);
  storedCopies += 1;
}

export async function setMeta(values) {
  const d = await open();
  const tx = d.transaction("meta", "readwrite");
  for (const [k, value] of Object.entries(values)) tx.objectStore("meta").put({ key: k, value });
  await done(tx);
}

/** A user's change: the local record and its outbox entry in one transaction. Returns the entry's n. */
export async function saveChange(mutation, local) {
  const d = await open();
  const tx = d.transaction(["local", "outbox"], "readwrite");
  const { n: _unset, ...entry } = mutation;
  const n = request(tx.objectStore("outbox").add(entry));
  tx.objectStore("local").put(local);
  await done(tx);
  return n;
}

/** A refused change set aside for good, or replaced by its fix (a new mutation) in one transaction. */
export async function settleRejected(mid, { mutation = null, local = null, dropLocal = null } = {}) {
  const d = await open();
  const tx = d.transaction(["rejected", "outbox", "local"], "readwrite");
  tx.objectStore("rejected").delete(mid);
  let n = null;
  if (mutation) {
    const { n: _unset, ...entry } = mutation;
    n = request(tx.objectStore("outbox").add(entry));
  }
  if (local) tx.objectStore("local").put(local);
  if (dropLocal) tx.objectStore("local").delete(dropLocal);
  await done(tx);
  return n === null ? null : n;
}

/**
 * One sync round, as Replica.plan decided it, with the new meta (cursor, last sync): all or nothing,
 * so a crash leaves the phone where it was and the resend is answered from the server's record.
 */
export async function applyPlan(plan, meta) {
  const d = await open();
  const tx = d.transaction(["meta", "chunks", "local", "outbox", "rejected"], "readwrite");
  const chunks = tx.objectStore("chunks");
  if (plan.reset) {
    chunks.clear();
    copies.clear();
    storedCopies = 0;
  }
  // Removed records leave every chunk that holds a copy of them, now.
  const removed = new Set(plan.removed);
  const dirty = new Set();
  for (const k of removed) for (const id of copies.get(k) ?? []) dirty.add(id);
  for (const id of dirty) {
    const chunk = await request(chunks.get(id));
    if (!chunk) continue;
    const kept = chunk.records.filter((r) => !removed.has(`${r.type}/${r.id}`));
    storedCopies -= chunk.records.length - kept.length;
    if (kept.length) chunks.put({ records: kept }, id);
    else chunks.delete(id);
  }
  for (const k of removed) copies.delete(k);
  for (let start = 0; start < plan.puts.length; start += CHUNK) {
    const records = plan.puts.slice(start, start + CHUNK);
    const id = await request(chunks.add({ records }));
    for (const r of records) noteCopy(`${r.type}/${r.id}`, id);
  }
  const outbox = tx.objectStore("outbox");
  for (const n of plan.acked) outbox.delete(n);
  for (const m of plan.rejected) tx.objectStore("rejected").put(m);
  const local = tx.objectStore("local");
  for (const k of plan.localDelete) local.delete(k);
  for (const l of plan.localPut) local.put(l);
  for (const [k, value] of Object.entries(meta)) tx.objectStore("meta").put({ key: k, value });
  await done(tx);
}

/** Whether stale copies have piled up enough to rewrite the chunks (a quarter of what is stored). */
export function wantsCompaction() {
  const live = copies.size;
  return storedCopies - live > Math.max(CHUNK, live / 4);
}

/** Rewrite the chunks with only the live records (the replica's server records). */
export async function compact(serverRecords) {
  const d = await open();
  const tx = d.transaction("chunks", "readwrite");
  const chunks = tx.objectStore("chunks");
  chunks.clear();
  copies.clear();
  storedCopies = 0;
  for (let start = 0; start < serverRecords.length; start += CHUNK) {
    const records = serverRecords.slice(start, start + CHUNK);
    const id = await request(chunks.add({ records }));
    for (const r of records) noteCopy(`${r.type}/${r.id}`, id);
  }
  await done(tx);
}

// ---- photos' bytes (photos.js) ---------------------------------------------------------------------
/** One kept photo by its sha256, or null. */
export async function getPhoto(sha256) {
  const d = await open();
  return (await request(d.transaction("photos", "readonly").objectStore("photos").get(sha256))) ?? null;
}

/** Every kept photo without its Blobs' bytes being read (a Blob in IndexedDB is read only when used). */
export async function allPhotos() {
  const d = await open();
  return request(d.transaction("photos", "readonly").objectStore("photos").getAll());
}

export async function putPhoto(entry) {
  const d = await open();
  const tx = d.transaction("photos", "readwrite");
  tx.objectStore("photos").put(entry);
  await done(tx);
}

/** Change some fields of a kept photo (none if it is gone meanwhile). */
export async function updatePhoto(sha256, fields) {
  const d = await open();
  const tx = d.transaction("photos", "readwrite");
  const store = tx.objectStore("photos");
  const entry = await request(store.get(sha256));
  if (entry) store.put({ ...entry, ...fields });
  await done(tx);
  return entry ? { ...entry, ...fields } : null;
}

export async function deletePhotos(hashes) {
  if (!hashes.length) return;
  const d = await open();
  const tx = d.transaction("photos", "readwrite");
  for (const sha256 of hashes) tx.objectStore("photos").delete(sha256);
  await done(tx);
}

/** Logout: the whole database goes. */
export async function wipe() {
  if (db) { db.close(); db = null; }
  copies.clear();
  storedCopies = 0;
  await request(indexedDB.deleteDatabase(NAME));
}
