"""PostgreSQL databases of the benchmarks' own, on the local server (never the tests' databases)."""

from __future__ import annotations

import os

import asyncpg
from sqlalchemy.engine import make_url

# Only used to create and drop the benchmark databases.
ADMIN_URL = os.environ.get("VRAAGBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def url_for(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    """asyncpg wants postgresql://, without a +driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def exists(name: str) -> bool:
    connection = await asyncpg.connect(_plain(ADMIN_URL))
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


async def drop(name: str) -> None:
    connection = await asyncpg.connect(_plain(ADMIN_URL))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def recreate(name: str) -> str:
    """An empty database called ``name`` (dropped first if it was there); returns its URL."""
    await drop(name)
    connection = await asyncpg.connect(_plain(ADMIN_URL))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url_for(name)


async def connect(name: str) -> asyncpg.Connection:
    return await asyncpg.connect(_plain(url_for(name)))
