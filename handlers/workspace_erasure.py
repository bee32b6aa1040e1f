"""Erase one workspace's data at once (issue 16): for after an uninstall, when its data should not wait
for retention. The operator runs it (`vraagbot erase-workspace`); it is final, so without ``confirmed``
it only counts.

Everything goes in one transaction, in an order the foreign keys allow (questions.asker_id has no ON
DELETE on purpose, so the questions go before the people), and each table is deleted from explicitly,
so the counts shown are the rows that went. A workspace's rows are those with its id, and those tied to
its people or its questions: a reply or signal of theirs on a question elsewhere goes too, as with
forget-me; a question elsewhere that one of them was asked stays with its asker, without the expert.
Other workspaces' rows stay as they are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.ports import EdgeRecords, UnitOfWork, UnitOfWorkFactory, WorkspaceRecord


def channel_keys_ending(workspace_id: int) -> str:
    """How the outbox keys of a workspace's channel messages end: handlers.team_nudges.team_key (weekly)
    and nudges.monthly.monthly_key (monthly) both append the workspace."""
    return f":w{workspace_id}"


@dataclass(frozen=True)
class Part:
    """One table's rows of the workspace: counted, or deleted."""

    table: str
    count: int


@dataclass(frozen=True)
class WorkspaceErasure:
    """What was found of a workspace, and whether it is gone. Not ``erased``: nothing was changed."""

    workspace_id: int
    platform: str
    external_id: str
    name: str
    parts: tuple[Part, ...]
    installed: bool  # a platform installation (tokens) is stored: the next request would bring it back
    erased: bool

    def count(self, table: str) -> int:
        return next(part.count for part in self.parts if part.table == table)


@dataclass(frozen=True)
class _Step:
    table: str
    count: Callable[[], Awaitable[int]]
    delete: Callable[[], Awaitable[int]]


def _steps(uow: UnitOfWork, edge: EdgeRecords, workspace: WorkspaceRecord) -> tuple[_Step, ...]:
    """In the order they are deleted: whatever points at a row goes before that row."""
    ws, ending = workspace.id, channel_keys_ending(workspace.id)
    return (
        _Step("outbox", lambda: uow.outbox.count_in_workspace(ws, channel_keys_ending=ending),
              lambda: uow.outbox.delete_in_workspace(ws, channel_keys_ending=ending)),
        _Step("signals", lambda: uow.signals.count_in_workspace(ws), lambda: uow.signals.delete_in_workspace(ws)),
        _Step("replies", lambda: uow.replies.count_in_workspace(ws), lambda: uow.replies.delete_in_workspace(ws)),
        _Step("questions", lambda: uow.questions.count_in_workspace(ws), lambda: uow.questions.delete_in_workspace(ws)),
        _Step("team_schedules", lambda: uow.team_schedules.count_in_workspace(ws),
              lambda: uow.team_schedules.delete_in_workspace(ws)),
        _Step("team_week_figures", lambda: uow.team_weeks.count_in_workspace(ws),
              lambda: uow.team_weeks.delete_in_workspace(ws)),
        _Step("conversation_refs", lambda: uow.conversations.count_in_workspace(ws),
              lambda: uow.conversations.delete_in_workspace(ws)),
        _Step("expert_topics", lambda: uow.topics.count_in_workspace(ws), lambda: uow.topics.delete_in_workspace(ws)),
        _Step("people", lambda: uow.people.count_in_workspace(ws), lambda: uow.people.delete_in_workspace(ws)),
        _Step("inbox", lambda: edge.count_waiting(workspace), lambda: edge.delete_waiting(workspace)),
        _Step("slack_installations", lambda: edge.count_installations(workspace),
              lambda: edge.delete_installations(workspace)),
        _Step("workspaces", _one, lambda: uow.workspaces.delete(ws)),
    )


async def _one() -> int:
    return 1


async def erase_workspace(
    uow_factory: UnitOfWorkFactory,
    find: Callable[[UnitOfWork], Awaitable[WorkspaceRecord | None]],
    edge: Callable[[UnitOfWork], EdgeRecords],
    *,
    confirmed: bool,
    even_if_installed: bool = False,
) -> WorkspaceErasure | None:
    """None when ``find`` finds no workspace. Otherwise its rows per table: deleted when ``confirmed``,
    unless a platform installation is still stored and not ``even_if_installed`` (the next request from
    it would create the workspace anew); then, and without ``confirmed``, only counted."""
    async with uow_factory() as uow:
        workspace = await find(uow)
        if workspace is None:
            return None
        found = (workspace.id, workspace.platform, workspace.external_id, workspace.name)  # before its row goes
        records = edge(uow)
        installed = await records.count_installations(workspace) > 0
        erase = confirmed and (even_if_installed or not installed)
        if erase:  # PostgreSQL: a request adding to it meanwhile waits, then finds it gone
            await uow.workspaces.get_for_update(workspace.id)
        parts = [Part(s.table, await (s.delete() if erase else s.count()))
                 for s in _steps(uow, records, workspace)]
        return WorkspaceErasure(*found, tuple(parts), installed=installed, erased=erase)
