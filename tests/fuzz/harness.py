"""The real app for fuzzing: the e2e harnesses' SlackBot and TeamsBot, plus the Runtime, so a property can
wait for the work a request started after its HTTP answer (Slack lazy listeners) before it compares the
database; and one module-long event loop (tests/fuzz/loop.py) that every generated example runs on.

Every module runs on SQLite and on PostgreSQL (tests/fuzz/conftest.py). A module's database is named by
one string, ``db``: a SQLite file's path or a PostgreSQL URL; ``query``, ``table_counts`` and the bots'
``rows`` read either, with SQLite's ``?`` placeholders in both."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.db_fixtures import copy_sqlite, sqlite_url
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import serving
from tests.e2e.slack_bot import SECRET, USERS, SlackBot
from tests.e2e.teams_bot import TeamsBot, teams_settings
from tests.fuzz.loop import LoopThread


def is_postgres(db: str) -> bool:
    return db.startswith(("postgresql:", "postgresql+asyncpg:"))


class PostgresReader:
    """Synchronous reads of a PostgreSQL database, callable from any thread, the fuzz loop's own included
    (like sqlite3 there, a read blocks the caller briefly): one asyncpg connection on a loop of its own."""

    def __init__(self, url: str) -> None:
        self._loop = LoopThread().__enter__()
        self._lock = threading.Lock()  # one statement at a time on the connection, whichever thread asks
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection = self._loop.run(asyncpg.connect(dsn, timeout=10))

    def rows(self, sql: str, *args: object) -> list[tuple]:
        numbered = iter(range(1, sql.count("?") + 1))
        statement = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)  # qmark style, as for sqlite3
        with self._lock:
            return [tuple(record) for record in self._loop.run(self._connection.fetch(statement, *args))]

    def close(self) -> None:
        self._loop.run(self._connection.close())
        self._loop.__exit__(None, None, None)


_readers: dict[str, PostgresReader] = {}


def close_reader(db: str) -> None:
    if (reader := _readers.pop(db, None)) is not None:
        reader.close()


def query(db: str, sql: str, *args: object) -> list[tuple]:
    """Rows of ``sql`` (``?`` placeholders) on a module's database, SQLite or PostgreSQL."""
    if is_postgres(db):
        reader = _readers.get(db) or _readers.setdefault(db, PostgresReader(db))
        return reader.rows(sql, *args)
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, args).fetchall()


def table_counts(db: str) -> dict[str, int]:
    """Rows per table, for every table of ours (people, questions, replies, signals, outbox, processed_events,
    expert_topics, conversation_refs, ... and whatever later migrations add)."""
    if is_postgres(db):
        names = [n for (n,) in query(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    else:
        names = [n for (n,) in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
                 if not n.startswith("sqlite_")]
    names = sorted(n for n in names if n != "alembic_version")
    counts = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in names)  # one round trip
    return dict(query(db, counts))


class DatabaseErrors(logging.Handler):
    """Log records at ERROR that a database failure caused. After Slack's ack the work runs in the background,
    so a unit of work that fails there (a unique key two requests raced for, a value PostgreSQL refuses)
    shows in the log and nowhere else: no status code would catch it."""

    MARKERS = ("sqlalchemy", "asyncpg", "sqlite3")

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        if any(marker in text for marker in self.MARKERS):
            self.records.append(text if len(text) <= 1000 else f"{text[:400]} [...] {text[-600:]}")  # what, and why


class FuzzSlackBot(SlackBot):
    """tests/e2e's SlackBot, reading a PostgreSQL database as well as a SQLite file (``db_path`` is ``db``)."""

    def rows(self, sql: str, *args: object) -> list[tuple]:
        return query(self.db_path, sql, *args)


class FuzzTeamsBot(TeamsBot):
    """tests/e2e's TeamsBot, reading a PostgreSQL database as well as a SQLite file (``db_path`` is ``db``)."""

    def rows(self, sql: str, *args: object) -> list[tuple]:
        return query(self.db_path, sql, *args)


def fresh_database(template: Path, directory: Path) -> tuple[str, str]:
    """A migrated SQLite file for one test module: (url, db)."""
    path = directory / "fuzz.db"
    copy_sqlite(template, path)
    return sqlite_url(path), str(path)


@contextmanager
def entered(loop: LoopThread, manager: Any) -> Iterator[Any]:
    """Enter an async context manager on the loop thread and keep it open until the block ends."""
    value = loop.run(manager.__aenter__())
    try:
        yield value
    finally:
        loop.run(manager.__aexit__(None, None, None))


async def settle(runtime: Runtime, rounds: int = 3) -> None:
    """Wait for Slack work started after an ack (lazy listeners), so the database is quiet."""
    for _ in range(rounds):
        await asyncio.sleep(0)
        if runtime.slack is not None:
            await runtime.inbox.drain(20)


@asynccontextmanager
async def slack_target(database_url: str, db: str) -> AsyncIterator[tuple[SlackBot, Runtime]]:
    """Like tests/e2e/slack_bot.running_slack_bot, keeping the runtime at hand."""
    from tests.e2e.fake_slack import FakeSlack

    async with FakeSlack() as fake:
        for handle, user_id in USERS.items():
            fake.add_user(user_id, handle, real_name=handle.title(), locale="en-US" if handle == "bram" else "nl-NL")
        config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url)
        runtime = build_runtime(config)
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield FuzzSlackBot(url, fake, db, session), runtime


@asynccontextmanager
async def teams_target(database_url: str, db: str, **overrides: Any) -> AsyncIterator[tuple[TeamsBot, Runtime]]:
    """Like tests/e2e/teams_bot.running_teams_bot, keeping the runtime at hand."""
    async with FakeConnector() as fake:
        runtime = build_runtime(teams_settings(database_url, fake, **overrides))
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield FuzzTeamsBot(url, fake, db, session, runtime), runtime


async def post_raw(session: aiohttp.ClientSession, url: str, body: bytes,
                   headers: dict[str, str]) -> int:
    """POST exactly these bytes and headers (aiohttp adds no Content-Type of its own to bytes); the status."""
    async with session.post(url, data=body, headers=headers, skip_auto_headers=("Content-Type",)) as response:
        await response.read()
        return response.status


async def slack_world(bot: SlackBot, runtime: Runtime) -> dict[str, int]:
    """Sanne asked Anna question 1 and Anna answered in its thread; Lotte and Bram use the bot too.
    Returns the ids the attacks aim at. Waits until every queued message went out."""
    from tests.e2e.loopback import until

    for who, topic in (("lotte", "inkoop"), ("bram", "privacy"), ("anna", "contracten")):
        await bot.command(who, f"rol {topic}")
    status, _ = await bot.command("sanne", "<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja")
    assert status == 200
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [(question_id,)] = bot.rows("SELECT id FROM questions")
    await bot.thread_reply("anna", question_id, "Klopt, dat mag.")
    await until(lambda: bot.rows("SELECT id FROM replies"))
    await quiet(bot.db_path, runtime)
    people = dict(bot.rows("SELECT external_id, id FROM people"))
    assert set(people) == set(USERS.values()), people
    return {"question": question_id, **{who: people[uid] for who, uid in USERS.items()}}


async def quiet(db: str, runtime: Runtime) -> None:
    """Wait until no work runs and the outbox has nothing left to send."""
    from tests.e2e.loopback import until

    await settle(runtime)
    await until(lambda: not _pending(db), seconds=15)
    await settle(runtime)


def _pending(db: str) -> int:
    return query(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
