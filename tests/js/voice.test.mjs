// Pure rules of the community's voice on the phone (pwa/js/views/voice-logic.js).
// Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  answerId, answerState, buildAnswers, placesLeft, pollPhase, signupId, tap, upcomingActivities, visiblePolls,
} from "../../pwa/js/views/voice-logic.js";

const QUESTIONS = [
  { id: "q1", text: "同意吗", type: "single", options: [{ id: "yes", text: "同意" }, { id: "no", text: "不同意" }] },
  { id: "q2", text: "哪些", type: "multi", options: [{ id: "a", text: "甲" }, { id: "b", text: "乙" }] },
  { id: "q3", text: "打分", type: "score", options: [] },
];
const NOW = Date.parse("2026-12-06T12:00:00Z");
const poll = (over = {}) => ({ id: "p1", opens_at: "2026-12-01T00:00:00Z", closes_at: "2026-12-10T00:00:00Z", ...over });

test("a household's answer id is the server's UUIDv5, the same on every phone", async () => {
  // server/voice/service.py answer_id("p1", "h1")
  assert.equal(await answerId(poll(), "h1", "u1"), "acbcd19f-f131-520d-be96-30cf9cb9b313");
  assert.equal(await answerId(poll(), "h1", "u1"), await answerId(poll(), "h1", "u2"));
});

test("a poll answered per resident gives each resident their own id", async () => {
  const perResident = poll({ one_per: "resident" });
  assert.notEqual(await answerId(perResident, "h1", "u1"), await answerId(perResident, "h1", "u2"));
});

test("a sign-up id is fixed per activity and household", async () => {
  assert.equal(await signupId("a1", "h1"), await signupId("a1", "h1"));
  assert.notEqual(await signupId("a1", "h1"), await signupId("a1", "h2"));
});

test("a poll is upcoming, open, then closed; a sealed one is closed at once", () => {
  assert.equal(pollPhase(poll({ opens_at: "2026-12-07T00:00:00Z" }), NOW), "upcoming");
  assert.equal(pollPhase(poll(), NOW), "open");
  assert.equal(pollPhase(poll({ closes_at: "2026-12-06T11:00:00Z" }), NOW), "closed");
  assert.equal(pollPhase(poll({ closed_at: "2026-12-05T00:00:00Z" }), NOW), "closed");
});

test("a resident sees their building's polls and the whole community's, open ones first", () => {
  const polls = [poll({ id: "old", closes_at: "2026-12-02T00:00:00Z" }), poll({ id: "b2", building: "2栋" }),
                 poll({ id: "all", building: "" })];
  assert.deepEqual(visiblePolls(polls, NOW, "1栋").map((x) => x.poll.id), ["all", "old"]);
  assert.deepEqual(visiblePolls(polls, NOW, null).map((x) => x.poll.id), ["b2", "all", "old"]);
});

test("taps: single replaces, multi toggles, score sets", () => {
  let picks = tap({}, QUESTIONS[0], "yes");
  picks = tap(picks, QUESTIONS[0], "no");
  picks = tap(tap(tap(picks, QUESTIONS[1], "a"), QUESTIONS[1], "b"), QUESTIONS[1], "a");
  picks = tap(picks, QUESTIONS[2], 4);
  assert.deepEqual(picks, { q1: ["no"], q2: ["b"], q3: 4 });
});

test("an answer is sent only when every question is answered", () => {
  assert.deepEqual(buildAnswers(QUESTIONS, { q1: ["yes"] }).missing, ["q2", "q3"]);
  assert.deepEqual(buildAnswers(QUESTIONS, { q1: ["yes"], q2: ["a", "b"], q3: 5 }), {
    answers: [{ question_id: "q1", options: ["yes"] }, { question_id: "q2", options: ["a", "b"] },
              { question_id: "q3", score: 5 }],
    missing: [],
  });
  assert.deepEqual(buildAnswers(QUESTIONS, { q1: ["yes", "no"], q2: ["zzz"], q3: 9 }).missing, ["q1", "q2", "q3"]);
});

test("an answer's state reads honestly: pending until the server has it", () => {
  assert.equal(answerState(null, "synced"), "none");
  assert.equal(answerState({ id: "x" }, "pending"), "pending");
  assert.equal(answerState({ id: "x" }, "synced"), "submitted");
  assert.equal(answerState({ id: "x" }, "rejected", [{ code: "already_answered" }]), "elsewhere");
  assert.equal(answerState({ id: "x" }, "rejected", [{ code: "poll_closed" }]), "refused");
});

test("activities to come, soonest first, with the places left", () => {
  const list = [{ id: "late", starts_at: "2026-12-20T00:00:00Z" }, { id: "past", starts_at: "2026-12-01T00:00:00Z" },
                { id: "soon", starts_at: "2026-12-08T00:00:00Z", building: "2栋" }];
  assert.deepEqual(upcomingActivities(list, NOW, "1栋").map((a) => a.id), ["late"]);
  assert.deepEqual(upcomingActivities(list, NOW, null).map((a) => a.id), ["soon", "late"]);
  assert.equal(placesLeft({ capacity: 10, taken: 7 }), 3);
  assert.equal(placesLeft({ capacity: 5, taken: 7 }), 0);
  assert.equal(placesLeft({ capacity: null }), null);
});
