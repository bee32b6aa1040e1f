"""Team figures, aggregated only, with the privacy thresholds of docs/architecture.md.

The team is the workspace: every question asked in it counts, whoever asked whom. Two thresholds
(``min_group_size``, never below 5) decide what may be shown:
- no figures at all when fewer people were involved in the week's questions (askers and experts);
- no short-reply figures unless at least that many different people answered that week, because
  those figures are about the people who answered. Detected and reported short replies are one
  number, so nobody can tell whether an asker reported one.

Figures are about one fixed week (handlers.weeks) as it stood when that week ended: an outcome,
tag or curt report recorded later counts for no week. So every message about a week, sent on
Monday or on Friday, in whichever channel, shows the same figures, and comparing two of them
isolates nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from handlers.models import Outcome, QuestionStatus, SignalKind, Tag
from handlers.ports import QuestionRecord, SignalRecord
from handlers.weeks import Week

CURT_KINDS = (SignalKind.CURT_DETECTED, SignalKind.CURT_REPORTED)
PRIVACY_FLOOR = 5  # the minimum group size is never below 5, whatever is configured (docs/architecture.md)
TREND_WEEKS = 4  # the week is compared with the average of those of this many weeks before it that were shown
TREND_MARGIN = 0.15  # within 15% of that average counts as "about the same"


@dataclass(frozen=True)
class WeekFigures:
    asked: int  # questions asked in the week
    werk: int  # of those, tagged werk
    with_outcome: int  # of those, where the asker marked the outcome
    confirmed: int  # of those, that confirmed the asker's own assessment
    people: int  # different people involved in the week's questions (askers and experts)
    answered: int  # questions first answered in the week
    answerers: int  # different people who answered them
    short_replies: int  # of the answered questions, how many had a reply that came across as short

    @property
    def share_werk(self) -> float | None:
        return self.werk / self.asked if self.asked else None

    @property
    def share_confirmed(self) -> float | None:
        return self.confirmed / self.with_outcome if self.with_outcome else None

    def shown(self, min_group_size: int) -> bool:
        return self.people >= max(min_group_size, PRIVACY_FLOOR)

    def short_replies_shown(self, min_group_size: int) -> bool:
        return self.shown(min_group_size) and self.answerers >= max(min_group_size, PRIVACY_FLOOR)


def _before(moment: datetime | None, end: datetime) -> bool:
    return moment is None or moment < end  # None: a row from before these moments were kept


def outcome_at_end(question: QuestionRecord, end: datetime) -> str | None:
    """The question's outcome as it stood at ``end`` (the end of a week)."""
    return question.outcome if _before(question.outcome_at, end) else None


def week_figures(week: Week, questions: Iterable[QuestionRecord], signals: Iterable[SignalRecord]) -> WeekFigures:
    """The week's figures as they stood when it ended. ``questions``: at least those asked in the
    week and those first answered in it (others are left out); ``signals``: at least those of the
    answered ones."""
    by_id = {q.id: q for q in questions}.values()
    # A question the asker withdrew while it was held never reached the expert: it was not asked,
    # and neither of its people took part in a question (the minimum group size counts real ones).
    asked = [q for q in by_id if q.asked_at in week and q.status != QuestionStatus.WITHDRAWN]
    answered = [q for q in by_id if q.first_reply_at in week]
    outcomes = [outcome_at_end(q, week.end) for q in asked]
    people = {q.asker_id for q in asked} | {q.expert_id for q in asked if q.expert_id is not None}
    curt_questions = {s.question_id for s in signals if s.kind in CURT_KINDS and s.created_at < week.end}
    return WeekFigures(
        asked=len(asked),
        werk=sum(q.tag == Tag.WERK and _before(q.tagged_at, week.end) for q in asked),
        with_outcome=sum(o is not None for o in outcomes),
        confirmed=sum(o == Outcome.CONFIRMED for o in outcomes),
        people=len(people),
        answered=len(answered),
        answerers=len({q.expert_id for q in answered if q.expert_id is not None}),
        short_replies=sum(q.id in curt_questions for q in answered),
    )


def comparable(previous: Iterable[WeekFigures], min_group_size: int) -> list[int]:
    """Questions asked in each earlier week that may be compared with: only weeks whose figures
    were shown. A week below the minimum group size is left out of the average (not counted as
    zero), or the average would give away the count that week's message kept back."""
    return [week.asked for week in previous if week.shown(min_group_size)]


def trend(current: int, previous: Sequence[int]) -> tuple[str, float] | None:
    """("up" | "down" | "same", average of the previous weeks), or None without earlier weeks."""
    if not previous:
        return None
    average = sum(previous) / len(previous)
    if average == 0:
        return ("up", 0.0) if current > 0 else ("same", 0.0)
    ratio = current / average
    if ratio > 1 + TREND_MARGIN:
        return "up", average
    if ratio < 1 - TREND_MARGIN:
        return "down", average
    return "same", average


def recognised(answered: Iterable[QuestionRecord], names: dict[int, tuple[str, bool]]) -> list[str]:
    """Display names of the people who answered, without those who opted out, in alphabetical
    order: recognition, never a ranking. ``names``: person id -> (display name, opted out)."""
    shown = {names[q.expert_id][0] for q in answered
             if q.expert_id is not None and q.expert_id in names and not names[q.expert_id][1]}
    return sorted(shown, key=str.casefold)
