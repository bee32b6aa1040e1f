"""Shared fixtures. The database ones live in tests/db_fixtures.py; see its docstring."""

from tests.db_fixtures import (  # noqa: F401 - imported so pytest finds them
    _postgres_database,
    _postgres_session_database,
    _sqlite_template,
    database_url,
    empty_database_url,
    engine_fixture,
    sqlite_database_url,
    sqlite_uow_factory,
    uow_factory,
)
