"""SIGTERM on a real `vraagbot serve`: stop taking requests, finish running work and the current
send, leave unsent messages queued, and exit within VRAAGBOT_SHUTDOWN_SECONDS."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from storage.migrate import upgrade_to_head
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import until
from tests.e2e.test_serve import free_port
from tests.e2e.test_weekly_replicas import add_schedules, make_due, outbox_statuses, read, start_server, until_healthy

SECRET = "shutdown-secret"
CHANNELS = ["C100", "C101", "C102", "C103"]


class PacedSlack(FakeSlack):
    """Web API methods that take a while; ``hold`` keeps chat.postMessage unanswered for good."""

    def __init__(self, slow: dict[str, float], hold: bool = False) -> None:
        super().__init__()
        self.slow = slow
        self.hold = hold
        self.started: Counter[str] = Counter()
        self._release = asyncio.Event()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.started[method] += 1
        if self.hold and method == "chat.postMessage":
            await self._release.wait()  # until the fake stops; then the post fails
            return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
        await asyncio.sleep(self.slow.get(method, 0.0))
        return await super()._handle_api(request)

    def delivered(self) -> Counter[str]:
        return Counter(c.args["channel"] for c in self.calls("chat.postMessage"))

    async def __aexit__(self, *exc_info: object) -> None:
        self._release.set()  # a held request would keep the fake's own shutdown waiting
        await super().__aexit__(*exc_info)


@pytest.fixture
async def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/shutdown.db"
    await asyncio.to_thread(upgrade_to_head, url)
    return url


async def start(url: str, fake: FakeSlack, log: Path, shutdown_seconds: float,
                concurrency: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_"))}
    env.update({
        "VRAAGBOT_DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url, "VRAAGBOT_NUDGE_PLAN_SECONDS": "0.3", "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.3",
        "VRAAGBOT_OUTBOX_LEASE_SECONDS": "10", "VRAAGBOT_SHUTDOWN_SECONDS": str(shutdown_seconds),
        "VRAAGBOT_LOG_FORMAT": "text", "VRAAGBOT_OUTBOX_CONCURRENCY": str(concurrency),
    })
    process = start_server(port, env, log)
    await until_healthy(port, process, log)
    return process, port


async def terminate(process: subprocess.Popen, log: Path, within: float) -> int:
    """SIGTERM, then wait; a process still running after ``within`` seconds fails the test."""
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(process.wait, within)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"still running {within}s after SIGTERM:\n{read(log)}") from None


async def test_sigterm_finishes_the_sends_under_way_and_leaves_the_rest_queued(database, tmp_path):
    channels = [f"C2{n:02d}" for n in range(6)]
    await add_schedules(database, channels)
    async with PacedSlack({"chat.postMessage": 1.0}) as fake:
        process, _ = await start(database, fake, tmp_path / "first.log", shutdown_seconds=10, concurrency=2)
        await make_due(database, minutes_ago=2)
        await until(lambda: fake.started["chat.postMessage"] >= 1, 20)
        assert await terminate(process, tmp_path / "first.log", within=10 + 5) == 0
        started, delivered = fake.started["chat.postMessage"], sum(fake.delivered().values())
        statuses = await outbox_statuses(database)
        assert 1 <= started <= 2 and delivered == started  # the sends under way finished; no new one began
        # What was not sent stays queued (the planner may not have queued every channel yet: the next
        # start does, as the end of this test shows).
        assert statuses["sent"] == delivered and set(statuses) == {"sent", "pending"}, statuses
        assert "shut down; unsent messages stay queued" in read(tmp_path / "first.log")

        process, _ = await start(database, fake, tmp_path / "second.log", shutdown_seconds=10)
        await until(lambda: set(fake.delivered()) == set(channels), 30)
        await terminate(process, tmp_path / "second.log", within=15)
    assert fake.delivered() == Counter(dict.fromkeys(channels, 1))


async def test_a_send_that_never_returns_does_not_keep_the_process_alive(database, tmp_path):
    await add_schedules(database, CHANNELS)
    async with PacedSlack({}, hold=True) as fake:
        process, _ = await start(database, fake, tmp_path / "held.log", shutdown_seconds=3)
        await make_due(database, minutes_ago=2)
        await until(lambda: fake.started["chat.postMessage"] >= 1, 20)
        assert await terminate(process, tmp_path / "held.log", within=3 + 7) == 0
    assert fake.delivered() == Counter()
    statuses = await outbox_statuses(database)
    assert set(statuses) == {"pending"}, statuses  # the cut-off send stays queued too


async def test_work_acked_before_sigterm_is_finished_before_exit(database, tmp_path):
    async with PacedSlack({"users.info": 1.0}) as fake:
        for user, name in (("USANNE", "sanne"), ("UANNA", "anna")):
            fake.add_user(user, name, real_name=name.title())
        process, port = await start(database, fake, tmp_path / "ask.log", shutdown_seconds=10)
        body = sr.slash_command("<@UANNA|anna> Mag dit zo de deur uit?", user_id="USANNE", user_name="sanne",
                                response_url=fake.response_url("ask"))
        async with aiohttp.ClientSession() as session:
            status, _, _ = await sr.post_signed(session, f"http://127.0.0.1:{port}/slack/events", body,
                                                secret=SECRET, content_type=sr.FORM)
        assert status == 200
        await until(lambda: fake.started["users.info"] >= 1, 10)  # the work after the ack is under way
        assert await terminate(process, tmp_path / "ask.log", within=15) == 0
    import sqlite3

    with sqlite3.connect(database.split("///", 1)[1]) as connection:
        [(stored,)] = connection.execute("SELECT text FROM questions").fetchall()
    assert stored == "Mag dit zo de deur uit?"
