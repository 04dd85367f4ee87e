"""A poll's results as the console shows them: counts per option, average scores, participation
against the quorum, and by building. An anonymous poll's counts come from its ballots, which name
no household: by building it shows only who took part, never what a building answered."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.community.models import Household
from server.voice.models import Poll, PollAnswer, PollBallot
from server.voice.service import status


@dataclass
class QuestionResult:
    id: str
    text: str
    type: str
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # (option id, text, answers)
    scores: list[int] = field(default_factory=lambda: [0] * 5)  # answers that gave 1..5
    answered: int = 0

    @property
    def average(self) -> float | None:
        total = sum(self.scores)
        return sum((i + 1) * n for i, n in enumerate(self.scores)) / total if total else None


@dataclass
class Results:
    poll: Poll
    status: str
    answers: int  # answers counted (households, or residents for a poll per resident)
    households: int  # households that took part
    eligible: int  # households the poll is for
    questions: list[QuestionResult]
    by_building: list[tuple[str, int, int]]  # (building, households that took part, households)
    # What each building answered (never for an anonymous poll): building -> question id -> QuestionResult.
    answers_by_building: dict[str, dict[str, QuestionResult]] = field(default_factory=dict)

    @property
    def quorum_met(self) -> bool | None:
        return None if self.poll.quorum is None else self.households >= self.poll.quorum


def _contents(session: Session, poll: Poll) -> list[tuple[str | None, list[dict]]]:
    """(building, answers) of each answer; an anonymous poll's ballots name no building."""
    if poll.anonymous:
        return [(None, answers) for answers in
                session.scalars(sa.select(PollBallot.answers).where(PollBallot.poll_id == poll.id))]
    return list(session.execute(sa.select(Household.building, PollAnswer.answers)
                                .join(Household, Household.id == PollAnswer.household_id)
                                .where(PollAnswer.poll_id == poll.id, PollAnswer.deleted.is_(False))).tuples())


def _empty(poll: Poll) -> dict[str, QuestionResult]:
    return {q["id"]: QuestionResult(q["id"], q["text"], q["type"],
                                    counts=[(o["id"], o["text"], 0) for o in q.get("options") or []])
            for q in poll.questions}


def _count(questions: dict[str, QuestionResult], content: list[dict]) -> None:
    for choice in content or []:
        result = questions.get(choice["question_id"])
        if result is None:
            continue
        result.answered += 1
        if result.type == "score" and choice.get("score"):
            result.scores[choice["score"] - 1] += 1
        chosen = set(choice.get("options") or [])
        result.counts = [(oid, text, n + (oid in chosen)) for oid, text, n in result.counts]


def results(session: Session, poll: Poll) -> Results:
    """The poll's results now (final once its status is "closed")."""
    questions = _empty(poll)
    contents = _contents(session, poll)
    answers_by_building: dict[str, dict[str, QuestionResult]] = {}
    for building, content in contents:
        _count(questions, content)
        if building is not None:
            _count(answers_by_building.setdefault(building, _empty(poll)), content)
    homes = sa.select(Household.id, Household.building).where(Household.community_id == poll.community_id,
                                                             Household.deleted.is_(False))
    if poll.building:
        homes = homes.where(Household.building == poll.building)
    homes = homes.subquery()
    took_part = sa.select(PollAnswer.household_id).where(PollAnswer.poll_id == poll.id,
                                                         PollAnswer.deleted.is_(False)).distinct().subquery()
    rows = session.execute(sa.select(homes.c.building, sa.func.count(), sa.func.count(took_part.c.household_id))
                           .select_from(homes).outerjoin(took_part, took_part.c.household_id == homes.c.id)
                           .group_by(homes.c.building).order_by(homes.c.building)).all()
    by_building = [(building, int(part), int(total)) for building, total, part in rows]
    return Results(poll=poll, status=status(poll), answers=len(contents),
                   households=sum(part for _, part, _ in by_building),
                   eligible=sum(total for _, _, total in by_building),
                   questions=list(questions.values()), by_building=by_building,
                   answers_by_building=dict(sorted(answers_by_building.items())))


def to_csv(result: Results, english: bool) -> str:
    """The results as CSV for Excel (UTF-8 with a BOM): one row per question and option or score."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["question", "answer", "count"] if english else ["题目", "选项", "人数"])
    for question in result.questions:
        text = _safe(question.text)
        if question.type == "score":
            for score, n in enumerate(question.scores, start=1):
                writer.writerow([text, str(score), n])
            average = question.average
            writer.writerow([text, "average" if english else "平均分", f"{average:.2f}" if average else ""])
        for _, option, n in question.counts:
            writer.writerow([text, _safe(option), n])
    writer.writerow(["households" if english else "参与户数", "", result.households])
    writer.writerow(["quorum" if english else "有效户数", "", result.poll.quorum or ""])
    return out.getvalue()


def _safe(text: str) -> str:
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text  # stays text in Excel
