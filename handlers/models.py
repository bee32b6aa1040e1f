"""Domain vocabulary shared by every use case.

Enums are ``StrEnum`` so their values are what storage keeps and what platform
payloads carry, without a mapping table in between.
"""

from __future__ import annotations

import re
from enum import StrEnum

from handlers.text import clean_user_text

MAX_QUESTION_CHARS = 4000  # Slack recommends at most 4,000 characters of text per message
MAX_REPLY_CHARS = 4000
MAX_ASSESSMENT_CHARS = 1000
MAX_TOPIC_CHARS = 60
_TOPIC_GLUE = re.compile(r"[\s-]+")  # what joins the words of one topic: spaces or hyphens, any number


class Tag(StrEnum):
    WERK = "werk"
    GUNST = "gunst"


class TagSource(StrEnum):
    TOPIC_RULE = "topic_rule"  # the expert declared the topic in-role
    EXPERT = "expert"  # the expert pressed werk / gunst
    DEFAULT = "default"  # nobody said anything; asking an expert counts as werk


class QuestionKind(StrEnum):
    DOUBT = "doubt"  # doubt about own competence: autonomy may grow here
    COMPLEX = "complex"  # complex or unforeseen situation: keep asking, structurally


class QuestionStatus(StrEnum):
    HELD = "held"  # waiting for the expert's focus block to end
    DELIVERED = "delivered"
    ANSWERED = "answered"
    CLOSED = "closed"  # the asker marked the outcome
    WITHDRAWN = "withdrawn"  # the asker took it back while it was held; the expert never got it


OPEN_STATUSES = (QuestionStatus.HELD, QuestionStatus.DELIVERED)


class Outcome(StrEnum):
    CONFIRMED = "confirmed"  # confirmed my first assessment
    NEW_INFO = "new_info"  # gave new information


class SignalKind(StrEnum):
    CURT_DETECTED = "curt_detected"
    CURT_REPORTED = "curt_reported"
    CONFIRMATION_ONLY = "confirmation_only"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after retries, or the recipient is unreachable
    SKIPPED = "skipped"  # due too long ago (grace window passed)


class MessageKind(StrEnum):
    """What a message is, so a platform can choose how to show it and the outbox can de-duplicate."""

    REPLY = "reply"  # direct answer to the person who acted
    QUESTION = "question"  # the question as delivered to the expert
    QUESTION_NOTICE = "question_notice"  # tells the asker the question was delivered or held
    ANSWER_RELAY = "answer_relay"  # the expert's answer, for platforms without a shared thread
    OUTCOME_PROMPT = "outcome_prompt"  # asks the asker how it went
    NUDGE_IN_ROLE = "nudge_in_role"
    NUDGE_CONFIRMATION = "nudge_confirmation"
    NUDGE_CURT = "nudge_curt"
    TAG_NOTICE = "tag_notice"
    WEEKLY_TEAM = "weekly_team"  # the weekly nudge in a team channel
    WEEKLY_EXPERT = "weekly_expert"  # the weekly private summary for someone who answered questions
    NUDGE_AUTONOMY = "nudge_autonomy"  # repeated confirmed doubt questions: trust your own judgement
    MONTHLY_TEAM = "monthly_team"  # the monthly picture (a chart) in a team channel


LOCALES = ("nl", "en")


def normalise_locale(raw: str | None, default: str = "nl") -> str:
    """Map a platform locale such as ``en-US`` or ``nl_NL`` onto a supported language."""
    if not raw:
        return default
    lang = raw.replace("_", "-").split("-")[0].lower()
    return lang if lang in LOCALES else default


def normalise_topic(raw: str) -> str:
    """The one rule for topic names: lower case, one word or words joined by hyphens, so a topic can be
    typed after ``#`` when asking. Spaces and runs of hyphens inside become one hyphen: ``#Juridisch
    Advies `` is ``juridisch-advies``. Topics stored before this rule (``juridisch advies``) compare
    through it the same way, so they need no migration."""
    words = _TOPIC_GLUE.split(clean_user_text(raw).strip().lstrip("#").lower())
    return "-".join(word for word in words if word)
