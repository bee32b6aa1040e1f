"""`vraagbot report --impact`: is it working? One team's impact figures (handlers.impact, docs/impact.md)
over its last whole calendar months, as a PNG chart, the same figures as CSV next to it, and the
comparisons as sentences on the terminal, all in the team's language. Aggregates only: every cell has at
least the minimum group size of distinct people, and there is no figure about any one person.

``write_impact_report`` does the work (tests call it directly); ``run`` is the command's body.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from bot.fatal import database_errors, existing_sqlite_file
from bot.nudges_cli import NO_TEAM, find_team
from bot.settings import Settings
from handlers.context import Policy
from handlers.impact import (
    AUTONOMY,
    NONE_SENT,
    UNKNOWN,
    Comparison,
    Count,
    Group,
    Hidden,
    ImpactReport,
    Proportion,
    impact_report,
    reading_span,
    whole_months,
)
from handlers.ports import UnitOfWork
from handlers.weeks import team_time_zone
from nudges.texts.catalog import TextCatalog, load_catalog
from storage.engine import create_engine
from storage.uow import make_uow_factory


@dataclass(frozen=True)
class Gathered:
    team: str  # the workspace's name
    language: str
    report: ImpactReport


async def gather(uow: UnitOfWork, team: str, months: int, now: datetime, policy: Policy,
                 language: str | None = None) -> Gathered | None:
    """The team's report, read in one unit of work; None when there is no such team. The language: the
    one asked for, else that of the team's weekly messages, else the default."""
    found = await find_team(uow, team)
    if found is None:
        return None
    window = whole_months(now, months, team_time_zone(policy))
    questions = await uow.impact.questions_asked(found.workspace.id, *reading_span(window),
                                                 org_workspace=found.org_workspace)
    chosen = language or next(iter(await uow.impact.languages(found.workspace.id)), policy.default_locale)
    return Gathered(found.name, chosen, impact_report(questions, window, now, policy.min_group_size))


# --------------------------------------------------------------------------- words


class Words:
    """The report's words in one language."""

    def __init__(self, catalog: TextCatalog, language: str) -> None:
        self.catalog, self.language = catalog, language

    def __call__(self, key: str, **params: object) -> str:
        return self.catalog.text(self.language, f"impact.{key}", **params)

    def group(self, group: Group) -> str:
        return self(f"group.{group}")

    def variant(self, variant: str | None) -> str:
        if variant is None:
            return ""
        if variant in (NONE_SENT, UNKNOWN, AUTONOMY):
            return self(f"variant.{variant}")
        return self("variant.text", number=variant)

    def hidden(self, hidden: Hidden | None) -> str:
        return "" if hidden is None else self(f"hidden.{hidden}")

    def period(self, report: ImpactReport, month: str | None) -> str:
        if month is not None:
            return month
        shown = report.settled or [m.label for m in report.months]
        return self("period.total", first=shown[0], last=shown[-1])

    def share(self, cell: Proportion) -> str:
        if not cell.shown:
            return self.hidden(cell.hidden or Hidden.TOO_FEW)
        interval = cell.interval
        assert interval is not None and cell.rate is not None
        return self("summary.share", share=_pct(cell.rate), low=_pct(interval.low), high=_pct(interval.high),
                    trials=cell.trials)

    def subject(self, side: tuple[Group, str | None]) -> str:
        group, variant = side
        return self.group(group) + (f" ({self.variant(variant)})" if variant else "")


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


# --------------------------------------------------------------------------- CSV


def write_csv(path: Path, report: ImpactReport, words: Words) -> None:
    """One row per figure: what it is, over which period, for which group and text, how many people and
    times it rests on, the value and its interval, or why it is left out."""
    columns = ("section", "period", "group", "variant", "people", "trials", "hits", "value", "low", "high", "note")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([words(f"col.{c}") for c in columns])
        for row in report.returns:
            cell, interval = row.cell, row.cell.interval
            writer.writerow([
                words("section.return"), words.period(report, row.month), words.group(row.group),
                words.variant(row.variant),
                cell.people if cell.shown and cell.people is not None else "",
                cell.trials if cell.shown else "", cell.hits if cell.shown else "", _pct(cell.rate),
                _pct(interval.low) if interval else "", _pct(interval.high) if interval else "",
                "" if cell.shown else words.hidden(cell.hidden or Hidden.TOO_FEW),
            ])
        for comparison in report.comparisons:
            writer.writerow([words("section.comparison"), words.period(report, None),
                             words.subject(comparison.subject), words.subject(comparison.against),
                             "", "", "", words(f"verdict.{comparison.verdict}"), "", "", ""])
        for month in report.monthly:
            for key, count, percent in (("complex", month.complex_questions, False),
                                        ("doubt", month.doubt_per_person_topic, False),
                                        ("werk", month.share_werk, True), ("in_role", month.share_in_role, True)):
                writer.writerow(_count_row(words, key, month.month, count, percent))
        for week in report.weekly:
            writer.writerow(_count_row(words, "askers", week.week, week.active_askers, False))
            writer.writerow(_count_row(words, "per_asker", week.week, week.questions_per_asker, False))


def _count_row(words: Words, section: str, period: str, count: Count, percent: bool) -> list[str | int]:
    shown = count.hidden is None
    value = (_pct(count.value) if percent else _number(count.value)) if shown else ""
    return [words(f"section.{section}"), period, "", "", count.people if shown else "", "", "", value, "", "",
            words.hidden(count.hidden)]


# --------------------------------------------------------------------------- chart


def write_chart(path: Path, team: str, report: ImpactReport, words: Words) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    nan = float("nan")
    labels = [m.label for m in report.months]
    x = list(range(len(labels)))  # positions, labelled below ("2026-03" as a category makes matplotlib guess dates)
    colours = {Group.CURT: "#e6550d", Group.CONFIRMED: "#756bb1", Group.NEW_INFO: "#31a354"}
    figure, axes = plt.subplots(3, 2, figsize=(13, 12), dpi=90)
    try:
        monthly, total = axes[0]
        for group in Group:
            cells = {r.month: r.cell for r in report.returns if r.group == group and r.variant is None and r.month}
            monthly.plot(x, [c.rate * 100 if (c := cells.get(m)) and c.rate is not None else nan for m in labels],
                         marker="o", color=colours[group], label=words.group(group))
        _months_axis(monthly, labels, words("chart.return_monthly"), words("chart.percent"))
        monthly.legend(fontsize="small", loc="lower left")

        bars = [(g, v) for g in Group for v in [None, *report.variants[g]]]
        cells = [report.total(g, v) for g, v in bars]
        rates = [c.rate * 100 if c.rate is not None else 0.0 for c in cells]
        low = [(c.rate - c.interval.low) * 100 if c.interval and c.rate is not None else 0.0 for c in cells]
        high = [(c.interval.high - c.rate) * 100 if c.interval and c.rate is not None else 0.0 for c in cells]
        names = [words.variant(v) if v else words.group(g) for g, v in bars]
        positions = range(len(bars))
        total.bar(positions, rates, yerr=[low, high], capsize=3,
                  color=[colours[g] if v is None else colours[g] + "99" for g, v in bars])
        for position, cell in zip(positions, cells, strict=True):
            if not cell.shown:
                total.text(position, 2, words.hidden(cell.hidden or Hidden.TOO_FEW), rotation=90, fontsize="x-small",
                           ha="center", va="bottom")
        total.set_xticks(list(positions), names, rotation=35, ha="right", fontsize="x-small")
        total.set_ylim(0, 105)
        total.set_title(words("chart.return_total"), fontsize="medium")
        total.set_ylabel(words("chart.percent"))

        reach, per = axes[1]
        weeks = list(range(len(report.weekly)))
        reach.bar(weeks, [w.active_askers.value or 0 for w in report.weekly], color="#9ecae1",
                  label=words("section.askers"))
        per_axis = reach.twinx()
        per_axis.plot(weeks, [w.questions_per_asker.value if w.questions_per_asker.value is not None else nan
                              for w in report.weekly], color="#08519c", marker=".", label=words("section.per_asker"))
        reach.set_title(words("chart.reach"), fontsize="medium")
        reach.set_xticks(weeks[::4], [w.week for w in report.weekly][::4], fontsize="xx-small", rotation=45)
        handles = reach.get_legend_handles_labels()[0] + per_axis.get_legend_handles_labels()[0]
        reach.legend(handles, [h.get_label() for h in handles], fontsize="x-small", loc="upper left")

        def series(attribute: str, scale: float = 1.0) -> list[float]:
            return [getattr(m, attribute).value * scale if getattr(m, attribute).value is not None else nan
                    for m in report.monthly]

        per.plot(x, series("share_werk", 100), marker="o", color="#31a354", label=words("section.werk"))
        per.plot(x, series("share_in_role", 100), marker="s", color="#3182bd", label=words("section.in_role"))
        per.set_ylim(0, 105)
        _months_axis(per, labels, words("chart.work"), words("chart.share"))
        per.legend(fontsize="x-small", loc="lower left")

        kinds, empty = axes[2]
        kinds.bar(x, series("complex_questions"), color="#fdae6b", label=words("section.complex"))
        doubt_axis = kinds.twinx()
        doubt_axis.plot(x, series("doubt_per_person_topic"), color="#a63603", marker="o",
                        label=words("section.doubt"))
        _months_axis(kinds, labels, words("chart.kinds"), words("chart.count"))
        handles = kinds.get_legend_handles_labels()[0] + doubt_axis.get_legend_handles_labels()[0]
        kinds.legend(handles, [h.get_label() for h in handles], fontsize="x-small", loc="lower left")
        empty.axis("off")
        empty.text(0, 0.5, "\n".join(_wrapped(summary_lines(report, words)[1:], 70)), fontsize="x-small",
                   va="center", wrap=True)

        figure.suptitle(words("chart.title", team=team, first=labels[0], last=labels[-1]), fontsize="large")
        figure.text(0.01, 0.005, words("chart.footnote", min=report.min_group_size), fontsize="x-small")
        figure.tight_layout(rect=(0, 0.02, 1, 0.97))
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)


def _months_axis(axis, labels: Sequence[str], title: str, unit: str) -> None:  # axis: a matplotlib Axes
    axis.set_title(title, fontsize="medium")
    axis.set_ylabel(unit)
    axis.set_xticks(range(len(labels)), labels, fontsize="x-small", rotation=45)


def _wrapped(lines: Sequence[str], width: int) -> list[str]:
    import textwrap

    return [part for line in lines for part in (textwrap.wrap(line, width) or [""])]


# --------------------------------------------------------------------------- sentences


def summary_lines(report: ImpactReport, words: Words, team: str = "") -> list[str]:
    labels = [m.label for m in report.months]
    lines = [words("summary.title", team=team, first=labels[0], last=labels[-1], min=report.min_group_size)]
    lines += [_sentence(c, words) for c in report.comparisons]
    return lines


def _sentence(comparison: Comparison, words: Words) -> str:
    return words("summary.comparison", subject=words.subject(comparison.subject),
                 subject_value=words.share(comparison.subject_cell), against=words.subject(comparison.against),
                 against_value=words.share(comparison.against_cell), verdict=words(f"verdict.{comparison.verdict}"))


# --------------------------------------------------------------------------- the command


def _policy(settings: Settings) -> Policy:
    return Policy(default_locale=settings.default_language, default_time_zone=settings.default_time_zone,
                  min_group_size=settings.min_group_size)


def write_impact_report(settings: Settings, team: str, months: int, out: Path, *, now: datetime,
                        language: str | None = None) -> Gathered | None:
    """Read, compute and write the chart (``out``) and CSV (``out`` with .csv); None: no such team."""

    async def main() -> Gathered | None:
        engine = create_engine(settings.database_url)
        try:
            async with make_uow_factory(engine)() as uow:
                return await gather(uow, team, months, now, _policy(settings), language)
        finally:
            await engine.dispose()

    existing_sqlite_file(settings.database_url)  # reading only: SQLite must not create an empty one
    with database_errors(settings.database_url):
        found = asyncio.run(main())
    if found is None:
        return None
    words = Words(load_catalog(), found.language)
    write_csv(out.with_suffix(".csv"), found.report, words)
    write_chart(out, found.team, found.report, words)
    return found


def run(team: str, months: int, out: Path, language: str | None) -> None:
    """The body of `vraagbot report --impact`."""
    from bot.cli import _settings
    from bot.runtime import SystemClock

    settings = _settings()
    found = write_impact_report(settings, team, months, out, now=SystemClock().now(), language=language)
    if found is None:
        click.echo(NO_TEAM.format(team=team), err=True)
        sys.exit(1)
    words = Words(load_catalog(), found.language)
    for line in summary_lines(found.report, words, found.team):
        click.echo(line)
    click.echo(words("summary.wrote", chart=out, table=out.with_suffix(".csv")))
