"""`vraagbot nudges preview` and `vraagbot report`: the weekly message before it goes out, and the
team's trend as a chart (PNG) with the same figures as CSV. Aggregates only, like the channel sees,
over the same fixed weeks of the team (handlers.weeks)."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import click

from bot.fatal import database_errors, existing_sqlite_file
from bot.settings import Settings
from handlers.context import Policy
from handlers.impact import MAX_MONTHS
from handlers.insights import PRIVACY_FLOOR
from handlers.models import LOCALES
from handlers.ports import UnitOfWork, UnitOfWorkFactory, WorkspaceRecord
from handlers.weeks import team_time_zone
from nudges.charts import chart_week, make_chart, render_png
from nudges.planner import preview
from nudges.texts.catalog import load_catalog
from nudges.weekly import HistoryWeek, team_title, weekly_history
from storage.engine import create_engine
from storage.uow import make_uow_factory

T = TypeVar("T")
PLATFORMS = ("slack", "teams", "shell")


def _policy(settings: Settings) -> Policy:
    return Policy(default_locale=settings.default_language, default_time_zone=settings.default_time_zone,
                  min_group_size=settings.min_group_size)


def _run(settings: Settings, work: Callable[[UnitOfWorkFactory], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(make_uow_factory(engine))
        finally:
            await engine.dispose()

    existing_sqlite_file(settings.database_url)  # reading only: SQLite must not create an empty one
    with database_errors(settings.database_url):
        return asyncio.run(main())


@click.group(help="Weekly team messages.")
def nudges_command() -> None:
    pass


@nudges_command.command("preview", help="Print what the next weekly message for a channel will say.")
@click.option("--channel", required=True, help="platform and channel id, e.g. slack:C0123ABCD")
def preview_command(channel: str) -> None:
    from bot.cli import _settings
    from bot.runtime import SystemClock

    settings = _settings()
    found = _run(settings, lambda uow: preview(uow, SystemClock(), load_catalog(), _policy(settings), channel))
    if found is None:
        click.echo(f"{channel} has no weekly message; set one in that channel with "
                   "/vraag team-nudge maandag 09:00 Europe/Amsterdam nl", err=True)
        sys.exit(1)
    local = found.send_at.astimezone(ZoneInfo(found.time_zone))
    state = "" if found.enabled else " (switched off: /vraag team-nudge aan to switch it on)"
    click.echo(f"Next weekly message for {channel}: {local:%A %Y-%m-%d %H:%M} {found.time_zone}, "
               f"language {found.language}{state}")
    click.echo("-" * 72)
    click.echo(found.text)


async def find_workspace(uow: UnitOfWork, team: str) -> WorkspaceRecord | None:
    """Our numeric id, ``platform:external id`` (slack:T0123) or a bare external id."""
    if team.isdigit():
        return await uow.workspaces.get(int(team))
    platform, _, external = team.partition(":")
    if external and platform in PLATFORMS:
        return await uow.workspaces.by_external_id(platform, external)
    for platform in PLATFORMS:
        if (found := await uow.workspaces.by_external_id(platform, team)) is not None:
            return found
    return None


NO_TEAM = ("vraagbot: no workspace {team!r}; use our id, or slack:<team id> / teams:<tenant id>, or for one "
           "workspace of an org-wide Enterprise Grid install slack:<enterprise id>/<team id>")


@dataclass(frozen=True)
class FoundTeam:
    """A team to report on: a workspace, or with ``org_workspace`` one workspace of a Grid org (org-wide install)."""

    workspace: WorkspaceRecord
    org_workspace: str = ""

    @property
    def name(self) -> str:
        return team_title(self.workspace.name, self.org_workspace)


async def find_team(uow: UnitOfWork, team: str) -> FoundTeam | None:
    """``find_workspace``'s forms, and ``slack:E0123/T0456`` (or ``E0123/T0456``) for one workspace of an org."""
    whole, _, part = team.partition("/")
    workspace = await find_workspace(uow, whole)
    return FoundTeam(workspace, part) if workspace is not None else None


@dataclass(frozen=True)
class TeamReport:
    """What `vraagbot report` found about one team: enough for the chart, the CSV and the summary line."""

    name: str
    locale: str  # the team's language: its weekly message's, else the default
    history: list[HistoryWeek]


async def team_language(uow: UnitOfWork, workspace_id: int) -> str | None:
    """The language the team reads its weekly message in: that of its oldest channel setting that is
    on (the same one `vraagbot nudges preview` picks), or of any setting; None without one."""
    settings = [s for s in await uow.team_schedules.enabled() if s.workspace_id == workspace_id]
    return settings[0].language if settings else None


async def gather_report(uow_factory: UnitOfWorkFactory, settings: Settings, team: str, weeks: int,
                        language: str | None, now: datetime) -> TeamReport | None:
    async with uow_factory() as uow:
        found = await find_team(uow, team)
        if found is None:
            return None
        locale = language or await team_language(uow, found.workspace.id) or settings.default_language
        history = await weekly_history(uow, found.workspace.id, weeks, now, team_time_zone(_policy(settings)),
                                       org_workspace=found.org_workspace)
        return TeamReport(found.name, locale, history)


@click.command(help="Write the team's weekly trend (questions, share werk, share confirmation) over its last "
                    "whole weeks as a PNG chart, in the team's language, and the same figures as CSV next to it.")
@click.option("--team", required=True, help="workspace: our id, slack:T0123ABCD, or the platform's id; one workspace "
                                            "of an org-wide Grid install: slack:E0123ABCD/T0123ABCD")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 260), help="how many weeks")
@click.option("--out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="PNG file to write (default report.png, with --impact impact.png); the CSV gets the same name "
                   "with .csv")
@click.option("--language", type=click.Choice(LOCALES), default=None,
              help="language of the chart; default: that of the team's weekly message, else VRAAGBOT_DEFAULT_LANGUAGE")
@click.option("--impact", is_flag=True,
              help="is it working? the impact report (docs/impact.md) over whole calendar months instead")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, MAX_MONTHS),
              help="with --impact: how many whole calendar months")
def report_command(team: str, weeks: int, out: Path | None, language: str | None, impact: bool, months: int) -> None:
    from bot.cli import _settings
    from bot.runtime import SystemClock

    if impact:
        from bot.impact_cli import run

        run(team, months, out or Path("impact.png"), language)
        return
    out = out or Path("report.png")
    settings = _settings()
    now = SystemClock().now()
    report = _run(settings, lambda uow: gather_report(uow, settings, team, weeks, language, now))
    if report is None:
        click.echo(NO_TEAM.format(team=team), err=True)
        sys.exit(1)
    csv_path = out.with_suffix(".csv")
    write_csv(csv_path, report.history, settings.min_group_size)
    write_chart(out, report, settings.min_group_size)
    minimum = max(settings.min_group_size, PRIVACY_FLOOR)
    click.echo(f"wrote {out} and {csv_path} ({weeks} whole weeks up to {report.history[-1].week}, in "
               f"{report.locale}; weeks with questions among fewer than {minimum} people are marked hidden)")


def _shown(week: HistoryWeek, min_group_size: int) -> bool:
    return week.figures.asked == 0 or week.figures.shown(min_group_size)


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def write_csv(path: Path, history: list[HistoryWeek], min_group_size: int) -> None:
    """Column names stay English and fixed whatever the team's language: scripts read this file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["week", "week_start", "questions", "share_werk_pct", "share_confirmed_pct", "shown"])
        for week in history:
            f = week.figures
            if _shown(week, min_group_size):
                writer.writerow([week.week, week.start.isoformat(), f.asked, _pct(f.share_werk),
                                 _pct(f.share_confirmed), "yes"])
            else:  # too few people: the figures could point at someone
                writer.writerow([week.week, week.start.isoformat(), "", "", "", "no"])


def write_chart(path: Path, report: TeamReport, min_group_size: int) -> None:
    """The same chart the monthly post sends (nudges.charts), over the report's weeks."""
    weeks = [chart_week(h.week, h.start, h.figures, min_group_size) for h in report.history]
    chart = make_chart(load_catalog(), report.locale, weeks, team=report.name, min_group_size=min_group_size)
    path.write_bytes(render_png(chart))
