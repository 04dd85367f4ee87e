// Pure logic of photos on the phone (pwa/js/photos-logic.js): the size a photo is scaled to, the
// pieces of a resumable upload, what each answer of the server leads to, the Sync screen's progress,
// and which kept bytes may leave the phone.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MAX_EDGE, PIECE, THUMB_EDGE, afterAnswer, deleteStep, fitWithin, hashStillNamed, hex, mayDelete, nextPiece, photoState,
  photosOf, planPieces, prunable, retakeOf, uploadProgress,
} from "../../pwa/js/photos-logic.js";

test("a photo is scaled so that its long edge is at most 1920 px, keeping its shape, never enlarged", () => {
  assert.deepEqual(fitWithin(4000, 3000), { width: 1920, height: 1440 });
  assert.deepEqual(fitWithin(3000, 4000), { width: 1440, height: 1920 }); // upright
  assert.deepEqual(fitWithin(1200, 900), { width: 1200, height: 900 });
  assert.deepEqual(fitWithin(1920, 1080), { width: 1920, height: 1080 });
  assert.deepEqual(fitWithin(10000, 10), { width: 1920, height: 2 });
  assert.deepEqual(fitWithin(50000, 1), { width: 1920, height: 1 }); // never zero
  assert.deepEqual(fitWithin(4000, 3000, THUMB_EDGE), { width: 320, height: 240 });
  assert.equal(MAX_EDGE, 1920);
});

test("a SHA-256 digest reads as 64 lowercase hex digits", () => {
  const bytes = new Uint8Array(32).map((_, i) => i * 8);
  const text = hex(bytes.buffer);
  assert.match(text, /^[0-9a-f]{64}$/);
  assert.equal(text.slice(0, 6), "000810");
});

test("an upload goes in pieces of 256 KB from the offset the server has", () => {
  assert.equal(PIECE, 262144);
  assert.deepEqual(nextPiece(0, 600_000), { start: 0, end: 262144 });
  assert.deepEqual(nextPiece(524288, 600_000), { start: 524288, end: 600_000 });
  assert.equal(nextPiece(600_000, 600_000), null);
  assert.deepEqual(planPieces(0, 600_000).map((p) => p.start), [0, 262144, 524288]);
  // Resumed in the middle of a piece (the server took part of one): it goes on from there, not from zero.
  assert.deepEqual(planPieces(300_000, 600_000), [{ start: 300_000, end: 562144 }, { start: 562144, end: 600_000 }]);
  assert.deepEqual(planPieces(0, 10, 4), [{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]);
  assert.deepEqual(planPieces(10, 10), []);
});

test("each answer of the server says what the upload does next", () => {
  // The server's state: send from its offset, or done when it has the bytes (a resend is free).
  assert.deepEqual(afterAnswer({ status: 200, body: { offset: 0, length: null, complete: false } }), { action: "send", offset: 0 });
  assert.deepEqual(afterAnswer({ status: 200, body: { offset: 262144, length: 600000, complete: false } }),
    { action: "send", offset: 262144 });
  assert.equal(afterAnswer({ status: 200, body: { offset: 600000, length: 600000, complete: true } }).action, "done");
  // A piece at the wrong offset: go on from where the server says.
  assert.deepEqual(afterAnswer({ status: 409, body: { error: "upload_offset_mismatch", details: { offset: 524288 } } }),
    { action: "send", offset: 524288 });
  assert.equal(afterAnswer({ status: 409, body: {} }).action, "wait");
  // Refused for good, with the reason the field names; kept on the phone.
  assert.deepEqual(afterAnswer({ status: 422, body: { error: "validation_failed",
    details: { errors: [{ field: "content", code: "hash_mismatch" }] } } }), { action: "refused", offset: 0, code: "hash_mismatch" });
  assert.equal(afterAnswer({ status: 422, body: { details: { errors: [{ field: "content", code: "not_an_image" }] } } }).code,
    "not_an_image");
  assert.equal(afterAnswer({ status: 413, body: { error: "photo_too_large" } }).code, "photo_too_large");
  // The network or the server failed: later, asking the server's offset again (never from zero on our own).
  for (const status of [0, 404, 429, 500, 502, 503]) {
    assert.deepEqual(afterAnswer({ status, body: null }), { action: "wait", offset: null }, String(status));
  }
  assert.equal(afterAnswer({ status: 403, body: { error: "forbidden" } }).action, "stop");
  assert.equal(afterAnswer({ status: 401, body: {} }).action, "stop");
});

test("a photo reads as waiting, uploading, done, refused or 照片上传中", () => {
  const a = { id: "a1", sha256: "s", uploaded_at: null };
  assert.equal(photoState(a, { hasFull: true }, { recordSent: false }), "waiting");
  assert.equal(photoState(a, { hasFull: true }, { recordSent: true }), "uploading");
  assert.equal(photoState(a, { hasFull: false, uploaded: true }), "done");
  assert.equal(photoState({ ...a, uploaded_at: "2026-12-06T08:00:00Z" }, null), "done");
  assert.equal(photoState(a, { hasFull: true, refused: "hash_mismatch" }), "refused");
  assert.equal(photoState(a, null), "pending"); // someone else's, not yet uploaded
  assert.equal(photoState(a, { hasFull: false, hasThumb: true }), "pending");
});

test("the Sync screen counts the photos through and the share of their bytes", () => {
  const photos = [
    { size: 100, uploaded: true }, { size: 100, offset: 50 }, { size: 200, offset: 0 },
    { size: 100, offset: 0, refused: "not_an_image" },
  ];
  assert.deepEqual(uploadProgress(photos), { done: 1, count: 3, refused: 1, percent: 37 });
  assert.deepEqual(uploadProgress([]), { done: 0, count: 0, refused: 0, percent: 100 });
  assert.equal(uploadProgress([{ size: 10, offset: 99 }]).percent, 100); // never above the whole
});

test("bytes leave the phone when no visible photo names them, unless just taken on an unsaved form", () => {
  const now = Date.parse("2026-12-06T08:00:00Z");
  const kept = [
    { sha256: "named", attached: true },
    { sha256: "evicted", attached: true },
    { sha256: "on-form", attached: false, takenAt: "2026-12-06T07:00:00+08:00" },
    { sha256: "old-form", attached: false, takenAt: "2026-11-01T07:00:00+08:00" },
  ];
  assert.deepEqual(prunable(kept, [{ sha256: "named" }], now), ["evicted", "old-form"]);
});

test("a record's photos of one role or checklist item, oldest first", () => {
  const all = [
    { id: "3", record_type: "visit", record_id: "v", item: "leaks", taken_at: "2026-12-06T09:00:00+08:00" },
    { id: "1", record_type: "visit", record_id: "v", item: "", taken_at: "2026-12-06T08:00:00+08:00" },
    { id: "2", record_type: "visit", record_id: "v", item: "leaks", taken_at: "2026-12-06T08:30:00+08:00" },
    { id: "4", record_type: "visit", record_id: "other", item: "" },
    { id: "5", record_type: "ticket", record_id: "v", role: "after" },
  ];
  assert.deepEqual(photosOf(all, { recordType: "visit", recordId: "v", item: "leaks" }).map((a) => a.id), ["2", "3"]);
  assert.deepEqual(photosOf(all, { recordType: "visit", recordId: "v", item: "" }).map((a) => a.id), ["1"]);
  assert.deepEqual(photosOf(all, { recordType: "visit", recordId: "v" }).map((a) => a.id), ["1", "2", "3"]);
  assert.deepEqual(photosOf(all, { recordType: "ticket", recordId: "v", role: "after" }).map((a) => a.id), ["5"]);
  assert.deepEqual(photosOf(all, { recordType: "ticket", recordId: "v", role: "before" }), []);
});

test("a photo may be taken away by its author or a supervisor, and one not yet answered is the user's own", () => {
  const butler = { id: "u1", role: "butler" };
  assert.equal(mayDelete({ id: "a", author_id: "u1" }, butler), true);
  assert.equal(mayDelete({ id: "a", author_id: "u2" }, butler), false); // the resident's photo on the butler's ticket
  assert.equal(mayDelete({ id: "a" }, butler), true); // made on this phone, the server has not set its author yet
  assert.equal(mayDelete({ id: "a", author_id: "u2" }, { id: "s", role: "supervisor" }), true);
  assert.equal(mayDelete({ id: "a", author_id: "u1" }, { id: "u1", role: "resident" }), true);
  assert.equal(mayDelete({ id: "a", author_id: "u1" }, null), false); // logged out
});

test("deleted photos' bytes stay while another photo names the same hash", () => {
  const all = [{ id: "a", sha256: "s1" }, { id: "b", sha256: "s1" }, { id: "c", sha256: "s2" }];
  assert.equal(hashStillNamed("s1", all, ["a"]), true); // b still shows these bytes
  assert.equal(hashStillNamed("s1", all, ["a", "b"]), false);
  assert.equal(hashStillNamed("s2", all.filter((x) => x.id !== "c")), false); // c already gone from the replica
  assert.equal(hashStillNamed("s3", all), false);
});

test("a photo taken again replaces the refused one on the same record, role and checklist item", () => {
  const refused = { id: "a", household_id: "h", record_type: "visit", record_id: "v", role: "photo", item: "leaks",
                    sha256: "s" };
  assert.deepEqual(retakeOf(refused), { record: { type: "visit", id: "v", household_id: "h" }, role: "photo", item: "leaks" });
  assert.deepEqual(retakeOf({ household_id: "h", record_type: "ticket", record_id: "t", role: "after" }),
    { record: { type: "ticket", id: "t", household_id: "h" }, role: "after", item: "" });
  assert.equal(retakeOf({ record_type: "ticket", record_id: "t" }).role, "photo"); // no role: the record's own
});

test("deleting takes two taps: 删除, then 确定删除; 不删 goes back and deletes nothing", () => {
  assert.equal(deleteStep("idle", "delete"), "confirm");
  assert.equal(deleteStep("confirm", "yes"), "deleted");
  assert.equal(deleteStep("confirm", "no"), "idle");
  assert.equal(deleteStep("idle", "yes"), "idle"); // one tap never deletes
  assert.equal(deleteStep("confirm", "delete"), "confirm");
  assert.equal(deleteStep("deleted", "no"), "deleted"); // gone is gone: the outbox has it
});
