"""The `vraagbot` command. Click: well kept, composable groups, good help output for free."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import click
from aiohttp import web

from bot.fatal import bind_problem, database_errors, port_problem
from bot.logging_setup import configure_logging
from bot.settings import Settings, SettingsError, load_settings, unknown_settings

log = logging.getLogger("vraagbot")


def _settings(*, warn_unknown: bool = True) -> Settings:
    """``warn_unknown``: say which VRAAGBOT_ variables no setting reads (not again in each serve worker)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        click.echo(f"vraagbot: wrong setting: {error}", err=True)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    if warn_unknown:
        for warning in unknown_settings(os.environ):
            logging.getLogger("bot.settings").warning(warning)
    return settings


@click.group(help="vraagbot: makes asking an expert feel like what it is, normal work.")
def main() -> None:
    pass


@main.command(help="Apply database migrations up to the newest version.")
def migrate() -> None:
    from bot.runtime import migrate as run_migrations

    settings = _settings()
    with database_errors(settings.database_url):
        asyncio.run(run_migrations(settings))
    click.echo("database is up to date")


@main.command(help="Run the web app (Slack /slack/events, Teams /api/messages, /healthz).")
@click.option("--host", default="0.0.0.0", show_default=True, help="interface to listen on")
@click.option("--port", default=3978, show_default=True, type=click.IntRange(1, 65535), help="TCP port")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="processes serving the one port, each a full replica (PostgreSQL only when more than 1)")
@click.option("--worker-index", type=int, default=None, hidden=True)  # set by the supervisor: bot/processes.py
@click.option("--supervisor-pid", type=int, default=None, hidden=True)
def serve(host: str, port: int, workers: int, worker_index: int | None, supervisor_pid: int | None) -> None:
    settings = _settings(warn_unknown=worker_index is None)
    from bot.teams.service_urls import is_loopback_host

    if settings.teams_local_testing and not is_loopback_host(host):
        click.echo(f"vraagbot: VRAAGBOT_TEAMS_LOCAL_TESTING=true serves /api/messages without authentication, so it "
                   f"only runs on a loopback host (--host 127.0.0.1, ::1 or localhost), not {host!r}", err=True)
        sys.exit(2)
    if workers > 1 and worker_index is None:
        sys.exit(_supervise_workers(settings, host, port, workers))
    if worker_index is None:  # before anything starts: no migrations, scheduler or "listening" for a taken port
        _check_port(host, port)

    database = settings.database_url.split("@")[-1]

    async def build() -> web.Application:
        from bot.app import create_app
        from bot.runtime import build_runtime
        from bot.runtime import migrate as run_migrations

        if worker_index is None:  # a worker's supervisor has migrated already, once for all of them
            with database_errors(settings.database_url):
                await run_migrations(settings)
        return create_app(build_runtime(settings))

    from bot.app import request_shutdown_seconds

    # SIGTERM/SIGINT: stop listening, give open requests a moment, then the app's cleanup finishes
    # running work within the rest of VRAAGBOT_SHUTDOWN_SECONDS.
    shutdown_timeout = request_shutdown_seconds(settings.shutdown_seconds)
    if worker_index is not None:
        from bot.processes import serve_worker

        serve_worker(build, host, port, index=worker_index, count=workers,
                     supervisor_pid=supervisor_pid or os.getppid(), shutdown_timeout=shutdown_timeout,
                     database=database)
        return
    try:
        # aiohttp "prints" once the port is bound: only then are we listening.
        web.run_app(build(), host=host, port=port, access_log=None, shutdown_timeout=shutdown_timeout,
                    print=lambda _: log.info("vraagbot listening on http://%s:%s (database: %s)", host, port, database))
    except OSError as error:  # the port was taken after the check; the app has been cleaned up by then
        if (fatal := bind_problem(error)) is None:
            raise
        raise fatal from None


def _check_port(host: str, port: int) -> None:
    """(A taken metrics port only turns the metrics off: bot/metrics.py.)"""
    from bot.processes import port_taken

    if problem := port_taken(host, port):
        raise port_problem(host, port, problem)


def _supervise_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    """--workers N > 1: checks, the migrations once, then N worker processes (bot/processes.py)."""
    from bot.processes import supervise
    from bot.runtime import migrate as run_migrations

    if settings.database_url.startswith("sqlite"):
        click.echo("vraagbot: --workers > 1 needs PostgreSQL (VRAAGBOT_DATABASE_URL=postgresql://...): SQLite "
                   "allows one writer at a time, so run one process (--workers 1)", err=True)
        return 2
    if settings.metrics_port is not None and settings.metrics_port + workers - 1 > 65535:
        click.echo(f"vraagbot: --workers {workers} needs VRAAGBOT_METRICS_PORT to {settings.metrics_port + workers - 1}"
                   f" (one metrics port per worker): choose a lower VRAAGBOT_METRICS_PORT", err=True)
        return 2
    _check_port(host, port)
    with database_errors(settings.database_url):
        asyncio.run(run_migrations(settings))
    return supervise(host, port, workers, metrics_port=settings.metrics_port,
                     shutdown_seconds=settings.shutdown_seconds)


@main.command(help="Play every role of a demo workspace in the terminal (reads commands from stdin).")
@click.option("--reset", is_flag=True, help="wipe the demo workspace first and start it anew")
def shell(reset: bool) -> None:
    from bot.runtime import migrate as run_migrations
    from bot.shell_runner import run_shell

    settings = _settings()
    with database_errors(settings.database_url):  # here, so that its failures are one line
        asyncio.run(run_migrations(settings))
    asyncio.run(run_shell(settings, sys.stdin, interactive=sys.stdin.isatty(), reset=reset))


@main.command("teams-package", help="Build the Teams app package (manifest.json, en.json and icons, zipped) to "
              "upload. Who publishes it and its privacy and terms pages are required: Teams shows them to everyone "
              "who installs the app.")
@click.option("--app-id", default=None, help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
@click.option("--developer-name", default=None, help="who publishes the app (default: VRAAGBOT_TEAMS_DEVELOPER_NAME)")
@click.option("--website-url", default=None, help="their https website (default: VRAAGBOT_TEAMS_WEBSITE_URL)")
@click.option("--privacy-url", default=None, help="the https privacy statement (default: VRAAGBOT_TEAMS_PRIVACY_URL)")
@click.option("--terms-url", default=None, help="the https terms of use (default: VRAAGBOT_TEAMS_TERMS_URL)")
@click.option("--out", default="vraagbot-teams.zip", show_default=True, type=click.Path(dir_okay=False),
              help="where to write the zip")
def teams_package(app_id: str | None, developer_name: str | None, website_url: str | None, privacy_url: str | None,
                  terms_url: str | None, out: str) -> None:
    from pathlib import Path

    from bot.teams.package import PackageError, Publisher, build_package
    from nudges.texts.catalog import load_catalog

    settings = _settings()
    app_id = app_id or settings.microsoft_app_id
    if not app_id:
        click.echo("vraagbot: give --app-id or set MICROSOFT_APP_ID (the Azure Bot's app id)", err=True)
        sys.exit(2)
    try:
        publisher = Publisher.checked(name=developer_name or settings.teams_developer_name,
                                      website_url=website_url or settings.teams_website_url,
                                      privacy_url=privacy_url or settings.teams_privacy_url,
                                      terms_url=terms_url or settings.teams_terms_url)
        path = build_package(app_id, publisher, load_catalog(), Path(out))
    except PackageError as error:
        click.echo(f"vraagbot: no package written:\n{error}", err=True)
        sys.exit(2)
    click.echo(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")


def _register_curtness_commands() -> None:
    from bot.curtness_cli import curtness_command, curtness_eval_command

    main.add_command(curtness_command, "curtness")
    main.add_command(curtness_eval_command, "curtness-eval")


_register_curtness_commands()


def _register_nudges_commands() -> None:
    from bot.nudges_cli import nudges_command, report_command

    main.add_command(nudges_command, "nudges")
    main.add_command(report_command, "report")


_register_nudges_commands()


def _register_retention_command() -> None:
    from bot.retention_cli import retention_command

    main.add_command(retention_command, "retention")


_register_retention_command()


def _register_erase_command() -> None:
    from bot.erase_cli import erase_workspace_command

    main.add_command(erase_workspace_command, "erase-workspace")


_register_erase_command()
