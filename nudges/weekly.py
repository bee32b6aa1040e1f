"""What the weekly messages say: the team channel's nudge and each expert's private summary.

Gathering reads the week from storage through the unit of work; composing is pure (figures in,
text out), so tests and `vraagbot nudges preview` see exactly what a channel will get.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from handlers.insights import PRIVACY_FLOOR, TREND_WEEKS, WeekFigures, recognised, trend, week_figures
from handlers.models import Outcome
from handlers.ports import Catalog, QuestionRecord, UnitOfWork

WEEK = timedelta(days=7)
FOCUS_ADVICE_FROM = 2  # "several" questions that interrupted focus time bring the focus-time advice


@dataclass(frozen=True)
class TeamWeek:
    """The seven days before a send moment, for one workspace (the team)."""

    figures: WeekFigures
    previous_asked: list[int]  # questions asked in each of the TREND_WEEKS weeks before, newest first
    recognised: list[str]  # who answered, minus who opted out, alphabetical


async def gather_team_week(uow: UnitOfWork, workspace_id: int, end: datetime) -> TeamWeek:
    # A handful of queries whatever the team's size: every round trip counts when the planner
    # composes a message for each of hundreds of teams (bench/insights.py).
    start = end - WEEK
    recent = await uow.questions.asked_between(workspace_id, end - WEEK * (TREND_WEEKS + 1), end)
    asked = [q for q in recent if q.asked_at >= start]
    answered = await uow.questions.answered_between(start, end, workspace_id)
    signals = await uow.signals.for_questions([q.id for q in answered])
    previous = [sum(end - WEEK * (n + 1) <= q.asked_at < end - WEEK * n for q in recent)
                for n in range(1, TREND_WEEKS + 1)]
    experts = sorted({q.expert_id for q in answered if q.expert_id is not None})
    names = {p.id: (p.display_name, p.recognition_opt_out) for p in await uow.people.get_many(experts)}
    return TeamWeek(week_figures(asked, answered, signals), previous, recognised(answered, names))


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def join_names(catalog: Catalog, locale: str, names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {catalog.text(locale, 'word.and')} {names[-1]}"


def figure_lines(catalog: Catalog, locale: str, week: TeamWeek, min_group_size: int) -> list[str]:
    figures = week.figures
    min_group_size = max(min_group_size, PRIVACY_FLOOR)
    if figures.asked == 0:
        return [catalog.text(locale, "weekly.no_questions")]
    if not figures.shown(min_group_size):
        return [catalog.text(locale, "weekly.figures_hidden", min=min_group_size)]
    lines = [catalog.text(locale, "weekly.figures", asked=figures.asked, werk_pct=percent(figures.share_werk or 0))]
    if sum(week.previous_asked) > 0:  # a brand-new team has nothing to compare with
        direction, average = trend(figures.asked, week.previous_asked) or ("same", 0.0)
        lines.append(catalog.text(locale, f"weekly.trend_{direction}",
                                  average=format_decimal(average, format="#,##0.#", locale=locale)))
    if figures.with_outcome:
        lines.append(catalog.text(locale, "weekly.confirmed", confirmed=figures.confirmed,
                                  with_outcome=figures.with_outcome,
                                  confirmed_pct=percent(figures.share_confirmed or 0)))
    if figures.short_replies_shown(min_group_size):
        key = "weekly.short_replies" if figures.short_replies else "weekly.short_replies_none"
        lines.append(catalog.text(locale, key, answered=figures.answered, short=figures.short_replies))
    elif figures.answered:
        lines.append(catalog.text(locale, "weekly.short_replies_hidden", min=min_group_size))
    return lines


def compose_team(catalog: Catalog, locale: str, seed: int, week: TeamWeek, min_group_size: int) -> str:
    """``seed``: how many weekly nudges the channel had before, so texts come in turn."""
    parts = [catalog.text(locale, "weekly.title"), catalog.variant(locale, "weekly.reframe", seed),
             " ".join(figure_lines(catalog, locale, week, min_group_size))]
    if week.recognised:
        parts.append(catalog.text(locale, "weekly.recognition", names=join_names(catalog, locale, week.recognised)))
    question = catalog.variant(locale, "weekly.reflection_question", seed)
    parts.append(catalog.text(locale, "weekly.reflection", question=question))
    return "\n\n".join(parts)


def compose_expert(catalog: Catalog, locale: str, seed: int, answered: Sequence[QuestionRecord]) -> str:
    """One person's own week, for them only: how many questions they answered, how many of those
    confirmed the asker, thanks, and focus-time advice when several came in during focus time."""
    interrupted = sum(q.interrupted_focus for q in answered)
    lines = [catalog.text(locale, "weekly.expert", answered=len(answered),
                          confirmations=sum(q.outcome == Outcome.CONFIRMED for q in answered))]
    if interrupted >= FOCUS_ADVICE_FROM:
        lines.append(catalog.text(locale, "weekly.expert_focus", interrupted=interrupted))
    lines.append(catalog.variant(locale, "weekly.expert_thanks", seed))
    return "\n\n".join(lines)


@dataclass(frozen=True)
class HistoryWeek:
    week: str  # ISO week, e.g. 2026-W48
    start: date  # its Monday, local
    figures: WeekFigures


async def weekly_history(uow: UnitOfWork, workspace_id: int, weeks: int, now: datetime,
                         time_zone: str) -> list[HistoryWeek]:
    """The last ``weeks`` local ISO weeks, oldest first; the last one is the current (partial) week."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    history = []
    for back in range(weeks - 1, -1, -1):
        monday = this_monday - timedelta(weeks=back)
        start = datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(monday + WEEK, time(0), tzinfo=zone).astimezone(UTC)
        asked = await uow.questions.asked_between(workspace_id, start, end)
        iso = monday.isocalendar()
        history.append(HistoryWeek(f"{iso.year}-W{iso.week:02d}", monday, week_figures(asked, [], [])))
    return history
