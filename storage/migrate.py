"""Run the Alembic migrations from code, without an alembic.ini.

These functions are synchronous and start their own event loop (migrations/env.py calls
``asyncio.run``). From async code, call them in a worker thread::

    await asyncio.to_thread(upgrade_to_head, url)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from storage.engine import create_engine


def alembic_config(url: str) -> Config:
    """A Config pointing at the installed ``migrations`` package (works from a wheel too)."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # The value goes through configparser interpolation: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def downgrade_to(url: str, revision: str) -> None:
    """Mainly for tests; ``"base"`` removes every table."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:
        raise RuntimeError("the migrations package has no revisions")
    return head


def known_revisions() -> set[str]:
    """Every revision this version of the code has a migration for."""
    return {script.revision for script in ScriptDirectory.from_config(alembic_config("")).walk_revisions()}


def _read_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def database_revision(engine: AsyncEngine) -> str | None:
    """The revision the database behind ``engine`` is at (for readiness checks)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_read_revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at; None when it was never migrated."""

    async def run() -> str | None:
        engine = create_engine(url)
        try:
            return await database_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())
