"""The console's polls and activities: open a poll from a plain form, its live results (per option,
average score, participation against the quorum, by building), CSV, closing early; activities with
their head counts."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.voice.models import Activity, Poll
from tests.factories import _save, auth, make_community, make_grid, make_household, make_user
from tests.server.test_voice import ANSWERS, make_poll
from tests.support.console import log_in, post, text


@pytest.fixture
def world(session, client):
    community = make_community()
    grid = make_grid(community, make_user("butler", community_id=community.id))
    homes = [make_household(community, grid), make_household(community, grid, building="2栋")]
    out = {"community": community, "homes": homes,
           "residents": [make_user("resident", community_id=community.id, household_id=h.id) for h in homes],
           "supervisor": make_user("supervisor", community_id=community.id)}
    assert log_in(client, out["supervisor"].username).status_code == 302
    return out


def answer(client, resident, poll, home, answers=ANSWERS):
    r = client.post("/api/v1/poll-answers", data=json.dumps({"poll_id": poll.id, "household_id": home.id,
                                                             "answers": answers}),
                    headers={**auth(resident), "Content-Type": "application/json"})
    assert r.status_code == 201, r.get_json()


def test_a_supervisor_opens_a_poll_from_the_form(client, world, session):
    r = post(client, "/console/polls", {
        "title": "加装电梯", "kind": "vote", "one_per": "household", "quorum": "2", "building": "",
        "questions": "单选：是否同意？｜同意｜不同意\n打分：对物业满意吗", "closes_at": "2031-01-01T18:00"},
        page="/console/polls")
    assert r.status_code == 302, text(r)
    poll = session.scalars(sa.select(Poll).where(Poll.community_id == world["community"].id)).one()
    assert [(q["type"], q["text"], [o["text"] for o in q["options"]]) for q in poll.questions] == [
        ("single", "是否同意？", ["同意", "不同意"]), ("score", "对物业满意吗", [])]
    assert poll.quorum == 2


def test_a_poll_form_with_bad_questions_is_shown_again_with_what_was_typed(client, world):
    r = post(client, "/console/polls", {"title": "加装电梯", "questions": "单选：只有一个选项｜同意",
                                        "closes_at": "2031-01-01T18:00"}, page="/console/polls")
    assert r.status_code == 422
    assert "只有一个选项" in text(r)


def test_the_results_count_options_scores_participation_and_buildings(client, world):
    poll = make_poll(world["community"], quorum=2)
    answer(client, world["residents"][0], poll, world["homes"][0])
    answer(client, world["residents"][1], poll, world["homes"][1],
           [{"question_id": "q1", "options": ["no"]}, {"question_id": "q2", "score": 2}])
    page = text(client.get(f"/console/polls/{poll.id}"))
    assert 'data-label="同意" data-count="1"' in page and 'data-label="不同意" data-count="1"' in page
    assert "平均分：3.00" in page
    assert "参与 2 / 2 户" in page and "已达有效户数" in page
    assert "<script" not in page
    first = page.split('data-testid="poll-question-buildings"')[1].split("</table>")[0]
    buildings = re.findall(r"<tr><td>(\d栋)</td>\s*<td>(\d)</td><td>(\d)</td></tr>", first)
    assert buildings == [("1栋", "1", "0"), ("2栋", "0", "1")]  # 同意, 不同意 by building


def test_an_anonymous_poll_shows_no_building_s_answers(client, world):
    poll = make_poll(world["community"], anonymous=True)
    answer(client, world["residents"][0], poll, world["homes"][0])
    page = text(client.get(f"/console/polls/{poll.id}"))
    assert 'data-label="同意" data-count="1"' in page
    assert 'data-testid="poll-question-buildings"' not in page


def test_the_results_download_as_csv(client, world):
    poll = make_poll(world["community"])
    answer(client, world["residents"][0], poll, world["homes"][0])
    r = client.get(f"/console/polls/{poll.id}/results.csv")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["题目", "选项", "人数"]
    assert ["是否同意加装电梯？", "同意", "1"] in rows and ["满意度", "平均分", "4.00"] in rows


def test_closing_early_seals_the_poll(client, world, session):
    poll = make_poll(world["community"])
    r = post(client, f"/console/polls/{poll.id}/close", {}, page=f"/console/polls/{poll.id}")
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Poll, poll.id).closed_at is not None
    assert "已结束，结果已定" in text(client.get(f"/console/polls/{poll.id}"))


def test_another_communitys_poll_is_not_found(client, world):
    other = make_poll(make_community())
    assert client.get(f"/console/polls/{other.id}").status_code == 404
    assert client.get(f"/console/polls/{other.id}/results.csv").status_code == 404


def test_the_activity_list_shows_head_counts_and_the_waiting_list(client, world, session):
    r = post(client, "/console/activities", {"title": "中秋游园会", "place": "中心花园", "capacity": "3",
                                             "starts_at": "2031-01-01T18:00"}, page="/console/activities")
    assert r.status_code == 302, text(r)
    activity = session.scalars(sa.select(Activity)).one()
    for resident, home, people in ((world["residents"][0], world["homes"][0], 2), (world["residents"][1], world["homes"][1], 2)):
        r = client.post("/api/v1/activity-signups", data=json.dumps({"activity_id": activity.id, "household_id": home.id,
                                                                      "people": people}),
                        headers={**auth(resident), "Content-Type": "application/json"})
        assert r.status_code == 201
    page = text(client.get("/console/activities"))
    assert "2 人（1 户）" in page  # confirmed, and the same on the waiting list
    assert page.count("2 人（1 户）") == 2
