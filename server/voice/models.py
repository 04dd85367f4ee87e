"""Polls (征询 / 投票), their answers, and community activities (社区活动) with their sign-ups.

An anonymous poll's answers are kept in two parts that nothing joins (docs/voice.md): the
participation (`PollAnswer`: which household, or resident, answered; no content) and the ballot
(`PollBallot`: the content; no household, no user, no time, a random id).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import (JSONType, Synced, Tracked, UTCDateTime, enum, index_change_order,
                            index_household_changes, new_id)

KINDS = ("survey", "vote", "satisfaction")  # 问卷, 投票, 定期满意度征询
ONE_PER = ("household", "resident")  # one answer per household (一户一票) or per resident
SOURCES = ("resident", "butler")  # answered on the resident's phone, or given at the door to a butler
SIGNUP_STATES = ("confirmed", "waiting", "cancelled")


class Poll(Synced, Tracked, db.Model):
    __tablename__ = "poll"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    building: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")  # "" : the whole community
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    kind: Mapped[str] = mapped_column(enum(*KINDS, name="poll_kind"), nullable=False, default="survey")
    # [{"id", "text", "type": single|multi|score, "options": [{"id", "text"}]}]; fixed once answered.
    questions: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    anonymous: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    one_per: Mapped[str] = mapped_column(enum(*ONE_PER, name="poll_one_per"), nullable=False, default="household")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    quorum: Mapped[int | None] = mapped_column(sa.Integer)  # households needed for the result to stand
    # Sealed by its supervisor (closed early, or its count declared final): nothing is taken after it.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(sa.ForeignKey("user_account.id"))


class PollAnswer(Synced, Tracked, db.Model):
    """That a household (or a resident) answered a poll; the content too, unless it is anonymous."""

    __tablename__ = "poll_answer"
    __table_args__ = (sa.UniqueConstraint("poll_id", "household_id", "voter_key", name="uq_poll_answer_once"),)

    poll_id: Mapped[str] = mapped_column(sa.ForeignKey("poll.id"), nullable=False, index=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    # Who counts once: "" for a poll answered per household, the resident's user id for one per resident.
    voter_key: Mapped[str] = mapped_column(sa.String(36), nullable=False, default="")
    source: Mapped[str] = mapped_column(enum(*SOURCES, name="poll_answer_source"), nullable=False,
                                        default="resident")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # the phone's clock
    # [{"question_id", "options": [...]} | {"question_id", "score"}]; None for an anonymous poll.
    answers: Mapped[list | None] = mapped_column(JSONType)


class PollBallot(db.Model):
    """The content of one answer to an anonymous poll: nothing in it leads back to who gave it."""

    __tablename__ = "poll_ballot"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)  # random, not the answer's
    poll_id: Mapped[str] = mapped_column(sa.ForeignKey("poll.id"), nullable=False, index=True)
    answers: Mapped[list] = mapped_column(JSONType, nullable=False)


class Activity(Synced, Tracked, db.Model):
    __tablename__ = "activity"

    community_id: Mapped[str] = mapped_column(sa.ForeignKey("community.id"), nullable=False, index=True)
    building: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    place: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    capacity: Mapped[int | None] = mapped_column(sa.Integer)  # people; None: no limit
    # Kept by the server from the sign-ups (server/voice/activities.py), so phones show what is left.
    taken: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # people confirmed
    waiting: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # people on the waiting list


class ActivitySignup(Synced, Tracked, db.Model):
    __tablename__ = "activity_signup"
    __table_args__ = (sa.UniqueConstraint("activity_id", "household_id", name="uq_activity_signup_once"),)

    activity_id: Mapped[str] = mapped_column(sa.ForeignKey("activity.id"), nullable=False, index=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("household.id"), nullable=False)
    people: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    state: Mapped[str] = mapped_column(enum(*SIGNUP_STATES, name="activity_signup_state"), nullable=False,
                                       default="confirmed")
    cancelled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)


index_change_order(Poll, PollAnswer, Activity, ActivitySignup)
index_household_changes(PollAnswer, ActivitySignup)
