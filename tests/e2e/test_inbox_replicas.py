"""Two bot replicas on one PostgreSQL database (issue 12): signed Slack requests posted to either one are
stored in the shared inbox, and each takes effect exactly once, worked by whichever replica's pool
claims it. With one replica's workers stopped, the other works everything, including what the
stopped one acknowledged.

Both replicas are the real web app (build_runtime + create_app, the `vraagbot serve` code path) in
this process, against one fake Slack Web API, so the test can see which replica ran which request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
import pytest

from bot.app import create_app
from bot.inbox.workers import Transact
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.slack import platform as slack_platform
from bot.slack.work import SlackWork
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.repositories.inbox import ClaimedRequest
from tests.db_fixtures import empty_postgres_database
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import serving
from tests.e2e.slack_bot import SECRET, USERS

pytestmark = pytest.mark.postgres

_names = itertools.count(1)


class CountedSlackWork(SlackWork):
    """The replica's own Slack runner, counting which requests this replica ran. Put in place of
    SlackWork where bot/slack/platform.py builds it, so its wiring is build_runtime's own."""

    made: ClassVar[list[CountedSlackWork]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ran: list[str] = []  # trigger ids (the commands' dedup keys)
        CountedSlackWork.made.append(self)

    async def run(self, request: ClaimedRequest, transact: Transact) -> None:
        self.ran.append(_trigger_of(request))
        await super().run(request, transact)


def _trigger_of(request: ClaimedRequest) -> str:
    return json.loads(request.payload)["trigger_id"]


@dataclass
class Replica:
    name: str
    url: str
    runtime: Runtime
    tally: CountedSlackWork
    session: aiohttp.ClientSession


@pytest.fixture(autouse=True)
def counted_slack_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_platform, "SlackWork", CountedSlackWork)
    CountedSlackWork.made.clear()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with empty_postgres_database() as url:
        upgrade_to_head(url)
        yield url


@asynccontextmanager
async def replica(name: str, database_url: str, fake: FakeSlack) -> AsyncIterator[Replica]:
    config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                           SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url)
    runtime = build_runtime(config)
    tally = CountedSlackWork.made.pop()  # the runner build_runtime just registered
    async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
        yield Replica(name, url, runtime, tally, session)


async def ask(fake: FakeSlack, to: Replica, who: str) -> tuple[str, str]:
    """A quick ask by ``who`` to Anna, acknowledged by ``to``; its (trigger id, question text)."""
    n = next(_names)
    trigger, text = f"trigger-replicas-{n}", f"Vraag nummer {n}: mag dit zo?"
    body = sr.slash_command(f"<@UANNA|anna> {text}", user_id=USERS[who], user_name=who,
                            response_url=fake.response_url(trigger), trigger_id=trigger, enterprise_id=None)
    status, _, _ = await sr.post_signed(to.session, f"{to.url}/slack/events", body, secret=SECRET,
                                        content_type=sr.FORM)
    assert status == 200
    return trigger, text


async def rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.exec_driver_sql(sql)]
    finally:
        await engine.dispose()


async def all_worked(fake: FakeSlack, url: str, asked: dict[str, str]) -> None:
    """Every ask answered (its response_url) and its question delivered to Anna."""
    async def done() -> bool:
        delivered = await rows(url, "SELECT count(*) FROM questions WHERE delivered_at IS NOT NULL")
        return delivered == [(len(asked),)] and all(fake.responses(trigger) for trigger in asked)

    await eventually_async(done)


async def eventually_async(check) -> None:
    for _ in range(600):  # 30 s, for a busy machine
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_two_replicas_work_each_request_once_and_either_works_the_others_backlog(pg_url):
    asked: dict[str, str] = {}  # trigger id -> question text
    async with FakeSlack() as fake:
        for handle, user_id in USERS.items():
            fake.add_user(user_id, handle, real_name=handle.title())
        async with replica("a", pg_url, fake) as a, replica("b", pg_url, fake) as b:
            # Both working: posted alternately, by two people (each person's requests in order).
            for n in range(10):
                asked.update([await ask(fake, (a, b)[n % 2], ("sanne", "lotte")[n // 2 % 2])])
            await all_worked(fake, pg_url, asked)

            # A's workers stopped: A still acknowledges (stores), B works all of it.
            await a.runtime.inbox.stop(5)
            before = len(b.tally.ran)
            phase = dict([await ask(fake, (a, b)[n % 2], ("sanne", "lotte")[n % 2]) for n in range(6)])
            asked.update(phase)
            await all_worked(fake, pg_url, asked)
            assert sorted(b.tally.ran[before:]) == sorted(phase)

            # And the other way round: B's workers stopped, A's started again.
            await b.runtime.inbox.stop(5)
            a.runtime.inbox.start()
            before = len(a.tally.ran)
            phase = dict([await ask(fake, (a, b)[n % 2], ("sanne", "lotte")[n % 2]) for n in range(6)])
            asked.update(phase)
            await all_worked(fake, pg_url, asked)
            assert sorted(a.tally.ran[before:]) == sorted(phase)

        ran = Counter(a.tally.ran + b.tally.ran)
        assert ran == Counter(dict.fromkeys(asked, 1))  # each stored request run once, by one replica
        for trigger in asked:  # one confirmation per ask
            assert len(fake.responses(trigger)) == 1, (trigger, [r.body for r in fake.responses(trigger)])
        question_posts = Counter(c.args["text"].split(" ", 2)[1] for c in fake.calls("chat.postMessage")
                                 if c.args.get("text", "").startswith("Vraag #"))
        assert len(question_posts) == len(asked) and set(question_posts.values()) == {1}  # each posted once

    stored = Counter(text for (text,) in await rows(pg_url, "SELECT text FROM questions"))
    assert stored == Counter(dict.fromkeys(asked.values(), 1))
    assert await rows(pg_url, "SELECT count(*), count(done_at), count(*) FILTER (WHERE failed) FROM inbox") == [
        (len(asked), len(asked), 0)]
