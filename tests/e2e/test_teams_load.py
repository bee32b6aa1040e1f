"""Teams under load (issue 12, item 6): a burst of activities into the real botbuilder CloudAdapter over
HTTP. Every turn still stores its work before it answers, at most `teams_concurrency` turns run at once,
and a turn that finds no free slot in time is refused with 503 + Retry-After, having stored nothing, so
the Bot Connector's retry is right."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import eventually
from tests.e2e.teams_bot import NAMES, USERS, running_teams_bot

TOTAL, BOUND = 60, 4
SANNE_CHAT = ta.personal_conversation_id(USERS["sanne"])


class HoldingConnector(FakeConnector):
    """Holds every reply (ReplyToActivity) in the asker's chat until `release` is set. An ask's turn
    answers there from inside the turn, so the replies held at once are the turns in flight at once:
    `most_held` is the highest number seen. (The questions go to the expert's chat, from the outbox.)"""

    def __init__(self, asker_chat: str) -> None:
        super().__init__()
        self.asker_chat = asker_chat
        self.release = asyncio.Event()
        self.release.set()
        self.held = 0
        self.most_held = 0

    async def _handle_activity(self, request: web.Request) -> web.Response:
        info = request.match_info
        if request.method == "POST" and "activity_id" in info and info["conversation_id"] == self.asker_chat:
            self.held += 1
            self.most_held = max(self.most_held, self.held)
            try:
                await self.release.wait()
            finally:
                self.held -= 1
        return await super()._handle_activity(request)


def ask_anna(bot, key: str) -> dict:
    """Sanne asks Anna a quick question whose text carries `key`, with the @mention as Teams sends it."""
    at = f"<at>{NAMES['anna']}</at>"
    activity = ta.personal_message(f"vraag {at} Klopt termijn {key}?", user_id=USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    activity["entities"].append({"type": "mention", "mentioned": {"id": USERS["anna"], "name": NAMES["anna"]},
                                 "text": at})
    return activity


def question_texts(bot) -> list[str]:
    return sorted(text for (text,) in bot.rows("SELECT text FROM questions"))


async def test_a_burst_of_asks_runs_at_most_the_bound_of_turns_at_once_and_stores_each_once(sqlite_database_url):
    db_path = sqlite_database_url.split("///", 1)[1]
    async with HoldingConnector(SANNE_CHAT) as fake, running_teams_bot(sqlite_database_url, db_path, fake,
                                                             teams_concurrency=BOUND) as bot:
        await bot.say("anna", "help")  # Anna talked to the bot before: her chat reference is stored
        slots = bot.runtime.teams.slots
        # The last asks wait for many turns before theirs; this test is about the bound, not the wait.
        bot.runtime.teams.slot_wait_seconds = 120
        fake.release.clear()
        keys = [f"q{i:02d}" for i in range(TOTAL)]
        asks = [asyncio.create_task(bot.post(ask_anna(bot, key))) for key in keys]
        # Hold every reply until all asks arrived: BOUND turns hold one, the rest wait for a slot.
        # Without a bound every turn reaches its reply, and more than BOUND are held.
        await eventually(lambda: fake.held > BOUND
                         or (fake.held == BOUND and slots.waiting == TOTAL - BOUND))
        fake.release.set()
        answers = await asyncio.gather(*asks)
        # The answer came after the turn's writes were committed: nothing to wait for.
        stored = question_texts(bot)

    assert fake.most_held == BOUND
    assert slots.most_running == BOUND
    assert len([s for s in fake.sent(SANNE_CHAT) if s.kind == "reply"]) == TOTAL  # one held reply per turn
    assert [status for status, _ in answers] == [201] * TOTAL
    assert stored == sorted(f"Klopt termijn {key}?" for key in keys)


async def test_an_activity_that_finds_no_free_slot_in_time_is_refused_with_503_and_stores_nothing(
        sqlite_database_url):
    db_path = sqlite_database_url.split("///", 1)[1]
    async with HoldingConnector(SANNE_CHAT) as fake, running_teams_bot(sqlite_database_url, db_path, fake,
                                                             teams_concurrency=1) as bot:
        await bot.say("anna", "help")
        bot.runtime.teams.slot_wait_seconds = 0.2  # instead of seconds: the refusal is what is tested here
        fake.release.clear()
        first = asyncio.create_task(bot.post(ask_anna(bot, "first")))
        await eventually(lambda: fake.held == 1)  # the only slot is taken by a turn waiting for its reply
        async with bot.session.post(f"{bot.url}/api/messages", json=ask_anna(bot, "second")) as response:
            status, retry_after, body = response.status, response.headers.get("Retry-After"), await response.text()
        fake.release.set()
        first_status, _ = await first
        stored = question_texts(bot)

    assert status == 503 and "busy" in body
    assert retry_after is not None and int(retry_after) > 0
    assert first_status == 201
    assert stored == ["Klopt termijn first?"]
