"""When the inbox falls behind, a person whose request waits is told once that it is busy and that the
request is safe (issue 12); nobody is told while the bot keeps up."""

from __future__ import annotations

import asyncio

from nudges.texts.catalog import load_catalog
from tests.e2e.loopback import until
from tests.e2e.slack_bot import running_slack_bot

BUSY = load_catalog().text("nl", "inbox.busy")


async def test_a_person_is_told_once_that_it_is_busy_and_their_request_is_safe(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1], inbox_workers=1,
                                 inbox_busy_seconds=1) as bot:
        status, answer = await bot.command("sanne", "<@UANNA|anna> Eerste vraag, zonder drukte?")
        assert status == 200 and BUSY not in answer  # the bot keeps up: nothing to say
        await until(lambda: bot.rows("SELECT id FROM questions"))

        bot.fake.hang("users.info", seconds=4)  # the only worker is held up by the next request
        await bot.command("bram", "<@UANNA|anna> A question from Bram?")  # not looked up yet: held
        await asyncio.sleep(1.6)  # the oldest waiting request is now older than the busy threshold
        told = [(await bot.command("lotte", f"<@UANNA|anna> Vraag {n} van Lotte?"))[1] for n in range(3)]
        assert [BUSY in answer for answer in told] == [True, False, False]  # once, not per request

        await until(lambda: len(bot.rows("SELECT id FROM questions")) == 5, 30)  # every one of them kept
