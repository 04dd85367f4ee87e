"""The console's share of the community's voice (共治): polls (create, live results, CSV, close
early) and activities (create, head counts). Written through the same domain rules as the REST
API (server/voice): a poll's questions are typed one per line, `单选：问题｜选项｜选项`,
`多选：…`, or `打分：问题` (a 1–5 score)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, g, request

from server.audit import service as audit
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import (bp, current_community, done, error_page, failed, language, render_page, t,
                                  zone_name)
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.resources import service
from server.voice import activities as activity_rules
from server.voice import results as poll_results
from server.voice.models import Activity, Poll
from server.voice.service import status

QUESTION_TYPES = {"单选": "single", "single": "single", "多选": "multi", "multi": "multi",
                  "打分": "score", "score": "score"}
POLL_FIELDS = ("title", "body", "kind", "building", "questions", "opens_at", "closes_at", "quorum", "one_per")
ACTIVITY_FIELDS = ("title", "body", "place", "building", "starts_at", "capacity")


def _local(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(zone_name())).strftime("%Y-%m-%d %H:%M") if moment else ""


def _moment(name: str, text: str) -> str | None:
    """A datetime-local field (the community's clock) as ISO text; None when left empty."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone_name())).isoformat()
    except ValueError:
        raise ValidationFailed([FieldError(name, "invalid")]) from None


def parse_questions(text: str) -> list[dict]:
    """The questions typed one per line: `类型：问题｜选项｜选项…` (a full-width or plain colon and bar)."""
    questions = []
    for number, line in enumerate((line.strip() for line in text.splitlines() if line.strip()), start=1):
        kind, _, rest = re.split(r"([:：])", line, maxsplit=1) if re.search(r"[:：]", line) else ("", "", line)
        parts = [part.strip() for part in re.split(r"[|｜]", rest) if part.strip()]
        qtype = QUESTION_TYPES.get(kind.strip().lower())
        if qtype is None or not parts:
            raise ValidationFailed([FieldError("questions", "invalid")])
        questions.append({"id": f"q{number}", "text": parts[0], "type": qtype,
                          "options": [{"id": f"q{number}o{i}", "text": option}
                                      for i, option in enumerate(parts[1:], start=1)]})
    return questions


def _via() -> audit.Via:
    return audit.Via("console", g.device.id)


def _polls_page(refused: dict | None = None):
    community = current_community()
    polls = list(db.session.scalars(sa.select(Poll).where(Poll.community_id == community, Poll.deleted.is_(False))
                                    .order_by(Poll.closes_at.desc(), Poll.id).limit(200)))
    return render_page("console/polls.html", refused, polls=polls, poll_status=status, local=_local,
                       buildings=queries.buildings(db.session, community))


@bp.get("/polls")
@console_login_required
def polls():
    """The community's polls, latest closing first, and the form for a new one."""
    return _polls_page()


@bp.post("/polls")
@console_login_required
def poll_create():
    """Open a poll (survey, vote or satisfaction consultation)."""
    values = {name: request.form.get(name, "").strip() for name in POLL_FIELDS}
    values["anonymous"] = request.form.get("anonymous") == "on"
    try:
        data = {"community_id": current_community(), "title": values["title"], "body": values["body"],
                "kind": values["kind"] or "survey", "building": values["building"], "anonymous": values["anonymous"],
                "one_per": values["one_per"] or "household", "questions": parse_questions(values["questions"]),
                "closes_at": _moment("closes_at", values["closes_at"])}
        if values["opens_at"]:
            data["opens_at"] = _moment("opens_at", values["opens_at"])
        if values["quorum"]:
            data["quorum"] = int(values["quorum"]) if values["quorum"].isdigit() else values["quorum"]
        poll = service.create(db.session, user=g.user, rtype="poll", data=data, via=_via())
        db.session.commit()
    except ApiError as error:
        return _polls_page(failed(error, "create", None, values))
    return done(t("vo_done_opened", title=poll.title), "console.poll", poll_id=poll.id)


def _poll_of_community(poll_id: str) -> Poll | None:
    poll = db.session.get(Poll, poll_id)
    return poll if poll is not None and not poll.deleted and poll.community_id == current_community() else None


@bp.get("/polls/<poll_id>")
@console_login_required
def poll(poll_id: str):
    """One poll's live results: per option, average scores, participation against the quorum, by building."""
    found = _poll_of_community(poll_id)
    if found is None:
        return error_page(404, "not_found")
    return render_page("console/poll.html", result=poll_results.results(db.session, found), local=_local)


@bp.get("/polls/<poll_id>/results.csv")
@console_login_required
def poll_csv(poll_id: str):
    """One poll's results as CSV."""
    found = _poll_of_community(poll_id)
    if found is None:
        return error_page(404, "not_found")
    text = poll_results.to_csv(poll_results.results(db.session, found), english=language() == "en")
    return Response(text, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="poll_{found.id[:8]}.csv"'})


@bp.post("/polls/<poll_id>/close")
@console_login_required
def poll_close(poll_id: str):
    """Seal a poll now: it takes no more answers and its result is final."""
    try:
        service.update(db.session, user=g.user, rtype="poll", record_id=poll_id,
                       data={"closed_at": datetime.now(ZoneInfo("UTC")).isoformat()}, via=_via())
        db.session.commit()
    except ApiError as error:
        found = _poll_of_community(poll_id)
        if found is None:
            return error_page(error.status, "not_found")
        return render_page("console/poll.html", failed(error, "close", poll_id, {}),
                           result=poll_results.results(db.session, found), local=_local)
    return done(t("vo_done_closed"), "console.poll", poll_id=poll_id)


# ---- activities --------------------------------------------------------------------------------

def _activities_page(refused: dict | None = None):
    community = current_community()
    found = list(db.session.scalars(sa.select(Activity).where(Activity.community_id == community,
                                                              Activity.deleted.is_(False))
                                    .order_by(Activity.starts_at.desc(), Activity.id).limit(200)))
    counts = {a.id: activity_rules.head_count(db.session, a.id) for a in found}
    return render_page("console/activities.html", refused, activities=found, counts=counts, local=_local,
                       buildings=queries.buildings(db.session, community))


@bp.get("/activities")
@console_login_required
def activities():
    """The community's activities with their head counts and waiting lists."""
    return _activities_page()


@bp.post("/activities")
@console_login_required
def activity_create():
    """Announce an activity residents can sign up for."""
    values = {name: request.form.get(name, "").strip() for name in ACTIVITY_FIELDS}
    try:
        data = {"community_id": current_community(), "title": values["title"], "body": values["body"],
                "place": values["place"], "building": values["building"],
                "starts_at": _moment("starts_at", values["starts_at"])}
        if values["capacity"]:
            data["capacity"] = int(values["capacity"]) if values["capacity"].isdigit() else values["capacity"]
        activity = service.create(db.session, user=g.user, rtype="activity", data=data, via=_via())
        db.session.commit()
    except ApiError as error:
        return _activities_page(failed(error, "create", None, values))
    return done(t("vo_done_activity", title=activity.title), "console.activities")
