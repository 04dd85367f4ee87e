// The custody inspection's logic (pwa/js/views/custody-logic.js): status, schedule, what is due, and
// that every contracted service is answered. Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  addDays, answer, contractStatus, custodyDue, daysBetween, dueState, inspectionFields, nextDue, unanswered,
} from "../../pwa/js/views/custody-logic.js";

const contract = { id: "c1", household_id: "h1", start_date: "2026-11-01", end_date: "2026-12-31",
                   services: ["airing", "leak_check"], inspection_every_days: 14 };

test("a contract is upcoming before its start, active through its last day, ended after", () => {
  assert.equal(contractStatus(contract, "2026-10-31"), "upcoming");
  assert.equal(contractStatus(contract, "2026-11-01"), "active");
  assert.equal(contractStatus(contract, "2026-12-31"), "active");
  assert.equal(contractStatus(contract, "2027-01-01"), "ended");
  assert.equal(contractStatus({ ...contract, end_date: null }, "2030-01-01"), "active");
});

test("the next inspection is a cycle after the last, or the first day", () => {
  assert.equal(nextDue(contract, null), "2026-11-01");
  assert.equal(nextDue(contract, "2026-11-25"), "2026-12-09");
  assert.equal(nextDue(contract, "2026-10-01"), "2026-11-01");
  assert.equal(addDays("2026-12-25", 14), "2027-01-08");
  assert.equal(daysBetween("2026-11-24", "2026-11-27"), 3);
});

test("due on the day, overdue after it", () => {
  assert.equal(dueState("2026-11-24", "2026-11-23"), "later");
  assert.equal(dueState("2026-11-24", "2026-11-24"), "due");
  assert.equal(dueState("2026-11-24", "2026-11-25"), "overdue");
});

test("the due list holds active contracts due or overdue, most overdue first", () => {
  const homes = { h1: { id: "h1" }, h2: { id: "h2" }, h3: { id: "h3" } };
  const contracts = [contract, { ...contract, id: "c2", household_id: "h2", start_date: "2026-11-20" },
                     { ...contract, id: "c3", household_id: "h3", start_date: "2027-01-01" }];
  const inspections = { h1: [{ inspected_at: "2026-11-05T10:00:00+08:00" }], h2: [] };
  const due = custodyDue(contracts, (id) => homes[id], (id) => inspections[id] ?? [], "2026-11-22");
  assert.deepEqual(due.map((d) => [d.household.id, d.state, d.late]), [["h1", "overdue", 3], ["h2", "overdue", 2]]);
});

test("every contracted service must be answered, and only those are sent", () => {
  let checklist = answer({}, "airing", true);
  assert.deepEqual(unanswered(contract.services, checklist), ["leak_check"]);
  checklist = answer(checklist, "leak_check", false);
  checklist.leak_check.note = " 厨房渗水 ";
  assert.deepEqual(unanswered(contract.services, checklist), []);
  assert.deepEqual(answer(checklist, "airing", true).airing, undefined); // a second tap clears it
  const fields = inspectionFields({ householdId: "h1", contract, checklist, done: " 通风 ", at: "2026-11-22T10:00:00+08:00" });
  assert.deepEqual(fields.checklist, { airing: { ok: true }, leak_check: { ok: false, note: "厨房渗水" } });
  assert.equal(fields.done, "通风");
});
