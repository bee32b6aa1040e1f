"""Is it working? A team's figures over fixed calendar months, aggregated only (docs/impact.md).

Pure functions over ``ImpactQuestion`` rows (storage/repositories/impact.py reads them):

- **Return to ask**: of the people whose question got a curt reply, only confirmed their assessment, or
  brought new information, the share that asked again within FOLLOW_UP_DAYS. One trial per person,
  group and calendar month (their first such question that month), so nobody weighs more for asking
  more. Per reframing-text variant too: the rotation of the texts is a natural experiment.
- **Kinds**: complex-situation questions per month; doubt-about-own-competence questions per asker and
  topic per month (autonomy growing shows as this falling).
- **Asking as work**: the share tagged werk, and the share on topics in the expert's role.
- **Reach**: active askers per ISO week, and questions per active asker.

Privacy (docs/architecture.md): a cell is shown only with at least the minimum group size of distinct
people (never below PRIVACY_FLOOR); curt-reply cells also need that many distinct experts. A figure
that would let a hidden cell be worked out by subtraction is hidden too (``_suppress_complements``).
Totals over months are sums of shown monthly cells only, so reports over different spans differ only
by cells that are shown anyway. Windows are fixed calendar months and ISO weeks in the team's time zone,
never "the last 30 days", and a signal or outcome counts only when recorded within SIGNAL_DAYS of the
question, so a finished month's figures do not move later.

Uncertainty: Wilson score intervals (95%), with z from the standard library's ``NormalDist``; two
figures differ only when their intervals do not overlap, which is deliberately cautious.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from statistics import NormalDist
from zoneinfo import ZoneInfo

from handlers.insights import PRIVACY_FLOOR
from handlers.models import Outcome, QuestionKind, Tag
from handlers.ports import ImpactQuestion
from handlers.weeks import Week, week_of, week_starting

SIGNAL_DAYS = 14  # a curt reply or an outcome counts when recorded within this many days of asking
FOLLOW_UP_DAYS = 28  # "asked again": another question within this many days after that moment
CONFIDENCE = 0.95
MAX_MONTHS = 24  # the longest report; retention keeps text variants this long (handlers.retention)

# How long after a month's end its return-to-ask figures are settled: its last question's signal may
# come SIGNAL_DAYS later, and the follow-up runs FOLLOW_UP_DAYS after that.
SETTLED_AFTER = timedelta(days=SIGNAL_DAYS + FOLLOW_UP_DAYS)
# How long text variants must be kept for the longest report (31-day months, plus settling).
VARIANTS_KEPT = timedelta(days=31 * MAX_MONTHS) + SETTLED_AFTER


class Group(StrEnum):
    CURT = "curt"  # a reply came across as curt (detected or reported by the asker)
    CONFIRMED = "confirmed"  # the answer only confirmed the asker's own assessment
    NEW_INFO = "new_info"  # the answer brought new information (and no curt reply): the comparison


NONE_SENT = "none"  # no reframing nudge went out for the question
UNKNOWN = "unknown"  # one went out before variants were recorded
AUTONOMY = "autonomy"  # the autonomy encouragement went out instead of the confirmation nudge


class Verdict(StrEnum):
    LOWER = "lower"
    HIGHER = "higher"
    NO_DIFFERENCE = "no_difference"  # the intervals overlap: no difference that the data can show
    TOO_FEW = "too_few"  # one side is not shown: too few people to tell


class Hidden(StrEnum):
    TOO_FEW = "too_few"  # fewer people (or experts) than the minimum group size
    COMPLEMENT = "complement"  # would let a hidden cell next to it be worked out
    NOT_SETTLED = "not_settled"  # the month's follow-up has not ended yet
    NO_DATA = "no_data"  # nobody in this cell at all


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval for a proportion: sensible near 0 and 1 and for small counts, where the
    textbook p ± z·se interval runs past the ends or collapses to a point."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def compare(a: Proportion, b: Proportion) -> Verdict:
    """How ``a`` stands against ``b``: only a difference when their intervals leave no overlap."""
    if not (a.shown and b.shown):
        return Verdict.TOO_FEW
    ia, ib = a.interval, b.interval
    assert ia is not None and ib is not None  # shown cells have trials
    if ia.overlaps(ib):
        return Verdict.NO_DIFFERENCE
    return Verdict.LOWER if ia.high < ib.low else Verdict.HIGHER


# --------------------------------------------------------------------------- calendar windows


@dataclass(frozen=True)
class Month:
    label: str  # "2026-03"
    first: date  # its first day, local
    start: datetime  # the 1st, 00:00 local, as UTC (inclusive)
    end: datetime  # the next month's 1st, 00:00 local, as UTC (exclusive)
    time_zone: str

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end


def month_starting(first: date, time_zone: str) -> Month:
    zone = ZoneInfo(time_zone)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)

    def midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(ZoneInfo("UTC"))

    return Month(f"{first.year:04d}-{first.month:02d}", first, midnight(first), midnight(following), time_zone)


def whole_months(now: datetime, count: int, time_zone: str) -> list[Month]:
    """The ``count`` calendar months (local to ``time_zone``) that ended before ``now``, oldest first.
    The running month is never one of them: its figures would move while you watch."""
    if not 1 <= count <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}")
    local = now.astimezone(ZoneInfo(time_zone)).date()
    index = local.year * 12 + local.month - 1  # the running month
    firsts = [date((i // 12), i % 12 + 1, 1) for i in range(index - count, index)]
    return [month_starting(first, time_zone) for first in firsts]


def weeks_within(months: Sequence[Month]) -> list[Week]:
    """ISO weeks that lie wholly inside the months (a week split over the window's edge is left out)."""
    if not months:
        return []
    start, end, zone = months[0].start, months[-1].end, months[0].time_zone
    week = week_of(start, zone)
    if week.start < start:
        week = week_starting(week.monday + timedelta(weeks=1), zone)
    weeks = []
    while week.end <= end:
        weeks.append(week)
        week = week_starting(week.monday + timedelta(weeks=1), zone)
    return weeks


def reading_span(months: Sequence[Month]) -> tuple[datetime, datetime]:
    """Which questions the report needs: those asked in the months, and after them for the follow-up."""
    return months[0].start, months[-1].end + SETTLED_AFTER


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class Proportion:
    """A share with its counts. ``people``/``experts``: distinct people in the cell (None for totals
    over months, which are sums of shown cells and so say nothing new about who)."""

    trials: int
    hits: int
    people: int | None = None
    experts: int | None = None
    hidden: Hidden | None = None

    @property
    def shown(self) -> bool:
        return self.hidden is None and self.trials > 0

    @property
    def rate(self) -> float | None:
        return self.hits / self.trials if self.shown else None

    @property
    def interval(self) -> Interval | None:
        return wilson(self.hits, self.trials) if self.shown else None


@dataclass(frozen=True)
class Episode:
    """One trial: a person's first question of a group in a month, and whether they asked again."""

    month: str
    group: Group
    asker_id: int
    expert_id: int | None
    variant: str | None  # None for the new-information group, which gets no reframing
    returned: bool


def _floor(min_group_size: int) -> int:
    return max(min_group_size, PRIVACY_FLOOR)


def _cell(episodes: Sequence[Episode], floor: int, *, experts_too: bool) -> Proportion:
    people = len({e.asker_id for e in episodes})
    experts = len({e.expert_id for e in episodes if e.expert_id is not None})
    hidden = None
    if not episodes:
        hidden = Hidden.NO_DATA
    elif people < floor or (experts_too and experts < floor):
        hidden = Hidden.TOO_FEW
    return Proportion(trials=len(episodes), hits=sum(e.returned for e in episodes), people=people,
                      experts=experts, hidden=hidden)


def _safe(episodes: Sequence[Episode], floor: int, experts_too: bool) -> bool:
    """What subtraction from a shown total would reveal is itself a cell big enough to show (or empty)."""
    return not episodes or _cell(episodes, floor, experts_too=experts_too).hidden is None


def _suppress_complements(children: dict[str, list[Episode]], floor: int, experts_too: bool) -> dict[str, Proportion]:
    """Cells that split a shown total: hide more of them until the hidden ones, taken together (which is
    what the total minus the shown ones gives), are a group big enough to show, or empty."""
    cells = {name: _cell(group, floor, experts_too=experts_too) for name, group in children.items()}
    shown = sorted((name for name, cell in cells.items() if cell.shown), key=lambda n: (cells[n].trials, n))
    hidden = [e for name, cell in cells.items() if not cell.shown for e in children[name]]
    while shown and not _safe(hidden, floor, experts_too):
        smallest = shown.pop(0)
        cells[smallest] = Proportion(cells[smallest].trials, cells[smallest].hits, cells[smallest].people,
                                     cells[smallest].experts, Hidden.COMPLEMENT)
        hidden.extend(children[smallest])
    return cells


# --------------------------------------------------------------------------- episodes


def _variant_label(number: int | None) -> str:
    if number is None:
        return NONE_SENT
    return UNKNOWN if number < 0 else str(number + 1)  # people count texts from 1


def _episode_of(q: ImpactQuestion) -> tuple[Group, datetime, str | None] | None:
    """The question's group, the moment it happened, and the reframing text that followed (if any)."""
    limit = q.asked_at + timedelta(days=SIGNAL_DAYS)
    if q.curt_at is not None and q.curt_at <= limit:
        return Group.CURT, q.curt_at, _variant_label(q.curt_variant)
    if q.outcome is None or q.outcome_at is None or q.outcome_at > limit:
        return None
    if q.outcome == Outcome.CONFIRMED:
        variant = AUTONOMY if q.autonomy_sent else _variant_label(q.confirmation_variant)
        return Group.CONFIRMED, q.outcome_at, variant
    if q.outcome == Outcome.NEW_INFO:
        return Group.NEW_INFO, q.outcome_at, None
    return None


def _in(rows: Sequence[ImpactQuestion], start: datetime, end: datetime) -> Sequence[ImpactQuestion]:
    """``rows`` sorted by asked_at: those asked in [start, end), by bisection (no scan per window)."""
    return rows[bisect.bisect_left(rows, start, key=_asked):bisect.bisect_left(rows, end, key=_asked)]


def _asked(q: ImpactQuestion) -> datetime:
    return q.asked_at


def episodes(questions: Iterable[ImpactQuestion], months: Sequence[Month]) -> list[Episode]:
    """One episode per person, group and month the question was asked in; ``questions``: all of the
    team's asked in the months and in SETTLED_AFTER after them (the follow-up)."""
    rows = sorted(questions, key=lambda q: (q.asked_at, q.id))
    asked: dict[int, list[datetime]] = defaultdict(list)
    for q in rows:
        asked[q.asker_id].append(q.asked_at)
    found: dict[tuple[str, Group, int], Episode] = {}
    for month in months:
        for q in _in(rows, month.start, month.end):
            _add_episode(found, q, month, asked)
    return list(found.values())


def _add_episode(found: dict[tuple[str, Group, int], Episode], q: ImpactQuestion, month: Month,
                 asked: dict[int, list[datetime]]) -> None:
    event = _episode_of(q)
    if event is not None:
        group, moment, variant = event
        key = (month.label, group, q.asker_id)
        if key in found:  # their first such question this month counts; later ones add no weight
            return
        times = asked[q.asker_id]
        after = bisect.bisect_right(times, moment)
        returned = after < len(times) and times[after] <= moment + timedelta(days=FOLLOW_UP_DAYS)
        found[key] = Episode(month.label, group, q.asker_id, q.expert_id, variant, returned)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class ReturnCell:
    month: str | None  # None: the total over the report's months
    group: Group
    variant: str | None  # None: the whole group
    cell: Proportion


@dataclass(frozen=True)
class Comparison:
    subject: tuple[Group, str | None]  # (group, variant)
    against: tuple[Group, str | None]
    verdict: Verdict
    subject_cell: Proportion
    against_cell: Proportion


@dataclass(frozen=True)
class Count:
    """A count or ratio with the distinct people it is about; None when hidden."""

    value: float | None
    people: int
    hidden: Hidden | None = None


@dataclass(frozen=True)
class MonthFigures:
    month: str
    complex_questions: Count  # questions about complex or unforeseen situations
    doubt_per_person_topic: Count  # doubt questions per asker and topic that had any
    share_werk: Count  # of the month's questions, tagged werk
    share_in_role: Count  # of the month's questions, on a topic in the expert's role


@dataclass(frozen=True)
class WeekReach:
    week: str
    start: date
    active_askers: Count
    questions_per_asker: Count


@dataclass(frozen=True)
class ImpactReport:
    months: list[Month]
    settled: list[str]  # months whose return-to-ask figures are settled
    returns: list[ReturnCell]  # per month, group and variant, then the totals (month None)
    comparisons: list[Comparison]
    monthly: list[MonthFigures]
    weekly: list[WeekReach]
    min_group_size: int
    variants: dict[Group, list[str]] = field(default_factory=dict)  # the variants seen, per group

    def total(self, group: Group, variant: str | None = None) -> Proportion:
        for row in self.returns:
            if row.month is None and row.group == group and row.variant == variant:
                return row.cell
        return Proportion(0, 0, hidden=Hidden.NO_DATA)


def _variant_order(name: str) -> tuple[int, str]:
    return (0, f"{int(name):04d}") if name.isdigit() else (1, name)


def return_to_ask(found: Sequence[Episode], months: Sequence[Month], settled: set[str],
                  floor: int) -> tuple[list[ReturnCell], dict[Group, list[str]]]:
    by_cell: dict[tuple[str, Group], list[Episode]] = defaultdict(list)
    for e in found:
        by_cell[(e.month, e.group)].append(e)
    variants = {g: sorted({e.variant for e in found if e.group == g and e.variant is not None}, key=_variant_order)
                for g in Group}
    rows: list[ReturnCell] = []
    for month in months:
        for group in Group:
            experts_too = group == Group.CURT  # curt figures are about the experts' replies as well
            members = by_cell[(month.label, group)]
            if month.label not in settled:
                rows.append(ReturnCell(month.label, group, None, Proportion(0, 0, hidden=Hidden.NOT_SETTLED)))
                rows.extend(ReturnCell(month.label, group, v, Proportion(0, 0, hidden=Hidden.NOT_SETTLED))
                            for v in variants[group])
                continue
            whole = _cell(members, floor, experts_too=experts_too)
            rows.append(ReturnCell(month.label, group, None, whole))
            if not variants[group]:
                continue
            children = {v: [e for e in members if e.variant == v] for v in variants[group]}
            if whole.shown:
                split = _suppress_complements(children, floor, experts_too)
            else:  # the whole is hidden, so every part is
                split = {v: Proportion(len(c), sum(e.returned for e in c), hidden=Hidden.TOO_FEW if c else
                                       Hidden.NO_DATA) for v, c in children.items()}
            rows.extend(ReturnCell(month.label, group, v, split[v]) for v in variants[group])
    # Totals: sums of the shown monthly cells, and nothing else.
    for group in Group:
        for variant in [None, *variants[group]]:
            parts = [r.cell for r in rows
                     if r.month is not None and r.group == group and r.variant == variant and r.cell.shown]
            total = Proportion(sum(c.trials for c in parts), sum(c.hits for c in parts),
                               hidden=None if parts else Hidden.TOO_FEW)
            rows.append(ReturnCell(None, group, variant, total))
    return rows, variants


def _comparisons(rows: Sequence[ReturnCell], variants: dict[Group, list[str]]) -> list[Comparison]:
    totals = {(r.group, r.variant): r.cell for r in rows if r.month is None}
    pairs: list[tuple[tuple[Group, str | None], tuple[Group, str | None]]] = [
        ((Group.CURT, None), (Group.NEW_INFO, None)), ((Group.CONFIRMED, None), (Group.NEW_INFO, None))]
    for group in (Group.CURT, Group.CONFIRMED):
        names = variants[group]
        pairs += [((group, a), (group, b)) for i, a in enumerate(names) for b in names[i + 1:]]
    return [Comparison(a, b, compare(totals[a], totals[b]), totals[a], totals[b]) for a, b in pairs]


def _count(value: float | None, people: int, floor: int) -> Count:
    if people == 0:
        return Count(None, 0, Hidden.NO_DATA)
    if people < floor:
        return Count(None, people, Hidden.TOO_FEW)
    return Count(value, people)


def month_figures(questions: Sequence[ImpactQuestion], month: Month, floor: int) -> MonthFigures:
    """``questions``: sorted by asked_at."""
    asked = _in(questions, month.start, month.end)
    askers = {q.asker_id for q in asked}
    experts = {q.expert_id for q in asked if q.expert_id is not None}
    complex_ = [q for q in asked if q.kind == QuestionKind.COMPLEX]
    doubt = [q for q in asked if q.kind == QuestionKind.DOUBT]
    pairs = {(q.asker_id, q.topic or "") for q in doubt}
    # Tags and roles are the experts' verdicts: shown only when enough experts as well as askers are in it.
    both = min(len(askers), len(experts))
    return MonthFigures(
        month=month.label,
        complex_questions=_count(float(len(complex_)), len({q.asker_id for q in complex_}), floor),
        doubt_per_person_topic=_count(len(doubt) / len(pairs) if pairs else None,
                                      len({q.asker_id for q in doubt}), floor),
        share_werk=_count(sum(q.tag == Tag.WERK for q in asked) / len(asked) if asked else None, both, floor),
        share_in_role=_count(sum(q.in_role for q in asked) / len(asked) if asked else None, both, floor),
    )


def week_reach(questions: Sequence[ImpactQuestion], week: Week, floor: int) -> WeekReach:
    """``questions``: sorted by asked_at."""
    asked = _in(questions, week.start, week.end)
    askers = len({q.asker_id for q in asked})
    return WeekReach(week.label, week.monday, _count(float(askers), askers, floor),
                     _count(len(asked) / askers if askers else None, askers, floor))


def impact_report(questions: Iterable[ImpactQuestion], months: Sequence[Month], now: datetime,
                  min_group_size: int) -> ImpactReport:
    """The whole report. ``questions``: the team's, asked within ``reading_span(months)``."""
    rows = sorted(questions, key=lambda q: (q.asked_at, q.id))
    floor = _floor(min_group_size)
    settled = {m.label for m in months if m.end + SETTLED_AFTER <= now}
    returns, variants = return_to_ask(episodes(rows, months), months, settled, floor)
    return ImpactReport(
        months=list(months),
        settled=[m.label for m in months if m.label in settled],
        returns=returns,
        comparisons=_comparisons(returns, variants),
        monthly=[month_figures(rows, m, floor) for m in months],
        weekly=[week_reach(rows, w, floor) for w in weeks_within(months)],
        min_group_size=floor,
        variants=variants,
    )
