"""Exactly once, proven with real processes: `vraagbot serve` replicas on one PostgreSQL database,
posting to a fake Slack Web API that runs in this test process.

The processes use the real clock, so instead of faking time the schedules are put one or two
minutes in the past (within the grace window) once the servers are up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import update

from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.tables import TeamSchedule
from storage.uow import make_uow_factory
from tests.db_fixtures import empty_postgres_database
from tests.e2e.cli import VRAAGBOT
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import until
from tests.e2e.test_serve import free_port

pytestmark = pytest.mark.postgres

ZONE = "Europe/Amsterdam"


class SlowSlack(FakeSlack):
    """The fake Slack, a little slow to post (so replicas overlap), and able to hold one post
    request unanswered, as if the process died while that send was on its way."""

    def __init__(self, *, delay: float = 0.0, hold_post: int | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.hold_post = hold_post  # hold the n-th chat.postMessage (1-based); it is never delivered
        self.held: list[float] = []
        self._posts = 0
        self._release = asyncio.Event()

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage":
            self._posts += 1
            if self._posts == self.hold_post:
                self.held.append(time.time())
                await self._release.wait()
                return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
            await asyncio.sleep(self.delay)
        return await super()._handle_api(request)

    def release(self) -> None:
        self._release.set()

    def delivered(self) -> Counter[str]:
        return Counter(c.args["channel"] for c in self.calls("chat.postMessage"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    with empty_postgres_database() as url:
        yield url


async def add_schedules(url: str, channels: list[str]) -> None:
    """Schedules that are not due yet: set 'just now', so this week's moment does not count."""
    engine = create_engine(url)
    try:
        uow_factory = make_uow_factory(engine)
        now = datetime.now(UTC)
        async with uow_factory() as uow:
            workspace = await uow.workspaces.get_or_create("slack", "T0001", "Test")
            person = await uow.people.add(workspace_id=workspace.id, external_id="UANNA", handle="anna",
                                          display_name="Anna", locale="nl", time_zone=ZONE, now=now)
            for channel in channels:
                await uow.team_schedules.save(workspace_id=workspace.id, channel=f"slack:{channel}", weekday=0,
                                              hour=9, minute=0, time_zone=ZONE, language="nl",
                                              changed_by=person.id, now=now)
    finally:
        await engine.dispose()


async def make_due(url: str, minutes_ago: int) -> None:
    """Every schedule: this week's moment was ``minutes_ago`` minutes ago, set well before that."""
    local = datetime.now(ZoneInfo(ZONE)) - timedelta(minutes=minutes_ago)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(update(TeamSchedule).values(
                weekday=local.weekday(), hour=local.hour, minute=local.minute,
                updated_at=datetime.now(UTC) - timedelta(days=1)))
    finally:
        await engine.dispose()


async def outbox_statuses(url: str) -> Counter[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.exec_driver_sql("SELECT status FROM outbox WHERE kind = 'weekly_team'")
            return Counter(status for (status,) in rows)
    finally:
        await engine.dispose()


@asynccontextmanager
async def serve(url: str, fake: FakeSlack, log: Path) -> AsyncIterator[subprocess.Popen]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_"))}
    env.update({
        "VRAAGBOT_DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake.base_url, "VRAAGBOT_NUDGE_PLAN_SECONDS": "0.3", "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.3",
        "VRAAGBOT_OUTBOX_LEASE_SECONDS": "10",
    })
    async with healthy_server(port, env, log) as process:
        yield process


@asynccontextmanager
async def healthy_server(port: int, env: dict[str, str], log: Path) -> AsyncIterator[subprocess.Popen]:
    """`vraagbot serve` started, and yielded once /healthz answers; stopped (SIGTERM, then SIGKILL) after."""
    process = start_server(port, env, log)
    try:
        await until_healthy(port, process, log)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.wait, 20)
        if process.poll() is None:
            process.kill()


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:  # a file, not a pipe: a full pipe would block the server
        return subprocess.Popen([VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                cwd=log.parent, stdout=output, stderr=subprocess.STDOUT)


def read(log: Path) -> str:
    return log.read_text()


async def until_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, read(log)
            with suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise AssertionError(f"server did not come up:\n{read(log)}")


async def test_two_replicas_send_each_channel_exactly_one_nudge(pg_url, tmp_path):
    await asyncio.to_thread(upgrade_to_head, pg_url)
    channels = [f"C{n:03d}" for n in range(20)]
    await add_schedules(pg_url, channels)
    async with SlowSlack(delay=0.05) as fake, \
            serve(pg_url, fake, tmp_path / "a.log"), serve(pg_url, fake, tmp_path / "b.log"):
        await asyncio.sleep(1.0)  # both replicas are planning: nothing is due yet
        assert fake.delivered() == Counter()
        await make_due(pg_url, minutes_ago=2)  # "the clock reaches the send time" for both at once
        await until(lambda: set(fake.delivered()) == set(channels), 30)
        await asyncio.sleep(3.0)  # ten more planning and delivery ticks in each replica
        delivered = fake.delivered()
    assert delivered == Counter(dict.fromkeys(channels, 1))
    assert await outbox_statuses(pg_url) == Counter(sent=len(channels))
    logs = [read(tmp_path / name) for name in ("a.log", "b.log")]
    queued = [log.count("weekly nudge for slack:") for log in logs]
    assert sum(queued) == len(channels), queued  # each row was inserted by exactly one replica


async def test_a_replica_killed_halfway_through_the_fan_out_delivers_the_rest_once_after_restart(pg_url, tmp_path):
    await asyncio.to_thread(upgrade_to_head, pg_url)
    channels = [f"C{n:03d}" for n in range(8)]
    await add_schedules(pg_url, channels)
    async with SlowSlack(hold_post=4) as fake:
        try:
            async with serve(pg_url, fake, tmp_path / "first.log") as first:
                await make_due(pg_url, minutes_ago=1)
                await until(lambda: fake.held, 30)
                first.send_signal(signal.SIGKILL)  # no shutdown, no cleanup: mid fan-out
                await asyncio.to_thread(first.wait, 10)
            assert sum(fake.delivered().values()) == 3
            async with serve(pg_url, fake, tmp_path / "second.log"):
                # The rest goes out at once; the one that was on its way when the process died is
                # sent again when its lease (10 s) has run out.
                await until(lambda: set(fake.delivered()) == set(channels), 40)
                await asyncio.sleep(2.0)
                delivered = fake.delivered()
        finally:
            fake.release()
    assert delivered == Counter(dict.fromkeys(channels, 1))
    assert await outbox_statuses(pg_url) == Counter(sent=len(channels))
