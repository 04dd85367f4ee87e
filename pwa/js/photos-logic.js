// Photos on the phone (docs/attachments.md, docs/pwa.md), pure logic: the size a photo is scaled to,
// the pieces of a resumable upload, what to do with each answer of the server, the progress the
// Sync screen shows, and which kept bytes may go. No DOM, no IndexedDB, no fetch (photos.js does
// those), so that Node's test runner checks it (tests/js).

export const MAX_EDGE = 1920; // pixels of the long edge: enough to see a crack, ~300–600 KB as JPEG
export const THUMB_EDGE = 320; // the list's thumbnails (the server makes the same size)
export const QUALITY = 0.8;
export const PIECE = 256 * 1024; // bytes per PATCH: a minute at most on a poor 2G link
export const MAX_BYTES = 10 * 1024 * 1024; // the server's limit of one photo
export const ROLES = ["photo", "before", "after"];

/** The size a width × height picture is drawn at so that its long edge is at most `max` (never larger). */
export function fitWithin(width, height, max = MAX_EDGE) {
  const w = Math.max(1, Math.round(width));
  const hgt = Math.max(1, Math.round(height));
  const long = Math.max(w, hgt);
  if (long <= max) return { width: w, height: hgt };
  const scale = max / long;
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(hgt * scale)) };
}

/** Bytes as 64 lowercase hex digits (a SHA-256 from crypto.subtle). */
export function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The next piece to send from `offset` of a `length`-byte file: {start, end} (end exclusive), or null
 * when everything is sent. */
export function nextPiece(offset, length, piece = PIECE) {
  const start = Math.max(0, Math.min(offset, length));
  if (start >= length) return null;
  return { start, end: Math.min(length, start + piece) };
}

/** Every piece from `offset` to the end, in order (what an upload resumed there will send). */
export function planPieces(offset, length, piece = PIECE) {
  const out = [];
  for (let p = nextPiece(offset, length, piece); p; p = nextPiece(p.end, length, piece)) out.push(p);
  return out;
}

/**
 * What an upload does after one answer of the server (GET or PATCH /api/v1/uploads/<sha256>):
 * {action, offset, code}. `answer` is {status, body} (status 0: the network failed, no answer).
 *   - "done": the server has the bytes (complete); the full-size copy may go.
 *   - "send": send the piece at `offset` (the server's: after a 409 it names where to go on).
 *   - "refused": the server checked the bytes and will not have them (422: hash_mismatch,
 *     not_an_image …; 413) — kept on the phone, shown with `code`.
 *   - "wait": try later (offline, a timeout, 5xx, 429, or the record not on the server yet: 404),
 *     asking the server's offset first, never starting over from zero on our own.
 *   - "stop": the user may not send these bytes (401/403): nothing to retry now.
 */
export function afterAnswer(answer) {
  const { status, body } = answer;
  if (status === 200) {
    if (body?.complete) return { action: "done", offset: body.length ?? body.offset ?? 0 };
    return { action: "send", offset: Number(body?.offset ?? 0) };
  }
  if (status === 409) {
    const offset = Number(body?.details?.offset);
    return Number.isFinite(offset) ? { action: "send", offset } : { action: "wait", offset: null };
  }
  if (status === 422 || status === 413) return { action: "refused", offset: 0, code: refusalCode(body) };
  if (status === 401 || status === 403) return { action: "stop", offset: null, code: body?.error ?? null };
  return { action: "wait", offset: null };
}

function refusalCode(body) {
  const named = (body?.details?.errors ?? []).find((e) => e?.code)?.code;
  return named ?? body?.error ?? "refused";
}

/** A photo's state on the phone, for the screens: "refused" (the server would not have its bytes),
 * "done" (uploaded), "waiting" (its bytes here, its record not yet sent), "uploading" (record sent,
 * bytes on their way) or "pending" (the bytes neither here nor on the server yet: 照片上传中).
 * `kept` is what the phone keeps of its bytes: {hasFull, uploaded, refused} or null. */
export function photoState(attachment, kept, { recordSent = true } = {}) {
  if (kept?.refused) return "refused";
  if (attachment?.uploaded_at || kept?.uploaded) return "done";
  if (kept?.hasFull) return recordSent ? "uploading" : "waiting";
  return "pending";
}

/** The Sync screen's line: how many of the phone's own photos are through, and the bytes' share.
 * photos: [{size, offset, uploaded, refused}]. */
export function uploadProgress(photos) {
  const live = photos.filter((p) => !p.refused);
  const total = live.reduce((sum, p) => sum + (p.size || 0), 0);
  const sent = live.reduce((sum, p) => sum + (p.uploaded ? p.size || 0 : Math.min(p.offset || 0, p.size || 0)), 0);
  return {
    done: live.filter((p) => p.uploaded).length,
    count: live.length,
    refused: photos.length - live.length,
    percent: total ? Math.floor((sent * 100) / total) : 100,
  };
}

/**
 * Which kept entries (by sha256) may leave the phone: those no visible photo names any more (its
 * record was deleted, or its household evicted), unless they are photos just taken on a form that
 * has not been saved yet (`unattached` and younger than `keepUnattachedMs`).
 * kept: [{sha256, attached, takenAt}]; attachments: the visible attachment records whose record is
 * still on the phone.
 */
export function prunable(kept, attachments, now = Date.now(), keepUnattachedMs = 7 * 86_400_000) {
  const named = new Set(attachments.map((a) => a.sha256));
  return kept.filter((k) => !named.has(k.sha256)
    && (k.attached || now - Date.parse(k.takenAt ?? 0) > keepUnattachedMs)).map((k) => k.sha256);
}

/** A record's photos, oldest first, of one role and checklist item (item "" or null: the record's own). */
export function photosOf(attachments, { recordType, recordId, role = null, item = null }) {
  return attachments.filter((a) => a.record_type === recordType && a.record_id === recordId
    && (role === null || (a.role ?? "photo") === role)
    && (item === null || (a.item ?? "") === item))
    .sort((a, b) => String(a.taken_at ?? a.created_at ?? "").localeCompare(String(b.taken_at ?? b.created_at ?? ""))
      || String(a.id).localeCompare(String(b.id)));
}

/** Whether `user` may take a photo away (the server's rule, server/attachments/resources.py): its
 * author or a supervisor. A photo this phone made and the server has not answered yet carries no
 * `author_id`: it is the user's own. */
export function mayDelete(attachment, user) {
  if (!attachment || !user) return false;
  if (user.role === "supervisor") return true;
  return !attachment.author_id || attachment.author_id === user.id;
}

/** Whether another visible photo than those of `goneIds` still names the bytes `sha256` (then they
 * stay on the phone, and their upload goes on). */
export function hashStillNamed(sha256, attachments, goneIds = []) {
  const gone = new Set(goneIds);
  return attachments.some((a) => a.sha256 === sha256 && !gone.has(a.id));
}

/** What a photo taken again in place of a refused one is attached to: the same record, role and
 * checklist item. */
export function retakeOf(attachment) {
  return {
    record: { type: attachment.record_type, id: attachment.record_id, household_id: attachment.household_id },
    role: attachment.role ?? "photo",
    item: attachment.item ?? "",
  };
}

/** The two-tap delete (删除, then 确定删除 or 不删; no window.confirm): the control's next step after a
 * tap. Steps: "idle" (删除 shown), "confirm" (确定删除 and 不删 shown), "deleted". Taps: "delete", "yes",
 * "no". A tap that does not belong to the step changes nothing. */
export function deleteStep(step, tap) {
  if (step === "idle" && tap === "delete") return "confirm";
  if (step === "confirm" && tap === "yes") return "deleted";
  if (step === "confirm" && tap === "no") return "idle";
  return step;
}
