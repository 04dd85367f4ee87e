// The back office's app logic (pwa/js/views/backoffice-logic.js). Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  TECH_TABS, handoffSteps, isMyJob, isPoolJob, teamOf, techActions, techRoute,
} from "../../pwa/js/views/backoffice-logic.js";

const teams = [
  { id: "eng", name: "工程部", members: [{ id: "t1", name: "周师傅" }, { id: "t2", name: "吴师傅" }] },
  { id: "lift", name: "电梯维保", members: [{ id: "t5", name: "钱工" }] },
];

test("a technician has my jobs, the pool and sync, and lands on my jobs from a butler's screen", () => {
  assert.deepEqual(TECH_TABS.map(([name]) => name), ["jobs", "pool", "sync"]);
  assert.equal(techRoute({ name: "grid", args: [], query: {} }).name, "jobs");
  assert.equal(techRoute({ name: "tickets", args: [], query: {} }).name, "jobs");
  assert.deepEqual(techRoute({ name: "ticket", args: ["x"], query: {} }).args, ["x"]);
});

test("the team is the one that names me", () => {
  assert.equal(teamOf(teams, "t2").id, "eng");
  assert.equal(teamOf(teams, "nobody"), null);
});

test("my jobs are handed to me; the pool is my team's with nobody named", () => {
  assert.ok(isMyJob({ assignee_id: "t1", status: "accepted" }, "t1"));
  assert.ok(!isMyJob({ assignee_id: "t1", status: "closed" }, "t1"));
  assert.ok(isPoolJob({ team_id: "eng", assignee_id: null, status: "dispatched" }, "eng"));
  assert.ok(!isPoolJob({ team_id: "eng", assignee_id: "t2", status: "dispatched" }, "eng"));
  assert.ok(!isPoolJob({ team_id: "lift", assignee_id: null, status: "dispatched" }, "eng"));
});

test("grab from the pool; accept, start and finish what is mine; hand on only open tickets", () => {
  assert.deepEqual(techActions({ team_id: "eng", assignee_id: null, status: "dispatched" }, "t1", "eng"),
    { grab: true, accept: false, start: false, finish: false, handOn: true });
  assert.deepEqual(techActions({ team_id: "eng", assignee_id: "t1", status: "accepted" }, "t1", "eng"),
    { grab: false, accept: false, start: true, finish: true, handOn: true });
  assert.deepEqual(techActions({ team_id: "eng", assignee_id: "t1", status: "resolved" }, "t1", "eng"),
    { grab: false, accept: false, start: false, finish: false, handOn: false });
});

test("hand-offs read with the names the phone knows", () => {
  const steps = handoffSteps({ handoffs: [
    { kind: "assigned", at: "2026-12-01T02:00:00+00:00", team_id: "eng", assignee_id: null, note: "" },
    { kind: "transferred", at: "2026-12-01T03:00:00+00:00", team_id: "lift", assignee_id: "t5", note: "电梯" },
  ] }, teams);
  assert.deepEqual(steps.map((s) => [s.kind, s.team, s.person, s.note]),
    [["assigned", "工程部", "", ""], ["transferred", "电梯维保", "钱工", "电梯"]]);
});
