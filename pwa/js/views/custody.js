// 房屋托管巡查 Custody inspection (#/custody/<household id>): the butler goes through each service of
// the home's contract (ok / problem with a note), takes photos, writes what was done. Saving writes
// to the phone at once (offline as often as not: an empty home's basement has no signal) and the
// inspection and its photos sync later. Also the home screen's list of homes whose inspection is due.

import { fill, h } from "../dom.js";
import { extend, lang, t } from "../i18n.js";
import * as photos from "../photos.js";
import * as store from "../store.js";
import { householdHeader, notFound, savedToast } from "./common.js";
import {
  answer, contractStatus, custodyDue, inspectionFields, isoDay, lastInspectionDay, nextDue, unanswered,
} from "./custody-logic.js";
import { formStrip, photoPicker } from "./photos.js";

const SERVICE_WORDS = {
  "zh-CN": { airing: "通风", cleaning: "保洁", leak_check: "查漏水", power_check: "查电", water_check: "查水",
             key_kept: "钥匙托管", bills: "代缴费用" },
  en: { airing: "Airing", cleaning: "Cleaning", leak_check: "Leak check", power_check: "Power check",
        water_check: "Water check", key_kept: "Key kept", bills: "Bills paid" },
};

extend({
  "zh-CN": {
    custody: {
      title: "托管巡查", due_title: "托管巡查待办", next_due: "下次巡查 {date}", due: "今日应巡查",
      overdue: "已逾期 {n} 天", no_contract: "这户没有托管合同。", not_active: "托管合同未生效或已结束。",
      ok: "正常", problem: "有问题", note: "问题说明", done: "处理情况", done_hint: "如：开窗通风一小时，关闭总水阀",
      photos: "照片", save: "保存巡查", missing: "还有 {n} 项未检查", start: "开始巡查",
      owner_title: "房屋托管", last: "最近巡查 {date}", all_ok: "一切正常", problems: "{n} 项有问题",
    },
  },
  en: {
    custody: {
      title: "Custody inspection", due_title: "Custody inspections due", next_due: "Next inspection {date}",
      due: "Due today", overdue: "{n} days overdue", no_contract: "This home has no custody contract.",
      not_active: "The custody contract has not started or has ended.", ok: "OK", problem: "Problem",
      note: "What is wrong", done: "What was done", done_hint: "e.g. aired the rooms for an hour, closed the main water valve",
      photos: "Photos", save: "Save inspection", missing: "{n} services still to check", start: "Inspect",
      owner_title: "Home custody", last: "Last inspection {date}", all_ok: "all fine", problems: "{n} problems",
    },
  },
});

const serviceName = (name) => (SERVICE_WORDS[lang()] ?? SERVICE_WORDS["zh-CN"])[name] ?? name;

/** The household's live contract on the phone, or null. */
export function contractOf(householdId) {
  return store.all("custody_contract", householdId)[0] ?? null;
}

/** The home screen's card: the homes of the grid whose custody inspection is due or overdue (none: nothing). */
export function custodyDueCard() {
  const today = isoDay(new Date());
  const due = custodyDue(store.all("custody_contract"), (id) => store.get("household", id),
                         (id) => store.all("custody_inspection", id), today);
  if (!due.length) return null;
  return h("section", { class: "card custody-due", "data-testid": "custody-due" },
    h("h3", {}, t("custody.due_title")),
    h("ul", {}, ...due.map((item) => h("li", {},
      h("a", { href: `#/custody/${encodeURIComponent(item.household.id)}`, "data-testid": "custody-due-row",
               "data-id": item.household.id, "data-state": item.state },
        `${item.household.building ?? ""}${item.household.unit ?? ""} ${item.household.room ?? ""} · `,
        h("span", { class: item.state === "overdue" ? "flag overdue" : "flag due" },
          item.state === "overdue" ? t("custody.overdue", { n: item.late }) : t("custody.due")))))));
}

/** The household screen's link to its custody inspection, with the next day due. */
export function custodyLink(householdId) {
  const contract = contractOf(householdId);
  if (!contract) return null;
  const due = nextDue(contract, lastInspectionDay(store.all("custody_inspection", householdId)));
  return h("a", { class: "button secondary", href: `#/custody/${encodeURIComponent(householdId)}`,
                  "data-testid": "custody-link" }, `${t("custody.start")} · ${t("custody.next_due", { date: due })}`);
}

/** A resident's card of their home in custody: the services, the next inspection, the last one's findings. */
export function custodyOwnerCard(householdId) {
  const contract = contractOf(householdId);
  if (!contract) return null;
  const inspections = store.all("custody_inspection", householdId)
    .sort((a, b) => (a.inspected_at < b.inspected_at ? 1 : -1));
  const last = inspections[0];
  const problems = last ? Object.entries(last.checklist ?? {}).filter(([, a]) => a.ok === false) : [];
  return h("section", { class: "card", "data-testid": "custody-owner" },
    h("h3", {}, t("custody.owner_title")),
    h("p", {}, contract.services.map(serviceName).join("、")),
    h("p", { class: "muted" }, t("custody.next_due", {
      date: nextDue(contract, lastInspectionDay(inspections)) })),
    last ? h("p", { "data-testid": "custody-owner-last" }, `${t("custody.last", { date: isoDay(new Date(last.inspected_at)) })}：`,
      problems.length ? `${t("custody.problems", { n: problems.length })} · ${problems.map(([name, a]) => `${serviceName(name)} ${a.note ?? ""}`).join("；")}`
        : t("custody.all_ok"),
      last.done ? ` · ${last.done}` : "") : null);
}

export function custodyView(root, route, app) {
  const [hid] = route.args;
  const household = store.get("household", hid);
  if (!household) return notFound(root);
  const contract = contractOf(hid);
  window.scrollTo(0, 0);
  if (!contract || contractStatus(contract, isoDay(new Date())) !== "active") {
    fill(root, h("section", { class: "butler" }, householdHeader(household),
      h("p", { class: "notice", "data-testid": "custody-none" }, t(contract ? "custody.not_active" : "custody.no_contract"))));
    return undefined;
  }
  let open = true;
  const id = store.uuid(); // chosen once: a second Save never makes a second inspection
  const form = { checklist: {}, photos: [] };

  const checklist = h("div", { class: "checklist" });
  function drawChecklist() {
    fill(checklist, ...contract.services.map((name) => {
      const entry = form.checklist[name];
      const note = entry?.ok === false
        ? h("input", { type: "text", class: "check-note", maxlength: 500, value: entry.note ?? "",
                       placeholder: t("custody.note"), "aria-label": `${serviceName(name)} ${t("custody.note")}`,
                       "data-testid": "custody-note", oninput: (e) => { entry.note = e.target.value; } })
        : null;
      return h("div", { class: `check-item${entry?.ok === false ? " problem" : ""}`, "data-testid": "custody-item", "data-key": name },
        h("span", { class: "check-label" }, serviceName(name)),
        h("div", { class: "seg" },
          h("button", { type: "button", class: "ok", "aria-pressed": String(entry?.ok === true), "data-testid": "custody-ok",
                        onclick: () => { form.checklist = answer(form.checklist, name, true); drawChecklist(); drawMissing(); } },
            t("custody.ok")),
          h("button", { type: "button", class: "bad", "aria-pressed": String(entry?.ok === false), "data-testid": "custody-problem",
                        onclick: () => { form.checklist = answer(form.checklist, name, false); drawChecklist(); drawMissing(); } },
            t("custody.problem"))),
        note);
    }));
  }
  drawChecklist();

  const photoBox = h("div", { "data-testid": "custody-photos" });
  function drawPhotos() {
    fill(photoBox,
      formStrip(form.photos, { onRemove: (sha) => {
        form.photos = form.photos.filter((x) => x !== sha);
        photos.discardUnattached(sha);
        drawPhotos();
      } }),
      photoPicker({ testid: "custody-photo", onPicked: (photo) => {
        if (!form.photos.includes(photo.sha256)) form.photos = [...form.photos, photo.sha256];
        drawPhotos();
      } }));
  }
  drawPhotos();

  const done = h("textarea", { name: "done", rows: 3, maxlength: 4000, placeholder: t("custody.done_hint"),
                               "data-testid": "custody-done" });
  const missing = h("p", { class: "muted", role: "status", "data-testid": "custody-missing" });
  const saveButton = h("button", { type: "submit", class: "primary", "data-testid": "save-custody" }, t("custody.save"));
  function drawMissing() {
    const left = unanswered(contract.services, form.checklist).length;
    missing.textContent = left ? t("custody.missing", { n: left }) : "";
    saveButton.disabled = left > 0;
  }
  drawMissing();

  async function submit(event) {
    event.preventDefault();
    if (unanswered(contract.services, form.checklist).length) return;
    saveButton.disabled = true;
    await store.save("custody_inspection", id, inspectionFields({
      householdId: hid, contract, checklist: form.checklist, done: done.value, at: store.nowWithOffset() }));
    for (const sha of form.photos) await photos.attach(sha, { type: "custody_inspection", id, household_id: hid });
    form.photos = [];
    savedToast("custody_inspection", id);
    if (open) app.go(`household/${encodeURIComponent(hid)}`);
  }

  const today = isoDay(new Date());
  const due = nextDue(contract, lastInspectionDay(store.all("custody_inspection", hid)));
  fill(root, h("form", { class: "butler custody-screen", "data-testid": "custody-form", onsubmit: submit },
    householdHeader(household),
    h("h2", {}, t("custody.title")),
    h("p", { class: "muted", "data-testid": "custody-next-due" }, t("custody.next_due", { date: due }),
      due <= today ? " · " : "", due < today ? t("custody.overdue", { n: Math.round((Date.parse(today) - Date.parse(due)) / 86_400_000) })
        : due === today ? t("custody.due") : ""),
    h("fieldset", { class: "card" }, h("legend", {}, t("custody.title")), checklist),
    h("fieldset", { class: "card" }, h("legend", {}, t("custody.photos")), photoBox),
    h("div", { class: "card" }, h("label", {}, h("span", {}, t("custody.done")), done)),
    missing,
    h("div", { class: "action-bar" },
      h("a", { class: "button", href: `#/household/${encodeURIComponent(hid)}` }, t("common.cancel")), saveButton)));
  return () => { open = false; };
}
