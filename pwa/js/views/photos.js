// What the screens share of photos: two big buttons (拍照 with the camera, 从相册选 from the gallery),
// a row of thumbnails (own ones from the phone, others' fetched once), 照片上传中 where the bytes are not
// here yet, and a tap that shows the photo large. DOM only; photos.js does the work.

import { h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as photos from "../photos.js";

extend({
  "zh-CN": {
    photos: {
      title: "照片", camera: "拍照", gallery: "从相册选", working: "正在处理照片…", failed: "这张照片打不开，请换一张。",
      pending: "照片上传中", waiting: "等待同步", uploading: "上传中", done: "已上传", refused: "被拒收",
      remove: "删除这张照片", close: "关闭", loading: "正在打开…", unavailable: "现在无法打开这张照片，联网后再试。",
      photo_n: "照片 {n}", before: "维修前", after: "维修后", photo: "报修照片",
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

function fillThumb(box, urlPromise, fallback) {
  urlPromise.then((url) => {
    if (url) box.replaceChildren(h("img", { src: url, alt: "", loading: "lazy" }));
    else box.replaceChildren(h("span", { class: "thumb-wait" }, fallback));
  }).catch(() => box.replaceChildren(h("span", { class: "thumb-wait" }, fallback)));
}

/** Thumbnails of attachment records; a tap shows the photo large. */
export function photoStrip(attachments, { testid = "photos" } = {}) {
  if (!attachments.length) return null;
  return h("div", { class: "photo-strip", "data-testid": testid }, attachments.map((a, i) => {
    const { state, code } = photos.stateOf(a);
    const img = h("span", { class: "thumb-img" }, h("span", { class: "thumb-wait" }, t("photos.pending")));
    fillThumb(img, photos.thumbUrl(a), t("photos.pending"));
    const mark = state === "done" ? null
      : h("span", { class: `thumb-mark ${state}`, "data-testid": "photo-state" },
        state === "refused" ? t("photos.refused") : state === "pending" ? t("photos.pending") : t(`photos.${state}`));
    return h("figure", { class: "thumb", "data-testid": "photo", "data-id": a.id, "data-sha": a.sha256, "data-state": state },
      h("button", { type: "button", class: "thumb-open", "aria-label": t("photos.photo_n", { n: i + 1 }),
                    onclick: () => enlarge(a) }, img),
      mark,
      state === "refused" ? h("figcaption", { class: "error", "data-code": code }, refusal(code)) : null);
  }));
}

/** Thumbnails of photos taken on a form that is not saved yet, each with a remove button. */
export function formStrip(hashes, { onRemove, testid = "form-photos" } = {}) {
  if (!hashes.length) return null;
  return h("div", { class: "photo-strip", "data-testid": testid }, hashes.map((sha, i) => {
    const img = h("span", { class: "thumb-img" });
    fillThumb(img, photos.thumbUrl({ sha256: sha }), "");
    return h("figure", { class: "thumb", "data-testid": "form-photo", "data-sha": sha },
      h("span", { class: "thumb-open", "aria-label": t("photos.photo_n", { n: i + 1 }) }, img),
      h("button", { type: "button", class: "thumb-remove", "aria-label": t("photos.remove"),
                    onclick: () => onRemove(sha) }, "×"));
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
  body.replaceChildren(url ? h("img", { src: url, alt: "", "data-testid": "photo-full" })
    : h("p", {}, t("photos.unavailable")));
}
