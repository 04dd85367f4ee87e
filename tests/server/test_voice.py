"""The community's voice (共治): polls, their answers, activities and sign-ups, through REST and sync,
on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.records import utcnow as now  # read at each call: the suite runs for an hour
from server.voice.models import Activity, Poll, PollAnswer, PollBallot
from server.voice.service import GRACE, answer_id, status
from tests.factories import _save, auth, make_community, make_grid, make_household, make_user


QUESTIONS = [
    {"id": "q1", "text": "是否同意加装电梯？", "type": "single",
     "options": [{"id": "yes", "text": "同意"}, {"id": "no", "text": "不同意"}]},
    {"id": "q2", "text": "满意度", "type": "score"},
]
ANSWERS = [{"question_id": "q1", "options": ["yes"]}, {"question_id": "q2", "score": 4}]


def make_poll(community, **overrides) -> Poll:
    return _save(Poll(**{"community_id": community.id, "title": "加装电梯征询", "kind": "vote",
                         "questions": QUESTIONS, "opens_at": now() - timedelta(days=1),
                         "closes_at": now() + timedelta(days=7), **overrides}))


@pytest.fixture
def world(session):
    """Two communities, each with a butler's grid, two households with a resident each, and a supervisor."""
    out = {}
    for name in ("A", "B"):
        community = make_community()
        butler = make_user("butler", community_id=community.id)
        grid = make_grid(community, butler)
        home, neighbour = make_household(community, grid), make_household(community, grid, building="2栋")
        out[name] = {
            "community": community, "butler": butler, "household": home, "neighbour": neighbour,
            "resident": make_user("resident", community_id=community.id, household_id=home.id),
            "spouse": make_user("resident", community_id=community.id, household_id=home.id),
            "supervisor": make_user("supervisor", community_id=community.id),
            "poll": make_poll(community),
        }
    return out


def post(client, user, plural, body):
    return client.post(f"/api/v1/{plural}", data=json.dumps(body),
                       headers={**auth(user), "Content-Type": "application/json"})


def codes(response) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.get_json()["details"]["errors"]]


def sync(client, user, *mutations, phone="cccccccc-0000-4000-8000-000000000003", cursor=None):
    body = {"client_id": phone, "schema": 1, "cursor": cursor, "mutations": list(mutations)}
    r = client.post("/api/v1/sync", data=json.dumps(body), headers={**auth(user), "Content-Type": "application/json"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def put(rtype, rid, fields, mid=None):
    return {"mid": mid or str(uuid.uuid4()), "type": rtype, "id": rid, "op": "put", "base": None,
            "fields": fields, "at": now().isoformat()}


def an_answer(world, name="A", **overrides):
    return {"poll_id": world[name]["poll"].id, "household_id": world[name]["household"].id, "answers": ANSWERS,
            **overrides}


def counted(session, poll_id) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(PollAnswer).where(PollAnswer.poll_id == poll_id))


# ---- polls -------------------------------------------------------------------------------------

def test_a_supervisor_creates_a_poll_of_their_own_community(client, world):
    r = post(client, world["A"]["supervisor"], "polls",
             {"title": " 物业费调整 ", "kind": "survey", "questions": QUESTIONS,
              "closes_at": (now() + timedelta(days=3)).isoformat(), "quorum": 2, "anonymous": True})
    assert r.status_code == 201, r.get_json()
    poll = r.get_json()
    assert (poll["community_id"], poll["title"], poll["anonymous"], poll["one_per"]) == (
        world["A"]["community"].id, "物业费调整", True, "household")


def test_a_poll_with_bad_questions_is_refused_with_field_codes(client, world, session):
    bad = [{"id": "q1", "text": "选一个", "type": "single", "options": [{"id": "a", "text": "甲"}]},
           {"id": "q1", "text": "打分", "type": "score", "options": [{"id": "a", "text": "甲"}]}]
    r = post(client, world["A"]["supervisor"], "polls", {"title": "x", "questions": bad,
                                                         "closes_at": (now() + timedelta(days=1)).isoformat()})
    assert r.status_code == 422
    assert r.get_json()["error"] == "validation_failed"
    assert set(codes(r)) == {("questions.0.options", "too_few_options"), ("questions.1.id", "duplicate"),
                             ("questions.1.options", "not_for_score")}
    assert "题目至少需要 2 个选项。" in [e["message"] for e in r.get_json()["details"]["errors"]]
    assert session.scalar(sa.select(sa.func.count()).select_from(Poll)) == 2  # the fixture's two, nothing new


def test_residents_and_butlers_cannot_create_polls(client, world):
    for role in ("resident", "butler"):
        r = post(client, world["A"][role], "polls", {"title": "x", "questions": QUESTIONS,
                                                     "closes_at": (now() + timedelta(days=1)).isoformat()})
        assert r.status_code == 403


@pytest.mark.parametrize("role", ["resident", "butler", "supervisor"])
def test_each_role_sees_the_polls_of_its_own_community_only(client, world, role):
    r = client.get("/api/v1/polls", headers=auth(world["A"][role]))
    assert {p["id"] for p in r.get_json()["items"]} == {world["A"]["poll"].id}


def test_a_poll_reaches_the_residents_phone_through_sync(client, world):
    changes = sync(client, world["A"]["resident"])["changes"]
    assert [c["id"] for c in changes if c["type"] == "poll"] == [world["A"]["poll"].id]


def test_a_polls_questions_cannot_change_once_it_has_answers(client, world):
    assert post(client, world["A"]["resident"], "poll-answers", an_answer(world)).status_code == 201
    r = client.patch(f"/api/v1/polls/{world['A']['poll'].id}", data=json.dumps({"questions": QUESTIONS[:1]}),
                     headers={**auth(world["A"]["supervisor"]), "Content-Type": "application/json"})
    assert r.status_code == 422
    assert codes(r) == [("questions", "has_answers")]


# ---- answers -----------------------------------------------------------------------------------

def test_the_answer_id_is_the_one_the_phones_compute():
    assert answer_id("p1", "h1") == "acbcd19f-f131-520d-be96-30cf9cb9b313"  # tests/js/voice.test.mjs

def test_a_resident_answers_and_the_answer_hangs_on_their_household(client, world, session):
    r = post(client, world["A"]["resident"], "poll-answers", an_answer(world))
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["answers"], r.get_json()["source"]) == (ANSWERS, "resident")
    assert counted(session, world["A"]["poll"].id) == 1


def test_another_community_cannot_answer_a_poll(client, world, session):
    r = post(client, world["B"]["resident"], "poll-answers", an_answer(world, household_id=world["B"]["household"].id))
    assert r.status_code == 403
    assert codes(r) == [("poll_id", "out_of_scope")]
    assert counted(session, world["A"]["poll"].id) == 0


def test_a_resident_cannot_answer_for_another_household(client, world, session):
    r = post(client, world["A"]["resident"], "poll-answers", an_answer(world, household_id=world["A"]["neighbour"].id))
    assert r.status_code == 403
    assert counted(session, world["A"]["poll"].id) == 0


def test_an_answer_sent_twice_and_from_a_second_phone_is_counted_once(client, world, session):
    poll, home = world["A"]["poll"], world["A"]["household"]
    rid = answer_id(poll.id, home.id)
    mutation = put("poll_answer", rid, {"poll_id": poll.id, "household_id": home.id, "answers": ANSWERS})
    first = sync(client, world["A"]["resident"], mutation)["results"][0]
    again = sync(client, world["A"]["resident"], mutation)["results"][0]  # the answer was lost: resent
    assert first["status"] == again["status"] == "applied"
    # The spouse's phone answers too, under the same id: refused, and the count stays at one.
    other = sync(client, world["A"]["spouse"], put("poll_answer", rid, {
        "poll_id": poll.id, "household_id": home.id, "answers": [ANSWERS[0] | {"options": ["no"]}, ANSWERS[1]]}),
        phone="dddddddd-0000-4000-8000-000000000004")["results"][0]
    assert other["status"] == "rejected"
    assert [e["code"] for e in other["errors"]] == ["already_answered"]
    # Even a phone that chose another id meets the household's answer.
    stray = sync(client, world["A"]["spouse"], put("poll_answer", str(uuid.uuid4()), {
        "poll_id": poll.id, "household_id": home.id, "answers": ANSWERS}))["results"][0]
    assert [e["code"] for e in stray["errors"]] == ["already_answered"]
    assert counted(session, poll.id) == 1


def test_a_poll_per_resident_counts_each_resident_once(client, world, session):
    poll = make_poll(world["A"]["community"], one_per="resident")
    body = an_answer(world, poll_id=poll.id)
    assert post(client, world["A"]["resident"], "poll-answers", body).status_code == 201
    assert post(client, world["A"]["spouse"], "poll-answers", body).status_code == 201
    r = post(client, world["A"]["spouse"], "poll-answers", body)
    assert codes(r) == [("poll_id", "already_answered")]
    assert counted(session, poll.id) == 2


def test_a_butler_records_an_answer_given_at_the_door(client, world, session):
    r = post(client, world["A"]["butler"], "poll-answers", an_answer(world))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["source"] == "butler"


def test_a_butler_cannot_answer_for_a_household_outside_their_grid(client, world, session):
    other = make_household(world["A"]["community"])  # in no grid of theirs
    r = post(client, world["A"]["butler"], "poll-answers", an_answer(world, household_id=other.id))
    assert r.status_code == 403
    assert counted(session, world["A"]["poll"].id) == 0


def test_an_answer_that_misses_a_question_or_picks_a_stranger_option_is_refused(client, world, session):
    r = post(client, world["A"]["resident"], "poll-answers",
             an_answer(world, answers=[{"question_id": "q1", "options": ["maybe"]}]))
    assert r.status_code == 422
    assert set(codes(r)) == {("answers.0.options", "invalid_choice"), ("answers", "unanswered")}
    r = post(client, world["A"]["resident"], "poll-answers",
             an_answer(world, answers=[ANSWERS[0], {"question_id": "q2", "score": 6}]))
    assert r.status_code == 422
    assert codes(r) == [("answers.1.score", "out_of_range")]
    assert counted(session, world["A"]["poll"].id) == 0


# ---- closing -----------------------------------------------------------------------------------

def test_a_closed_poll_refuses_new_answers(client, world, session):
    poll = make_poll(world["A"]["community"], opens_at=now() - timedelta(days=9), closes_at=now() - GRACE - timedelta(hours=1))
    r = post(client, world["A"]["resident"], "poll-answers", an_answer(world, poll_id=poll.id))
    assert r.status_code == 422
    assert codes(r) == [("poll_id", "poll_closed")]
    assert counted(session, poll.id) == 0


def test_an_answer_made_offline_before_the_close_is_taken_within_the_grace_window(client, world, session):
    poll = make_poll(world["A"]["community"], closes_at=now() - timedelta(hours=2))
    late = an_answer(world, poll_id=poll.id, answered_at=(now() - timedelta(hours=1)).isoformat())
    assert codes(post(client, world["A"]["resident"], "poll-answers", late)) == [("poll_id", "poll_closed")]
    made_before = an_answer(world, poll_id=poll.id, answered_at=(now() - timedelta(hours=3)).isoformat())
    assert post(client, world["A"]["resident"], "poll-answers", made_before).status_code == 201
    assert status(poll) == "counting"


def test_a_phone_clock_ahead_of_the_server_is_refused(client, world):
    r = post(client, world["A"]["resident"], "poll-answers",
             an_answer(world, answered_at=(now() + timedelta(hours=1)).isoformat()))
    assert codes(r) == [("answered_at", "in_future")]


def test_a_sealed_poll_takes_nothing_more_and_its_result_does_not_change(client, world, session):
    poll = world["A"]["poll"]
    assert post(client, world["A"]["resident"], "poll-answers", an_answer(world)).status_code == 201
    headers = {**auth(world["A"]["supervisor"]), "Content-Type": "application/json"}
    before = now()
    r = client.patch(f"/api/v1/polls/{poll.id}", data=json.dumps({"closed_at": "2000-01-01T00:00:00Z"}),
                     headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["closed_at"] > (before - timedelta(minutes=1)).isoformat()  # sealed at the server's now, whatever was sent
    made_before = an_answer(world, household_id=world["A"]["neighbour"].id,
                            answered_at=(now() - timedelta(hours=1)).isoformat())
    r = post(client, world["A"]["butler"], "poll-answers", made_before)
    assert codes(r) == [("poll_id", "poll_closed")]
    r = client.patch(f"/api/v1/polls/{poll.id}", data=json.dumps({"title": "改个标题"}), headers=headers)
    assert codes(r) == [("title", "poll_closed")]
    assert counted(session, poll.id) == 1


# ---- anonymous polls ---------------------------------------------------------------------------

def test_an_anonymous_polls_answer_keeps_no_link_from_its_content_to_the_household(client, world, session):
    poll = make_poll(world["A"]["community"], anonymous=True)
    r = post(client, world["A"]["resident"], "poll-answers", an_answer(world, poll_id=poll.id))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["answers"] is None
    session.expire_all()
    answer = session.scalars(sa.select(PollAnswer).where(PollAnswer.poll_id == poll.id)).one()
    assert answer.answers is None and answer.household_id == world["A"]["household"].id
    ballot = session.scalars(sa.select(PollBallot).where(PollBallot.poll_id == poll.id)).one()
    assert ballot.answers == ANSWERS
    assert set(PollBallot.__table__.columns.keys()) == {"id", "poll_id", "answers"}
    assert ballot.id != answer.id
    # The audit trail shows the answer's arrival, and names fields, never their values.
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.record_id == answer.id)).all()
    assert [e.action for e in events] == ["create"]
    assert "yes" not in json.dumps(events[0].fields)
    # Staff reading the answer through the API see who answered, not what.
    r = client.get(f"/api/v1/poll-answers/{answer.id}", headers=auth(world["A"]["supervisor"]))
    assert r.status_code == 200 and r.get_json()["answers"] is None


# ---- activities --------------------------------------------------------------------------------

def make_activity(community, **overrides) -> Activity:
    return _save(Activity(**{"community_id": community.id, "title": "中秋游园会", "place": "中心花园",
                             "starts_at": now() + timedelta(days=3), "capacity": 5, **overrides}))


def test_sign_ups_fill_the_places_then_wait_and_a_cancellation_moves_the_list_up(client, world, session):
    activity = make_activity(world["A"]["community"])
    first = post(client, world["A"]["resident"], "activity-signups",
                 {"activity_id": activity.id, "household_id": world["A"]["household"].id, "people": 4})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["state"] == "confirmed"
    second = post(client, world["A"]["butler"], "activity-signups",
                  {"activity_id": activity.id, "household_id": world["A"]["neighbour"].id, "people": 3})
    assert second.get_json()["state"] == "waiting"
    session.expire_all()
    assert (session.get(Activity, activity.id).taken, session.get(Activity, activity.id).waiting) == (4, 3)
    r = client.patch(f"/api/v1/activity-signups/{first.get_json()['id']}", data=json.dumps({"cancelled": True}),
                     headers={**auth(world["A"]["resident"]), "Content-Type": "application/json"})
    assert r.status_code == 200, r.get_json()
    r = client.get(f"/api/v1/activity-signups/{second.get_json()['id']}", headers=auth(world["A"]["butler"]))
    assert r.get_json()["state"] == "confirmed"
    session.expire_all()
    assert (session.get(Activity, activity.id).taken, session.get(Activity, activity.id).waiting) == (3, 0)


def test_a_household_signs_up_once_and_another_community_not_at_all(client, world):
    activity = make_activity(world["A"]["community"])
    body = {"activity_id": activity.id, "household_id": world["A"]["household"].id}
    assert post(client, world["A"]["resident"], "activity-signups", body).status_code == 201
    assert codes(post(client, world["A"]["spouse"], "activity-signups", body)) == [("activity_id", "already_signed_up")]
    r = post(client, world["B"]["resident"], "activity-signups",
             {"activity_id": activity.id, "household_id": world["B"]["household"].id})
    assert r.status_code == 403


def test_another_communitys_polls_and_activities_never_reach_a_phone(client, world):
    theirs = make_activity(world["B"]["community"])
    ours = make_activity(world["A"]["community"])
    changes = sync(client, world["A"]["butler"])["changes"]
    got = {(c["type"], c["id"]) for c in changes if c["type"] in ("poll", "activity")}
    assert got == {("poll", world["A"]["poll"].id), ("activity", ours.id)}
    assert ("activity", theirs.id) not in got


def test_a_sign_up_made_through_sync_comes_back_with_its_state_and_the_activitys_count(client, world):
    activity = make_activity(world["A"]["community"], capacity=2)
    first = sync(client, world["A"]["resident"], put("activity_signup", str(uuid.uuid4()), {
        "activity_id": activity.id, "household_id": world["A"]["household"].id, "people": 2}))
    assert first["results"][0]["status"] == "applied", first["results"]
    pulled = {(c["type"], c["id"]): c.get("data") for c in first["changes"]}
    signup = next(data for (rtype, _), data in pulled.items() if rtype == "activity_signup")
    assert (signup["state"], signup["people"]) == ("confirmed", 2)
    assert pulled[("activity", activity.id)]["taken"] == 2


def test_an_anonymous_answer_pulled_back_carries_no_content(client, world):
    poll = make_poll(world["A"]["community"], anonymous=True)
    rid = answer_id(poll.id, world["A"]["household"].id)
    answer = sync(client, world["A"]["resident"], put("poll_answer", rid, {
        "poll_id": poll.id, "household_id": world["A"]["household"].id, "answers": ANSWERS}))
    assert answer["results"][0]["status"] == "applied"
    pulled = sync(client, world["A"]["spouse"], phone="dddddddd-0000-4000-8000-000000000004")["changes"]
    mine = [c["data"] for c in pulled if c["type"] == "poll_answer"]
    assert [(a["id"], a["answers"]) for a in mine] == [(rid, None)]
