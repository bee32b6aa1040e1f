"""Wires the shell adapter to the real runtime (same handlers, same database)."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

import click

from bot.runtime import build_runtime, migrate
from bot.settings import Settings
from bot.shell import SHELL_HELP, Shell, ShellClock, ShellMessenger, ShellPlatform, ShellPresence
from nudges.planner import WeeklyPlanner


async def run_shell(settings: Settings, stream: TextIO, *, interactive: bool, reset: bool = False) -> None:
    await migrate(settings)
    clock = ShellClock()
    presence = ShellPresence(clock)
    messenger = ShellMessenger(click.echo)
    # One send at a time: the conversation is printed in the order things happened.
    settings = settings.model_copy(update={"outbox_concurrency": 1})
    runtime = build_runtime(settings, platforms=[ShellPlatform(messenger, presence)], clock=clock)
    planner = WeeklyPlanner(runtime.uow, clock, runtime.catalog, runtime.deps.policy,
                            grace=timedelta(hours=settings.nudge_grace_hours))
    shell = Shell(runtime.deps, runtime.dispatcher, messenger, clock, presence, click.echo, planner)
    try:
        await shell.seed(reset=reset)
        if interactive:
            click.echo("vraagbot shell: demo-werkruimte. " + SHELL_HELP)
        await shell.run(stream, echo=not interactive,
                        prompt=(lambda: click.echo("> ", nl=False)) if interactive else None)
    finally:
        await runtime.close()
