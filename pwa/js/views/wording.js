// How records read to people, for the tickets, sync and resident screens: field and type names, values
// (labels of choices, dates, lists), times ("3天前"), the server's reasons for a refusal, and a
// record's sync mark. Pure reading (store.get, t); no writes and no DOM beyond h().

import { h } from "../dom.js";
import { extend, lang, t } from "../i18n.js";
import * as store from "../store.js";
import { CATEGORIES } from "../ticket-categories.js";
import { KINDS as CHECKIN_KINDS } from "./checkin-logic.js";
import { ANSWERS, KINDS as INCIDENT_KINDS, SEVERITIES } from "./incident-logic.js";
import { CHANNELS, HOUSEHOLD_STATUSES, RELATIONS, VISIT_KINDS, addressLabel, label } from "./common.js";

extend({
  "zh-CN": {
    wording: {
      none: "（空）", yes: "是", no: "否", no_address: "（不在本机的住户）",
      pending: "等待同步", rejected: "被拒绝", just_now: "刚刚",
      confirm: "确定", cancel: "取消",
      field: {
        building: "楼栋", unit: "单元", room: "房号", status: "状态", area_m2: "面积", tags: "标签", notes: "备注",
        visit_cycle_days: "走访周期", name: "姓名", relation: "关系", phone: "手机号码", birth_year: "出生年份",
        consent: "信息保存同意", visited_at: "走访时间", kind: "类型", checklist: "检查项", needs: "需求",
        satisfaction: "满意度", products_interest: "意向产品", follow_up_at: "回访日期", at: "时间", channel: "渠道",
        summary: "摘要", category: "类别", description: "描述", assignee_id: "处理人", resolution_note: "处理说明",
        rating: "评分", rating_comment: "评价内容", backoffice_rating: "后台能力评价", product_code: "产品",
        quantity: "数量", note: "备注", household_id: "住户", butler_id: "管家", grid_id: "网格", chosen: "选定的值",
        id: "编号", severity: "严重程度", title: "标题", body: "说明", buildings: "涉及楼栋", started_at: "开始时间",
        knock_after_minutes: "多少分钟后上门确认", incident_id: "突发事件", answer: "回复", answered_at: "回复时间",
      },
      type: {
        household: "住户档案", person: "家庭成员", visit: "入户走访", touchpoint: "触点", ticket: "工单",
        order: "订单", conflict: "冲突", product: "服务产品", record: "记录", checkin: "签到/签退",
        incident: "突发事件", incident_check: "安全确认",
      },
      // By error code, for when the server's sentence is in the other language (the user switched).
      error: {
        required: "{label}为必填项。", null: "{label}不能为空。", invalid_type: "{label}的格式不正确。",
        unknown_field: "不能提交字段 {label}。", invalid_choice: "{label}不是允许的值。", out_of_range: "{label}超出允许的范围。",
        too_long: "{label}太长。", invalid_phone: "{label}格式不正确。", invalid: "{label}无效。",
        not_found: "{label}指向的记录不存在。", already_exists: "这条记录已经存在。",
        consent_required: "住户未同意保存个人信息，不能填写{label}。", not_writable: "您不能修改{label}。",
        forbidden: "您无权修改这条记录。", out_of_scope: "{label}不在您的管辖范围内。",
        invalid_transition: "工单不能这样改变状态。", already_claimed: "该工单已被他人接单。",
        not_rateable: "工单完成后才能评价。", not_open: "工单已完成或已取消，不能再转交。",
        not_holder: "这张工单不在您手上，不能转派或退回。", reason_required: "退回工单时请写明原因。",
        not_with_hand_off: "转交工单时不能同时修改状态。", changed_since_seen: "这条记录在您上次同步后被他人修改过，请查看后再删除。",
        changed_since_conflict: "冲突之后{label}又被修改过，请查看现在的值。", record_deleted: "这条记录已被删除。",
        already_settled: "这个冲突已经处理过了。", other: "服务器拒绝了这条修改（{code}）。",
        in_future: "{label}晚于服务器时间，请检查手机的日期和时间设置。", too_old: "{label}太久以前，已不能提交。",
        invalid_character: "{label}含有不允许的字符。", invalid_unicode: "{label}含有残缺的字符，请删除后重新输入。",
        not_storable: "这条记录无法保存，已单独退回，其余内容照常同步。",
      },
    },
  },
  en: {
    wording: {
      none: "(empty)", yes: "Yes", no: "No", no_address: "(a household not on this phone)",
      pending: "Waiting to sync", rejected: "Refused", just_now: "just now",
      confirm: "Confirm", cancel: "Cancel",
      field: {
        building: "Building", unit: "Entrance", room: "Room", status: "Status", area_m2: "Area", tags: "Tags",
        notes: "Notes", visit_cycle_days: "Visit cycle", name: "Name", relation: "Relation", phone: "Phone number",
        birth_year: "Year of birth", consent: "Consent", visited_at: "Visit time", kind: "Kind",
        checklist: "Checklist", needs: "Needs", satisfaction: "Satisfaction", products_interest: "Products of interest",
        follow_up_at: "Follow-up date", at: "Time", channel: "Channel", summary: "Summary", category: "Category",
        description: "Description", assignee_id: "Assignee", resolution_note: "Resolution note", rating: "Rating",
        rating_comment: "Rating comment", backoffice_rating: "Back-office rating", product_code: "Product",
        quantity: "Quantity", note: "Note", household_id: "Household", butler_id: "Butler", grid_id: "Grid",
        chosen: "Chosen value", id: "ID", severity: "Severity", title: "Title", body: "Details", buildings: "Buildings",
        started_at: "Started", knock_after_minutes: "Knock on doors after (minutes)", incident_id: "Emergency",
        answer: "Answer", answered_at: "Answered at",
      },
      type: {
        household: "Household file", person: "Family member", visit: "Home visit", touchpoint: "Touchpoint",
        ticket: "Ticket", order: "Order", conflict: "Conflict", product: "Service product", record: "Record",
        checkin: "Check-in", incident: "Emergency", incident_check: "Safety check",
      },
      error: {
        required: "{label} is required.", null: "{label} may not be empty.",
        invalid_type: "{label} has the wrong format.",
        unknown_field: "The field {label} cannot be sent.", invalid_choice: "{label} is not an allowed value.",
        out_of_range: "{label} is out of range.", too_long: "{label} is too long.",
        invalid_phone: "{label} is not a valid phone number.", invalid: "{label} is not valid.",
        not_found: "{label} refers to a record that does not exist.", already_exists: "This record already exists.",
        consent_required: "The person has not agreed to their information being kept; {label} cannot be stored.",
        not_writable: "You may not change {label}.", forbidden: "You may not change this record.",
        out_of_scope: "{label} is outside what you may access.",
        invalid_transition: "The ticket cannot change status this way.",
        already_claimed: "Someone else has already taken this ticket.",
        not_rateable: "A ticket can be rated only once it is resolved.",
        not_open: "The ticket is finished or cancelled; it cannot be handed on.",
        not_holder: "This ticket is not in your hands; you cannot pass it on or return it.",
        reason_required: "Please give a reason for returning the ticket.",
        not_with_hand_off: "Handing a ticket on cannot change its status too.",
        changed_since_seen: "Someone changed this record since you last synced; review it before deleting.",
        changed_since_conflict: "{label} changed again after the conflict; review its current value.",
        record_deleted: "This record has been deleted.", already_settled: "This conflict has already been settled.",
        other: "The server refused this change ({code}).",
        in_future: "{label} is ahead of the server's clock; check the phone's date and time.",
        too_old: "{label} is too long ago; it can no longer be sent.",
        invalid_character: "{label} holds a character that is not allowed.",
        invalid_unicode: "{label} holds a broken character; delete it and type it again.",
        not_storable: "This record could not be stored; it was set aside and everything else synced.",
      },
    },
  },
});

const TICKET_STATUSES = ["new", "dispatched", "accepted", "in_progress", "resolved", "closed", "cancelled"];
const ORDER_STATUSES = ["placed", "confirmed", "delivered", "cancelled"];

// The server's value lists (server/*/models.py) for the fields that take one, by record type, and
// the list in common.js that names their values.
const CHOICES = { kind: VISIT_KINDS, channel: CHANNELS, relation: RELATIONS, category: CATEGORIES };
const TYPE_CHOICES = { checkin: { kind: CHECKIN_KINDS }, // where a type's field takes other values
                       incident: { kind: INCIDENT_KINDS, severity: SEVERITIES }, incident_check: { answer: ANSWERS } };
const STATUS_CHOICES = { household: HOUSEHOLD_STATUSES, ticket: TICKET_STATUSES, order: ORDER_STATUSES };
const LABELS_OF = { kind: ["kind", "incident_kind"], severity: ["severity"], answer: ["answer"], channel: ["channel"], relation: ["relation"], category: ["ticket_category"],
                    status: ["ticket_status", "order_status", "status"] };

/** The allowed values of a field of a record type, or null when it is free. */
export function choicesFor(type, field) {
  if (TYPE_CHOICES[type]?.[field]) return TYPE_CHOICES[type][field];
  return field === "status" ? STATUS_CHOICES[type] ?? null : CHOICES[field] ?? null;
}

const REFERENCE = /_id$/;

/** A map's entry in the current language, or the raw key when there is none. */
function named(map, k) {
  const value = t(`${map}.${k}`);
  return typeof value === "string" && value !== `${map}.${k}` ? value : String(k);
}

export const fieldLabel = (field) => named("wording.field", String(field ?? "").split(".").pop());
export const typeLabel = (type) => named("wording.type", type);
export const categoryLabel = (category) => label("ticket_category", category);
export const statusLabel = (status) => label("ticket_status", status);

export function addressOf(household) {
  return household ? addressLabel(household) : t("wording.no_address");
}

/** The address of the household a record hangs on (or is), from the phone's copy. */
export function householdAddress(householdId) {
  return addressOf(householdId ? store.get("household", householdId) : null);
}

/** Which household a record (given its type, id and fields) belongs to. */
export function householdIdOf(type, id, fields = {}) {
  if (type === "household") return id;
  return fields.household_id ?? store.get(type, id)?.household_id ?? null;
}

/** Date and time as people read them here: 11月27日 09:15 / 27 Nov, 09:15. */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(lang(), { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** "3天前" / "3 days ago". */
export function ago(iso, now = Date.now()) {
  const then = Date.parse(iso ?? "");
  if (Number.isNaN(then)) return t("wording.just_now");
  const seconds = Math.round((then - now) / 1000);
  if (Math.abs(seconds) < 60) return t("wording.just_now");
  const format = new Intl.RelativeTimeFormat(lang(), { numeric: "auto" });
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return t("wording.just_now");
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A field's value for reading (not for editing): labels for known choices, dates, lists. */
export function showValue(field, value) {
  if (value === null || value === undefined || value === "") return t("wording.none");
  if (typeof value === "boolean") return value ? t("wording.yes") : t("wording.no");
  if (Array.isArray(value)) return value.length ? value.map((v) => showValue(field, v)).join("、") : t("wording.none");
  if (typeof value === "object") return JSON.stringify(value);
  for (const list of LABELS_OF[field] ?? []) {
    const named = label(list, value);
    if (named !== String(value)) return named;
  }
  if (typeof value === "string" && ISO_TIME.test(value)) return when(value);
  if (typeof value === "string" && REFERENCE.test(field ?? "")) {
    return field === "household_id" ? householdAddress(value) : value;
  }
  return String(value);
}

const CJK = /[\u3400-\u9fff]/;

/** The server's reason in the user's language: its own sentence, unless the user has switched since. */
export function reason(error) {
  const message = error?.message ?? "";
  const serverSaidChinese = CJK.test(message);
  if (message && serverSaidChinese === (lang() === "zh-CN")) return message;
  const code = error?.code ?? "other";
  const template = t(`wording.error.${code}`);
  const params = { label: error?.field ? fieldLabel(error.field) : typeLabel("record"), code };
  return typeof template === "string" && template !== `wording.error.${code}`
    ? t(`wording.error.${code}`, params) : t("wording.error.other", params) + (message ? ` ${message}` : "");
}

/** A small "waiting to sync" / "refused" mark for a record, or nothing when it is synced. */
export function stateMark(type, id) {
  const state = store.state(type, id);
  if (state === "synced") return null;
  return h("span", { class: `mark ${state}`, "data-state": state },
    state === "rejected" ? t("wording.rejected") : t("wording.pending"));
}
