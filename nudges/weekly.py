"""What the weekly messages say: the team channel's nudge and each expert's private summary.

Gathering reads the week from storage through the unit of work; composing is pure (figures in,
text out), so tests and `vraagbot nudges preview` see exactly what a channel will get. The week is
always a fixed ISO week of the team (handlers.weeks), never the days before a send moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta

from babel.numbers import format_decimal

from handlers.insights import (
    PRIVACY_FLOOR,
    TREND_WEEKS,
    WeekFigures,
    comparable,
    outcome_at_end,
    recognised,
    trend,
    week_figures,
)
from handlers.models import Outcome
from handlers.ports import Catalog, QuestionRecord, UnitOfWork
from handlers.weeks import Week, reported_week

WEEK = timedelta(days=7)
FOCUS_ADVICE_FROM = 2  # "several" questions that interrupted focus time bring the focus-time advice


@dataclass(frozen=True)
class TeamWeek:
    """One fixed week of one workspace (the team), as it stood when the week ended."""

    week: Week
    figures: WeekFigures
    previous: list[WeekFigures]  # the TREND_WEEKS weeks before, newest first (questions asked, people)
    recognised: list[str]  # who answered, minus who opted out, alphabetical


async def gather_team_week(uow: UnitOfWork, workspace_id: int, week: Week, *, keep: bool = True,
                           now: datetime | None = None, org_workspace: str = "") -> TeamWeek:
    """``week``: from handlers.weeks (``reported_week`` of the send moment), never the days
    before a send moment: every channel of the workspace must get the same figures. The team is the
    workspace, or with ``org_workspace`` that workspace of a Grid org (an org-wide install).

    The figures of a week are computed once and stored (``keep``; the planner, ``now`` is when):
    every later message about that week reuses them, so a forget-me between two channels'
    messages cannot change the second one's figures by the forgotten person's verdicts. Without
    ``keep`` (a preview) stored figures are read but none are stored. The recognition list is
    composed live: a forgotten name goes, and no name is ever stored."""
    # A handful of queries whatever the team's size: every round trip counts when the planner
    # composes a message for each of hundreds of teams (bench/insights.py).
    answered = await uow.questions.answered_between(week.start, week.end, workspace_id, org_workspace=org_workspace)
    experts = sorted({q.expert_id for q in answered if q.expert_id is not None})
    names = {p.id: (p.display_name, p.recognition_opt_out) for p in await uow.people.get_many(experts)}
    stored = await uow.team_weeks.get(workspace_id, week.label, org_workspace=org_workspace)
    if stored is None:
        figures, previous = await _count_team_week(uow, workspace_id, org_workspace, week, answered)
        if keep:
            stored = await uow.team_weeks.keep(
                workspace_id=workspace_id, week=week.label, time_zone=week.time_zone, figures=asdict(figures),
                previous=[{"asked": p.asked, "people": p.people} for p in previous], now=now or datetime.now(UTC),
                org_workspace=org_workspace)
    if stored is not None:  # stored now or earlier, by this replica or another: those are the week's figures
        figures = WeekFigures(**{name: getattr(stored, name) for name in _FIGURE_NAMES})
        previous = [_trend_week(p["asked"], p["people"]) for p in stored.previous]
    return TeamWeek(week, figures, previous, recognised(answered, names))


_FIGURE_NAMES = tuple(field.name for field in fields(WeekFigures))


def _trend_week(asked: int, people: int) -> WeekFigures:
    """An earlier week as the trend uses it: only how many questions were asked, and among how many people."""
    return WeekFigures(asked=asked, werk=0, with_outcome=0, confirmed=0, people=people, answered=0,
                       answerers=0, short_replies=0)


async def _count_team_week(uow: UnitOfWork, workspace_id: int, org_workspace: str, week: Week,
                           answered: Sequence[QuestionRecord]) -> tuple[WeekFigures, list[WeekFigures]]:
    """The week's figures and the trend's earlier weeks, from the questions and signals as they
    are now. An earlier week whose figures were stored counts as stored, so the trend agrees with
    the messages sent about those weeks."""
    earlier = [week.before(n) for n in range(1, TREND_WEEKS + 1)]
    asked = await uow.questions.asked_between(workspace_id, earlier[-1].start, week.end, org_workspace=org_workspace)
    signals = await uow.signals.for_questions([q.id for q in answered])
    kept = {row.week: row for row in await uow.team_weeks.get_many(workspace_id, [e.label for e in earlier],
                                                                   org_workspace=org_workspace)}
    previous = [_trend_week(kept[e.label].asked, kept[e.label].people) if e.label in kept
                else week_figures(e, asked, []) for e in earlier]
    return week_figures(week, [*asked, *answered], signals), previous


def team_title(workspace_name: str, org_workspace: str = "") -> str:
    """How a team is named in a chart or report: its workspace, and which of a Grid org's workspaces."""
    return f"{workspace_name} ({org_workspace})" if org_workspace else workspace_name


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
    lines = [catalog.text(locale, "weekly.figures", count=figures.asked, werk_pct=percent(figures.share_werk or 0))]
    earlier = comparable(week.previous, min_group_size)
    if earlier:  # a brand-new team, or one whose earlier weeks were all too small, has nothing to compare with
        direction, average = trend(figures.asked, earlier) or ("same", 0.0)
        key = f"weekly.trend_{direction}" if len(earlier) == TREND_WEEKS else f"weekly.trend_{direction}_some"
        lines.append(catalog.text(locale, key, average=format_decimal(average, format="#,##0.#", locale=locale),
                                  weeks=len(earlier), min=min_group_size))
    if figures.with_outcome:
        lines.append(catalog.text(locale, "weekly.confirmed", count=figures.confirmed,
                                  with_outcome=figures.with_outcome,
                                  confirmed_pct=percent(figures.share_confirmed or 0)))
    if figures.short_replies_shown(min_group_size):
        lines.append(catalog.text(locale, "weekly.short_replies", answered=figures.answered,
                                  count=figures.short_replies))
    elif figures.answered:
        lines.append(catalog.text(locale, "weekly.short_replies_hidden", min=min_group_size))
    return lines


def compose_team(catalog: Catalog, locale: str, seed: int, week: TeamWeek, min_group_size: int) -> str:
    """``seed``: how many weekly nudges the channel had before, so texts come in turn."""
    parts = [catalog.text(locale, "weekly.title"), catalog.variant(locale, "weekly.reframe", seed),
             " ".join(figure_lines(catalog, locale, week, min_group_size))]
    if week.recognised:
        parts.append(catalog.text(locale, "weekly.recognition", names=join_names(catalog, locale, week.recognised),
                                  count=len(week.recognised)))  # one name takes a singular verb
    question = catalog.variant(locale, "weekly.reflection_question", seed)
    parts.append(catalog.text(locale, "weekly.reflection", question=question))
    return "\n\n".join(parts)


def expert_week(week: Week, answered: Sequence[QuestionRecord]) -> list[QuestionRecord]:
    """Of one person's answered questions, those first answered in ``week``."""
    return [q for q in answered if q.first_reply_at in week]


def compose_expert(catalog: Catalog, locale: str, seed: int, week: Week, answered: Sequence[QuestionRecord]) -> str:
    """One person's own week, for them only: how many questions they answered (``answered``, from
    ``expert_week``), how many of those confirmed the asker by the end of the week, thanks, and
    focus-time advice when several came in during focus time."""
    interrupted = sum(q.interrupted_focus for q in answered)
    confirmations = sum(outcome_at_end(q, week.end) == Outcome.CONFIRMED for q in answered)
    summary = [catalog.text(locale, "weekly.expert", count=len(answered))]
    if confirmations:  # "0 of your answers confirmed ..." says nothing worth reading
        summary.append(catalog.text(locale, "weekly.expert_confirmations", count=confirmations))
    lines = [" ".join(summary)]
    if interrupted >= FOCUS_ADVICE_FROM:
        lines.append(catalog.text(locale, "weekly.expert_focus", count=interrupted))
    lines.append(catalog.variant(locale, "weekly.expert_thanks", seed))
    return "\n\n".join(lines)


@dataclass(frozen=True)
class HistoryWeek:
    week: str  # ISO week, e.g. 2026-W48
    start: date  # its Monday, local
    figures: WeekFigures


async def weekly_history(uow: UnitOfWork, workspace_id: int, weeks: int, now: datetime,
                         time_zone: str, *, org_workspace: str = "") -> list[HistoryWeek]:
    """The last ``weeks`` whole weeks of the team (``time_zone``: handlers.weeks.team_time_zone),
    oldest first: the same weeks, with the same figures, as the weekly messages: a week whose
    figures a weekly message stored has those (so comparing a report or monthly picture with the
    messages isolates nobody, also after a forget-me), the others are counted as they ended. The
    week in progress is left out, as in the messages: its figures would change from one run to the next."""
    last = reported_week(now, time_zone)
    span = [last.before(back) for back in range(weeks - 1, -1, -1)]
    asked = await uow.questions.asked_between(workspace_id, span[0].start, last.end, org_workspace=org_workspace)
    kept = {row.week: row for row in await uow.team_weeks.get_many(workspace_id, [week.label for week in span],
                                                                   org_workspace=org_workspace)}
    return [HistoryWeek(week.label, week.monday,
                        WeekFigures(**{name: getattr(kept[week.label], name) for name in _FIGURE_NAMES})
                        if week.label in kept else week_figures(week, asked, []))
            for week in span]
