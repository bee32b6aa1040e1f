"""Team figures, aggregated only, with the privacy thresholds of DESIGN section 3.

The team is the workspace: every question asked in it counts, whoever asked whom. Two thresholds
(``min_group_size``, never below 5) decide what may be shown:
- no figures at all when fewer people were involved in the week's questions (askers and experts);
- no short-reply figures unless at least that many different people answered that week, because
  those figures are about the people who answered. Detected and reported short replies are one
  number, so nobody can tell whether an asker reported one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from handlers.models import Outcome, SignalKind, Tag
from handlers.ports import QuestionRecord, SignalRecord

CURT_KINDS = (SignalKind.CURT_DETECTED, SignalKind.CURT_REPORTED)
PRIVACY_FLOOR = 5  # DESIGN section 3: the minimum group size is never below 5, whatever is configured
TREND_WEEKS = 4  # the week is compared with the average of this many weeks before it
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


def week_figures(asked: Sequence[QuestionRecord], answered: Sequence[QuestionRecord],
                 signals: Iterable[SignalRecord]) -> WeekFigures:
    """``asked``: questions asked in the week; ``answered``: questions first answered in it;
    ``signals``: the signals of the answered questions."""
    people = {q.asker_id for q in asked} | {q.expert_id for q in asked if q.expert_id is not None}
    curt_questions = {s.question_id for s in signals if s.kind in CURT_KINDS}
    return WeekFigures(
        asked=len(asked),
        werk=sum(q.tag == Tag.WERK for q in asked),
        with_outcome=sum(q.outcome is not None for q in asked),
        confirmed=sum(q.outcome == Outcome.CONFIRMED for q in asked),
        people=len(people),
        answered=len(answered),
        answerers=len({q.expert_id for q in answered if q.expert_id is not None}),
        short_replies=sum(q.id in curt_questions for q in answered),
    )


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


@dataclass(frozen=True)
class WeekRow:
    """One week of the trend report."""

    week: str  # ISO week, e.g. 2026-W48
    start: datetime
    figures: WeekFigures
