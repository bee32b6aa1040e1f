"""Database fixtures for every test folder (tests/conftest.py makes them available).

Fixtures
--------
``database_url``        parametrized ``sqlite`` / ``postgresql``: an empty database migrated to head.
                        PostgreSQL cases carry the ``postgres`` marker.
``engine``              an AsyncEngine on ``database_url``, disposed after the test.
``uow_factory``         ``storage.uow.make_uow_factory(engine)``: use this to test on both backends.
``sqlite_database_url`` / ``sqlite_uow_factory``
                        the same on SQLite only; fast, for handler tests that need a real database.
``empty_database_url``  parametrized like ``database_url`` but not migrated (migration tests).

Speed: SQLite is migrated once per session into a template file that every test gets a copy of
(backup API). PostgreSQL is migrated once per session into one database that is emptied with
TRUNCATE .. RESTART IDENTITY before every test; so tests on ``database_url`` must not change the
schema (``empty_database_url`` gives a database of one's own).

PostgreSQL comes from ``VRAAGBOT_TEST_POSTGRES_URL`` (default: the local server's ``test``
database; it is used only to create and drop ``vraagbot_t_*`` databases). When it is unreachable
the PostgreSQL cases are skipped, or fail when ``CI`` is set: there it must be running.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.tables import Base
from storage.uow import SqlUnitOfWork, make_uow_factory

POSTGRES_URL = os.environ.get("VRAAGBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

_RUN_ID = uuid.uuid4().hex[:8]  # keeps concurrent test runs on one server apart


# --------------------------------------------------------------------------- SQLite


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy even with a WAL file next to the source."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_to_head(sqlite_url(path))
    return path


def _fresh_sqlite(template: Path, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    copy_sqlite(template, path)
    return sqlite_url(path)


# --------------------------------------------------------------------------- PostgreSQL


def postgres_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def _execute(url: str, *statements: str) -> None:
    # asyncpg wants a libpq-style URL, without a SQLAlchemy driver suffix.
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def run_sql(url: str, *statements: str) -> None:
    """Run statements on a PostgreSQL database, from sync code (outside any event loop)."""
    asyncio.run(_execute(url, *statements))


@functools.cache
def _postgres_problem() -> str | None:
    try:
        run_sql(POSTGRES_URL, "SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({error!r})"
    return None


def _require_postgres() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem}; .ci/run should have started it", pytrace=False)
    pytest.skip(problem)


def new_postgres_database() -> str:
    """Create an empty database and return its name; drop it with drop_postgres."""
    name = f"vraagbot_t_{_RUN_ID}_{uuid.uuid4().hex[:8]}"
    run_sql(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    return name


def drop_postgres(name: str) -> None:
    run_sql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_session_database() -> Iterator[str]:
    _require_postgres()
    name = new_postgres_database()
    try:
        upgrade_to_head(postgres_url(name))
        yield name
    finally:
        drop_postgres(name)


@pytest.fixture
def _postgres_database(_postgres_session_database: str) -> str:
    # One migrated database per session, emptied before each test: TRUNCATE takes ~40 ms where
    # CREATE DATABASE .. TEMPLATE takes ~400 ms. Tests must therefore not change the schema
    # (use empty_database_url for that).
    url = postgres_url(_postgres_session_database)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    run_sql(
        url,
        "SET lock_timeout = '10s'",  # a transaction leaked by an earlier test fails loudly
        f"TRUNCATE {tables} RESTART IDENTITY CASCADE",
    )
    return url


# --------------------------------------------------------------------------- shared fixtures


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the current migration head, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return _fresh_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path, "database.db")
    return request.getfixturevalue("_postgres_database")


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    with empty_postgres_database() as url:
        yield url


@contextmanager
def empty_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (dropped afterwards); its URL."""
    _require_postgres()
    name = new_postgres_database()
    try:
        yield postgres_url(name)
    finally:
        drop_postgres(name)


@pytest.fixture(name="engine")
async def engine_fixture(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    """Units of work on both backends (through ``database_url``)."""
    return make_uow_factory(engine)


@pytest.fixture
def sqlite_database_url(_sqlite_template: Path, tmp_path: Path) -> str:
    return _fresh_sqlite(_sqlite_template, tmp_path, "sqlite.db")


@pytest.fixture
async def sqlite_uow_factory(sqlite_database_url: str) -> AsyncIterator[Callable[[], SqlUnitOfWork]]:
    """Units of work on a fresh migrated SQLite file: fast, for handler tests."""
    engine = create_engine(sqlite_database_url)
    try:
        yield make_uow_factory(engine)
    finally:
        await engine.dispose()
