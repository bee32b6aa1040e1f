"""A small test world for handler tests: real SQLite storage, fake clock, presence and messenger.

The database is never mocked: handlers run against the same repositories production uses.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.delivery_hooks import delivery_hooks
from handlers import dispatch
from handlers.context import Actor, Deps
from handlers.errors import RecipientUnreachable, TransientSendError
from handlers.messages import OutgoingMessage, Result
from handlers.ports import PersonRecord, UnitOfWorkFactory
from nudges.delivery.outbox import OutboxDispatcher
from nudges.texts.catalog import load_catalog

CATALOG = load_catalog()
TABLES = ("workspaces", "people", "expert_topics", "questions", "replies", "signals", "outbox", "processed_events")


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class FakePresence:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.focus: dict[str, datetime] = {}

    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        end = self.focus.get(person.handle)
        return end if end and end > self.clock.now() else None


@dataclass
class RecordingMessenger:
    sent: list[OutgoingMessage] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> str | None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append(message)
        return f"thread-{message.question_id}" if message.question_id else None


@dataclass
class World:
    uow: UnitOfWorkFactory
    db_path: str
    clock: FakeClock = field(default_factory=FakeClock)
    messenger: RecordingMessenger = field(default_factory=RecordingMessenger)
    people: dict[str, PersonRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.presence = FakePresence(self.clock)
        self.deps = Deps(uow=self.uow, clock=self.clock, presence=self.presence, catalog=CATALOG)
        self.dispatcher = OutboxDispatcher(self.uow, self.messenger, self.clock,
                                           hooks=delivery_hooks(self.clock, CATALOG))

    def actor(self, handle: str, locale: str | None = None) -> Actor:
        return Actor("slack", "T1", f"U-{handle}", handle=handle, display_name=handle.title(), locale=locale,
                     workspace_name="Team")

    async def add_person(self, handle: str, *topics: str, locale: str = "nl") -> PersonRecord:
        async with self.uow() as uow:
            workspace = await uow.workspaces.get_or_create("slack", "T1", "Team")
            person = await uow.people.add(workspace_id=workspace.id, external_id=f"U-{handle}", handle=handle,
                                          display_name=handle.title(), locale=locale,
                                          time_zone="Europe/Amsterdam", now=self.clock.now())
            for topic in topics:
                await uow.topics.add(person.id, topic, self.clock.now())
        self.people[handle] = person
        return person

    async def say(self, handle: str, text: str) -> Result:
        return await dispatch.handle_text(self.deps, self.actor(handle), text)

    async def press(self, handle: str, action: str, value: object) -> Result:
        return await dispatch.handle_action(self.deps, self.actor(handle), str(action), str(value))

    async def reply(self, handle: str, question_id: int, text: str) -> Result:
        return await dispatch.handle_reply(self.deps, self.actor(handle), question_id, text)

    async def drain(self) -> list[OutgoingMessage]:
        """Deliver what is due; return what went out in this drain."""
        before = len(self.messenger.sent)
        await self.dispatcher.dispatch_due()
        return self.messenger.sent[before:]

    def to(self, handle: str, messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
        return [m for m in messages if m.person_id == self.people[handle].id]

    def counts(self) -> dict[str, int]:
        with sqlite3.connect(self.db_path) as connection:
            return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, args).fetchall()


def unreachable() -> Exception:
    return RecipientUnreachable("blocked the bot")


def rate_limited(seconds: float = 30) -> Exception:
    return TransientSendError("429", retry_after=seconds)
