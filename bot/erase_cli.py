"""`vraagbot erase-workspace --team <team> [--yes] [--even-if-installed]`: erase one workspace's data at
once, for after the app was uninstalled from it (issue 16). Without --yes it only counts what would go."""

from __future__ import annotations

import asyncio
import json

import click

from bot.fatal import Fatal, database_errors
from bot.nudges_cli import find_workspace
from bot.retention_cli import _check_migrated
from bot.settings import Settings
from handlers.ports import UnitOfWork, WorkspaceRecord
from handlers.workspace_erasure import WorkspaceErasure, erase_workspace
from storage.engine import create_engine
from storage.repositories import inbox, installations
from storage.uow import make_uow_factory

LABELS = {
    "outbox": "queued messages",
    "signals": "signals",
    "replies": "replies",
    "questions": "questions",
    "team_schedules": "channel settings",
    "team_week_figures": "stored week figures",
    "conversation_refs": "conversation references",
    "expert_topics": "topics",
    "people": "people",
    "inbox": "waiting requests",
    "slack_installations": "Slack installation",
    "workspaces": "workspace",
}
NO_TEAM = ("no workspace {team!r}; use our id, slack:<team id> (slack:<enterprise id> for an org-wide Grid "
           "install, as a whole), teams:<tenant id>, or the platform's id")
INSTALLED = ("workspace {name} still has a stored Slack installation, so its next request would create it anew: "
             "uninstall the app from it first, or give --even-if-installed; nothing was erased")


class StoredEdgeRecords:
    """handlers.ports.EdgeRecords on the unit of work's session: the Slack installation and the Slack requests
    waiting in the inbox (Teams turns are worked as they come: none wait there)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._session = uow.session  # type: ignore[attr-defined]  # a SqlUnitOfWork

    async def count_installations(self, workspace: WorkspaceRecord) -> int:
        if workspace.platform != "slack":
            return 0
        return int(await installations.find(self._session, workspace.external_id) is not None)

    async def delete_installations(self, workspace: WorkspaceRecord) -> int:
        if workspace.platform != "slack":
            return 0
        return int(await installations.forget(self._session, workspace.external_id))

    async def count_waiting(self, workspace: WorkspaceRecord) -> int:
        return len(await self._waiting(workspace))

    async def delete_waiting(self, workspace: WorkspaceRecord) -> int:
        return await inbox.delete_requests(self._session, await self._waiting(workspace))

    async def _waiting(self, workspace: WorkspaceRecord) -> list[int]:
        """Picked out as the worker picks the token to run them with: by the workspace key of the payload."""
        if workspace.platform != "slack":
            return []
        from bot.slack.installations import workspace_key_of

        return [request_id for request_id, payload in await inbox.waiting(self._session, "slack")
                if workspace_key_of(json.loads(payload)) == workspace.external_id]


def _named(found: WorkspaceErasure) -> str:
    return f"{found.workspace_id} {found.name!r} ({found.platform} {found.external_id})"


def render(found: WorkspaceErasure) -> list[str]:
    if found.erased:
        lines = [f"Erased workspace {_named(found)}, in one transaction:"]
    else:
        lines = [f"Workspace {_named(found)}.", "Dry run, nothing changed. Would erase, in one transaction:"]
    lines += [f"  {LABELS[part.table]:<24} {part.count:>7}  ({part.table})" for part in found.parts]
    if not found.erased:
        if found.installed:
            lines.append("It still has a stored Slack installation: --yes refuses to erase it without "
                         "--even-if-installed (uninstall the app from it first).")
        lines.append("Run again with --yes to erase it; that cannot be undone.")
    return lines


def _run(settings: Settings, team: str, confirmed: bool, even_if_installed: bool) -> WorkspaceErasure | None:
    async def find(uow: UnitOfWork) -> WorkspaceRecord | None:
        return await find_workspace(uow, team)

    async def main() -> WorkspaceErasure | None:
        engine = create_engine(settings.database_url)
        try:
            return await erase_workspace(make_uow_factory(engine), find, StoredEdgeRecords,
                                         confirmed=confirmed, even_if_installed=even_if_installed)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@click.command(help="Erase one workspace's data at once (after the app was uninstalled from it): its people, "
                    "questions, replies, signals, queued messages, channel settings, stored week figures, "
                    "conversation references, waiting requests and Slack installation, in one transaction. "
                    "Without --yes it only shows what would go.")
@click.option("--team", required=True, help="workspace: our id, slack:T0123ABCD (slack:E0123ABCD for an org-wide "
                                            "Grid install), teams:<tenant id>, or the platform's id")
@click.option("--yes", "confirmed", is_flag=True, help="erase it; without this, only count")
@click.option("--even-if-installed", is_flag=True,
              help="erase it although a Slack installation is still stored (its next request creates it anew)")
def erase_workspace_command(team: str, confirmed: bool, even_if_installed: bool) -> None:
    from bot.cli import _settings

    settings = _settings()
    with database_errors(settings.database_url):
        _check_migrated(settings.database_url)
        found = _run(settings, team, confirmed, even_if_installed)
    if found is None:
        raise Fatal(NO_TEAM.format(team=team), exit_code=1)
    if confirmed and not found.erased:
        raise Fatal(INSTALLED.format(name=_named(found)), exit_code=2)
    for line in render(found):
        click.echo(line)
