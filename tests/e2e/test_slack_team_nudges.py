"""Weekly team nudges through the real Slack adapter: the command in a channel, the refusal in a DM,
and the weekly message posted in the channel (429 honoured, one message per second per channel)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.slack.web import ChannelPacer
from tests.e2e import slack_requests as sr
from tests.e2e.loopback import eventually, until
from tests.e2e.slack_bot import USERS, running_slack_bot


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 nudge_plan_seconds=0.2) as running:
        yield running


async def make_due_a_minute_ago(bot) -> None:
    """Move the channel's setting to one minute ago, as if it had been set last week. In a thread:
    the bot runs on this event loop and must be able to finish a transaction meanwhile."""
    # The command that sets it is worked from the inbox after its ack: wait until it is stored.
    await eventually(lambda: bot.rows("SELECT id FROM team_schedules"))
    local = datetime.now(ZoneInfo("Europe/Amsterdam")) - timedelta(minutes=1)
    await asyncio.to_thread(bot.rows, "UPDATE team_schedules SET weekday=?, hour=?, minute=?, "
                            "time_zone='Europe/Amsterdam', updated_at='2020-01-01 00:00:00.000000'",
                            local.weekday(), local.hour, local.minute)


def channel_posts(bot, channel: str = "C0001") -> list:
    return [c for c in bot.fake.calls("chat.postMessage") if c.args.get("channel") == channel and not c.limited]


async def test_set_in_a_channel_and_the_weekly_message_is_posted_there_once(bot):
    status, _ = await bot.command("anna", "team-nudge maandag 09:00 Europe/Amsterdam nl")
    assert status == 200
    [reply] = await bot.fake.wait_for_response()
    assert "elke maandag om 09:00 (Europe/Amsterdam)" in reply.body["text"]
    assert reply.body["response_type"] == "ephemeral"
    assert bot.rows("SELECT channel, enabled FROM team_schedules") == [("slack:C0001", 1)]

    await make_due_a_minute_ago(bot)
    [post] = await until(lambda: channel_posts(bot))
    assert post.args["text"].startswith("Het weekbericht van vraagbot")
    assert post.args["blocks"][0]["type"] == "section"
    await asyncio.sleep(1.0)  # several more planning ticks
    assert len(channel_posts(bot)) == 1
    assert bot.rows("SELECT status FROM outbox WHERE kind='weekly_team'") == [("sent",)]


async def test_a_rate_limited_channel_post_is_retried_after_retry_after(bot):
    await bot.command("anna", "team-nudge maandag 09:00")
    await bot.fake.wait_for_response()
    bot.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await make_due_a_minute_ago(bot)
    await until(lambda: channel_posts(bot), seconds=10)
    calls = [c for c in bot.fake.calls("chat.postMessage") if c.args.get("channel") == "C0001"]
    assert [c.limited for c in calls] == [True, False]
    assert calls[1].at - calls[0].at >= 0.9  # waited out Retry-After


async def test_in_a_direct_message_it_is_refused_and_nothing_is_stored(bot):
    body = sr.slash_command("team-nudge maandag 09:00", user_id=USERS["anna"], user_name="anna",
                            channel_id="D0ANNA", channel_name="directmessage",
                            response_url=bot.fake.response_url("dm"), enterprise_id=None)
    status, _ = await bot.post(body, sr.FORM)
    assert status == 200
    [reply] = await bot.fake.wait_for_response()
    assert "kanaal van je team" in reply.body["text"]
    assert bot.rows("SELECT count(*) FROM team_schedules") == [(0,)]


async def test_recognition_opt_out_from_slack(bot):
    await bot.command("lotte", "erkenning uit")
    [reply] = await bot.fake.wait_for_response()
    assert "niet meer in het weekbericht" in reply.body["text"]
    assert bot.rows("SELECT recognition_opt_out FROM people WHERE external_id=?", USERS["lotte"]) == [(1,)]


async def test_pacer_spaces_posts_to_one_channel_and_not_across_channels():
    pacer = ChannelPacer(interval=0.2)
    started = time.monotonic()
    for _ in range(3):
        await pacer.wait("C1")
    assert time.monotonic() - started >= 0.39
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait(f"C{n}") for n in range(2, 12)))
    assert time.monotonic() - started < 0.1
    assert datetime.now(UTC)  # the clock is real here: pacing uses time.monotonic
