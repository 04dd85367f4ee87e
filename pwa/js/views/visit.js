// 脱鞋入户 Home visit form (#/visit/<household id> new, #/visit/<household id>/<visit id> edit):
// kind, the community's checklist, needs found, satisfaction, product interest, notes and a follow-up
// date. Saving writes to the phone at once (it syncs later) and goes back to the household.

import { fill, h } from "../dom.js";
import { extend, lang, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import {
  VISIT_KINDS, changed, chip, dateLabel, householdHeader, label, notFound, productCode, productName, savedToast, tagEditor,
} from "./common.js";
import {
  FOLLOW_UP_DAYS, NOTE_MAX, restAllOk, answerItem, dayAfter, dayInWords, missingAnswers, tapUnrated, checklistItems, initialForm, itemLabel as nameOfItem, needSuggestions,
  newVisitFields, notedKeys, offeredProducts, productChipCodes, showsItemPhotos, tapStar, toggleProduct, usableDraft,
  visitFields, withoutRemoved,
} from "./visit-logic.js";
import { formStrip, photoPicker, photoStrip } from "./photos.js";
import { photosOf } from "../photos-logic.js";

extend({
  "zh-CN": {
    visit: {
      title_new: "脱鞋入户", title_edit: "编辑走访 · {date}", kind: "走访类型", checklist: "入户检查",
      all_ok: "其余全部正常", ok: "正常", problem: "有问题", note: "说明（可选）", add_note: "加备注",
      needs: "发现的需求", satisfaction: "满意度", products: "感兴趣的服务", notes: "走访记录", follow_up: "跟进日期",
      follow_up_in: { 7: "一周后", 14: "两周后", 30: "一个月后" }, follow_up_clear: "不跟进",
      follow_up_on: "将于 {date} 跟进", follow_up_none: "不安排跟进",
      stars: { 1: "很不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "很满意" }, unrated: "未评价（住户不愿评价）",
      missing_items: "还有 {n} 项没有填：{names}。请逐项选择，或点“其余全部正常”。",
      missing_satisfaction: "请选择满意度；住户不愿评价时选“未评价”。",
      save: "保存走访", saving: "正在保存…", draft_restored: "已恢复上次未保存的内容。",
    },
  },
  en: {
    visit: {
      title_new: "Home visit", title_edit: "Edit visit · {date}", kind: "Kind of visit", checklist: "Checklist",
      all_ok: "Mark the rest OK", ok: "OK", problem: "Problem", note: "Note (optional)", add_note: "Add a note",
      needs: "Needs found", satisfaction: "Satisfaction", products: "Interested in", notes: "Notes", follow_up: "Follow up on",
      follow_up_in: { 7: "In a week", 14: "In two weeks", 30: "In a month" }, follow_up_clear: "No follow-up",
      follow_up_on: "Follow up on {date}", follow_up_none: "No follow-up planned",
      stars: { 1: "Very unhappy", 2: "Unhappy", 3: "So-so", 4: "Happy", 5: "Very happy" },
      unrated: "Not rated (the resident would not say)",
      missing_items: "{n} items are not answered yet: {names}. Answer each, or tap “Mark the rest OK”.",
      missing_satisfaction: "Choose a satisfaction; if the resident would not say, choose “Not rated”.",
      save: "Save visit", saving: "Saving…", draft_restored: "What you typed last time is back.",
    },
  },
});

export function visitView(root, route, app) {
  const [hid, vid] = route.args;
  const household = store.get("household", hid);
  if (!household) return notFound(root);
  window.scrollTo(0, 0);
  let open = true;
  const before = vid ? store.get("visit", vid) : null;
  // What was typed and not yet saved (the app was closed, reloaded or killed): it comes back as it was.
  const draftName = `visit/${hid}/${vid ?? "new"}`;
  const kept = store.draft(draftName);
  const draft = usableDraft(kept, before);
  const start = draft ?? before;
  const id = draft?.id ?? (before ? vid : store.uuid()); // chosen once: a second Save updates, never duplicates
  const form = initialForm(start);
  // Photos taken on this form, by checklist item ("" for the visit's own): named by attachment records
  // only when the visit is saved (a photo's record must follow its visit to the server).
  // Saved photos the butler deleted here (by attachment id) go only when the visit is saved: a cancel
  // keeps them. A refused one retaken is replaced at once (nothing is lost either way).
  form.photos = { ...(draft?.photos ?? {}) };
  form.removing = [...(draft?.removing ?? [])];
  const savedPhotos = (item) => (before
    ? withoutRemoved(photosOf(photos.of("visit", id), { recordType: "visit", recordId: id, item }), form.removing) : []);
  function photoBox(item, redraw) {
    const taken = form.photos[item] ?? [];
    return h("div", { class: "visit-photos", "data-testid": "visit-photos", "data-item": item },
      photoStrip(savedPhotos(item), { testid: "saved-photos", retake: true, onDelete: (a) => {
        form.removing = [...form.removing, a.id];
        redrawPhotos();
        keepDraft();
      } }),
      formStrip(taken, { onRemove: (sha) => {
        form.photos[item] = (form.photos[item] ?? []).filter((x) => x !== sha);
        photos.discardUnattached(sha);
        redraw();
        keepDraft();
      } }),
      photoPicker({ testid: item ? "item-photo" : "visit-photo", onPicked: (photo) => {
        const list = form.photos[item] ?? [];
        if (!list.includes(photo.sha256)) form.photos[item] = [...list, photo.sha256];
        redraw();
        keepDraft();
      } }));
  }

  // The community's checklist (else the default), and items this visit holds that it no longer has.
  const items = checklistItems(store.meta.visitTemplate?.items, form.checklist);
  const itemLabel = (item) => nameOfItem(item, lang());

  // ---- kind ---------------------------------------------------------------------------------------
  const kinds = h("div", { class: "chips", role: "radiogroup", "aria-label": t("visit.kind") });
  const drawKinds = () => fill(kinds, ...VISIT_KINDS.map((kind) => chip(label("kind", kind), {
    pressed: form.kind === kind, radio: true, value: kind, testid: "kind",
    onclick: () => { form.kind = kind; drawKinds(); },
  })));
  drawKinds();

  // ---- checklist ----------------------------------------------------------------------------------
  const checklist = h("div", { class: "checklist" });
  const showNote = notedKeys(form.checklist);
  function setItem(key, ok) {
    form.checklist = answerItem(form.checklist, key, ok); // tapping the chosen answer again clears it
    if (ok === false) showNote.add(key);
    drawChecklist(ok === false ? key : null);
    showMissing();
  }
  function drawChecklist(focusKey = null) {
    fill(checklist, ...items.map((item) => {
      const entry = form.checklist[item.key];
      const note = entry && showNote.has(item.key)
        ? h("input", { type: "text", class: "check-note", maxlength: NOTE_MAX, value: entry.note ?? "",
                       placeholder: t("visit.note"), "aria-label": `${itemLabel(item)} ${t("visit.note")}`,
                       "data-testid": "check-note", oninput: (e) => { entry.note = e.target.value; } })
        : null;
      const row = h("div", { class: `check-item${entry?.ok === false ? " problem" : ""}`, "data-testid": "check-item", "data-key": item.key },
        h("span", { class: "check-label" }, itemLabel(item)),
        h("div", { class: "seg" },
          h("button", { type: "button", class: "ok", "aria-pressed": String(entry?.ok === true), "data-testid": "check-ok",
                        onclick: () => setItem(item.key, true) }, t("visit.ok")),
          h("button", { type: "button", class: "bad", "aria-pressed": String(entry?.ok === false), "data-testid": "check-problem",
                        onclick: () => setItem(item.key, false) }, t("visit.problem"))),
        note,
        entry && !note ? h("button", { type: "button", class: "link-dark small", onclick: () => { showNote.add(item.key); drawChecklist(item.key); } },
          t("visit.add_note")) : null,
        showsItemPhotos(entry, { taken: form.photos[item.key]?.length, saved: savedPhotos(item.key).length })
          ? photoBox(item.key, () => drawChecklist()) : null);
      if (note && focusKey === item.key) requestAnimationFrame(() => note.focus());
      return row;
    }));
  }
  drawChecklist();
  const allOk = h("button", { type: "button", class: "secondary", "data-testid": "all-ok", onclick: () => {
    form.checklist = restAllOk(items, form.checklist);
    drawChecklist();
    showMissing();
  } }, t("visit.all_ok"));

  // ---- needs, satisfaction, products --------------------------------------------------------------
  const needs = tagEditor({ values: start?.needs ?? [], legend: t("visit.needs"), testid: "needs",
                            suggestions: needSuggestions(lang()) });

  const stars = h("div", { class: "sat-row", role: "radiogroup", "aria-label": t("visit.satisfaction") });
  const drawStars = () => fill(stars, ...[1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", class: "sat-btn", role: "radio", "aria-checked": String(form.satisfaction === n),
    "aria-label": `${n} ${t(`visit.stars.${n}`)}`, "data-testid": "satisfaction",
    "data-value": n, onclick: () => { form.satisfaction = tapStar(form.satisfaction, n); form.unrated = false; answered(); },
  }, h("span", { class: "sat-n" }, `${n}★`), h("span", { class: "sat-label" }, t(`visit.stars.${n}`)))));
  // 未评价: the resident would not say. A choice of its own, below the stars.
  const unrated = h("button", { type: "button", class: "sat-unrated", "data-testid": "satisfaction-unrated",
                                onclick: () => { Object.assign(form, tapUnrated(form)); answered(); } }, t("visit.unrated"));
  const drawUnrated = () => unrated.setAttribute("aria-pressed", String(form.unrated));
  drawStars();
  drawUnrated();

  const catalogue = offeredProducts(store.all("product"), productCode);
  const products = h("div", { class: "chips" });
  const nameOf = (code) => (store.get("product", code) ? productName(store.get("product", code)) : code);
  const drawProducts = () => {
    const offered = new Map(catalogue.map((p) => [productCode(p), productName(p)]));
    fill(products, ...productChipCodes(offered.keys(), form.products).map((code) => chip(
      offered.has(code) ? offered.get(code) : nameOf(code), {
        pressed: form.products.includes(code), value: code, testid: "product",
        onclick: () => {
          form.products = toggleProduct(form.products, code);
          drawProducts();
        },
      })));
  };
  drawProducts();

  const visitPhotos = h("div", {});
  const drawVisitPhotos = () => fill(visitPhotos, photoBox("", drawVisitPhotos));
  drawVisitPhotos();
  // 照片将在保存后删除, with 撤销: what a save will take away, shown until then.
  const removing = h("p", { class: "notice photo-removing", role: "status", "data-testid": "photos-removing", hidden: true });
  function drawRemoving() {
    removing.hidden = !form.removing.length;
    fill(removing, t("photos.removing", { n: form.removing.length }), " ",
      h("button", { type: "button", class: "secondary", "data-testid": "photos-removing-undo", onclick: () => {
        form.removing = [];
        redrawPhotos();
        keepDraft();
      } }, t("photos.undo")));
  }
  function redrawPhotos() {
    drawChecklist();
    drawVisitPhotos();
    drawRemoving();
  }
  drawRemoving();
  // A refused photo retaken here is saved at once, and uploads end: the strips follow, redrawn only when
  // this visit's photos changed (a sync must not take the focus from a note being typed).
  const photoSignature = () => JSON.stringify(photos.of("visit", id).map((a) => [a.id, photos.stateOf(a).state]));
  let shownPhotos = photoSignature();
  const follow = () => {
    const next = photoSignature();
    if (!open || next === shownPhotos) return;
    shownPhotos = next;
    redrawPhotos();
  };
  const offPhotos = photos.subscribe(follow);
  const offStore = store.subscribe(follow);

  const notes = h("textarea", { name: "notes", rows: 4, maxlength: 10000, "data-testid": "visit-notes" }, start?.notes ?? "");
  const followUp = h("input", { type: "date", name: "follow_up_at", value: start?.follow_up_at ?? "", "data-testid": "follow-up",
                                 "aria-describedby": "follow-up-said" });
  // The picker speaks the phone's language (mm/dd/yyyy on some): the day is said again in the app's,
  // and the usual choices are one tap.
  const followUpSaid = h("p", { class: "hint", id: "follow-up-said", "data-testid": "follow-up-said", "aria-live": "polite" });
  const sayFollowUp = () => {
    followUpSaid.textContent = followUp.value
      ? t("visit.follow_up_on", { date: dayInWords(followUp.value, lang()) }) : t("visit.follow_up_none");
  };
  followUp.addEventListener("input", sayFollowUp);
  const setFollowUp = (value) => { followUp.value = value; sayFollowUp(); };
  const followUpChoices = h("div", { class: "chips" },
    ...FOLLOW_UP_DAYS.map((days) => h("button", { type: "button", class: "toggle", "data-testid": "follow-up-in", "data-days": days,
                                                  onclick: () => setFollowUp(dayAfter(days)) }, t(`visit.follow_up_in.${days}`))),
    h("button", { type: "button", class: "toggle", "data-testid": "follow-up-clear", onclick: () => setFollowUp("") },
      t("visit.follow_up_clear")));
  sayFollowUp();
  const saveButton = h("button", { type: "submit", class: "primary", "data-testid": "save-visit" }, t("visit.save"));

  // What a visit still lacks is said at the top of the box where it is answered: outlined, scrolled
  // to, announced, and gone as soon as it is answered.
  const itemsMissing = h("p", { class: "error", role: "alert", id: "visit-items-missing", "data-testid": "visit-items-missing", hidden: true });
  const satisfactionMissing = h("p", { class: "error", role: "alert", id: "visit-satisfaction-missing",
                                       "data-testid": "visit-satisfaction-missing", hidden: true });
  const checklistBox = h("fieldset", { class: "card", "data-testid": "visit-checklist-box", "aria-describedby": "visit-items-missing" },
    h("legend", {}, t("visit.checklist")), itemsMissing, checklist, allOk);
  const satisfactionBox = h("fieldset", { class: "card", "data-testid": "visit-satisfaction-box",
                                          "aria-describedby": "visit-satisfaction-missing" },
    h("legend", {}, t("visit.satisfaction")), satisfactionMissing, stars, unrated);
  let asked = false; // the messages show once Save was tapped
  function showMissing() {
    const missing = missingAnswers(items, form, before);
    const names = missing.items.map((key) => itemLabel(items.find((item) => item.key === key)));
    itemsMissing.textContent = t("visit.missing_items", { n: names.length, names: names.join("、") });
    satisfactionMissing.textContent = t("visit.missing_satisfaction");
    itemsMissing.hidden = !asked || !missing.items.length;
    satisfactionMissing.hidden = !asked || !missing.satisfaction;
    checklistBox.classList.toggle("invalid", !itemsMissing.hidden);
    satisfactionBox.classList.toggle("invalid", !satisfactionMissing.hidden);
    return missing;
  }
  function answered() {
    drawStars();
    drawUnrated();
    showMissing();
  }

  async function submit(event) {
    event.preventDefault();
    // A visit being recorded now: the whole checklist and a satisfaction (or 未评价); an edit: no answer
    // taken back.
    asked = true;
    const missing = showMissing();
    const first = missing.items.length ? checklistBox : missing.satisfaction ? satisfactionBox : null;
    if (first) {
      first.scrollIntoView?.({ block: "start" });
      first.querySelector("button")?.focus({ preventScroll: true });
      return;
    }
    saveButton.disabled = true;
    saveButton.textContent = t("visit.saving");
    const fields = visitFields(form, { needs: needs.value(), notes: notes.value, followUp: followUp.value });
    try {
      if (before) {
        const diff = changed(before, fields);
        if (Object.keys(diff).length) await store.save("visit", id, diff);
      } else {
        await store.save("visit", id, { household_id: hid, visited_at: store.nowWithOffset(), ...newVisitFields(fields) });
      }
      // After the visit: in the outbox, the photos' records follow their visit.
      for (const [item, hashes] of Object.entries(form.photos)) {
        for (const sha of hashes) {
          await photos.attach(sha, { type: "visit", id, household_id: hid }, { item: item && form.checklist[item] ? item : "" });
        }
      }
      form.photos = {};
      // Then the saved photos the butler deleted on this form (a delete of each record, in the outbox).
      for (const aid of form.removing) {
        const attachment = store.get("attachment", aid);
        if (attachment) await photos.remove(attachment);
      }
      form.removing = [];
    } catch (error) {
      saveButton.disabled = false;
      saveButton.textContent = t("visit.save");
      throw error;
    }
    clearTimeout(draftTimer);
    await store.dropDraft(draftName);
    savedToast("visit", id);
    if (open) app.go(`household/${encodeURIComponent(hid)}`); // unless the butler already went elsewhere
  }

  let draftTimer = null;
  let cancelled = false; // 取消: the click bubbling to the form must not keep a draft again
  function keepDraft() {
    clearTimeout(draftTimer);
    if (cancelled) return;
    draftTimer = setTimeout(() => store.saveDraft(draftName, {
      id, version: before?.version ?? null, kind: form.kind, checklist: form.checklist, satisfaction: form.satisfaction, unrated: form.unrated,
      products_interest: form.products, needs: needs.value(), notes: notes.value, follow_up_at: followUp.value || null,
      photos: form.photos, removing: form.removing,
    }), 300);
  }

  fill(root, h("form", { class: "butler visit-screen", "data-testid": "visit-form", onsubmit: submit,
                                   oninput: keepDraft, onclick: keepDraft },
    householdHeader(household),
    h("h2", {}, before ? t("visit.title_edit", { date: dateLabel(before.visited_at) }) : t("visit.title_new")),
    draft ? h("p", { class: "notice", role: "status", "data-testid": "draft-restored" }, t("visit.draft_restored")) : null,
    h("fieldset", { class: "card" }, h("legend", {}, t("visit.kind")), kinds),
    checklistBox,
    h("div", { class: "card" }, needs.el),
    satisfactionBox,
    catalogue.length || form.products.length ? h("fieldset", { class: "card" }, h("legend", {}, t("visit.products")), products) : null,
    h("fieldset", { class: "card", "data-testid": "visit-photo-card" }, h("legend", {}, t("photos.title")), visitPhotos, removing),
    h("div", { class: "card" },
      h("label", {}, h("span", {}, t("visit.notes")), notes),
      h("label", {}, h("span", {}, t("visit.follow_up")), followUp), followUpChoices, followUpSaid),
    h("div", { class: "action-bar" },
      h("a", { class: "button", href: `#/household/${encodeURIComponent(hid)}`,
               onclick: () => { cancelled = true; clearTimeout(draftTimer); store.dropDraft(draftName); } }, t("common.cancel")),
      saveButton)));
  return () => { open = false; offPhotos(); offStore(); };
}
