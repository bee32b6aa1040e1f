"""One event loop thread per fuzz module (tests/fuzz/loop.py), and one database per module and backend:
every fuzz module runs once on SQLite and once on PostgreSQL (``backend``), each run sending its backend's
share of the module's requests (tests/fuzz/budget.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.migrate import upgrade_to_head
from tests.db_fixtures import BACKENDS, _require_postgres, drop_postgres, new_postgres_database, postgres_url
from tests.fuzz.harness import DatabaseErrors, close_reader, fresh_database
from tests.fuzz.loop import LoopThread


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    with LoopThread() as loop:
        yield loop


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def module_database(backend: str, _sqlite_template: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(database URL, db) for one module on one backend: db is the SQLite file's path or the PostgreSQL URL
    (what tests/fuzz/harness.py reads). PostgreSQL gets a database of its own, dropped afterwards."""
    if backend == "sqlite":
        yield fresh_database(_sqlite_template, tmp_path_factory.mktemp("fuzz"))
        return
    _require_postgres()
    name = new_postgres_database()
    url = postgres_url(name)
    try:
        upgrade_to_head(url)
        yield url, url
    finally:
        close_reader(url)
        drop_postgres(name)


@pytest.fixture(scope="module")
def database_errors() -> Iterator[DatabaseErrors]:
    """Collects, for one module, the ERROR log records a database failure caused (tests/fuzz/harness.py)."""
    handler = DatabaseErrors()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
