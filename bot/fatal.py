"""What stops a command before it can do its work, told as one line (what is wrong, what to do) and a
non-zero exit instead of a traceback: a database that cannot be reached, does not exist, refuses the
login or has no tables yet, a SQLite file whose folder is missing, a port that is taken. (A .env file
that is not text and a wrong setting are bot/settings.py's SettingsError, shown the same way.)

Exit codes, the same for every command: 2 when a setting, the .env file or the database a setting names
must be fixed first (as for a wrong setting); 1 when the port is taken (as `serve --workers N` says it).
Only the code around a first database contact converts errors (``database_errors``): the same
ConnectionRefusedError from a Slack or Teams connection is not a database problem."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SETTINGS_EXIT = 2
PORT_EXIT = 1
URL_SETTING = "VRAAGBOT_DATABASE_URL"
# PostgreSQL error codes (SQLSTATE) asyncpg reports, and what each means to the person starting us.
MISSING_DATABASE = "3D000"
LOGIN_REFUSED = ("28000", "28P01")
MISSING_TABLE = "42P01"
STARTING_UP = "57P03"
NOT_MIGRATED = "it has no vraagbot tables yet; run vraagbot migrate first"
BIND_ERRNOS = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)
UNREACHABLE_ERRNOS = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                      errno.ECONNRESET)


class Fatal(click.ClickException):
    """Shown as ``vraagbot: <message>`` on standard error; click exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = SETTINGS_EXIT) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: IO[str] | None = None) -> None:
        click.echo(f"vraagbot: {self.message}", err=True, file=file)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Around the first use of the database: its known failures become one Fatal line."""
    _sqlite_folder_exists(url)
    try:
        yield
    except Fatal:
        raise
    except Exception as error:
        line = database_problem(error, url)
        if line is None:
            raise
        raise Fatal(line) from None


def database_problem(error: BaseException, url: str) -> str | None:
    """One line for a database failure, or None when ``error`` is not one."""
    problem = _database_problem(error, url)
    return f"cannot use the database at {_where(url)}: {problem}" if problem else None


def _database_problem(error: BaseException, url: str) -> str | None:
    causes = list(_causes(error))
    for cause in causes:
        code = str(getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None) or "")
        if code == MISSING_DATABASE:
            return _missing_database(url)
        if code in LOGIN_REFUSED:
            return f"the server refused the login ({_first_line(cause)}); check the user and password in {URL_SETTING}"
        if code == MISSING_TABLE:
            return NOT_MIGRATED
        if code == STARTING_UP:
            return "the server is still starting up; try again in a moment"
        if isinstance(cause, sqlite3.Error):
            return _sqlite_problem(cause, url)
        if _unreachable(cause):
            return (f"no answer from the server ({_reason(cause)}); is PostgreSQL running there, and is "
                    f"{URL_SETTING} right?")
    if not any(type(c).__module__.startswith(("sqlalchemy", "asyncpg")) for c in causes):
        return None
    detail = causes[-1]
    return f"{type(detail).__name__}: {_first_line(detail)}; is it reachable and migrated (vraagbot migrate)?"


def _sqlite_folder_exists(url: str) -> None:
    """Checked before SQLite tries: aiosqlite's failed open can race the closing event loop and print a
    traceback from its thread after our line."""
    parsed = _parsed(url)
    if parsed is None or not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    folder = Path(parsed.database).parent
    if not folder.is_dir():
        raise Fatal(f"cannot use the database at {parsed.database}: {_missing_folder(folder)}")


def existing_sqlite_file(url: str) -> None:
    """For commands that only read: a SQLite file that is not there is a wrong setting, and SQLite must
    not quietly create an empty one."""
    _sqlite_folder_exists(url)
    parsed = _parsed(url)
    if parsed is None or not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    if Path(parsed.database).exists():
        return
    raise Fatal(f"no database file at {parsed.database}: check {URL_SETTING}, or create it with vraagbot migrate")


def port_problem(host: str, port: int, problem: str) -> Fatal:
    return Fatal(f"cannot listen on {host}:{port} ({problem.lower()}): stop what is listening there, or choose "
                 "another port (--port)", exit_code=PORT_EXIT)


def bind_problem(error: OSError) -> Fatal | None:
    """aiohttp's bind error, should the port be taken between our check and the bind."""
    if error.errno not in BIND_ERRNOS:
        return None
    detail = str(error).removeprefix(f"[Errno {error.errno}] ")
    return Fatal(f"cannot listen ({detail}): stop what is listening there, or choose another port (--port)",
                 exit_code=PORT_EXIT)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error SQLAlchemy wraps (``orig``), and what each was raised from."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [e for e in (orig, current.__cause__, current.__context__) if isinstance(e, BaseException)]


def _unreachable(error: BaseException) -> bool:
    if isinstance(error, socket.gaierror | TimeoutError | ConnectionError):
        return True
    return isinstance(error, OSError) and error.errno in UNREACHABLE_ERRNOS


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return f"host not found: {error.strerror or error}"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno).lower()
    return _first_line(error)


def _missing_database(url: str) -> str:
    parsed = _parsed(url)
    name = parsed.database if parsed is not None else "?"
    create = f"createdb -h {parsed.host or 'localhost'} -p {parsed.port or 5432}" if parsed is not None else "createdb"
    if parsed is not None and parsed.username:
        create += f" -U {parsed.username}"
    return f'the database "{name}" does not exist; create it ({create} {name}) or fix {URL_SETTING}'


def _sqlite_problem(error: sqlite3.Error, url: str) -> str:
    parsed = _parsed(url)
    folder = Path(parsed.database if parsed is not None and parsed.database else ".").parent
    if "no such table" in str(error):
        return NOT_MIGRATED
    if getattr(error, "sqlite_errorname", "") == "SQLITE_CANTOPEN" or "unable to open" in str(error):
        if not folder.is_dir():
            return _missing_folder(folder)
        return f"SQLite cannot open it ({_first_line(error)}); may this user write in {folder}? Or set {URL_SETTING}"
    return f"SQLite says: {_first_line(error)}; check {URL_SETTING}"


def _missing_folder(folder: Path) -> str:
    return f"the folder {folder} does not exist; create it, or set {URL_SETTING} to a file in a folder that exists"


def _where(url: str) -> str:
    """Host and port for PostgreSQL, the file for SQLite; never the password."""
    parsed = _parsed(url)
    if parsed is None:
        return "the configured URL"
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or "(memory)"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    if text.startswith("("):  # SQLAlchemy's "(module.Class) message" form
        text = text.split(") ", 1)[-1]
    return (text.splitlines() or [type(error).__name__])[0][:200]
