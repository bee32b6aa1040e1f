"""Issue 11, Slack side. Finding 1: no request reaches the bot without a valid signature, no setting turns the
check off, and in Socket Mode there is no HTTP route for Slack at all. Finding 11: user text reaches Slack
escaped in every place Slack renders it (notification text, blocks, ephemeral and response_url replies)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from handlers import dispatch
from handlers.context import Actor
from tests.e2e import slack_requests as sr
from tests.e2e.cli import VRAAGBOT
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.fake_socket_mode import APP_TOKEN, FakeSocketMode
from tests.e2e.loopback import serving, until
from tests.e2e.slack_bot import SECRET, TEAM, USERS, SlackBot, running_slack_bot
from tests.e2e.test_serve import free_port

ATTACKER = "attacker"  # the response_url name an attacker points the bot at


@dataclass
class Deployment:
    bot: SlackBot
    fake: FakeSlack
    socket: FakeSocketMode
    runtime: Runtime

    @property
    def events_url(self) -> str:
        return f"{self.bot.url}/slack/events"


@asynccontextmanager
async def deployed(database_url: str, db_path: str, **slack: str) -> AsyncIterator[Deployment]:
    """The app as `vraagbot serve` builds it (the scheduler left off, so nothing is sent behind the test's back),
    its Slack side configured with ``slack`` on top of a bot token."""
    async with FakeSlack() as fake, FakeSocketMode(fake) as socket:
        for handle, user_id in USERS.items():
            fake.add_user(user_id, handle, real_name=handle.title())
        settings = load_settings(database_url=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url,
                                 **slack)
        runtime = build_runtime(settings)
        async with serving(create_app(runtime, start_scheduler=False)) as url, aiohttp.ClientSession() as session:
            yield Deployment(SlackBot(url, fake, db_path, session), fake, socket, runtime)


def _actor(who: str) -> Actor:
    return Actor("slack", TEAM, USERS[who], handle=who, display_name=who.title())


async def _seed(deployment: Deployment) -> int:
    """Anna has a role and was asked a question by Sanne (through the use cases, as the bot would); Anna's id."""
    deps = deployment.runtime.deps
    assert (await dispatch.handle_text(deps, _actor("anna"), "rol contracten")).ok
    assert (await dispatch.handle_text(deps, _actor("sanne"), "<@UANNA|anna> Klopt deze opzegtermijn?")).ok
    [(anna,)] = deployment.bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["anna"])
    return anna


def _attacks(fake: FakeSlack, anna_id: int) -> list[tuple[str, str]]:
    """What the review's reproduction sent: a question "from" Sanne, Anna's forget-me pressed with her small
    sequential id, each with a response_url the attacker chose."""
    url = fake.response_url(ATTACKER)
    return [
        (sr.slash_command("<@UANNA|anna> Maak 10.000 euro over naar NL00EVIL", user_id=USERS["sanne"],
                          user_name="sanne", response_url=url, enterprise_id=None), sr.FORM),
        (sr.block_action("forget_confirm", str(anna_id), user_id=USERS["anna"], user_name="anna",
                         response_url=url), sr.FORM),
        (sr.event_callback(sr.app_home_opened_event(USERS["anna"])), sr.JSON),
    ]


def _signatures(body: str) -> dict[str, dict[str, str]]:
    return {"unsigned": {}, "wrong secret": sr.sign(body, "attacker-secret"), "empty secret": sr.sign(body, ""),
            "blank secret": sr.sign(body, " "), "stale": sr.sign(body, SECRET, timestamp=1_600_000_000),
            "no signature": {"X-Slack-Request-Timestamp": sr.sign(body, SECRET)["X-Slack-Request-Timestamp"]}}


# Each way a Slack deployment can be configured, and what an HTTP request to /slack/events gets there.
DEPLOYMENTS = {
    "http": ({"SLACK_SIGNING_SECRET": SECRET}, 401),
    "socket mode": ({"SLACK_APP_TOKEN": APP_TOKEN}, 404),
    "socket mode with a secret": ({"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SECRET}, 404),
}


@pytest.mark.parametrize("mode", DEPLOYMENTS)
async def test_requests_without_a_valid_signature_change_nothing(sqlite_database_url, mode):
    slack, refused = DEPLOYMENTS[mode]
    async with deployed(sqlite_database_url, sqlite_database_url.split("///", 1)[1], **slack) as deployment:
        bot, fake = deployment.bot, deployment.fake
        anna = await _seed(deployment)
        before = bot.counts()
        for body, content_type in _attacks(fake, anna):
            for how, signature in _signatures(body).items():
                headers = {"Content-Type": content_type, **signature}
                async with bot.session.post(deployment.events_url, data=body.encode(), headers=headers) as response:
                    assert response.status == refused, (how, body[:60], await response.text())
        if deployment.runtime.slack is not None:
            await deployment.runtime.inbox.drain(10)  # work acknowledged by mistake would run here
        assert bot.counts() == before
        assert bot.rows("SELECT count(*) FROM people WHERE external_id = ?", USERS["anna"]) == [(1,)]
        assert fake.responses() == []  # the bot never called the attacker's response_url
        assert not [c for c in fake.calls() if "NL00EVIL" in json.dumps(c.args)]
        assert not fake.calls("views.publish")


async def test_a_signed_request_still_works_over_http(sqlite_database_url):
    async with deployed(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                        SLACK_SIGNING_SECRET=SECRET) as deployment:
        status, _ = await deployment.bot.command("sanne", "help")
        assert status == 200
        [answer] = await deployment.fake.wait_for_response()
        assert answer.body["response_type"] == "ephemeral"


@pytest.mark.parametrize("path", ["/slack/events", "/slack/events/", "/slack/actions", "/slack/commands"])
async def test_socket_mode_serves_no_slack_route_and_still_works_over_its_socket(sqlite_database_url, path):
    async with deployed(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                        SLACK_APP_TOKEN=APP_TOKEN) as deployment:
        body = sr.slash_command("help", user_id=USERS["sanne"], user_name="sanne",
                                response_url=deployment.fake.response_url("x"), enterprise_id=None)
        headers = {"Content-Type": sr.FORM, **sr.sign(body, "")}
        async with deployment.bot.session.post(deployment.bot.url + path, data=body, headers=headers) as response:
            assert response.status == 404
        async with deployment.bot.session.get(f"{deployment.bot.url}/healthz") as response:
            assert response.status == 200
        # The same command over the socket, as Slack delivers it in Socket Mode, is acted on.
        payload = dict(parse_qsl(body))
        payload["response_url"] = deployment.fake.response_url("socket")
        envelope_id = await deployment.socket.send("slash_commands", payload, accepts_response_payload=True)
        [answer] = await deployment.fake.wait_for_response()
        assert answer.name == "socket" and answer.body["response_type"] == "ephemeral"
        acks = await until(lambda: deployment.socket.acks)  # the ack and the lazy reply race each other
        assert [a.envelope_id for a in acks] == [envelope_id]


def _serve(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    return subprocess.run([VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                          env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("env", "line"), [
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""},
     "vraagbot: wrong setting: SLACK_SIGNING_SECRET: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "  "},
     "vraagbot: wrong setting: SLACK_SIGNING_SECRET: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": ""},
     "vraagbot: wrong setting: SLACK_APP_TOKEN: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": ""},
     "vraagbot: wrong setting: SLACK_SIGNING_SECRET: must not be empty"),
])
def test_serve_refuses_an_empty_slack_secret_with_one_line(tmp_path, env, line):
    result = _serve(tmp_path, env)
    assert result.returncode == 2, result.stderr[-2000:]
    [printed] = result.stderr.strip().splitlines()
    assert printed.startswith(line)
    assert not (tmp_path / "vraagbot.db").exists()


# ---------------------------------------------------------------------------------------------- finding 11

EVIL = "<!channel> <https://evil.example|click> <@UOTHER>"
RAW = ["<!channel>", "<!here>", "<https://evil", "<@UOTHER>"]


def _shown_texts(fake: FakeSlack) -> list[str]:
    """Each `text` Slack renders: top-level (notification fallback), in blocks, in replies and uploads."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "initial_comment") and isinstance(value, str):
                    texts.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk([c.args for c in fake.calls()] + [r.body for r in fake.responses()])
    return texts


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


async def test_user_text_reaches_slack_escaped_everywhere(bot):
    bot.fake.add_user(USERS["sanne"], "sanne", real_name="Sanne <!here>")  # names are user text too
    bot.fake.fail_mpim = True  # the question goes to Anna's DM, so her answer is relayed to Sanne
    status, _ = await bot.command("sanne", f"<@UANNA|anna> {EVIL}")
    assert status == 200
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [(qid, text)] = bot.rows("SELECT id, text FROM questions")
    assert text == EVIL  # stored as typed; escaping is the platform edge's job
    question = next(c for c in bot.fake.calls("chat.postMessage") if "UOTHER" in c.args["text"])
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;@UOTHER&gt;" in question.args["text"]
    assert "&lt;!channel&gt;" in json.dumps(question.args["blocks"])
    await bot.thread_reply("anna", qid, f"Nee. {EVIL}")  # an answer holding the same
    await until(lambda: bot.rows("SELECT id FROM replies"))
    # The answer is relayed to Sanne through the outbox: counted below only once it went out.
    await until(lambda: bot.rows("SELECT id FROM outbox WHERE kind='answer_relay' AND status='sent'"))
    await bot.command("sanne", f"{EVIL}")  # an unknown command is echoed back in the reply
    await bot.command("sanne", "mijn gegevens")  # the overview repeats the question text
    await bot.fake.wait_for_response(3)
    status, _ = await bot.press("sanne", "export_data", "0")
    assert status == 200
    await until(lambda: bot.fake.uploaded_files())
    await bot.event(sr.app_home_opened_event(USERS["sanne"]))
    await bot.fake.wait_for("views.publish")
    texts = _shown_texts(bot.fake)
    # Not vacuous: the question, the relayed answer and the echoed command, each as fallback text and blocks.
    assert len([t for t in texts if "&lt;!channel&gt;" in t]) >= 6
    leaks = [(raw, t[:120]) for t in texts for raw in RAW if raw in t]
    assert leaks == []
