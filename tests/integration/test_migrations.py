"""The migrations build exactly the schema storage.tables describes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import os
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from storage.engine import create_engine
from storage.migrate import alembic_config, current_revision, downgrade_to, head_revision, upgrade_to_head
from storage.tables import Base


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def schema_drift(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_builds_exactly_the_models(empty_database_url: str) -> None:
    url = empty_database_url
    assert await asyncio.to_thread(current_revision, url) is None
    await asyncio.to_thread(upgrade_to_head, url)

    assert await table_names(url) == set(Base.metadata.tables) | {"alembic_version"}
    assert await asyncio.to_thread(current_revision, url) == head_revision()


async def test_no_drift_between_migrations_and_models(empty_database_url: str) -> None:
    url = empty_database_url
    await asyncio.to_thread(upgrade_to_head, url)
    assert await schema_drift(url) == []

    # The comparison does look at details: drop one index and it is reported.
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP INDEX ix_outbox_status_due_at")
    finally:
        await engine.dispose()
    assert [d[0] for d in await schema_drift(url)] == ["add_index"]


async def test_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    url = empty_database_url
    await asyncio.to_thread(upgrade_to_head, url)
    await asyncio.to_thread(downgrade_to, url, "base")
    assert await table_names(url) == {"alembic_version"}
    assert await asyncio.to_thread(current_revision, url) is None

    await asyncio.to_thread(upgrade_to_head, url)
    assert await table_names(url) == set(Base.metadata.tables) | {"alembic_version"}
    assert await schema_drift(url) == []


async def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    await asyncio.to_thread(upgrade_to_head, empty_database_url)  # already at head: nothing to do
    assert await asyncio.to_thread(current_revision, empty_database_url) == head_revision()


@pytest.mark.parametrize(
    ("url", "false"), [("sqlite:///x.db", "DEFAULT 0"), ("postgresql://u@h/db", "DEFAULT false")]
)
def test_offline_sql_for_a_dba(url: str, false: str) -> None:
    """``alembic upgrade head --sql`` works without a database, with per-dialect defaults."""
    config = alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert all(f"CREATE TABLE {table}" in sql for table in Base.metadata.tables)
    assert f"unreachable BOOLEAN {false} NOT NULL" in sql


@pytest.mark.postgres
def test_replicas_starting_together_migrate_once_without_errors() -> None:
    import subprocess

    from tests.db_fixtures import empty_postgres_database
    from tests.e2e.cli import VRAAGBOT

    with empty_postgres_database() as url:
        # Four processes migrating at once, as replicas of `vraagbot serve` do when they start together.
        # (Processes, not threads: Alembic's migration context is one per process.)
        processes = [subprocess.Popen([VRAAGBOT, "migrate"], env={**os.environ, "VRAAGBOT_DATABASE_URL": url},
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for _ in range(4)]
        outputs = [p.communicate(timeout=120)[0] for p in processes]
        assert [p.returncode for p in processes] == [0] * 4, outputs
        assert current_revision(url) == head_revision()
