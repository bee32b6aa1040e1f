"""SIGKILL during a weekly fan-out, at the worst moment: Slack has accepted a post but the process dies
before it records that. After a restart every due nudge is posted exactly once: the outbox notes each
attempt before sending, and asks Slack (conversations.history, our metadata label) about an attempt
whose outcome it never learned, instead of posting it again.

Real `vraagbot serve` processes on a PostgreSQL database; the fake Slack runs in this test process.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest
from aiohttp import web

from storage.migrate import upgrade_to_head
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import until
from tests.e2e.test_weekly_replicas import add_schedules, make_due, outbox_statuses, serve
from tests.e2e.test_weekly_replicas import pg_url as pg_url  # the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


class AcceptingSlack(FakeSlack):
    """Accepts every post at once and answers it only after ``delay``; the ``hold_post``-th post is
    accepted and then never answered (until released), so the sender can be killed right there."""

    def __init__(self, *, delay: float = 0.0, hold_post: int | None = None) -> None:
        super().__init__()
        self.delay, self.hold_post = delay, hold_post
        self.held = asyncio.Event()
        self._release = asyncio.Event()
        self._posts = 0

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)  # the post is accepted (recorded) here
        if request.match_info["method"] == "chat.postMessage":
            self._posts += 1
            if self._posts == self.hold_post:
                self.held.set()
                await self._release.wait()
            await asyncio.sleep(self.delay)
        return response

    def release(self) -> None:
        self._release.set()



def per_channel(fake: FakeSlack) -> Counter[str]:
    """How many posts Slack accepted in each channel."""
    channels = {c.args["channel"] for c in fake.calls("chat.postMessage")}
    return Counter({channel: n for channel in channels if (n := len(fake.posted(channel)))})


async def test_killed_after_slack_accepted_a_post_but_before_recording_it_posts_it_only_once(pg_url, tmp_path):
    await asyncio.to_thread(upgrade_to_head, pg_url)
    channels = [f"C{n:03d}" for n in range(8)]
    await add_schedules(pg_url, channels)
    async with AcceptingSlack(hold_post=4) as fake:
        try:
            async with serve(pg_url, fake, tmp_path / "first.log") as first:
                await make_due(pg_url, minutes_ago=1)
                await asyncio.wait_for(fake.held.wait(), 30)
                first.send_signal(signal.SIGKILL)  # Slack has the 4th post; our database does not know
                await asyncio.to_thread(first.wait, 10)
            assert sum(per_channel(fake).values()) == 4
            async with serve(pg_url, fake, tmp_path / "second.log"):
                # The rest at once; the in-doubt one when its lease (10 s) ends: looked up, not re-posted.
                await until(lambda: fake.calls("conversations.history"), 40)
                await until(lambda: set(per_channel(fake)) == set(channels), 20)
                await until_all_sent(pg_url, len(channels))
                await asyncio.sleep(1.0)  # a few more ticks: nothing else goes out
                delivered = per_channel(fake)
        finally:
            fake.release()
    assert delivered == Counter(dict.fromkeys(channels, 1))
    assert await outbox_statuses(pg_url) == Counter(sent=len(channels))
    assert "delivered after all" in (tmp_path / "second.log").read_text()


async def test_a_replica_killed_mid_fan_out_with_another_running_posts_every_nudge_exactly_once(pg_url, tmp_path):
    await asyncio.to_thread(upgrade_to_head, pg_url)
    channels = [f"C{n:03d}" for n in range(30)]
    await add_schedules(pg_url, channels)
    # Slow answers after accepting: a kill at any moment most likely finds a post accepted, unanswered.
    async with AcceptingSlack(delay=0.15) as fake:
        async with serve(pg_url, fake, tmp_path / "a.log") as a, serve(pg_url, fake, tmp_path / "b.log"):
            await make_due(pg_url, minutes_ago=1)
            await until(lambda: sum(per_channel(fake).values()) >= 8, 30)
            a.send_signal(signal.SIGKILL)
            await asyncio.to_thread(a.wait, 10)
            async with serve(pg_url, fake, tmp_path / "a2.log"):  # a comes back
                await until(lambda: set(per_channel(fake)) == set(channels), 40)
                await until_all_sent(pg_url, len(channels))
                await asyncio.sleep(1.0)
                delivered = per_channel(fake)
    assert delivered == Counter(dict.fromkeys(channels, 1))
    assert await outbox_statuses(pg_url) == Counter(sent=len(channels))


async def until_all_sent(url: str, count: int, seconds: float = 40.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await outbox_statuses(url) == Counter(sent=count):
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"outbox not all sent: {await outbox_statuses(url)}")
