"""Socket Mode when things go wrong: the real bolt app and slack_sdk's client against the fake Socket Mode
server (tests/e2e/fake_socket_mode.py) and the fake Web API.

1. No connection: /readyz answers 503 while no Socket Mode connection is open; each kind of failure is one
   log line (then at most one a minute while it lasts); a websocket that refuses holds up nothing and is
   tried again with a new URL; an app-level token Slack refuses ends `vraagbot serve` saying what to do.
2. The database away: each envelope gets what the same request gets over HTTP (bot/slack/guard.py): a
   command's ack says it was not saved; an event and a press get no ack, so Slack sends the event again
   (and shows the person that the press failed)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.app import create_app
from bot.runtime import build_runtime
from bot.settings import load_settings
from bot.slack import platform as slack_platform
from bot.slack import socket_health
from nudges.texts.catalog import load_catalog
from storage.migrate import upgrade_to_head
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.fake_socket_mode import APP_TOKEN, FakeSocketMode
from tests.e2e.loopback import eventually, serving, until
from tests.e2e.slack_bot import USERS
from tests.e2e.test_postgres_restart import query
from tests.e2e.test_serve import free_port
from tests.e2e.test_socket_mode import ACK_LIMIT_SECONDS, PLATFORM_LOG, _opened, _serve_env, serve_until_it_stops
from tests.private_postgres import PrivatePostgres

NOT_SAVED = load_catalog().text("nl", "error.not_saved")
FOREVER = 10**6  # times a fault repeats: until the test clears it


class Bot:
    def __init__(self, api: FakeSlack, socket: FakeSocketMode, url: str, session: aiohttp.ClientSession) -> None:
        self.api, self.socket, self.url, self.session = api, socket, url, session

    async def readiness(self) -> tuple[int, dict[str, str]]:
        async with self.session.get(f"{self.url}/readyz") as response:
            return response.status, (await response.json())["checks"]

    async def ready(self) -> bool:
        return (await self.readiness())[0] == 200

    async def not_ready(self) -> bool:
        return (await self.readiness())[0] == 503

    async def ask(self, text: str, name: str) -> str:
        return await self.socket.command(sr.slash_command(
            f"<@UANNA|anna> {text}", user_id=USERS["sanne"], user_name="sanne",
            response_url=self.api.response_url(name), trigger_id=f"trigger-{name}", enterprise_id=None))


@asynccontextmanager
async def socket_bot(database_url: str, faults: Any = None, **settings: Any) -> AsyncIterator[Bot]:
    """The bot as `vraagbot serve` builds it in Socket Mode; ``faults(api, socket)`` before it first connects."""
    async with FakeSlack() as api, FakeSocketMode(api) as socket:
        for handle, user_id in USERS.items():
            api.add_user(user_id, handle, real_name=handle.title())
        if faults is not None:
            faults(api, socket)
        config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=api.base_url, **settings)
        async with asyncio.timeout(30):  # start-up must not wait for a connection that cannot be opened
            started = serving(create_app(build_runtime(config)))
            url = await started.__aenter__()
        try:
            async with aiohttp.ClientSession() as session:
                yield Bot(api, socket, url, session)
        finally:
            await started.__aexit__(None, None, None)


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the platform said at WARNING and above."""
    return [r.getMessage() for r in caplog.records if r.name == PLATFORM_LOG and r.levelno >= logging.WARNING]


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Attempts a twentieth of a second apart, so a test sees many of them; the log's minute stays a minute."""
    monkeypatch.setattr(slack_platform, "OPEN_FIRST_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(slack_platform, "OPEN_MAX_WAIT_SECONDS", 0.05)


# ------------------------------------------------------------------------------ 1. no connection


async def test_readyz_is_503_while_no_socket_mode_connection_is_open(sqlite_database_url, quick_retries, caplog):
    caplog.set_level(logging.INFO)

    def failing(api: FakeSlack, socket: FakeSocketMode) -> None:
        api.error("apps.connections.open", "internal_error", times=FOREVER)

    async with socket_bot(sqlite_database_url, failing) as bot:
        status, checks = await bot.readiness()
        assert status == 503 and "internal_error" in checks["socket_mode"], checks
        await eventually(lambda: _opened(bot.api) >= 20)  # tried again and again ...
        assert len(_told(caplog)) == 1, _told(caplog)  # ... and said once
        bot.api._faults.clear()  # Slack hands out URLs again
        await bot.socket.wait_for_connection()
        await eventually(bot.ready)
        assert (await bot.readiness())[1]["socket_mode"] == "ok"

        bot.api.error("apps.connections.open", "internal_error", times=FOREVER)
        await bot.socket.drop()  # gone, and not to be opened again for now
        await eventually(bot.not_ready)
        bot.api._faults.clear()
        await eventually(bot.ready)
        ack = await bot.socket.wait_for_ack(await bot.ask("Weer verbonden?", "after"))
        assert ack.payload is None
    assert not _tracebacks(caplog), _tracebacks(caplog)


async def test_a_failure_that_lasts_is_said_again_once_a_minute_at_most(sqlite_database_url, quick_retries,
                                                                       monkeypatch, caplog):
    monkeypatch.setattr(socket_health, "REPEAT_LOG_SECONDS", 0.5)
    caplog.set_level(logging.INFO)

    def failing(api: FakeSlack, socket: FakeSocketMode) -> None:
        api.error("apps.connections.open", "internal_error", times=FOREVER)

    async with socket_bot(sqlite_database_url, failing) as bot:
        started = time.monotonic()
        await asyncio.sleep(1.6)
        attempts, seconds = _opened(bot.api), time.monotonic() - started
        told = _told(caplog)
        assert attempts >= 10, attempts
        assert 2 <= len(told) <= seconds / 0.5 + 1, told  # the first, then one a "minute"
        assert "still" in told[-1] and "attempts" in told[-1], told
        bot.api._faults.clear()
        await bot.socket.wait_for_connection()
    assert any("connected in Socket Mode" in r.getMessage() for r in caplog.records)


async def test_a_websocket_that_refuses_holds_up_nothing_and_is_tried_with_a_new_url(sqlite_database_url,
                                                                                    quick_retries, caplog):
    caplog.set_level(logging.INFO)
    refusals = 12

    def refusing(api: FakeSlack, socket: FakeSocketMode) -> None:
        socket.refuse(403, times=refusals)

    async with socket_bot(sqlite_database_url, refusing) as bot:  # started, though no connection opens yet
        await bot.socket.wait_for_connection()
        assert len(bot.socket.refused) == refusals
        assert len(set(bot.socket.refused)) == refusals  # a new URL each time: a refused one is not tried again
        assert _opened(bot.api) == refusals + 1
        told = _told(caplog)
        assert len(told) == 1 and "403" in told[0], told
        await eventually(bot.ready)
        ack = await bot.socket.wait_for_ack(await bot.ask("Via de nieuwe verbinding?", "after"))
        assert ack.payload is None
    assert not _tracebacks(caplog), _tracebacks(caplog)


@pytest.mark.parametrize("how", ["HTTP 503", "port closed"])
async def test_a_websocket_that_cannot_be_opened_is_not_ready_and_said_once(sqlite_database_url, quick_retries,
                                                                           caplog, how):
    caplog.set_level(logging.INFO)
    closed_port = free_port()  # nothing listens there

    def failing(api: FakeSlack, socket: FakeSocketMode) -> None:
        if how == "port closed":
            api.socket_urls = lambda: f"ws://127.0.0.1:{closed_port}/link/?ticket=gone"
        else:
            socket.refuse(503, times=FOREVER)

    async with socket_bot(sqlite_database_url, failing) as bot:
        await eventually(lambda: _opened(bot.api) >= 10)
        status, checks = await bot.readiness()
        assert status == 503 and checks["socket_mode"].startswith("not connected"), checks
        told = _told(caplog)
        assert len(told) == 1, told
        reason = checks["socket_mode"].removeprefix("not connected (").removesuffix(")")
        assert ("HTTP 503" if how == "HTTP 503" else str(closed_port)) in reason and reason in told[0], told
    assert not _tracebacks(caplog), _tracebacks(caplog)


@pytest.mark.parametrize("code", ["not_allowed_token_type", "token_revoked"])
async def test_an_app_token_slack_refuses_for_good_ends_serve_saying_what_to_do(tmp_path, code):
    async with FakeSlack() as api, FakeSocketMode(api):
        api.error("apps.connections.open", code)
        returncode, output = await serve_until_it_stops(tmp_path, _serve_env(f"sqlite:///{tmp_path}/bot.db", api))
    assert returncode == 2, output
    [told] = [line for line in output.splitlines() if code in line]
    assert "SLACK_APP_TOKEN" in told and "xapp-" in told and "connections:write" in told, told
    assert "Traceback" not in output


# ------------------------------------------------------------------------- 2. the database away


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as pg:
        upgrade_to_head(pg.url)
        yield pg


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_with_the_database_away_each_envelope_gets_what_http_would(private_pg):
    url = private_pg.url
    async with socket_bot(url, db_retry_seconds=30) as bot:
        await bot.socket.wait_for_ack(await bot.ask("Eerste vraag?", "first"))
        [question] = await until(lambda: query(url, "SELECT id, thread_ref FROM questions "
                                                    "WHERE thread_ref IS NOT NULL"), 20)
        channel, thread_ts = question["thread_ref"].split(":", 1)
        reply = sr.event_callback(sr.thread_reply_event(
            "Antwoord terwijl de database weg is.", user=USERS["anna"], channel=channel, thread_ts=thread_ts,
            ts=f"{time.time():.6f}"), event_id="EvDown1")
        await asyncio.to_thread(private_pg.stop)
        try:
            command = await bot.ask("Opgeslagen?", "down")
            event = await bot.socket.event(reply)
            press = await bot.socket.interaction(sr.block_action(
                "tag_gunst", str(question["id"]), user_id=USERS["anna"], user_name="anna",
                response_url=bot.api.response_url("press"), trigger_id="trigger-press"))
            ack = await bot.socket.wait_for_ack(command)
            assert bot.socket.ack_seconds(command) < ACK_LIMIT_SECONDS
            assert ack.payload == {"text": NOT_SAVED, "response_type": "ephemeral"}  # HTTP's 200 with the line
            await asyncio.sleep(ACK_LIMIT_SECONDS + 1)  # longer than Slack waits for an ack
            assert not bot.socket.acks_for(event) and not bot.socket.acks_for(press)  # HTTP's 503: no ack
        finally:
            await asyncio.to_thread(private_pg.start)
        again = await bot.socket.event(reply, retry_attempt=1)  # as Slack does, for an envelope not acked
        await bot.socket.wait_for_ack(again, timeout=30)
        replies = await until(lambda: query(url, "SELECT text FROM replies"), 30)
        assert [r["text"] for r in replies] == ["Antwoord terwijl de database weg is."]
        assert not bot.api.responses("press")  # the press had no effect: the person sees it failed, presses again
