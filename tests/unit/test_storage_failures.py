"""Which storage errors are worth retrying (the database is away or busy) and which are not (bugs)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from storage.failures import is_connection_error


def wrapped(error: BaseException) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("INSERT ...", {}, error)


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connection refused"),
    sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"),
    wrapped(sqlite3.OperationalError("database is locked")),
    wrapped(OSError(104, "Connection reset by peer")),
])
def test_away_or_busy_database_is_retried(error):
    assert is_connection_error(error)


@pytest.mark.parametrize("error", [
    sa_exc.IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
    wrapped(sqlite3.OperationalError("no such table: questions")),
    KeyError("user"),
])
def test_bugs_and_constraint_violations_are_not(error):
    assert not is_connection_error(error)
