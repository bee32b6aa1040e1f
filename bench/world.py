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

from bench.fake_api import RESPONSE_PREFIX
from bench.load import Request
from bench.servers import SECRET, FakeApi
from storage.engine import database_url
from storage.tables import InboxRequest, OutboxMessage, Person, Question, Reply, Signal, Workspace
from tests.e2e import slack_requests as sr

TEAM = "T0001"
EXPERTS = 10  # people 0..9 answer; the others ask
BUTTON_KIND = "confirmation_only"  # the signal an "Mijn inschatting klopte" press records
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def postgres_database(admin_url: str = ADMIN_URL) -> AsyncIterator[str]:
    """A fresh, empty database on the local server for this run (a new name each time); dropped afterwards."""
    name = f"vraagbot_bench_{os.getpid()}_{next(_DATABASES)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


_DATABASES = itertools.count(1)


def database_name(url: str) -> str | None:
    """The PostgreSQL database a URL names (None for SQLite)."""
    return None if url.startswith("sqlite") else url.rsplit("/", 1)[1]


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
    workspace_id: int = 0
    person: dict[str, int] = field(default_factory=dict)  # external id -> people.id
    seeded: int = 0  # questions seeded so far


async def seed(engine: AsyncEngine, people: int, threads: int, answered: int) -> World:
    """People 0..people-1 (the first EXPERTS answer), ``threads`` delivered questions that thread
    replies go to, and ``answered`` answered questions whose outcome buttons get pressed."""
    now = datetime.now(UTC)
    world = World(people)
    async with engine.begin() as db:
        world.workspace_id = (await db.execute(insert(Workspace).values(platform="slack", external_id=TEAM,
                                                                        name="Bench").returning(Workspace.id))
                              ).scalar_one()
        rows = [{"workspace_id": world.workspace_id, "external_id": FakeApi.user(n)[0],
                 "handle": FakeApi.user(n)[1], "display_name": f"Persoon {n}", "locale": "nl",
                 "time_zone": "Europe/Amsterdam", "created_at": now}
                for n in range(people)]
        ids = list((await db.execute(insert(Person).returning(Person.id, Person.external_id), rows)).all())
        world.person = {external: pid for pid, external in ids}
    await _seed_questions(engine, world, threads, reply_to=True)
    await seed_answered(engine, world, answered)
    return world


async def seed_answered(engine: AsyncEngine | None, world: World, at_least: int) -> None:
    """Make sure ``at_least`` answered questions wait for a press (more are seeded when short). Without
    an engine (the bare app stores nothing) any ids do."""
    missing = at_least - len(world.answered)
    if missing <= 0:
        return
    if engine is None:
        for _ in range(missing):
            world.seeded += 1
            world.answered.append((world.seeded, EXPERTS + world.seeded % (world.people - EXPERTS)))
        return
    await _seed_questions(engine, world, missing, reply_to=False)


async def _seed_questions(engine: AsyncEngine, world: World, count: int, *, reply_to: bool) -> None:
    now = datetime.now(UTC)
    questions = []
    for i in range(world.seeded, world.seeded + count):
        expert, asker = i % EXPERTS, EXPERTS + i % (world.people - EXPERTS)
        questions.append({
            "workspace_id": world.workspace_id, "asker_id": world.person[FakeApi.user(asker)[0]],
            "expert_id": world.person[FakeApi.user(expert)[0]], "text": f"seeded question {i}", "tag": "werk",
            "tag_source": "default", "tagged_at": now, "status": "delivered" if reply_to else "answered",
            "asked_at": now, "delivered_at": now, "first_reply_at": None if reply_to else now,
            "thread_ref": f"GSEED{i:06d}:1700000000.{i:06d}",
        })
    first = world.seeded
    world.seeded += count
    async with engine.begin() as db:
        result = await db.execute(insert(Question).returning(Question.id, Question.thread_ref), questions)
        for i, (qid, thread_ref) in enumerate(result.all(), start=first):
            channel, ts = thread_ref.split(":")
            if reply_to:
                world.threads.append((i % EXPERTS, channel, ts))
            else:
                world.answered.append((qid, EXPERTS + i % (world.people - EXPERTS)))


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
                                    enterprise_id=None, response_url=fake.response_url(f"ask-{key}"),
                                    trigger_id=f"trigger-{n}")
            content_type = sr.FORM
        elif kind == "action":
            qid, asker = world.answered.popleft()
            key = f"s{qid}"
            body = sr.block_action("outcome_confirmed", str(qid), user_id=FakeApi.user(asker)[0],
                                   user_name=FakeApi.user(asker)[1],
                                   response_url=fake.response_url(f"{RESPONSE_PREFIX}{key}"),
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
    stored: dict[str, float] = field(default_factory=dict)  # key -> time.time() the row was stored (first)
    copies: dict[str, int] = field(default_factory=dict)  # key -> rows stored for it (1 = exactly once)


async def baseline(engine: AsyncEngine) -> Marks:
    async with engine.connect() as db:
        return Marks(
            question=(await db.scalar(select(func.coalesce(func.max(Question.id), 0)))) or 0,
            reply=(await db.scalar(select(func.coalesce(func.max(Reply.id), 0)))) or 0,
            signal=(await db.scalar(select(func.coalesce(func.max(Signal.id), 0)))) or 0,
        )


async def read_stored(engine: AsyncEngine, marks: Marks) -> None:
    """The keys of stored work with the time the bot stored it: the row's own timestamp, written by the
    handler inside the transaction that stores it (same machine clock as the sender), and how many rows
    each key has."""
    stored: dict[str, float] = {}
    copies: dict[str, int] = {}

    def note(key: str, at: datetime) -> None:
        stored[key] = min(stored.get(key, at.timestamp()), at.timestamp())
        copies[key] = copies.get(key, 0) + 1

    async with engine.connect() as db:
        for text, at in await db.execute(select(Question.text, Question.asked_at).where(Question.id > marks.question)):
            if key := _marker(text, "bq"):
                note(key, at)
        for text, at in await db.execute(select(Reply.text, Reply.created_at).where(Reply.id > marks.reply)):
            if key := _marker(text, "br"):
                note(key, at)
        signals = select(Signal.question_id, Signal.created_at).where(Signal.id > marks.signal,
                                                                       Signal.kind == BUTTON_KIND)
        for qid, at in await db.execute(signals):
            note(f"s{qid}", at)
    marks.stored, marks.copies = stored, copies


async def outbox_pending(engine: AsyncEngine) -> int:
    async with engine.connect() as db:
        return (await db.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status == "pending"))) or 0


async def unfinished(engine: AsyncEngine) -> tuple[int, int]:
    """Requests in the inbox not done yet, and outbox messages due now and not sent yet."""
    now = datetime.now(UTC)
    async with engine.connect() as db:
        waiting = await db.scalar(select(func.count()).select_from(InboxRequest)
                                  .where(InboxRequest.done_at.is_(None)))
        due = await db.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == "pending", OutboxMessage.due_at <= now))
    return waiting or 0, due or 0


def _marker(text: str | None, prefix: str) -> str | None:
    for word in (text or "").replace("(", " ").replace(")", " ").replace("?", " ").replace(".", " ").split():
        if word.startswith(prefix) and word[len(prefix):].isdigit():
            return word
    return None

