"""Socket Mode end to end (issue 16, item 1): the real bolt app and slack_sdk's Socket Mode client against a
fake Socket Mode server (tests/e2e/fake_socket_mode.py) and the fake Web API.

The same journeys as over HTTP (tests/e2e/test_slack.py), each envelope acked within Slack's 3 seconds; an
acked envelope is kept through a kill -9; a `disconnect` and a dropped connection lose nothing; there is no
/slack/events; and a refused app-level token ends start-up with one line instead of retrying for ever."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.e2e import slack_requests as sr
from tests.e2e.cli import VRAAGBOT
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.fake_socket_mode import APP_TOKEN, Ack, FakeSocketMode
from tests.e2e.loopback import eventually, serving, until
from tests.e2e.slack_bot import SECRET, USERS, SlackBot
from tests.e2e.test_inbox_kill import (
    ASKERS,
    EXPERT,
    StoredQuestions,
    burst_database,  # noqa: F401 - a fixture: SQLite, and PostgreSQL
    question_text,
    slack_with_people,
)
from tests.e2e.test_serve import free_port
from tests.e2e.test_weekly_replicas import healthy_server

# Slack's limit for an ack (a protocol rule, not a performance target): later, and Slack shows the person an
# error or delivers the event again.
ACK_LIMIT_SECONDS = 3.0
PLATFORM_LOG = "bot.slack.platform"


@dataclass
class SocketBot:
    """The bot as `vraagbot serve` builds it in Socket Mode; requests reach it over ``socket``."""

    api: FakeSlack
    socket: FakeSocketMode
    runtime: Runtime
    db: SlackBot  # its database and HTTP address (rows, texts_to, url)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _name(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    async def acked(self, envelope_id: str) -> Ack:
        ack = await self.socket.wait_for_ack(envelope_id)
        assert self.socket.ack_seconds(envelope_id) < ACK_LIMIT_SECONDS, envelope_id
        return ack

    async def command(self, who: str, text: str) -> Ack:
        name = self._name("cmd")
        body = sr.slash_command(text, user_id=USERS[who], user_name=who, response_url=self.api.response_url(name),
                                trigger_id=f"trigger-{name}", enterprise_id=None)
        return await self.acked(await self.socket.command(body))

    async def press(self, who: str, action_id: str, value: str) -> Ack:
        name = self._name("act")
        body = sr.block_action(action_id, value, user_id=USERS[who], user_name=who,
                               response_url=self.api.response_url(name), trigger_id=f"trigger-{name}")
        return await self.acked(await self.socket.interaction(body))

    async def submit(self, values: dict[str, Any]) -> Ack:
        body = sr.view_submission("vraag_modal", values, user_id=USERS["sanne"], user_name="sanne",
                                  private_metadata="nl")
        return await self.acked(await self.socket.interaction(body))

    async def thread_reply(self, who: str, question_id: int, text: str) -> Ack:
        [(thread_ref,)] = self.db.rows("SELECT thread_ref FROM questions WHERE id = ?", question_id)
        channel, thread_ts = thread_ref.split(":", 1)
        event = sr.thread_reply_event(text, user=USERS[who], channel=channel, thread_ts=thread_ts,
                                      ts=f"{time.time():.6f}")
        return await self.acked(await self.socket.event(sr.event_callback(event, event_id=self._name("Ev"))))

    async def quick_ask(self, text: str = "<@UANNA|anna> Mag ik deze offerte goedkeuren?") -> int:
        await self.command("sanne", text)
        await until(lambda: self.db.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
        return self.db.rows("SELECT max(id) FROM questions")[0][0]


@asynccontextmanager
async def running_socket_bot(database_url: str, db_path: str, *, before_start: Any = None,
                             **settings: Any) -> AsyncIterator[SocketBot]:
    """``before_start(api)``: faults to set on the fake Web API before the bot first connects."""
    async with FakeSlack() as api, FakeSocketMode(api) as socket:
        for handle, user_id in USERS.items():
            api.add_user(user_id, handle, real_name=handle.title())
        if before_start is not None:
            before_start(api)
        config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=api.base_url, **settings)
        runtime = build_runtime(config)
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield SocketBot(api, socket, runtime, SlackBot(url, api, db_path, session, runtime))


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_socket_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def _opened(api: FakeSlack) -> int:
    return len(api.calls("apps.connections.open"))


# ------------------------------------------------------------------------------------------- journeys


async def test_a_quick_ask_by_command_reaches_the_expert_and_the_asker_is_answered(bot):
    ack = await bot.command("sanne", "<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja | twijfel")
    assert ack.payload is None  # acked empty: the answer follows on the response_url
    await until(lambda: bot.db.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [confirmation] = await bot.api.wait_for_response()
    assert "Je vraag (#1) staat bij Anna" in confirmation.body["text"]
    question = next(c for c in bot.api.calls("chat.postMessage") if "Vraag #1" in c.args["text"])
    assert bot.api.opened[question.args["channel"]] == sorted([USERS["sanne"], USERS["anna"]])
    assert bot.db.rows("SELECT text, first_assessment, kind FROM questions") == [
        ("Mag ik deze offerte goedkeuren?", "ja", "doubt")]


async def test_a_thread_reply_event_is_recorded(bot):
    qid = await bot.quick_ask()
    ack = await bot.thread_reply("anna", qid, "Jep, helemaal juist. Goed dat je het checkt.")
    assert ack.payload is None
    await until(lambda: bot.db.rows("SELECT id FROM replies"))
    assert bot.db.rows("SELECT question_id, curt FROM replies") == [(qid, 0)]
    await until(lambda: [t for t in bot.db.texts_to("sanne") if "Hoe liep vraag #1 af?" in t])


async def test_a_button_press_by_the_expert_tags_the_question(bot):
    qid = await bot.quick_ask()
    await bot.press("anna", "tag_gunst", str(qid))
    await until(lambda: bot.db.rows("SELECT tag FROM questions WHERE tag = 'gunst'"))
    assert bot.db.rows("SELECT tag, tag_source FROM questions") == [("gunst", "expert")]
    replies = await bot.api.wait_for_response(count=2)
    assert "vraag #1 is een gunst" in replies[-1].body["text"]


async def test_a_modal_submit_asks_and_its_field_errors_come_back_in_the_ack(bot):
    await bot.command("sanne", "")  # the bare command opens the form
    [opened] = await bot.api.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "vraag_modal"
    missing = await bot.submit({"question": {"value": {"type": "plain_text_input", "value": "Aan wie?"}}})
    assert missing.payload == {"response_action": "errors",
                               "errors": {"expert": "Kies een collega of vul een onderwerp in."}}
    ack = await bot.submit({
        "expert": {"value": {"type": "users_select", "selected_user": USERS["anna"]}},
        "topic": {"value": {"type": "plain_text_input", "value": "Contracten"}},
        "question": {"value": {"type": "plain_text_input", "value": "Klopt deze opzegtermijn?"}},
        "urgent": {"value": {"type": "checkboxes", "selected_options": [{"value": "urgent"}]}},
    })
    assert ack.payload is None  # closes the modal
    await until(lambda: bot.db.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    assert bot.db.rows("SELECT text, topic, urgent FROM questions") == [("Klopt deze opzegtermijn?", "contracten", 1)]
    await until(lambda: any("staat bij Anna" in t for t in bot.db.texts_to("sanne")))


async def test_in_socket_mode_slack_events_over_http_are_not_found_and_change_nothing(sqlite_database_url):
    async with running_socket_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                  SLACK_SIGNING_SECRET=SECRET) as bot:
        body = sr.slash_command("<@UANNA|anna> Via HTTP?", user_id=USERS["sanne"], user_name="sanne",
                                response_url=bot.api.response_url("http"), enterprise_id=None)
        status, _ = await bot.db.post(body, sr.FORM)  # correctly signed, with the secret the bot has
        assert status == 404
        await bot.quick_ask()  # the socket is how requests come in
        assert bot.db.rows("SELECT text FROM questions") == [("Mag ik deze offerte goedkeuren?",)]


# ------------------------------------------------------------------------------------- connections


async def test_a_disconnect_makes_the_client_reconnect_and_loses_nothing(bot):
    await bot.quick_ask()
    first = await bot.socket.wait_for_connection()
    name = "before-disconnect"
    before = await bot.socket.command(sr.slash_command(
        "<@UANNA|anna> Vlak voor de disconnect?", user_id=USERS["sanne"], user_name="sanne",
        response_url=bot.api.response_url(name), trigger_id=f"trigger-{name}", enterprise_id=None))
    await bot.socket.disconnect()  # at once: the envelope above is still being handled
    await bot.command("lotte", "<@UANNA|anna> Na de disconnect?")  # waits for the new connection
    await bot.acked(before)
    assert _opened(bot.api) == 2 and len(bot.socket.connections) == 2
    await until(lambda: first.closed_at is not None)  # the client left the old connection
    await until(lambda: len(bot.db.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL")) == 3)
    assert sorted(t for (t,) in bot.db.rows("SELECT text FROM questions")) == [
        "Mag ik deze offerte goedkeuren?", "Na de disconnect?", "Vlak voor de disconnect?"]


async def test_a_dropped_connection_is_reopened_and_later_envelopes_work(bot, caplog):
    await bot.quick_ask()
    bot.api.error("apps.connections.open", "internal_error")  # the first attempt to reconnect fails too
    caplog.set_level(logging.INFO)
    await bot.socket.drop()
    # The client notices within a few of its ping intervals, and tries again after a back-off.
    await eventually(lambda: len(bot.socket.live()) == 1 and len(bot.socket.connections) == 2)
    assert _opened(bot.api) == 3
    warned = [r for r in caplog.records if r.name == PLATFORM_LOG and r.levelno == logging.WARNING]
    assert len(warned) == 1 and "internal_error" in warned[0].getMessage()
    await bot.command("lotte", "<@UANNA|anna> Na de onderbreking?")
    await until(lambda: len(bot.db.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL")) == 2)


async def test_a_token_refused_on_a_reconnect_is_one_error_line_and_tried_again_later(bot, caplog):
    await bot.quick_ask()
    bot.api.error("apps.connections.open", "token_revoked")  # and Slack thinks better of it a second later
    caplog.set_level(logging.INFO)
    await bot.socket.disconnect()
    await bot.socket.wait_for_connection(count=2)
    told = [r for r in caplog.records if r.name == PLATFORM_LOG and r.levelno >= logging.WARNING]
    assert [(r.levelno, "token_revoked" in r.getMessage()) for r in told] == [(logging.ERROR, True)]
    await bot.command("lotte", "<@UANNA|anna> Na het herverbinden?")
    await until(lambda: len(bot.db.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL")) == 2)


async def test_transient_failures_to_connect_at_start_are_retried_with_one_warning_each(sqlite_database_url,
                                                                                      caplog):
    caplog.set_level(logging.INFO)

    def failing(api: FakeSlack) -> None:
        api.error("apps.connections.open", "internal_error")
        api.fail("apps.connections.open", status=503, times=3)  # more than the Web API client retries itself

    async with running_socket_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                  before_start=failing) as bot:
        await bot.socket.wait_for_connection()
        warned = [r.getMessage() for r in caplog.records if r.name == PLATFORM_LOG and r.levelno == logging.WARNING]
        assert len(warned) == 2, warned
        assert "internal_error" in warned[0] and "503" in warned[1]
        assert not [r for r in caplog.records if r.name == PLATFORM_LOG and r.levelno >= logging.ERROR]
        await bot.quick_ask()


# ------------------------------------------------------------------------- vraagbot serve, as run


def _serve_env(database_url: str, api: FakeSlack, app_token: str = APP_TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    env.update({"VRAAGBOT_DATABASE_URL": database_url, "VRAAGBOT_LOG_FORMAT": "text",
                "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": app_token, "SLACK_API_URL": api.base_url,
                "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.3", "VRAAGBOT_INBOX_LEASE_SECONDS": "10"})
    return env


@asynccontextmanager
async def vraagbot_serve(database_url: str, api: FakeSlack, log: Path) -> AsyncIterator[subprocess.Popen]:
    port = free_port()
    async with healthy_server(port, _serve_env(database_url, api), log) as process:
        yield process


BURST = 50


@pytest.mark.timeout(240)
async def test_every_acked_envelope_of_a_burst_is_kept_once_across_a_kill(burst_database, tmp_path):  # noqa: F811
    stored = StoredQuestions(burst_database)
    async with slack_with_people() as api, FakeSocketMode(api) as socket:
        async with vraagbot_serve(burst_database, api, tmp_path / "first.log") as first:
            await socket.wait_for_connection()
            envelopes = [await socket.command(sr.slash_command(
                f"<@{EXPERT}> {question_text(n)}", user_id=ASKERS[n % len(ASKERS)], user_name=f"asker{n}",
                response_url=api.response_url(f"ask{n}"), trigger_id=f"trigger-socket-{n}", enterprise_id=None))
                for n in range(BURST)]
            for envelope_id in envelopes:
                await socket.wait_for_ack(envelope_id, timeout=30)
            first.send_signal(signal.SIGKILL)  # right after the last ack: no shutdown, no draining
            await asyncio.to_thread(first.wait, 10)
        slow = {e: s for e in envelopes if (s := socket.ack_seconds(e)) >= ACK_LIMIT_SECONDS}
        assert not slow, f"acked later than Slack waits: {slow}"
        stored_at_kill = len(await stored.read())

        async with vraagbot_serve(burst_database, api, tmp_path / "second.log"):
            await socket.wait_for_connection(count=2)  # the restarted bot opened a connection of its own
            watcher = asyncio.create_task(stored.watch())
            try:
                await until(lambda: len(stored.texts()) >= BURST or stored.stalled(), 150)
            finally:
                watcher.cancel()
        rows = await stored.read()
    texts = Counter(t for _, t in rows)
    missing = [n for n in range(BURST) if question_text(n) not in texts]
    assert not missing, f"acked but lost: {missing} ({stored_at_kill} stored at the kill)"
    assert set(texts.values()) == {1}, texts.most_common(3)
    assert len(texts) == BURST


async def serve_until_it_stops(tmp_path, env: dict[str, str], seconds: float = 60) -> tuple[int, str]:
    """`vraagbot serve` that is expected to stop by itself: its exit code and everything it printed."""
    command = [VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(free_port())]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,  # noqa: ASYNC220 - at once
                               stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = await asyncio.to_thread(process.communicate, timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = await asyncio.to_thread(process.communicate)
        raise AssertionError(f"still running after {seconds:.0f} s:\n{output[-3000:]}") from None
    return process.returncode, output


async def test_a_refused_app_token_ends_start_up_with_one_line(tmp_path):
    async with FakeSlack() as api, FakeSocketMode(api):
        returncode, output = await serve_until_it_stops(
            tmp_path, _serve_env(f"sqlite:///{tmp_path}/bot.db", api, "xapp-1-revoked"))
    assert returncode not in (0, None), output
    told = [line for line in output.splitlines() if "invalid_auth" in line]
    assert len(told) == 1, output
    assert "SLACK_APP_TOKEN" in told[0]
    assert "Traceback" not in output and "Unclosed" not in output  # nothing after the line but the exit
    assert _opened(api) == 1  # not tried again: a refused token stays refused
