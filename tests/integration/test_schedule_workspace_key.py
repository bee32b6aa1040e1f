"""Issue 11, findings 14 and 7, in storage: schedules are per (workspace, channel), and migration
0007 carries existing data over (weekly outbox keys get their workspace, stored Teams references
lose the person who spoke), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade_to_head
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, minutes, person, workspace

UowFactory = Callable[[], SqlUnitOfWork]


async def test_a_second_workspace_with_the_same_channel_id_gets_its_own_setting(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        a, b = await workspace(uow, "TA"), await workspace(uow, "TB")
        anna, bram = await person(uow, a, "anna"), await person(uow, b, "bram")
        await uow.team_schedules.save(workspace_id=a.id, channel="slack:C1", weekday=0, hour=9, minute=0,
                                      time_zone="Europe/Amsterdam", language="nl", changed_by=anna.id, now=NOW)
    async with uow_factory() as uow:
        await uow.team_schedules.save(workspace_id=b.id, channel="slack:C1", weekday=4, hour=16, minute=30,
                                      time_zone="UTC", language="en", changed_by=bram.id, now=NOW + minutes(5))
    async with uow_factory() as uow:
        mine = await uow.team_schedules.for_channel(a.id, "slack:C1")
        theirs = await uow.team_schedules.for_channel(b.id, "slack:C1")
        assert mine is not None and theirs is not None and mine.id != theirs.id
        assert (mine.workspace_id, mine.weekday, mine.hour, mine.language, mine.changed_by, mine.updated_at) == (
            a.id, 0, 9, "nl", anna.id, NOW)
        assert (theirs.workspace_id, theirs.weekday, theirs.language) == (b.id, 4, "en")
        assert [s.workspace_id for s in await uow.team_schedules.in_channel("slack:C1")] == [a.id, b.id]
        assert len(await uow.team_schedules.enabled()) == 2


async def _execute(url: str, *statements: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result: list[tuple] = []
            for statement in statements:
                rows = await connection.execute(text(statement))
                result = [tuple(r) for r in rows] if rows.returns_rows else []
            return result
    finally:
        await engine.dispose()


async def test_migration_0007_carries_keys_and_scrubs_references(empty_database_url: str) -> None:
    url = empty_database_url
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0006")
    at = datetime(2026, 11, 23, 8, tzinfo=UTC).isoformat(sep=" ")
    reference = {"activityId": "1", "user": {"id": "29:someone", "name": "Iemand Speciaals", "aadObjectId": "aad-1"},
                 "bot": {"id": "28:bot"}, "conversation": {"id": "19:c@thread.tacv2"}, "channelId": "msteams",
                 "serviceUrl": "https://smba.trafficmanager.net/emea/"}
    await _execute(
        url,
        "INSERT INTO workspaces (id, platform, external_id, name) VALUES (7, 'slack', 'T7', 'Team')",
        "INSERT INTO team_schedules (workspace_id, channel, weekday, hour, minute, time_zone, language, enabled, "
        f"created_at, updated_at) VALUES (7, 'slack:C1', 0, 9, 0, 'UTC', 'nl', true, '{at}', '{at}')",
        "INSERT INTO outbox (dedupe_key, channel, kind, period, payload, status, due_at, attempts, created_at) VALUES "
        f"('cslack:C1:weekly_team:2026-W48', 'slack:C1', 'weekly_team', '2026-W48', '{{}}', 'sent', '{at}', 1, "
        f"'{at}')",
        "INSERT INTO conversation_refs (workspace_id, kind, external_id, name, reference, updated_at) VALUES "
        f"(7, 'channel', '19:c@thread.tacv2', 'Team', '{json.dumps(reference)}', '{at}')",
    )
    await asyncio.to_thread(upgrade_to_head, url)
    assert await _execute(url, "SELECT dedupe_key FROM outbox") == [("cslack:C1:weekly_team:2026-W48:w7",)]
    [(stored,)] = await _execute(url, "SELECT reference FROM conversation_refs")
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored == {k: v for k, v in reference.items() if k != "user"}
    # A second workspace may now set the same channel.
    await _execute(url, "INSERT INTO workspaces (id, platform, external_id, name) VALUES (8, 'slack', 'T8', 'B')",
                   "INSERT INTO team_schedules (workspace_id, channel, weekday, hour, minute, time_zone, language, "
                   f"enabled, created_at, updated_at) VALUES (8, 'slack:C1', 1, 9, 0, 'UTC', 'en', true, '{at}', "
                   f"'{at}')")
    assert await _execute(url, "SELECT count(*) FROM team_schedules WHERE channel = 'slack:C1'") == [(2,)]


async def test_a_stored_teams_reference_keeps_no_user(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        for kind in ("channel", "person"):
            await uow.conversations.save(
                workspace_id=ws.id, kind=kind, external_id=f"{kind}-1", name="",
                reference={"user": {"id": "29:x", "name": "X", "aadObjectId": "a"}, "bot": {"id": "28:b"},
                           "conversation": {"id": f"{kind}-1"}, "serviceUrl": "https://smba.trafficmanager.net/x/"},
                now=NOW)
    async with uow_factory() as uow:
        for kind in ("channel", "person"):
            stored = await uow.conversations.get(ws.id, kind, f"{kind}-1")
            assert stored is not None and "user" not in stored.reference
            assert stored.reference["conversation"] == {"id": f"{kind}-1"}
