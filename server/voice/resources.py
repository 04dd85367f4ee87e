"""The community's voice: polls and their answers, activities and their sign-ups (docs/voice.md)."""
from server.resources.hooks import Rights, fields
from server.resources.registry import Resource
from server.voice.activities import ACTIVITY_RULES, SIGNUP_RULES
from server.voice.models import Activity, ActivitySignup, Poll, PollAnswer
from server.voice.schemas import ActivitySchema, ActivitySignupSchema, PollAnswerSchema, PollSchema
from server.voice.service import ANSWER_RULES, POLL_RULES

_POLL = fields("title", "body", "kind", "questions", "anonymous", "one_per", "opens_at", "closes_at",
               "quorum", "building")
_ACTIVITY = fields("title", "body", "place", "starts_at", "capacity", "building")
# An answer is counted once, as first given: its update exists only to refuse a second one clearly.
_ANSWER_FIELDS = fields("poll_id", "household_id", "answered_at", "answers")
_ANSWER = Rights(create=_ANSWER_FIELDS, update=_ANSWER_FIELDS)
_SIGNUP = Rights(create=fields("activity_id", "household_id", "people"), update=fields("people", "cancelled"))

RESOURCES = [
    Resource("poll", "polls", Poll, PollSchema, POLL_RULES, filters=("community_id", "kind"),
             scope="community_or_building", synced=True,
             rights={"supervisor": Rights(create=fields("community_id", *_POLL),
                                          update=fields(*_POLL, "closed_at"))}),
    Resource("poll_answer", "poll-answers", PollAnswer, PollAnswerSchema, ANSWER_RULES,
             filters=("poll_id", "household_id"), scope="in_household", synced=True, residents_read=True,
             rights={"resident": _ANSWER, "butler": _ANSWER}),
    Resource("activity", "activities", Activity, ActivitySchema, ACTIVITY_RULES, filters=("community_id",),
             scope="community_or_building", synced=True,
             rights={"supervisor": Rights(create=fields("community_id", *_ACTIVITY), update=_ACTIVITY,
                                          delete=True)}),
    Resource("activity_signup", "activity-signups", ActivitySignup, ActivitySignupSchema, SIGNUP_RULES,
             filters=("activity_id", "household_id"), scope="in_household", synced=True, residents_read=True,
             rights={"resident": _SIGNUP, "butler": _SIGNUP}),
]
