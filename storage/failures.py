"""Which database errors mean "the connection or server is away" (worth retrying once it is back),
as opposed to a bug or a constraint violation (retrying would fail the same way)."""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes of a lost or refused connection: 08xxx connection exceptions,
# 57P01 admin_shutdown (fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up).
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


def is_connection_error(error: BaseException) -> bool:
    """True when ``error`` (or anything it wraps) says the database connection failed."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_connection_error_itself(current):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def _is_connection_error_itself(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError):
        return True  # every pooled connection busy (overload): free again in a moment
    if isinstance(error, sqlite3.OperationalError) and "database is locked" in str(error):
        return True  # SQLite: another writer held the lock past busy_timeout
    if isinstance(error, (ConnectionError, TimeoutError, asyncpg.PostgresConnectionError,
                          asyncpg.InterfaceError, asyncpg.ConnectionDoesNotExistError)):
        return True
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError | PermissionError):
        return True  # connect() refused, host unreachable, socket reset
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(state, str) and state.startswith(_CONNECTION_STATES)
