"""Wires the shell adapter to the real runtime (same handlers, same database)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy.engine import make_url

from bot.runtime import build_runtime
from bot.settings import Settings
from bot.shell import CLOCK_STEP, Shell, ShellClock, ShellMessenger, ShellPlatform, ShellPresence, ShellWords
from nudges.monthly import MonthlyPlanner
from nudges.planner import WeeklyPlanner
from nudges.texts.catalog import load_catalog

LOG_FILE = "vraagbot-shell.log"


async def run_shell(settings: Settings, stream: TextIO, *, interactive: bool, reset: bool = False) -> None:
    """On a migrated database: `vraagbot shell` migrates first, where a failure is one line."""
    log_file = _log_to_file(settings.database_url)
    clock = ShellClock()
    presence = ShellPresence(clock)
    # The shell's own lines in the configured language; what the bot sends stays in each person's.
    words = ShellWords(load_catalog(), settings.default_language)
    messenger = ShellMessenger(click.echo, words)
    # One send at a time: the conversation is printed in the order things happened.
    settings = settings.model_copy(update={"outbox_concurrency": 1})
    runtime = build_runtime(settings, platforms=[ShellPlatform(messenger, presence)], clock=clock)
    # The shell looks at what is due once per CLOCK_STEP of its clock: a shorter grace window would
    # skip what fell due between two looks, which a running bot would have sent.
    grace = max(timedelta(hours=settings.nudge_grace_hours), CLOCK_STEP)
    planner = WeeklyPlanner(runtime.uow, clock, runtime.catalog, runtime.deps.policy, grace=grace)
    monthly = MonthlyPlanner(runtime.uow, clock, runtime.catalog, runtime.deps.policy, grace=grace)
    shell = Shell(runtime.deps, runtime.dispatcher, messenger, clock, presence, click.echo, planner, monthly)
    try:
        await shell.seed(reset=reset)
        if interactive:
            click.echo(f"{words('welcome')} {words('help')}")
            if log_file:
                click.echo(words("log_file", path=log_file))
        await shell.run(stream, echo=not interactive,
                        prompt=(lambda: click.echo("> ", nl=False)) if interactive else None)
    finally:
        await runtime.close()


def _log_to_file(database_url: str) -> Path | None:
    """Log lines would land between the lines of the conversation (both go to the terminal), so the
    shell writes them to LOG_FILE next to its SQLite database (in the working directory for any other
    database), in the format and level the settings chose. Where that directory is missing they stay
    on stderr: opening the database will fail there and say so."""
    url = make_url(database_url)
    database = url.database if url.get_backend_name() == "sqlite" else None
    folder = Path(database).parent if database and database != ":memory:" else Path.cwd()
    if not folder.is_dir():
        return None
    path = (folder / LOG_FILE).absolute()
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    if root.handlers:
        handler.setFormatter(root.handlers[0].formatter)  # bot.logging_setup's: JSON or text, secrets masked
    root.handlers[:] = [handler]
    return path
