// 触点 Touchpoint in one tap (#/touchpoint/<household id>): a big button per channel saves the
// contact now, with an optional one-line summary and photos taken first, and goes back to the household.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import { CHANNELS, householdHeader, label, notFound, toast } from "./common.js";
import { formStrip, photoPicker } from "./photos.js";

extend({
  "zh-CN": { touchpoint: { title: "记录触点", summary: "一句话记录（可选）", example: "如：大堂偶遇，问候近况", hint: "点一下渠道即保存", saved: "已记录触点：{channel}" } },
  en: { touchpoint: { title: "Log a touchpoint", summary: "One line about it (optional)", example: "e.g. met in the lobby, said hello", hint: "One tap on a channel saves it",
                      saved: "Touchpoint logged: {channel}" } },
});

export function touchpointView(root, route, app) {
  const [hid] = route.args;
  const household = store.get("household", hid);
  if (!household) return notFound(root);
  window.scrollTo(0, 0);
  const summary = h("input", { type: "text", name: "summary", maxlength: 2000, enterkeyhint: "done",
                               placeholder: t("touchpoint.example"),
                               "data-testid": "touchpoint-summary" });
  let saving = false;
  let open = true;
  // Photos taken before the channel is tapped: named by the touchpoint once it is saved.
  let taken = [];
  const photoBox = h("div", { class: "card", "data-testid": "touchpoint-photos" });
  const drawPhotos = () => fill(photoBox, h("h3", {}, t("photos.title")),
    formStrip(taken, { onRemove: (sha) => { taken = taken.filter((x) => x !== sha); photos.discardUnattached(sha); drawPhotos(); } }),
    photoPicker({ testid: "touchpoint-photo", onPicked: (photo) => {
      if (!taken.includes(photo.sha256)) taken = [...taken, photo.sha256];
      drawPhotos();
    } }));
  drawPhotos();

  async function log(channel) {
    if (saving) return; // a second tap must not log the contact twice
    saving = true;
    for (const b of buttons.querySelectorAll("button")) b.disabled = true;
    const fields = { household_id: hid, at: store.nowWithOffset(), channel };
    if (summary.value.trim()) fields.summary = summary.value.trim();
    const touchpoint = await store.create("touchpoint", fields);
    for (const sha of taken) await photos.attach(sha, { type: "touchpoint", id: touchpoint.id, household_id: hid });
    toast(t("touchpoint.saved", { channel: label("channel", channel) }));
    if (open) app.go(`household/${encodeURIComponent(hid)}`); // unless the butler already went elsewhere
  }

  const buttons = h("div", { class: "channel-buttons" }, CHANNELS.map((channel) =>
    h("button", { type: "button", class: "channel", "data-testid": "channel", "data-value": channel, onclick: () => log(channel) },
      label("channel", channel))));

  fill(root, h("section", { class: "butler touchpoint-screen" },
    householdHeader(household),
    h("h2", {}, t("touchpoint.title")),
    h("label", {}, h("span", {}, t("touchpoint.summary")), summary),
    photoBox,
    h("p", { class: "hint" }, t("touchpoint.hint")),
    buttons));
  return () => { open = false; };
}
