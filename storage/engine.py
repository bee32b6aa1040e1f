"""Engine and session set-up. Nothing is created at import time; the composition root calls these."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_DRIVER = "sqlite+aiosqlite"
READ_ONLY = "vraagbot_read_only"  # execution option: see reading()
POSTGRES_DRIVER = "postgresql+asyncpg"

_DRIVERS = {
    "sqlite": SQLITE_DRIVER,
    "sqlite+aiosqlite": SQLITE_DRIVER,
    "postgres": POSTGRES_DRIVER,  # Heroku-style URLs
    "postgresql": POSTGRES_DRIVER,
    "postgresql+asyncpg": POSTGRES_DRIVER,
}


def _async_url(url: str) -> URL:
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:///path or postgresql://..."
        )
    parsed = parsed.set(drivername=driver)
    # libpq spells it sslmode (common in hosted PostgreSQL URLs); asyncpg takes ssl.
    if driver == POSTGRES_DRIVER and "sslmode" in parsed.query and "ssl" not in parsed.query:
        parsed = parsed.update_query_dict({"ssl": parsed.query["sslmode"]}).difference_update_query(
            ["sslmode"]
        )
    return parsed


def database_url(url: str) -> str:
    """The async-driver form of a SQLite or PostgreSQL URL (password kept, for passing on)."""
    return _async_url(url).render_as_string(hide_password=False)


def create_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for ``url`` (any form database_url accepts).

    ``sqlite_foreign_keys=False`` is for migrations only: SQLite's batch mode copies and drops
    tables, and with foreign keys on, dropping a parent table would cascade into its children.
    """
    parsed = _async_url(url)
    # A failing statement's error (and so its log line) would otherwise carry the bound values:
    # question texts, names, ids. Not overridable: no engine of ours ever shows them.
    kwargs["hide_parameters"] = True
    if parsed.drivername == POSTGRES_DRIVER:
        # No pre-ping: with asyncpg it is a transaction of its own before every checkout (17 per request in
        # bench/NOTES-slack.md). After a server restart the first use of a pooled connection fails instead;
        # SQLAlchemy then drops the whole pool, and every caller already retries a connection error (the
        # ack's insert, the inbox workers, StorageRetry). Recycling keeps clear of idle timeouts.
        kwargs.setdefault("pool_recycle", 1800)
        return create_async_engine(parsed, **kwargs)
    engine = create_async_engine(parsed, **kwargs)
    _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver (it skips it before SELECT and SAVEPOINT,
        # which breaks savepoints and transactional DDL); we emit it ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # Off by default in SQLite; our ON DELETE CASCADE / SET NULL rely on it.
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            # Readers do not block the writer and vice versa.
            cursor.execute("PRAGMA journal_mode=WAL")
            # Wait for a concurrent writer instead of failing at once with "database is locked".
            cursor.execute("PRAGMA busy_timeout=5000")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two units of work that read and then write
        # queue on busy_timeout rather than one failing with SQLITE_BUSY at its first write. A
        # connection opened by reading() only reads: it takes no lock (WAL readers never wait).
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads only (counts for metrics, the inbox's backlog): on SQLite it does not take
    the write lock, so it never holds up an acknowledgement's insert. Writing through it is a bug."""
    async with engine.connect() as connection:
        yield await connection.execution_options(**{READ_ONLY: True})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: records handed back by a unit of work stay readable after commit
    # (under asyncio an expired attribute would need an implicit, forbidden, lazy load).
    return async_sessionmaker(engine, expire_on_commit=False)
