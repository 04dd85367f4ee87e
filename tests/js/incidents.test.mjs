// Pure logic of emergencies (pwa/js/views/incident-logic.js): the deterministic id of a household's
// answer (UUIDv5, checked against Python's uuid.uuid5), the resident's banner, the butler's door-knock
// list (knock timing, need-help first, the vulnerable first, building → floor → unit order).
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  affects, buildingsOf, checkId, floorOf, incidentForm, isVulnerable, knockList, minutesLeft, openIncidents,
  residentBanner, uuid5,
} from "../../pwa/js/views/incident-logic.js";

const INCIDENT_ID = "6f1c2a9e-3b4d-4e5f-8a7b-0c1d2e3f4a5b";
const START = "2026-12-06T10:00:00Z";
const at = (minutes) => Date.parse(START) + minutes * 60_000;
const incident = (fields = {}) => ({ id: INCIDENT_ID, kind: "water_cut", severity: "serious", title: "停水",
  buildings: [], started_at: START, ended_at: null, knock_after_minutes: 15, deleted: false, ...fields });
const hh = (id, building, unit, room) => ({ id, building, unit, room });

test("uuid5 gives what Python's uuid.uuid5 gives", async () => {
  // python -c "import uuid; print(uuid.uuid5(uuid.UUID('6f1c…4a5b'), 'hh-101'))" and so on
  assert.equal(await uuid5(INCIDENT_ID, "hh-101"), "b752efec-8533-5d52-9de5-dd723d984f6d");
  assert.equal(await uuid5(INCIDENT_ID, "3f0a1b2c-0000-4000-8000-000000000001"), "1cb2b258-ee34-5bba-acac-3990d1f4aa24");
  assert.equal(await uuid5(INCIDENT_ID, "刘女士家"), "c053066f-b75f-5fd8-8a68-13c61d1cd304"); // UTF-8 names
  assert.equal(await uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  assert.equal(await uuid5(INCIDENT_ID.toUpperCase(), "hh-101"), "b752efec-8533-5d52-9de5-dd723d984f6d");
  await assert.rejects(uuid5("not-a-uuid", "x"), TypeError);
});

test("a resident's and a butler's answer to one incident share one id", async () => {
  assert.equal(await checkId(INCIDENT_ID, "hh-101"), await checkId(INCIDENT_ID, "hh-101"));
  assert.notEqual(await checkId(INCIDENT_ID, "hh-101"), await checkId(INCIDENT_ID, "hh-102"));
});

test("an incident touches its buildings, or the whole community when it names none", () => {
  assert.ok(affects(incident(), "1栋"));
  assert.ok(affects(incident({ buildings: ["1栋", "3栋"] }), "3栋"));
  assert.ok(!affects(incident({ buildings: ["1栋"] }), "2栋"));
});

test("open incidents: not ended, not deleted, the most severe then the newest first", () => {
  const list = [incident({ id: "a", severity: "notice" }), incident({ id: "b", severity: "critical" }),
                incident({ id: "c", severity: "critical", started_at: "2026-12-06T11:00:00Z" }),
                incident({ id: "d", ended_at: START }), incident({ id: "e", deleted: true })];
  assert.deepEqual(openIncidents(list).map((i) => i.id), ["c", "b", "a"]);
});

test("the resident's banner: ask, then queued or told, and 已解除 after the all-clear", () => {
  const open = incident();
  assert.equal(residentBanner([], { building: "1栋" }), null);
  assert.equal(residentBanner([incident({ buildings: ["2栋"] })], { building: "1栋" }), null);
  let banner = residentBanner([open], { building: "1栋", now: at(1) });
  assert.equal(banner.state, "ask");
  assert.equal(banner.urgent, true);
  assert.equal(residentBanner([incident({ severity: "notice" })], { building: "1栋" }).urgent, false);
  const check = { id: "k", incident_id: INCIDENT_ID, household_id: "h", answer: "safe" };
  banner = residentBanner([open], { building: "1栋", checks: [check], stateOf: () => "pending" });
  assert.deepEqual([banner.state, banner.check.id], ["queued", "k"]);
  assert.equal(residentBanner([open], { building: "1栋", checks: [check] }).state, "told");
  assert.equal(residentBanner([open], { building: "1栋", checks: [check], stateOf: () => "rejected" }).state, "refused");
  // Another incident's answer is not this one's.
  assert.equal(residentBanner([open], { building: "1栋", checks: [{ ...check, incident_id: "x" }] }).state, "ask");
  const ended = incident({ ended_at: "2026-12-06T12:00:00Z", all_clear_note: "已恢复供水" });
  banner = residentBanner([ended], { building: "1栋", checks: [check], now: Date.parse("2026-12-06T13:00:00Z") });
  assert.deepEqual([banner.state, banner.incident.all_clear_note], ["all_clear", "已恢复供水"]);
  assert.equal(residentBanner([ended], { building: "1栋", now: Date.parse("2026-12-07T13:00:00Z") }), null);
  // An open one wins over one that ended.
  assert.equal(residentBanner([ended, incident({ id: "n" })], { building: "1栋" }).incident.id, "n");
});

test("floors come from the room number", () => {
  assert.equal(floorOf("301"), 3);
  assert.equal(floorOf("1502"), 15);
  assert.equal(floorOf("B-1201室"), 12);
  assert.equal(floorOf("12"), null);
  assert.equal(floorOf(""), null);
});

test("vulnerable: an only member born at least 75 years ago, with a birth year on the phone", () => {
  const now = Date.parse("2026-12-06T10:00:00Z");
  assert.ok(isVulnerable([{ birth_year: 1951 }], now));
  assert.ok(!isVulnerable([{ birth_year: 1952 }], now));
  assert.ok(!isVulnerable([{ birth_year: 1940 }, { birth_year: 1945 }], now)); // not alone
  assert.ok(!isVulnerable([{ birth_year: null }], now)); // no consent, no birth year: not presumed
  assert.ok(!isVulnerable([], now));
});

test("before knock time the households wait for the residents, with the minutes left", () => {
  const list = knockList(incident(), [hh("a", "1栋", "1单元", "101")], { now: at(5) });
  assert.equal(list.phase, "waiting");
  assert.equal(list.minutesLeft, 10);
  assert.deepEqual(list.rows.map((r) => r.need), ["wait"]);
  assert.equal(minutesLeft(incident(), at(14.5)), 1);
  assert.equal(knockList(incident(), [hh("a", "1栋", "1单元", "101")], { now: at(15) }).rows[0].need, "knock");
  assert.equal(knockList(incident({ knock_after_minutes: 0 }), [], { now: at(0) }).phase, "knock");
  assert.equal(knockList(incident({ knock_after_minutes: undefined }), [], { now: at(14) }).phase, "waiting");
});

test("the door-knock list: need-help first, the vulnerable next, by building, floor, unit, room", () => {
  const households = [
    hh("b2-201", "2栋", "1单元", "201"), hh("b1-1201", "1栋", "1单元", "1201"), hh("b1-302-u2", "1栋", "2单元", "302"),
    hh("b1-301-u1", "1栋", "1单元", "301"), hh("b1-1001", "1栋", "1单元", "1001"), hh("b10-101", "10栋", "1单元", "101"),
    hh("b1-501-safe", "1栋", "1单元", "501"), hh("b2-901-help", "2栋", "1单元", "901"), hh("b2-801-old", "2栋", "1单元", "801"),
    hh("b1-401-away", "1栋", "1单元", "401"), hh("b3-101-out", "3栋", "1单元", "101"),
  ];
  const people = { "b2-801-old": [{ birth_year: 1940 }], "b1-1201": [{ birth_year: 1930 }, { birth_year: 1932 }] };
  const answers = { "b1-501-safe": "safe", "b2-901-help": "need_help", "b1-401-away": "not_home" };
  const list = knockList(incident({ buildings: ["1栋", "2栋", "10栋"] }), households, {
    now: at(20), peopleOf: (id) => people[id] ?? [],
    checkOf: (id) => (answers[id] ? { id: `c-${id}`, answer: answers[id] } : null),
  });
  assert.equal(list.phase, "knock");
  assert.deepEqual(list.rows.map((r) => r.household.id), [
    "b2-901-help", "b2-801-old", // asked for help; then the elderly person alone
    "b1-301-u1", "b1-302-u2", "b1-401-away", "b1-1001", "b1-1201", // 1栋 by floor, then unit
    "b2-201", "b10-101", // 2栋 before 10栋
  ]);
  assert.deepEqual(list.rows.slice(0, 2).map((r) => r.need), ["help", "knock"]);
  assert.equal(list.rows[1].vulnerable, true);
  assert.deepEqual(list.answered.map((r) => r.household.id), ["b1-501-safe"]);
  assert.deepEqual(list.counts, { households: 10, safe: 1, need_help: 1, not_home: 1, none: 7, vulnerable: 1 });
});

test("raising an incident on the phone: what the form may send", () => {
  const now = new Date(START);
  const ok = incidentForm({ kind: "leak", severity: "serious", title: " 3栋漏水 ", buildings: ["3栋", "9栋", "3栋"] },
                          { known: ["1栋", "3栋"], now });
  assert.deepEqual(ok.fields, { kind: "leak", severity: "serious", title: "3栋漏水", body: "", buildings: ["3栋"],
                                knock_after_minutes: 15, started_at: START.replace("Z", ".000Z") });
  assert.deepEqual(Object.keys(incidentForm({ kind: "x", severity: "", title: " " }).errors),
                   ["kind", "severity", "title"]);
  for (const bad of ["-1", "0", "241", "1.5"]) {
    assert.ok(incidentForm({ kind: "leak", severity: "notice", title: "t", knockAfter: bad }).errors.knock_after_minutes);
  }
  assert.equal(incidentForm({ kind: "leak", severity: "notice", title: "t", knockAfter: "240" }).fields.knock_after_minutes, 240);
  assert.deepEqual(buildingsOf([hh("a", "10栋"), hh("b", "2栋"), hh("c", "2栋")]), ["2栋", "10栋"]);
});

test("on the Sync screen a refused emergency's fields offer and name their own values", async () => {
  const saved = new Map(); // what i18n.js reads as it loads
  globalThis.localStorage ??= { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, String(v)) };
  globalThis.document ??= { documentElement: {} };
  const { choicesFor, fieldLabel, showValue, typeLabel } = await import("../../pwa/js/views/wording.js");
  assert.deepEqual(choicesFor("incident", "kind").slice(0, 2), ["water_cut", "power_cut"]);
  assert.deepEqual(choicesFor("incident", "severity"), ["notice", "serious", "critical"]);
  assert.deepEqual(choicesFor("incident_check", "answer"), ["safe", "need_help", "not_home"]);
  assert.equal(choicesFor("visit", "kind")[0], "routine");
  assert.equal(showValue("kind", "lift_entrapment"), "电梯困人");
  assert.equal(showValue("kind", "routine"), "例行走访");
  assert.equal(showValue("answer", "need_help"), "需要帮助");
  assert.equal(showValue("buildings", ["1栋", "3栋"]), "1栋、3栋");
  assert.deepEqual([typeLabel("incident"), typeLabel("incident_check"), fieldLabel("kind")], ["突发事件", "安全确认", "类型"]);
});
