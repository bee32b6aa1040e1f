"""The database side of a benchmark: a fresh database, a small seeded world (people, and questions
that thread replies and button presses refer to), the signed requests built on it, and when each
request's work was stored.

Seeding and reading use their own plain engine (no BEGIN IMMEDIATE, so reading SQLite while the bot
writes takes no write lock). Rows are built from storage.tables, the schema the migrations made.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.load import Request
from bench.servers import SECRET, FakeApi
from storage.engine import database_url
from storage.tables import OutboxMessage, Person, Question, Reply, Signal, Workspace
from tests.e2e import slack_requests as sr

TEAM = "T0001"
EXPERTS = 10  # people 0..9 answer; the others ask
BUTTON_KIND = "confirmation_only"  # the signal an "Mijn inschatting klopte" press records
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def postgres_database(admin_url: str = ADMIN_URL) -> AsyncIterator[str]:
    """A fresh, empty database on the local server for this run; dropped afterwards."""
    name = f"vraagbot_bench_{os.getpid()}"
    dsn = admin_url
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'bench.db'}"


def reader(url: str) -> AsyncEngine:
    args = {"timeout": 30} if url.startswith("sqlite") else {}
    return create_async_engine(database_url(url), connect_args=args)


@dataclass
class World:
    """Who is who, and the seeded questions each kind of request uses up (one question per press)."""

    people: int
    threads: list[tuple[int, str, str]] = field(default_factory=list)  # (expert n, channel, thread ts)
    answered: deque[tuple[int, int]] = field(default_factory=deque)  # (question id, asker n), outcome unset
    counter: itertools.count[int] = field(default_factory=itertools.count)


async def seed(engine: AsyncEngine, people: int, threads: int, answered: int) -> World:
    """People 0..people-1 (the first EXPERTS answer), ``threads`` delivered questions that thread
    replies go to, and ``answered`` answered questions whose outcome buttons get pressed."""
    now = datetime.now(UTC)
    world = World(people)
    async with engine.begin() as db:
        workspace_id = (await db.execute(insert(Workspace).values(platform="slack", external_id=TEAM, name="Bench")
                                         .returning(Workspace.id))).scalar_one()
        rows = [{"workspace_id": workspace_id, "external_id": FakeApi.user(n)[0], "handle": FakeApi.user(n)[1],
                 "display_name": f"Persoon {n}", "locale": "nl", "time_zone": "Europe/Amsterdam", "created_at": now}
                for n in range(people)]
        ids = list((await db.execute(insert(Person).returning(Person.id, Person.external_id), rows)).all())
        person = {external: pid for pid, external in ids}
        questions = []
        for i in range(threads + answered):
            expert, asker = i % EXPERTS, EXPERTS + i % (people - EXPERTS)
            reply_to = i < threads
            questions.append({
                "workspace_id": workspace_id, "asker_id": person[FakeApi.user(asker)[0]],
                "expert_id": person[FakeApi.user(expert)[0]], "text": f"seeded question {i}", "tag": "werk",
                "tag_source": "default", "tagged_at": now, "status": "delivered" if reply_to else "answered",
                "asked_at": now, "delivered_at": now, "first_reply_at": None if reply_to else now,
                "thread_ref": f"GSEED{i:06d}:1700000000.{i:06d}",
            })
        result = await db.execute(insert(Question).returning(Question.id, Question.thread_ref), questions)
        for i, (qid, thread_ref) in enumerate(result.all()):
            channel, ts = thread_ref.split(":")
            if i < threads:
                world.threads.append((i % EXPERTS, channel, ts))
            else:
                world.answered.append((qid, EXPERTS + i % (people - EXPERTS)))
    return world


KINDS = ("ask", "action", "reply")


def requests_for(world: World, fake: FakeApi, count: int, kinds: tuple[str, ...] = KINDS) -> list[Request]:
    """``count`` signed requests in turn: a quick ask, a button press, a thread reply. Each carries a
    key that finds its stored work: a marker in the question or reply text, the pressed question's id."""
    out = []
    for i in range(count):
        n = next(world.counter)
        kind = kinds[i % len(kinds)]
        if kind == "ask":
            asker = EXPERTS + n % (world.people - EXPERTS)
            expert_id, expert_handle = FakeApi.user(n % EXPERTS)
            key = f"bq{n}"
            body = sr.slash_command(f"<@{expert_id}|{expert_handle}> Klopt termijn {key}? | inschatting: ja",
                                    user_id=FakeApi.user(asker)[0], user_name=FakeApi.user(asker)[1],
                                    enterprise_id=None, response_url=fake.response_url("ask"),
                                    trigger_id=f"trigger-{n}")
            content_type = sr.FORM
        elif kind == "action":
            qid, asker = world.answered.popleft()
            key = f"s{qid}"
            body = sr.block_action("outcome_confirmed", str(qid), user_id=FakeApi.user(asker)[0],
                                   user_name=FakeApi.user(asker)[1], response_url=fake.response_url("action"),
                                   trigger_id=f"trigger-{n}")
            content_type = sr.FORM
        else:
            expert, channel, thread_ts = world.threads[n % len(world.threads)]
            key = f"br{n}"
            event = sr.thread_reply_event(f"Ja, dat klopt ({key}).", user=FakeApi.user(expert)[0], channel=channel,
                                          thread_ts=thread_ts, ts=f"{1700000000 + n}.{n % 1000000:06d}")
            body = sr.event_callback(event, event_id=f"Ev{n:08d}")
            content_type = sr.JSON
        headers = {"Content-Type": content_type, **sr.sign(body, SECRET)}
        out.append(Request(kind, key, body.encode(), headers))
    return out


@dataclass
class Marks:
    """The highest row ids before a rate's load. Everything above is read again at each look: on
    PostgreSQL ids are handed out before commit, so a row with a lower id can appear after a higher one."""

    question: int = 0
    reply: int = 0
    signal: int = 0
    stored: dict[str, float] = field(default_factory=dict)  # key -> time.time() the row was stored


async def baseline(engine: AsyncEngine) -> Marks:
    async with engine.connect() as db:
        return Marks(
            question=(await db.scalar(select(func.coalesce(func.max(Question.id), 0)))) or 0,
            reply=(await db.scalar(select(func.coalesce(func.max(Reply.id), 0)))) or 0,
            signal=(await db.scalar(select(func.coalesce(func.max(Signal.id), 0)))) or 0,
        )


async def read_stored(engine: AsyncEngine, marks: Marks) -> None:
    """Add the keys of stored work with the time the bot stored it: the row's own timestamp, written
    by the handler inside the transaction that stores it (same machine clock as the sender)."""
    async with engine.connect() as db:
        for text, at in await db.execute(select(Question.text, Question.asked_at).where(Question.id > marks.question)):
            if key := _marker(text, "bq"):
                marks.stored[key] = at.timestamp()
        for text, at in await db.execute(select(Reply.text, Reply.created_at).where(Reply.id > marks.reply)):
            if key := _marker(text, "br"):
                marks.stored[key] = at.timestamp()
        signals = select(Signal.question_id, Signal.created_at).where(Signal.id > marks.signal,
                                                                       Signal.kind == BUTTON_KIND)
        for qid, at in await db.execute(signals):
            marks.stored[f"s{qid}"] = at.timestamp()


async def outbox_pending(engine: AsyncEngine) -> int:
    async with engine.connect() as db:
        return (await db.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status == "pending"))) or 0


def _marker(text: str | None, prefix: str) -> str | None:
    for word in (text or "").replace("(", " ").replace(")", " ").replace("?", " ").replace(".", " ").split():
        if word.startswith(prefix) and word[len(prefix):].isdigit():
            return word
    return None

