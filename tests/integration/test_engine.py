"""Engine set-up: URL forms, SQLite connection settings, timezone handling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine, database_url, reading
from storage.migrate import alembic_config
from storage.tables import ProcessedEvent
from storage.uow import SqlUnitOfWork


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/vraagbot.db", "sqlite+aiosqlite:///data/vraagbot.db"),
        ("sqlite+aiosqlite:////abs/vraagbot.db", "sqlite+aiosqlite:////abs/vraagbot.db"),
        ("postgresql://u:p@db:5432/vb", "postgresql+asyncpg://u:p@db:5432/vb"),
        ("postgres://u:p@db/vb", "postgresql+asyncpg://u:p@db/vb"),
        ("postgresql+asyncpg://u@db/vb", "postgresql+asyncpg://u@db/vb"),
        ("postgres://u:p@db/vb?sslmode=require", "postgresql+asyncpg://u:p@db/vb?ssl=require"),
    ],
)
def test_database_url_gives_the_async_driver(given: str, expected: str) -> None:
    assert database_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://u@db/vb", "postgresql+psycopg2://u@db/vb"])
def test_database_url_refuses_other_databases(bad: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        database_url(bad)


def test_alembic_config_keeps_percent_signs_in_passwords() -> None:
    url = "postgresql://u:p%40ss@db/vb"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


async def test_sqlite_connection_settings(sqlite_database_url: str) -> None:
    engine = create_engine(sqlite_database_url)
    try:
        async with engine.connect() as connection:
            pragma = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragma == {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 5000}


async def test_datetimes_come_back_aware_utc(engine: AsyncEngine, uow_factory) -> None:
    amsterdam = timezone(timedelta(hours=1))
    local = datetime(2025, 3, 3, 10, 0, tzinfo=amsterdam)
    async with uow_factory() as uow:
        await uow.events.first_time("slack", "Ev1", local)
    async with uow_factory() as uow:
        uow: SqlUnitOfWork
        stored = await uow.session.scalar(select(ProcessedEvent.received_at))
        # Comparisons use the instant, whatever the offset the caller used.
        later = await uow.session.scalar(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.received_at > datetime(2025, 3, 3, 8, 59, tzinfo=UTC)
            )
        )
    assert stored == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert stored.tzinfo == UTC
    assert later == "Ev1"


async def test_naive_datetimes_are_refused(uow_factory) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with uow_factory() as uow:
            await uow.events.first_time("slack", "Ev1", datetime(2025, 3, 3, 9, 0))


async def test_a_reading_connection_on_sqlite_does_not_wait_for_a_writer(sqlite_database_url) -> None:
    """Metrics and the inbox's backlog read through storage.engine.reading(): while a unit of work holds
    SQLite's write lock, they still read at once (an IMMEDIATE transaction would wait out busy_timeout,
    5 s, and fail), so they never hold up an acknowledgement's insert either."""
    engine = create_engine(sqlite_database_url)
    try:
        async with engine.begin() as writer:
            await writer.exec_driver_sql("INSERT INTO processed_events (platform, event_id, received_at) "
                                         "VALUES ('slack', 'Ev1', '2026-01-01 00:00:00.000000')")

            async def read() -> int:
                async with reading(engine) as connection:
                    return (await connection.exec_driver_sql("SELECT count(*) FROM processed_events")).scalar()

            assert await asyncio.wait_for(read(), timeout=2.5) == 0  # the writer's row is not committed yet
    finally:
        await engine.dispose()
