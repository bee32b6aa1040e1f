"""Issue 18, as measured: a replica SIGKILLed mid fan-out, and a Slack whose conversations.history
fails (HTTP 405). The sender dies while its post is still on the way (Slack never takes it); the
post cannot be looked up, so after the look-up bound it is sent anyway: every channel gets its
weekly message, none is lost. (Before: retried as a failed delivery six times, then given up.)

Real `vraagbot serve` processes on PostgreSQL (lease 10 s, so the look-up bound is 5 s).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest
from aiohttp import web

from storage.migrate import upgrade_to_head
from tests.e2e.loopback import until
from tests.e2e.test_fanout_kill import AcceptingSlack, per_channel, until_all_sent
from tests.e2e.test_weekly_replicas import add_schedules, make_due, outbox_statuses, serve
from tests.e2e.test_weekly_replicas import pg_url as pg_url  # the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


class LosingSlack(AcceptingSlack):
    """The ``hold_post``-th post never reaches Slack: held before it is taken, never answered."""

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage":
            self._posts += 1
            if self._posts == self.hold_post:
                self.held.set()
                await self._release.wait()
        return await super(AcceptingSlack, self)._handle_api(request)


async def test_killed_mid_fan_out_with_history_failing_still_sends_every_weekly_message(pg_url, tmp_path):
    await asyncio.to_thread(upgrade_to_head, pg_url)
    channels = [f"C{n:03d}" for n in range(8)]
    await add_schedules(pg_url, channels)
    async with LosingSlack(hold_post=4) as fake:
        fake.fail("conversations.history", 405, times=1000)
        try:
            async with serve(pg_url, fake, tmp_path / "first.log") as first:
                await make_due(pg_url, minutes_ago=1)
                await asyncio.wait_for(fake.held.wait(), 30)
                first.send_signal(signal.SIGKILL)  # the 4th post in flight: in doubt, and not arrived
                await asyncio.to_thread(first.wait, 10)
            async with serve(pg_url, fake, tmp_path / "second.log"):
                await until(lambda: set(per_channel(fake)) == set(channels), 60)
                await until_all_sent(pg_url, len(channels))
                delivered = per_channel(fake)
        finally:
            fake.release()
    assert delivered == Counter(dict.fromkeys(channels, 1))
    assert fake.calls("conversations.history")  # it was asked, and could not tell
    assert await outbox_statuses(pg_url) == Counter(sent=len(channels))
    assert "sending it anyway" in (tmp_path / "second.log").read_text()
