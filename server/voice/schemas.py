"""Wire formats of polls, answers, activities and sign-ups."""
from __future__ import annotations

from marshmallow import fields

from server.voice.models import KINDS, ONE_PER, SIGNUP_STATES, SOURCES
from server.wire import RecordSchema, WireSchema, in_range, max_length, one_of

QUESTION_TYPES = ("single", "multi", "score")  # 单选, 多选, 打分 1–5


class OptionSchema(WireSchema):
    id = fields.String(required=True, validate=max_length(36))
    text = fields.String(required=True, validate=max_length(200))


class QuestionSchema(WireSchema):
    id = fields.String(required=True, validate=max_length(36))
    text = fields.String(required=True, validate=max_length(500))
    type = fields.String(required=True, validate=one_of(QUESTION_TYPES))
    options = fields.List(fields.Nested(OptionSchema), validate=max_length(30))


class ChoiceSchema(WireSchema):
    """The answer to one question: the options chosen (single, multi) or a score (1–5)."""

    question_id = fields.String(required=True, validate=max_length(36))
    options = fields.List(fields.String(validate=max_length(36)), validate=max_length(30))
    score = fields.Integer(validate=in_range(1, 5))


class PollSchema(RecordSchema):
    community_id = fields.String()  # a supervisor's own community when left out
    building = fields.String(validate=max_length(20))  # "" (left out): the whole community
    title = fields.String(required=True, validate=max_length(100))
    body = fields.String(validate=max_length(4000))
    kind = fields.String(validate=one_of(KINDS))
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=max_length(50))
    anonymous = fields.Boolean()
    one_per = fields.String(validate=one_of(ONE_PER))
    opens_at = fields.AwareDateTime()  # now when left out
    closes_at = fields.AwareDateTime(required=True)
    quorum = fields.Integer(allow_none=True, validate=in_range(1, 100000))
    closed_at = fields.AwareDateTime(allow_none=True)  # any value seals it at the server's now


class PollAnswerSchema(RecordSchema):
    poll_id = fields.String(required=True, validate=max_length(36))
    household_id = fields.String(required=True, validate=max_length(36))
    answered_at = fields.AwareDateTime()  # when the resident answered, by the phone's clock; now when left out
    answers = fields.List(fields.Nested(ChoiceSchema), required=True, allow_none=True, validate=max_length(50))
    voter_key = fields.String(dump_only=True)
    source = fields.String(dump_only=True, validate=one_of(SOURCES))


class ActivitySchema(RecordSchema):
    community_id = fields.String()
    building = fields.String(validate=max_length(20))
    title = fields.String(required=True, validate=max_length(100))
    body = fields.String(validate=max_length(4000))
    place = fields.String(validate=max_length(100))
    starts_at = fields.AwareDateTime(required=True)
    capacity = fields.Integer(allow_none=True, validate=in_range(1, 100000))
    taken = fields.Integer(dump_only=True)
    waiting = fields.Integer(dump_only=True)


class ActivitySignupSchema(RecordSchema):
    activity_id = fields.String(required=True, validate=max_length(36))
    household_id = fields.String(required=True, validate=max_length(36))
    people = fields.Integer(validate=in_range(1, 20))
    cancelled = fields.Boolean()
    state = fields.String(dump_only=True, validate=one_of(SIGNUP_STATES))
