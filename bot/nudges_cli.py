"""`vraagbot nudges preview` and `vraagbot report`: the weekly message before it goes out, and the
team's trend as a chart (PNG) with the same figures as CSV. Aggregates only, like the channel sees,
over the same fixed weeks of the team (handlers.weeks)."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import click

from bot.fatal import database_errors, existing_sqlite_file
from bot.settings import Settings
from handlers.context import Policy
from handlers.ports import UnitOfWork, UnitOfWorkFactory, WorkspaceRecord
from handlers.weeks import team_time_zone
from nudges.planner import preview
from nudges.texts.catalog import load_catalog
from nudges.weekly import HistoryWeek, weekly_history
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


async def _workspace(uow: UnitOfWork, team: str) -> WorkspaceRecord | None:
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


@click.command(help="Write the team's weekly trend (questions, share werk, share confirmation) over its last "
                    "whole weeks as a PNG chart and the same figures as CSV next to it.")
@click.option("--team", required=True, help="workspace: our id, slack:T0123ABCD, or the platform's id")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 260), help="how many weeks")
@click.option("--out", default="report.png", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
              help="PNG file to write; the CSV gets the same name with .csv")
def report_command(team: str, weeks: int, out: Path) -> None:
    from bot.cli import _settings
    from bot.runtime import SystemClock

    settings = _settings()

    async def gather(uow_factory: UnitOfWorkFactory) -> tuple[str, list[HistoryWeek]] | None:
        async with uow_factory() as uow:
            workspace = await _workspace(uow, team)
            if workspace is None:
                return None
            history = await weekly_history(uow, workspace.id, weeks, SystemClock().now(),
                                           team_time_zone(_policy(settings)))
            return workspace.name, history

    found = _run(settings, gather)
    if found is None:
        click.echo(f"vraagbot: no workspace {team!r}; use our id, or slack:<team id> / teams:<tenant id>", err=True)
        sys.exit(1)
    name, history = found
    csv_path = out.with_suffix(".csv")
    write_csv(csv_path, history, settings.min_group_size)
    write_chart(out, name, history, settings.min_group_size)
    click.echo(f"wrote {out} and {csv_path} ({weeks} whole weeks up to {history[-1].week}; weeks with fewer "
               f"than {settings.min_group_size} people involved are left empty)")


def _shown(week: HistoryWeek, min_group_size: int) -> bool:
    return week.figures.asked == 0 or week.figures.shown(min_group_size)


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def write_csv(path: Path, history: list[HistoryWeek], min_group_size: int) -> None:
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


def write_chart(path: Path, team: str, history: list[HistoryWeek], min_group_size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    nan = float("nan")
    labels = [w.week.split("-")[1] for w in history]
    shown = [_shown(w, min_group_size) for w in history]
    asked = [w.figures.asked if ok else 0 for w, ok in zip(history, shown, strict=True)]

    def share(value: float | None, ok: bool) -> float:
        return value * 100 if ok and value is not None else nan

    werk = [share(w.figures.share_werk, ok) for w, ok in zip(history, shown, strict=True)]
    confirmed = [share(w.figures.share_confirmed, ok) for w, ok in zip(history, shown, strict=True)]

    figure, left = plt.subplots(figsize=(10, 5), dpi=100)
    try:
        left.bar(labels, asked, color="#9ecae1", label="questions asked")
        left.set_ylabel("questions per week")
        right = left.twinx()
        right.plot(labels, werk, marker="o", color="#31a354", label="share werk (%)")
        right.plot(labels, confirmed, marker="s", color="#e6550d", label="share confirmation (%)")
        right.set_ylim(0, 105)
        right.set_ylabel("% of questions")
        handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        left.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize="small")
        left.set_title(f"vraagbot: {team}, last {len(history)} weeks (weeks with fewer than {min_group_size} "
                       "people are left empty)", fontsize="medium")
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
