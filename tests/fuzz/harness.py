"""The real app for fuzzing: the e2e harnesses' SlackBot and TeamsBot, plus the Runtime, so a property can
wait for the work a request started after its HTTP answer (Slack lazy listeners) before it compares the
database; and one module-long event loop (tests/fuzz/loop.py) that every generated example runs on."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.db_fixtures import copy_sqlite, sqlite_url
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import serving
from tests.e2e.slack_bot import SECRET, USERS, SlackBot
from tests.e2e.teams_bot import TeamsBot, teams_settings
from tests.fuzz.loop import LoopThread


def table_counts(db_path: str) -> dict[str, int]:
    """Rows per table, for every table of ours (people, questions, replies, signals, outbox, processed_events,
    expert_topics, conversation_refs, ... and whatever later migrations add)."""
    with sqlite3.connect(db_path) as connection:
        names = [n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                 if n != "alembic_version" and not n.startswith("sqlite_")]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(names)}


def fresh_database(template: Path, directory: Path) -> tuple[str, str]:
    """A migrated SQLite file for one test module: (url, path)."""
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
            await runtime.slack.inflight.drain(20)


@asynccontextmanager
async def slack_target(database_url: str, db_path: str) -> AsyncIterator[tuple[SlackBot, Runtime]]:
    """Like tests/e2e/slack_bot.running_slack_bot, keeping the runtime at hand."""
    from tests.e2e.fake_slack import FakeSlack

    async with FakeSlack() as fake:
        for handle, user_id in USERS.items():
            fake.add_user(user_id, handle, real_name=handle.title(), locale="en-US" if handle == "bram" else "nl-NL")
        config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url)
        runtime = build_runtime(config)
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield SlackBot(url, fake, db_path, session), runtime


@asynccontextmanager
async def teams_target(database_url: str, db_path: str, **overrides: Any) -> AsyncIterator[tuple[TeamsBot, Runtime]]:
    """Like tests/e2e/teams_bot.running_teams_bot, keeping the runtime at hand."""
    runtime = build_runtime(teams_settings(database_url, **overrides))
    async with FakeConnector() as fake, serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
        yield TeamsBot(url, fake, db_path, session), runtime


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


async def quiet(db_path: str, runtime: Runtime) -> None:
    """Wait until no work runs and the outbox has nothing left to send."""
    from tests.e2e.loopback import until

    await settle(runtime)
    await until(lambda: not _pending(db_path), seconds=15)
    await settle(runtime)


def _pending(db_path: str) -> int:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
