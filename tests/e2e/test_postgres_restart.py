"""PostgreSQL restarts while Slack requests keep coming. A request is acked only once it is stored in the
inbox (issue 12): then it takes effect exactly once, however long the database stays away afterwards.
One that could not be stored is not acked: a command's answer says it was not saved, an event or a press
gets an error (Slack sends the event again, and shows the person that the press failed). The bot
recovers by itself.

The server is a private one (tests/private_postgres.py), never the shared one on 5432. The bot is the
real web app (the `vraagbot serve` code path) in this process, driven over HTTP with signed requests.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.app import create_app
from bot.runtime import build_runtime
from bot.settings import load_settings
from nudges.texts.catalog import load_catalog
from storage.migrate import upgrade_to_head
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import serving, until
from tests.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

SECRET = "restart-secret"
USERS = {"sanne": "USANNE", "anna": "UANNA", "lotte": "ULOTTE"}
NOT_SAVED = load_catalog().text("nl", "error.not_saved")


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as pg:
        upgrade_to_head(pg.url)
        yield pg


class Client:
    """Signed Slack requests into the bot; remembers what it sent, and every ack."""

    def __init__(self, url: str, fake: FakeSlack, session: aiohttp.ClientSession) -> None:
        self.url, self.fake, self.session = url, fake, session
        self.answers: dict[str, tuple[int, str]] = {}  # name -> (HTTP status, body) of the last try
        self._ids = itertools.count(1)

    async def post(self, body: str, content_type: str, name: str, headers: dict[str, str] | None = None) -> None:
        status, text, _ = await sr.post_signed(self.session, f"{self.url}/slack/events", body, secret=SECRET,
                                               content_type=content_type, extra_headers=headers)
        self.answers[name] = (status, text)

    def acked(self, name: str) -> bool:
        """A 200 that does not say "not saved": the request is stored."""
        status, text = self.answers[name]
        return status == 200 and NOT_SAVED not in text

    async def ask(self, who: str, text: str, name: str) -> None:
        body = sr.slash_command(f"<@UANNA|anna> {text}", user_id=USERS[who], user_name=who,
                                response_url=self.fake.response_url(name), trigger_id=f"trigger-{name}",
                                enterprise_id=None)
        await self.post(body, sr.FORM, name)

    async def press(self, who: str, action: str, value: str, name: str) -> None:
        body = sr.block_action(action, value, user_id=USERS[who], user_name=who,
                               response_url=self.fake.response_url(name), trigger_id=f"trigger-{name}")
        await self.post(body, sr.FORM, name)

    async def thread_reply(self, thread_ref: str, text: str, event_id: str, retry: int = 0) -> None:
        channel, thread_ts = thread_ref.split(":", 1)
        event = sr.thread_reply_event(text, user=USERS["anna"], channel=channel, thread_ts=thread_ts,
                                      ts=f"{time.time():.6f}")
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        await self.post(sr.event_callback(event, event_id=event_id), sr.JSON, event_id, headers)

    async def resend_refused_events(self, thread_ref: str, texts: dict[str, str]) -> None:
        """As Slack does: an event that got no 200 comes again (with its retry number) until it does."""
        for attempt in range(1, 40):
            refused = [e for e in texts if self.answers[e][0] != 200]
            if not refused:
                return
            for event_id in refused:
                await self.thread_reply(thread_ref, texts[event_id], event_id, retry=min(attempt, 3))
            await asyncio.sleep(0.5)
        raise AssertionError(f"events still refused: {refused}")


async def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


@asynccontextmanager
async def running_bot(url: str, retry_seconds: float) -> AsyncIterator[Client]:
    async with FakeSlack() as fake:
        for handle, user_id in USERS.items():
            fake.add_user(user_id, handle, real_name=handle.title())
        config = load_settings(database_url=url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url,
                               db_retry_seconds=retry_seconds)
        async with serving(create_app(build_runtime(config))) as bot_url, aiohttp.ClientSession() as session:
            yield Client(bot_url, fake, session)


async def clean(url: str) -> None:
    await query(url, "TRUNCATE workspaces, people, questions, replies, outbox, processed_events, inbox "
                     "RESTART IDENTITY CASCADE")


async def first_question(client: Client, url: str) -> tuple[int, str]:
    """One question asked and delivered before the trouble starts: the thread replies go there."""
    await client.ask("sanne", "Eerste vraag?", "first")
    rows = await until_async(lambda: query(url, "SELECT id, thread_ref FROM questions WHERE thread_ref IS NOT NULL"))
    return rows[0]["id"], rows[0]["thread_ref"]


async def until_async(check, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def told_not_saved(fake: FakeSlack, name: str) -> bool:
    return any(NOT_SAVED in str(r.body) for r in fake.responses(name))


def reply_text(n: int) -> str:
    return f"Antwoord nummer {n}, met uitleg erbij."


async def stream(client: Client, thread_ref: str, question_id: int, rounds: int, pause: float) -> None:
    """Asks, thread replies (each event also delivered a second time as Slack's retry), and button
    presses, interleaved, ``pause`` seconds apart."""
    for n in range(rounds):
        await client.ask("lotte" if n % 2 else "sanne", f"Vraag nummer {n}?", f"ask{n}")
        await client.thread_reply(thread_ref, reply_text(n), f"Ev{n:04d}")
        await client.thread_reply(thread_ref, reply_text(n), f"Ev{n:04d}", retry=1)
        await client.press("anna", "tag_gunst" if n % 2 else "tag_werk", str(question_id), f"press{n}")
        await asyncio.sleep(pause)


async def restart(pg: PrivatePostgres, down_seconds: float) -> None:
    await asyncio.to_thread(pg.stop)
    await asyncio.sleep(down_seconds)
    await asyncio.to_thread(pg.start)


async def settle(client: Client, rounds: int) -> None:
    """Wait until every acked ask and press got its answer on its response_url."""
    names = [n for n in [f"ask{n}" for n in range(rounds)] + [f"press{n}" for n in range(rounds)] if client.acked(n)]
    await until(lambda: all(client.fake.responses(name) for name in names), 90)


async def check_asks(client: Client, url: str, rounds: int) -> None:
    """Each acked ask stored once and answered; each refused one stored nowhere and not answered."""
    asked = [r["text"] for r in await query(url, "SELECT text FROM questions ORDER BY id")]
    assert asked.count("Eerste vraag?") == 1
    for n in range(rounds):
        name = f"ask{n}"
        stored = asked.count(f"Vraag nummer {n}?")
        if client.acked(name):
            assert stored == 1, (name, stored)
            assert any("staat bij Anna" in str(r.body) for r in client.fake.responses(name)), name
        else:
            assert stored == 0 and not client.fake.responses(name), (name, stored, client.answers[name])
    assert not any(told_not_saved(client.fake, f"ask{n}") for n in range(rounds))  # stored work never is


async def still_works(client: Client, question_id: int, url: str) -> None:
    """The bot was not restarted, and it works: a press and a new question go all the way."""
    await client.press("anna", "tag_gunst", str(question_id), "press-after")
    await until(lambda: client.fake.responses("press-after"), 20)
    assert (await query(url, "SELECT tag FROM questions WHERE id = $1", question_id))[0]["tag"] == "gunst"
    await client.ask("sanne", "Na de herstart?", "after")
    await until(lambda: any("staat bij Anna" in str(r.body) for r in client.fake.responses("after")), 20)
    await until(lambda: any("Na de herstart?" in c.args.get("text", "")
                            for c in client.fake.calls("chat.postMessage")), 20)


async def test_requests_during_a_restart_are_stored_once_or_refused_never_lost(private_pg):
    url = private_pg.url
    await clean(url)
    rounds = 24
    async with running_bot(url, retry_seconds=30) as client:
        question_id, thread_ref = await first_question(client, url)
        traffic = asyncio.create_task(stream(client, thread_ref, question_id, rounds, pause=0.25))
        await asyncio.sleep(1.5)  # some requests before, some during, some after
        await restart(private_pg, down_seconds=3)
        await traffic
        await client.resend_refused_events(thread_ref, {f"Ev{n:04d}": reply_text(n) for n in range(rounds)})
        await settle(client, rounds)

        await check_asks(client, url, rounds)
        # Every reply arrived in the end (Slack's retries), and each is stored once.
        replies = await until_async(lambda: _all_replies(url, rounds), 30)
        assert sorted(replies) == sorted(reply_text(n) for n in range(rounds))
        await still_works(client, question_id, url)


async def _all_replies(url: str, rounds: int) -> list[str] | None:
    replies = [r["text"] for r in await query(url, "SELECT text FROM replies")]
    return replies if len(replies) >= rounds else None


async def test_acked_work_waits_for_the_database_and_is_done_once_when_it_is_back(private_pg):
    url = private_pg.url
    await clean(url)
    rounds = 16
    async with running_bot(url, retry_seconds=1.0) as client:
        question_id, thread_ref = await first_question(client, url)
        await stream(client, thread_ref, question_id, rounds, pause=0)  # a burst, acked ...
        await restart(private_pg, down_seconds=4)  # ... and the database gone before its work is done
        await settle(client, rounds)

        assert all(client.acked(f"ask{n}") for n in range(rounds)), client.answers  # stored before the outage
        await check_asks(client, url, rounds)
        replies = await until_async(lambda: _all_replies(url, rounds), 30)
        assert sorted(replies) == sorted(reply_text(n) for n in range(rounds))  # once each, retries included
        await still_works(client, question_id, url)
