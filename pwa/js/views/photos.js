// What the screens share of photos: two big buttons (拍照 with the camera, 从相册选 from the gallery),
// a row of thumbnails (own ones from the phone, others' fetched once), 照片上传中 where the bytes are not
// here yet, a tap that shows the photo large, the two-tap 删除 (确定删除 / 不删) and 重新拍摄 for a photo
// the server refused. DOM only; photos.js does the work.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import { deleteStep, mayDelete } from "../photos-logic.js";

extend({
  "zh-CN": {
    photos: {
      title: "照片", camera: "拍照", gallery: "从相册选", working: "正在处理照片…", failed: "这张照片打不开，请换一张。",
      pending: "照片上传中", waiting: "等待同步", uploading: "上传中", done: "已上传", refused: "被拒收",
      remove: "删除这张照片", close: "关闭", loading: "正在打开…", unavailable: "现在无法打开这张照片，联网后再试。",
      photo_n: "照片 {n}", before: "维修前", after: "维修后", photo: "报修照片",
      delete: "删除", delete_yes: "确定删除", delete_no: "不删", delete_n: "删除照片 {n}", delete_yes_n: "确定删除照片 {n}",
      delete_no_n: "不删照片 {n}", retake: "重新拍摄", retake_n: "重新拍摄照片 {n}",
      removing: "{n} 张照片将在保存后删除", undo: "撤销",
      codes: {
        hash_mismatch: "照片在传送中损坏了，请重新拍一张。", not_an_image: "这不是一张能打开的照片。",
        image_too_large: "照片太大了。", image_has_location: "照片里还带着位置信息。",
        length_mismatch: "照片大小不对。", photo_too_large: "照片超过 10 MB。", refused: "服务器没有收下这张照片。",
      },
    },
  },
  en: {
    photos: {
      title: "Photos", camera: "Take photo", gallery: "From gallery", working: "Preparing the photo…",
      failed: "This picture cannot be opened; please choose another.",
      pending: "Photo uploading", waiting: "Waiting to sync", uploading: "Uploading", done: "Uploaded", refused: "Refused",
      remove: "Remove this photo", close: "Close", loading: "Opening…",
      unavailable: "This photo cannot be opened now; try again when online.",
      photo_n: "Photo {n}", before: "Before repair", after: "After repair", photo: "Photos of the problem",
      delete: "Delete", delete_yes: "Yes, delete", delete_no: "Keep", delete_n: "Delete photo {n}",
      delete_yes_n: "Yes, delete photo {n}", delete_no_n: "Keep photo {n}", retake: "Retake", retake_n: "Retake photo {n}",
      removing: "{n} photos will be deleted when you save", undo: "Undo",
      codes: {
        hash_mismatch: "The photo was damaged on the way; please take it again.", not_an_image: "This is not a picture.",
        image_too_large: "The picture is too large.", image_has_location: "The picture still holds its location.",
        length_mismatch: "The photo's size is wrong.", photo_too_large: "The photo is over 10 MB.",
        refused: "The server did not take this photo.",
      },
    },
  },
});

/** Why the server refused a photo, in words. */
export function refusal(code) {
  const text = t(`photos.codes.${code}`);
  return text === `photos.codes.${code}` ? t("photos.codes.refused") : text;
}

/**
 * 拍照 and 从相册选: each picture is made ready (photos.prepare) and handed to onPicked(summary).
 * testid names the pair (its buttons are `${testid}-camera` and `${testid}-gallery`).
 */
export function photoPicker({ onPicked, testid = "photo" }) {
  const note = h("p", { class: "muted photo-note", role: "status", hidden: true });
  async function picked(event) {
    const files = [...(event.target.files ?? [])];
    event.target.value = ""; // the same picture may be chosen again
    if (!files.length) return;
    note.textContent = t("photos.working");
    note.hidden = false;
    let failed = false;
    for (const file of files) {
      try {
        await onPicked(await photos.prepare(file));
      } catch (error) {
        console.warn("photo not prepared:", error);
        failed = true;
      }
    }
    note.textContent = failed ? t("photos.failed") : "";
    note.hidden = !failed;
  }
  const input = (capture) => h("input", {
    type: "file", accept: "image/*", capture: capture ? "environment" : null, multiple: capture ? null : true,
    class: "visually-hidden", "data-testid": `${testid}-${capture ? "camera" : "gallery"}`, onchange: picked,
  });
  return h("div", { class: "photo-picker" },
    h("div", { class: "photo-buttons" },
      h("label", { class: "button photo-button" }, h("span", { "aria-hidden": "true" }, "📷 "), t("photos.camera"), input(true)),
      h("label", { class: "button secondary photo-button" }, h("span", { "aria-hidden": "true" }, "🖼 "), t("photos.gallery"), input(false))),
    note);
}

// Thumbnails are read when they come into view (a household's long visit list reads only what shows).
const seen = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
  for (const entry of entries.filter((e) => e.isIntersecting)) {
    seen.unobserve(entry.target);
    entry.target.load?.();
  }
}, { rootMargin: "200px" });

function fillThumb(box, read, fallback, { lazy = false } = {}) {
  const load = () => read().then((url) => {
    if (url) fill(box, h("img", { src: url, alt: "", loading: "lazy" }));
    else fill(box, h("span", { class: "thumb-wait" }, fallback));
  }).catch(() => fill(box, h("span", { class: "thumb-wait" }, fallback)));
  if (!lazy || !seen) return load();
  box.load = load;
  seen.observe(box);
}

/** 删除, then 确定删除 and 不删 in its place (no window.confirm): onConfirm runs on the second tap only. */
export function deleteControl({ n, onConfirm }) {
  const box = h("div", { class: "photo-delete" });
  let step = "idle";
  const tap = (what) => {
    step = deleteStep(step, what);
    if (step === "deleted") onConfirm();
    else draw();
  };
  const draw = () => fill(box, ...(step === "confirm" ? [
    h("button", { type: "button", class: "danger", "data-testid": "photo-delete-yes",
                  "aria-label": t("photos.delete_yes_n", { n }), onclick: () => tap("yes") }, t("photos.delete_yes")),
    h("button", { type: "button", class: "secondary", "data-testid": "photo-delete-no",
                  "aria-label": t("photos.delete_no_n", { n }), onclick: () => tap("no") }, t("photos.delete_no")),
  ] : [h("button", { type: "button", class: "secondary", "data-testid": "photo-delete",
                     "aria-label": t("photos.delete_n", { n }), onclick: () => tap("delete") }, t("photos.delete"))]));
  draw();
  return box;
}

/** 重新拍摄: opens the camera; the picture taken replaces the refused photo. A cancelled picker leaves the
 * refused photo as it was. */
function retakeButton(attachment, n) {
  const note = h("span", { class: "error", role: "status", hidden: true });
  async function picked(event) {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return; // cancelled: nothing changes
    try {
      await photos.retake(attachment, await photos.prepare(file));
    } catch (error) {
      console.warn("photo not retaken:", error);
      note.textContent = t("photos.failed");
      note.hidden = false;
    }
  }
  return h("span", { class: "photo-retake" },
    h("label", { class: "button photo-button" }, t("photos.retake"),
      h("input", { type: "file", accept: "image/*", capture: "environment", class: "visually-hidden",
                   "aria-label": t("photos.retake_n", { n }), "data-testid": "photo-retake", onchange: picked })),
    note);
}

/**
 * Thumbnails of attachment records; a tap shows the photo large. With `onDelete(attachment)`, the
 * user's own photos (mayDelete) have the two-tap 删除; with `retake`, a refused one of theirs has
 * 重新拍摄.
 */
export function photoStrip(attachments, { testid = "photos", onDelete = null, retake = false } = {}) {
  if (!attachments.length) return null;
  const user = store.meta.user;
  return h("div", { class: "photo-strip", "data-testid": testid }, attachments.map((a, i) => {
    const { state, code } = photos.stateOf(a);
    const img = h("span", { class: "thumb-img" }, h("span", { class: "thumb-wait" }, t("photos.pending")));
    fillThumb(img, () => photos.thumbUrl(a), t("photos.pending"));
    const mark = state === "done" ? null
      : h("span", { class: `thumb-mark ${state}`, "data-testid": "photo-state" },
        state === "refused" ? t("photos.refused") : state === "pending" ? t("photos.pending") : t(`photos.${state}`));
    const own = mayDelete(a, user);
    return h("figure", { class: "thumb", "data-testid": "photo", "data-id": a.id, "data-sha": a.sha256, "data-state": state },
      h("button", { type: "button", class: "thumb-open", "aria-label": t("photos.photo_n", { n: i + 1 }),
                    onclick: () => enlarge(a) }, img),
      mark,
      state === "refused" ? h("figcaption", { class: "error", "data-code": code }, refusal(code)) : null,
      state === "refused" && retake && own ? retakeButton(a, i + 1) : null,
      onDelete && own ? deleteControl({ n: i + 1, onConfirm: () => onDelete(a) }) : null);
  }));
}

/** Small thumbnails of a record's photos in a list (a household's visits): read from the phone when they
 * come into view, 照片上传中 where the bytes are not here yet; no buttons of their own (the row is one). */
export function thumbRow(attachments, { more = 0, testid = "thumbs" } = {}) {
  if (!attachments.length) return null;
  const states = attachments.map((a) => photos.stateOf(a).state);
  const badge = states.includes("refused") ? ["refused", t("photos.refused")]
    : states.some((s) => s !== "done") ? ["pending", t("photos.pending")] : null;
  return h("span", { class: "thumb-row", "data-testid": testid }, attachments.map((a, i) => {
    const img = h("span", { class: "thumb-small", "data-testid": "thumb", "data-state": states[i] },
      h("span", { class: "thumb-wait" }, "…"));
    fillThumb(img, () => photos.thumbUrl(a), t("photos.pending"), { lazy: true });
    return img;
  }), more ? h("span", { class: "thumb-more" }, `+${more}`) : null,
  badge ? h("span", { class: `flag thumb-badge ${badge[0]}`, "data-testid": "thumbs-badge" }, badge[1]) : null);
}

/** Thumbnails of photos taken on a form that is not saved yet, each with the two-tap 删除 (the photo and
 * its bytes simply go: nothing was saved). */
export function formStrip(hashes, { onRemove, testid = "form-photos" } = {}) {
  if (!hashes.length) return null;
  return h("div", { class: "photo-strip", "data-testid": testid }, hashes.map((sha, i) => {
    const img = h("span", { class: "thumb-img" });
    fillThumb(img, () => photos.thumbUrl({ sha256: sha }), "");
    return h("figure", { class: "thumb", "data-testid": "form-photo", "data-sha": sha },
      h("span", { class: "thumb-open", role: "img", "aria-label": t("photos.photo_n", { n: i + 1 }) }, img),
      deleteControl({ n: i + 1, onConfirm: () => onRemove(sha) }));
  }));
}

/** The photo on the whole screen, fetched at full size if the phone no longer has it. */
export async function enlarge(attachment) {
  document.querySelector(".photo-viewer")?.remove();
  let url = null;
  const body = h("div", { class: "photo-viewer-body" }, h("p", {}, t("photos.loading")));
  const close = () => {
    viewer.remove();
    if (url) URL.revokeObjectURL(url);
    document.removeEventListener("keydown", onKey);
  };
  const onKey = (e) => { if (e.key === "Escape") close(); };
  const viewer = h("div", { class: "photo-viewer", role: "dialog", "aria-modal": "true", "data-testid": "photo-viewer",
                            onclick: (e) => { if (e.target === viewer) close(); } },
    body,
    h("button", { type: "button", class: "wide", "data-testid": "photo-close", onclick: close }, t("photos.close")));
  document.addEventListener("keydown", onKey);
  document.body.append(viewer);
  url = await photos.fullUrl(attachment);
  if (!viewer.isConnected) {
    if (url) URL.revokeObjectURL(url);
    return;
  }
  fill(body, url ? h("img", { src: url, alt: "", "data-testid": "photo-full" })
    : h("p", {}, t("photos.unavailable")));
}
