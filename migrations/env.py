"""Alembic environment: runs the migrations on our async engine.

The URL comes from the ``sqlalchemy.url`` main option (storage.migrate.alembic_config sets it).
``asyncio.run`` below needs a thread without a running event loop: application code calls
storage.migrate.upgrade_to_head through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection

from storage.engine import create_engine
from storage.tables import Base, UTCDateTime

config = context.config
MIGRATION_LOCK_KEY = 0x76726161  # "vraa": any constant works, as long as every replica uses the same one
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Autogenerate writes our UTCDateTime as the plain type it stores, so versions do not
    import application code that may change later."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure_options(is_sqlite: bool) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        "render_as_batch": is_sqlite,
        # create_engine makes SQLite emit a real BEGIN, so DDL there is transactional too:
        # the whole upgrade is one transaction on both backends.
        "transactional_ddl": True,
        "compare_type": True,
        "render_item": render_item,
    }


def do_run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, **configure_options(is_sqlite))
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas that start together all migrate: one runs the upgrade, the others wait here
            # and then find the database at head. Released when the transaction ends.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()
        if is_sqlite:
            # Foreign keys are off while migrating (see create_engine); check we left none broken.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")


async def run_async_migrations(url: str) -> None:
    engine = create_engine(url, sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline(url: str) -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **configure_options(url.startswith("sqlite")),
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller already holds a (sync) connection, e.g. in run_sync
        do_run_migrations(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set the sqlalchemy.url option (storage.migrate does)")
    if context.is_offline_mode():
        run_migrations_offline(url)
    else:
        asyncio.run(run_async_migrations(url))


main()
