"""`vraagbot retention [--dry-run]`: remove question and reply texts older than the retention now, or
show what that would remove. The same use case the daily job runs."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click

from bot.fatal import Fatal, database_errors, existing_sqlite_file
from bot.settings import Settings
from handlers.impact import VARIANTS_KEPT
from handlers.ports import TextBacklog
from handlers.retention import EVENT_IDS_KEPT, RetentionReport, TextKind, apply_retention, preview_retention
from storage.engine import create_engine
from storage.migrate import current_revision, head_revision
from storage.uow import make_uow_factory

LABELS = {
    TextKind.QUESTIONS: "question texts",
    TextKind.REPLIES: "reply texts",
    TextKind.MESSAGES: "sent messages",
}


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "-"


def _line(kind: TextKind, count: int, backlog: TextBacklog) -> str:
    span = f"  (oldest {_day(backlog.oldest)}, newest {_day(backlog.newest)})" if count else ""
    return f"  {LABELS[kind]:<15} {count:>7}{span}"


def render(report: RetentionReport, *, dry_run: bool) -> list[str]:
    lines = [f"Text retention {report.days} days: texts from before {report.cutoff:%Y-%m-%d %H:%M} UTC."]
    if dry_run:
        lines.append("Dry run, nothing changed. Would remove the text of:")
        lines += [_line(kind, report.found[kind].count, report.found[kind]) for kind in TextKind]
    else:
        lines.append("Removed the text of:")
        lines += [_line(kind, report.redacted[kind], report.found[kind]) for kind in TextKind]
    if report.unsent_kept:
        lines.append(f"Kept: {report.unsent_kept} unsent messages older than that; their text goes once they are sent.")
    if not dry_run:  # the ids that only recognise a platform's resends: the run prunes them too
        lines.append(f"Forgot {report.events_pruned} platform event ids older than {EVENT_IDS_KEPT.days} days.")
        if report.variants_cleared:  # only after two years: which reframing text a message was (docs/impact.md)
            lines.append(f"Cleared the text variant of {report.variants_cleared} messages older than "
                         f"{VARIANTS_KEPT.days} days.")
    lines.append("Tags, signals, outcomes, timings and counts stay.")
    return lines


def _check_migrated(url: str) -> None:
    existing_sqlite_file(url)  # rather than let SQLite create an empty one
    current = current_revision(url)
    if current != head_revision():
        raise Fatal(f"the database is at migration {current or 'none'}, not {head_revision()}; "
                    "run vraagbot migrate first")


def _run(settings: Settings, dry_run: bool) -> RetentionReport:
    from bot.runtime import SystemClock

    async def main() -> RetentionReport:
        engine = create_engine(settings.database_url)
        try:
            uow = make_uow_factory(engine)
            if dry_run:
                return await preview_retention(uow, SystemClock(), settings.text_retention_days)
            return await apply_retention(uow, SystemClock(), settings.text_retention_days)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@click.command(help="Remove question and reply texts older than VRAAGBOT_TEXT_RETENTION_DAYS (the daily job does "
                    "this too). Tags, signals and counts stay.")
@click.option("--dry-run", is_flag=True, help="only show what would be removed, per kind; change nothing")
def retention_command(dry_run: bool) -> None:
    from bot.cli import _settings

    settings = _settings()
    with database_errors(settings.database_url):
        _check_migrated(settings.database_url)
        report = _run(settings, dry_run)
    for line in render(report, dry_run=dry_run):
        click.echo(line)
