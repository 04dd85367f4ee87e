// Photos on the phone (docs/attachments.md; docs/pwa.md "Photos"): made small and clean on the phone,
// kept in IndexedDB by their SHA-256, named by an `attachment` record that syncs like any other, and
// their bytes uploaded by hash once the server knows the record, piece by piece, resumed from the
// server's offset after any break. The decisions are in photos-logic.js; this module does the I/O.

import * as db from "./db.js";
import { lang } from "./i18n.js";
import * as store from "./store.js";
import {
  MAX_BYTES, MAX_EDGE, QUALITY, THUMB_EDGE, afterAnswer, fitWithin, hashStillNamed, hex, nextPiece, photoState, prunable,
  retakeOf, uploadProgress,
} from "./photos-logic.js";

const TYPE = "image/jpeg"; // every browser encodes it; re-encoding drops EXIF (the place, the phone)
const PIECE_TIMEOUT_MS = 120_000; // a 256 KB piece at 20 kbit/s still arrives
const MAX_RETRY_MS = 5 * 60_000;

const status = { running: false, again: false, failures: 0 };
const offsets = new Map(); // sha256 -> bytes the server has (what the Sync screen shows)
const urls = new Map(); // sha256 -> an object URL of its thumbnail
const fetching = new Map(); // sha256 -> the fetch of someone else's thumbnail under way
const listeners = new Set();
let retryTimer = null;
let kept = new Map(); // sha256 -> the phone's entry without its Blobs (for the screens, synchronously)
let inFlight = null; // {sha256, controller}: the upload request under way (a deleted photo's is stopped)

/** Called whenever a photo's state changes (a piece sent, an upload done or refused). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function tell() {
  for (const listener of listeners) listener();
}

function summaryOf(entry) {
  const { full, thumb, ...rest } = entry;
  return { ...rest, hasFull: Boolean(full), hasThumb: Boolean(thumb) };
}

/** Read what the phone keeps (at start, and after a change made elsewhere). */
export async function load() {
  kept = new Map((await db.allPhotos()).map((e) => [e.sha256, summaryOf(e)]));
  tell();
}

// ---- taking a photo -------------------------------------------------------------------------------
function canvas(width, height) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  return c;
}

function encode(c, quality) {
  if (c.convertToBlob) return c.convertToBlob({ type: TYPE, quality });
  return new Promise((resolve) => c.toBlob(resolve, TYPE, quality));
}

async function drawn(bitmap, size, quality) {
  const c = canvas(size.width, size.height);
  const ctx = c.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, size.width, size.height);
  return encode(c, quality);
}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" }); // upright as it was taken
  } catch {
    return createImageBitmap(file); // an older engine without the option (it turns JPEGs itself)
  }
}

/**
 * A picture the user chose or took, made ready to keep: upright, the long edge at most 1920 px, JPEG
 * at 0.8 (no EXIF left), its SHA-256 and a 320 px thumbnail; kept in IndexedDB (not yet named by a
 * record: attach() does that once the record it belongs to is saved). Returns the kept summary.
 */
export async function prepare(file) {
  const bitmap = await decode(file);
  const size = fitWithin(bitmap.width, bitmap.height, MAX_EDGE);
  let full;
  let thumb;
  try {
    full = await drawn(bitmap, size, QUALITY);
    if (full.size > MAX_BYTES) full = await drawn(bitmap, size, 0.6);
    thumb = await drawn(bitmap, fitWithin(bitmap.width, bitmap.height, THUMB_EDGE), 0.7);
  } finally {
    bitmap.close?.();
  }
  const sha256 = hex(await crypto.subtle.digest("SHA-256", await full.arrayBuffer()));
  const existing = await db.getPhoto(sha256);
  const entry = existing ?? {
    sha256, own: true, attached: false, full, thumb, size: full.size, content_type: TYPE,
    width: size.width, height: size.height, takenAt: store.nowWithOffset(), uploaded: false, refused: null,
  };
  if (!existing) await db.putPhoto(entry);
  kept.set(sha256, summaryOf(entry));
  tell();
  return summaryOf(entry);
}

/** Name a kept photo by a record: an `attachment` record in the replica and the outbox, like any save.
 * record: {type, id, household_id}; role photo | before | after; item a checklist key or "". */
export async function attach(sha256, record, { role = "photo", item = "" } = {}) {
  const entry = kept.get(sha256) ?? summaryOf(await db.getPhoto(sha256));
  const attachment = await store.create("attachment", {
    household_id: record.household_id, record_type: record.type, record_id: record.id, sha256,
    content_type: entry.content_type, size: entry.size, width: entry.width, height: entry.height, role, item,
    taken_at: entry.takenAt ?? null,
  });
  if (!entry.attached) {
    const after = await db.updatePhoto(sha256, { attached: true });
    if (after) kept.set(sha256, summaryOf(after));
  }
  tell();
  return attachment;
}

/** Forget a photo taken on a form and taken back before the form was saved. */
export async function discardUnattached(sha256) {
  if (kept.get(sha256)?.attached) return;
  await db.deletePhotos([sha256]);
  forget([sha256]);
}

/** Take a saved photo away: a delete of its `attachment` record through the outbox (the server lets
 * its author or a supervisor). Unless another photo names the same bytes, their upload under way
 * stops and they leave the phone at once. */
export async function remove(attachment) {
  await store.remove("attachment", attachment.id);
  await release(attachment.sha256);
}

async function release(sha256) {
  if (hashStillNamed(sha256, store.all("attachment"))) return;
  forget([sha256]); // first: the upload loop sees it gone when its aborted request returns
  if (inFlight?.sha256 === sha256) inFlight.controller.abort();
  await db.deletePhotos([sha256]);
}

/** A photo taken again in place of one whose bytes the server refused (`summary` from prepare()): it is
 * attached to the same record, role and checklist item, then the refused one is taken away. The same
 * bytes again (the refusal was of their transfer) are simply sent once more. */
export async function retake(refused, summary) {
  if (summary.sha256 === refused.sha256) {
    const after = await db.updatePhoto(refused.sha256, { refused: null });
    if (after) kept.set(refused.sha256, summaryOf(after));
    tell();
    uploadAll();
    return refused;
  }
  const { record, role, item } = retakeOf(refused);
  const fresh = await attach(summary.sha256, record, { role, item });
  await remove(refused);
  return fresh;
}

// ---- reading ---------------------------------------------------------------------------------------
/** A record's photos (attachment records), as the user sees them. */
export function of(type, id) {
  return store.all("attachment").filter((a) => a.record_type === type && a.record_id === id);
}

/** Whether the server has answered the attachment's record (its bytes may go now). */
function recordSent(attachment) {
  return store.state("attachment", attachment.id) === "synced";
}

/** refused | done | waiting | uploading | pending (照片上传中), and the refusal's code. */
export function stateOf(attachment) {
  const k = kept.get(attachment.sha256) ?? null;
  return { state: photoState(attachment, k, { recordSent: recordSent(attachment) }), code: k?.refused ?? null,
           offset: offsets.get(attachment.sha256) ?? 0, size: attachment.size };
}

/** A kept photo's summary (a photo on a form before it is attached). */
export const keptPhoto = (sha256) => kept.get(sha256) ?? null;

function headers(extra = {}) {
  return { Authorization: `Bearer ${store.meta.token}`, "Accept-Language": lang(), ...extra };
}

async function fetchBlob(attachment, size) {
  const response = await fetch(`/api/v1/attachments/${encodeURIComponent(attachment.id)}/content?size=${size}`,
                               { headers: headers(), cache: "no-store" });
  if (!response.ok) return null;
  return response.blob();
}

/** An object URL of the photo's thumbnail: this phone's own, or someone else's fetched once and kept
 * in IndexedDB. null while the bytes are neither here nor on the server (or offline). */
export async function thumbUrl(attachment) {
  const sha = attachment.sha256;
  if (urls.has(sha)) return urls.get(sha);
  let entry = await db.getPhoto(sha);
  if (!entry?.thumb) {
    if (!attachment.uploaded_at || !navigator.onLine || !store.meta.token) return null;
    if (!fetching.has(sha)) {
      fetching.set(sha, (async () => {
        try {
          const thumb = await fetchBlob(attachment, "thumb");
          if (!thumb) return null;
          const fresh = { sha256: sha, own: false, attached: true, full: null, thumb, size: attachment.size,
                          content_type: attachment.content_type, uploaded: true, refused: null };
          await db.putPhoto(fresh);
          kept.set(sha, summaryOf(fresh));
          return fresh;
        } catch {
          return null; // offline: the placeholder stays, and the next drawing tries again
        } finally {
          fetching.delete(sha);
        }
      })());
    }
    entry = await fetching.get(sha);
    if (!entry) return null;
  }
  if (!urls.has(sha)) urls.set(sha, URL.createObjectURL(entry.thumb));
  return urls.get(sha);
}

/** An object URL of the whole photo, for enlarging (the caller revokes it): the phone's copy if the
 * bytes are still here, else fetched now (not kept: the thumbnail is what stays). */
export async function fullUrl(attachment) {
  const entry = await db.getPhoto(attachment.sha256);
  if (entry?.full) return URL.createObjectURL(entry.full);
  if (!attachment.uploaded_at && !entry?.uploaded) return null;
  try {
    const blob = await fetchBlob(attachment, "full");
    return blob ? URL.createObjectURL(blob) : null;
  } catch {
    return null;
  }
}

// ---- uploading -------------------------------------------------------------------------------------
/** The phone's own photos and how far each is: {done, count, percent, refused, photos: [...]}. */
export function progress() {
  const own = [...kept.values()].filter((e) => e.own && e.attached)
    .map((e) => ({ ...e, offset: e.uploaded ? e.size : offsets.get(e.sha256) ?? 0 }));
  return { ...uploadProgress(own), photos: own, running: status.running };
}

async function call(method, sha256, body = undefined, extra = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PIECE_TIMEOUT_MS);
  inFlight = { sha256, controller };
  try {
    const response = await fetch(`/api/v1/uploads/${sha256}`, {
      method, body, headers: headers(extra), signal: controller.signal, cache: "no-store",
    });
    const json = await response.json().catch(() => ({}));
    return { status: response.status, body: json };
  } catch {
    return { status: 0, body: null }; // offline, or the link dropped under way
  } finally {
    clearTimeout(timer);
    inFlight = null;
  }
}

/** Send one photo's bytes from where the server stands. Returns done | refused | wait | stop | gone
 * (its photo was deleted meanwhile: nothing more is sent). */
async function uploadOne(sha256) {
  const entry = await db.getPhoto(sha256);
  if (!entry?.full || entry.uploaded || entry.refused) return "done";
  let answer = await call("GET", sha256); // always the server's offset first: never from zero on our own
  for (;;) {
    if (!store.meta.token) return "stop";
    if (!kept.has(sha256)) return "gone";
    const step = afterAnswer(answer);
    if (step.action === "done") {
      offsets.set(sha256, entry.size);
      // Uploaded: the full-size copy goes (the server has it); the thumbnail stays for the screens.
      const after = await db.updatePhoto(sha256, { full: null, uploaded: true });
      if (after) kept.set(sha256, summaryOf(after));
      tell();
      return "done";
    }
    if (step.action === "refused") {
      // Nothing the user made is lost: the photo stays, shown as refused with the server's reason.
      const after = await db.updatePhoto(sha256, { refused: step.code });
      if (after) kept.set(sha256, summaryOf(after));
      offsets.delete(sha256);
      tell();
      return "refused";
    }
    if (step.action !== "send") return step.action; // wait | stop
    const piece = nextPiece(step.offset, entry.size);
    if (!piece) return "wait"; // all here and not yet complete: ask again later
    offsets.set(sha256, step.offset);
    tell();
    answer = await call("PATCH", sha256, entry.full.slice(piece.start, piece.end), {
      "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(piece.start),
      "Upload-Length": String(entry.size),
    });
  }
}

/** Upload every photo whose record the server has and whose bytes are still only here, one at a time.
 * Runs after each sync (sync.js) and on its own retry timer after a failure. */
export async function uploadAll() {
  if (!store.meta.token || !navigator.onLine) return;
  if (status.running) {
    status.again = true;
    return;
  }
  status.running = true;
  tell();
  try {
    do {
      status.again = false;
      await pass();
    } while (status.again && navigator.onLine);
  } finally {
    status.running = false;
    tell();
  }
}

async function pass() {
  await prune();
  const sent = new Set(store.all("attachment").filter(recordSent).map((a) => a.sha256));
  const todo = [...kept.values()].filter((e) => e.own && e.hasFull && !e.uploaded && !e.refused && sent.has(e.sha256));
  for (const entry of todo) {
    const result = await uploadOne(entry.sha256);
    if (result === "stop") return;
    if (result === "wait") {
      status.failures += 1;
      const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(status.failures, 12)) * (0.75 + Math.random() / 2);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => uploadAll(), delay);
      return;
    }
  }
  status.failures = 0;
}

// ---- leaving the phone -----------------------------------------------------------------------------
function forget(hashes) {
  for (const sha of hashes) {
    kept.delete(sha);
    offsets.delete(sha);
    if (urls.has(sha)) URL.revokeObjectURL(urls.get(sha));
    urls.delete(sha);
  }
  if (hashes.length) tell();
}

/** Drop the bytes no visible photo names any more: its household evicted, its record or itself deleted. */
export async function prune() {
  if (!store.meta.token) return;
  const named = store.all("attachment").filter((a) => store.get(a.record_type, a.record_id));
  const gone = prunable([...kept.values()], named);
  await db.deletePhotos(gone);
  forget(gone);
}

/** Logout (the database itself goes with store.wipe()). */
export function clear() {
  forget([...kept.keys()]);
  clearTimeout(retryTimer);
}
