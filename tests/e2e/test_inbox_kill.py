"""Acknowledged means kept (issue 12): a burst of signed quick asks into a real `vraagbot serve`,
SIGKILL right after the last acknowledgement, a restart on the same database. Every question that
got its 200 is then stored exactly once, and its asker and expert are told about it at most once.

Slack never retries a slash command that got its 200, so an acknowledged question that is not
stored is a question the asker believes was sent. The fake Slack runs in this test process; the
database is read with plain SQL, as anyone looking at it from outside would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from tests.db_fixtures import empty_postgres_database, sqlite_url
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import until
from tests.e2e.test_serve import free_port
from tests.e2e.test_weekly_replicas import healthy_server

pytestmark = pytest.mark.timeout(300)

SECRET = "burst-signing-secret"
EXPERT = "UEXPERT"
ASKERS = [f"UASK{n:02d}" for n in range(20)]  # several people: the work of one person may be kept in order
BURST = 300
RATE = 150.0  # requests per second, sent without waiting for each other's answers
QUIET_SECONDS = 2.0  # settled: every acked question is there and nothing changed for this long
# Waiting goes on while questions keep arriving; it gives up when none came for STALL_SECONDS (more
# than the work lease below, after which what the killed process had taken on is run again).
STALL_SECONDS = 25.0
MAX_SETTLE_SECONDS = 150.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def burst_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test's own: a SQLite file, or a private PostgreSQL database."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "burst.db")
        upgrade_to_head(url)
        yield url
        return
    with empty_postgres_database() as url:
        upgrade_to_head(url)
        yield url


@asynccontextmanager
async def vraagbot_serve(url: str, fake: FakeSlack, log: Path) -> AsyncIterator[tuple[subprocess.Popen, str]]:
    """`vraagbot serve` in HTTP mode against the fake Slack; yields the process and its base URL.
    (test_weekly_replicas.serve does not tell its port, and sets no lease for the request path.)"""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_"))}
    env.update({
        "VRAAGBOT_DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url, "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.3", "VRAAGBOT_OUTBOX_LEASE_SECONDS": "10",
        # Work the killed process had taken on is free again after this long (unknown settings are ignored).
        "VRAAGBOT_INBOX_LEASE_SECONDS": "10",
    })
    async with healthy_server(port, env, log) as process:
        yield process, f"http://127.0.0.1:{port}"


def slack_with_people() -> FakeSlack:
    fake = FakeSlack()
    fake.add_user(EXPERT, "expert", real_name="Expert")
    for n, asker in enumerate(ASKERS):
        fake.add_user(asker, f"asker{n}", real_name=f"Asker {n}")
    return fake


def question_text(n: int) -> str:
    """What is stored for ask ``n``: the command's text without the mention of the expert."""
    return f"vraag nummer {n} uit de burst: klopt deze termijn?"


def ask_body(fake: FakeSlack, n: int) -> str:
    asker = ASKERS[n % len(ASKERS)]
    return sr.slash_command(f"<@{EXPERT}> {question_text(n)}", user_id=asker, user_name=asker.lower(),
                            response_url=fake.response_url(f"ask{n}"), trigger_id=f"trigger-burst-{n}",
                            enterprise_id=None)


async def send_burst(base_url: str, fake: FakeSlack) -> dict[int, int | str]:
    """Every ask at its own moment (``RATE`` per second), concurrently; each one's HTTP status, or
    the error that kept it from getting one (then it was not acknowledged)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    outcome: dict[int, int | str] = {}
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        async def send(n: int) -> None:
            await asyncio.sleep(max(0.0, start + n / RATE - loop.time()))
            try:
                status, _, _ = await sr.post_signed(session, f"{base_url}/slack/events", ask_body(fake, n),
                                                    secret=SECRET, content_type=sr.FORM)
                outcome[n] = status
            except (aiohttp.ClientError, TimeoutError) as error:
                outcome[n] = type(error).__name__

        await asyncio.gather(*(send(n) for n in range(BURST)))
    return outcome


class StoredQuestions:
    """The `questions` table as seen from outside, read every few tenths of a second."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.rows: list[tuple[int, str]] = []
        self.changed_at = time.monotonic()

    async def read(self) -> list[tuple[int, str]]:
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                result = await connection.execute(text("SELECT id, text FROM questions ORDER BY id"))
                return [(row[0], row[1]) for row in result]
        finally:
            await engine.dispose()

    async def watch(self) -> None:
        self.changed_at = time.monotonic()
        while True:
            rows = await self.read()
            if rows != self.rows:
                self.rows, self.changed_at = rows, time.monotonic()
            await asyncio.sleep(0.3)

    def texts(self) -> Counter[str]:
        return Counter(t for _, t in self.rows)

    def settled(self, acked: set[str]) -> bool:
        return acked <= set(self.texts()) and time.monotonic() - self.changed_at >= QUIET_SECONDS

    def stalled(self) -> bool:
        return time.monotonic() - self.changed_at >= STALL_SECONDS


async def test_every_acknowledged_ask_of_a_burst_is_kept_exactly_once_across_a_kill(burst_database, tmp_path):
    stored = StoredQuestions(burst_database)
    async with slack_with_people() as fake:
        async with vraagbot_serve(burst_database, fake, tmp_path / "first.log") as (first, base_url):
            outcome = await send_burst(base_url, fake)
            first.send_signal(signal.SIGKILL)  # right after the last answer: no shutdown, no draining
            await asyncio.to_thread(first.wait, 10)
        stored_at_kill = len(await stored.read())
        acked = {question_text(n) for n, status in outcome.items() if status == 200}
        unacked = {question_text(n) for n, status in outcome.items() if status != 200}
        assert len(acked) >= BURST * 0.9, f"most asks should be acknowledged: {Counter(outcome.values())}"

        async with vraagbot_serve(burst_database, fake, tmp_path / "second.log"):
            watcher = asyncio.create_task(stored.watch())
            try:
                # Stalled before all were there: the assertions below say what is wrong.
                await until(lambda: stored.settled(acked) or stored.stalled(), MAX_SETTLE_SECONDS)
            finally:
                watcher.cancel()
        rows = await stored.read()
    texts = Counter(t for _, t in rows)

    missing = sorted(acked - set(texts), key=lambda t: int(t.split()[2]))
    assert not missing, (f"{len(missing)} of {len(acked)} acknowledged questions were lost "
                         f"({stored_at_kill} stored when the process was killed, {len(rows)} after the restart); "
                         f"first lost: {missing[:3]}")
    twice = {t: n for t, n in texts.items() if n > 1}
    assert not twice, f"{len(twice)} questions stored more than once, e.g. {list(twice.items())[:3]}"
    assert set(texts) <= acked | unacked, f"stored questions nobody sent: {sorted(set(texts) - acked - unacked)[:3]}"

    # Told at most once: each asker's confirmation (on the response_url, or in a DM) and the
    # expert's question message, per stored question.
    asker_dms = {channel for channel, users in fake.opened.items() if len(users) == 1 and users[0] in ASKERS}
    told = [r.body.get("text", "") if isinstance(r.body, dict) else str(r.body) for r in fake.responses()]
    told += [c.args.get("text", "") for c in fake.calls("chat.postMessage") if c.args.get("channel") in asker_dms]
    shown = [c.args.get("text", "") for c in fake.calls("chat.postMessage")]
    confirmed_twice = {qid: n for qid in dict(rows) if (n := sum(f"(#{qid}) staat bij" in t for t in told)) > 1}
    assert not confirmed_twice, f"askers told twice that their question was sent: {confirmed_twice}"
    posted_twice = {qid: n for qid in dict(rows) if (n := sum(t.startswith(f"Vraag #{qid} ") for t in shown)) > 1}
    assert not posted_twice, f"questions posted to the expert more than once: {posted_twice}"
    per_request = Counter(r.name for r in fake.responses() if "staat bij" in str(r.body))
    assert all(n == 1 for n in per_request.values()), per_request.most_common(3)
