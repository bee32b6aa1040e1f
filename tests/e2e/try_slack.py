"""Try the Slack integration without Slack: `python -m tests.e2e.try_slack [--mode http|socket|oauth]`.

Starts the fake Slack Web API, runs `vraagbot serve` against it exactly as README says for the mode (its
SLACK_* variables, a fresh SQLite file), plays one question as Slack would deliver it, and prints what each
person would see in Slack: to whom each message went, its whole text (wrapped, not cut) and its blocks as
text, buttons as `[ label ]`. Stops by itself.

- http (the default): one workspace, signed requests to /slack/events; a forged one is refused.
- socket: Socket Mode; the same requests as envelopes over the fake Socket Mode websocket, each with the
  time until its ack; /slack/events is not there (404); a `disconnect`, and a request on the new connection.
- oauth: OAuth distribution; an admin's install (/slack/install, Slack's redirect back with its state and
  cookie), the question in that workspace, a request from a workspace without an install, an uninstall.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from cryptography.fernet import Fernet

from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import BOT_USER_ID, FakeSlack
from tests.e2e.fake_socket_mode import APP_TOKEN, FakeSocketMode

SECRET = "try-it-secret"
USERS = {"sanne": "USANNE", "anna": "UANNA", "kees": "UKEES"}  # kees: in a workspace without the app
TEAM = "T0001"  # the workspace the signed requests come from (slack_requests' default)
OTHER_TEAM = "T0404"  # a workspace that never installed the app (OAuth)
CHANNEL_NAMES = {"C0001": "general"}  # the channel the signed requests come from (slack_requests' default)
WIDTH = 96  # printed lines are wrapped to this width
INDENT = " " * 8
SHOWN = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open", "views.publish", "views.update")
MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_healthy(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    raise SystemExit("vraagbot serve did not come up")


def _button_rows(buttons: list[str]) -> list[str]:
    """Buttons side by side, as many as fit on a line: a label is never split over two lines."""
    rows: list[str] = []
    for button in buttons:
        if rows and len(rows[-1]) + 2 + len(button) <= WIDTH - len(INDENT):
            rows[-1] += "  " + button
        else:
            rows.append(button)
    return rows


class SlackView:
    """Renders what the fake Slack received as a person would see it in the Slack client."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    # ---- to whom

    def name(self, user_id: str) -> str:
        if user_id == BOT_USER_ID:
            return "vraagbot"
        user = self.fake.users.get(user_id)
        return user["real_name"] if user else user_id

    def conversation(self, channel: str) -> str:
        """A conversation as Slack's sidebar names it: #channel, a DM or a group DM (the bot left out)."""
        members = self.fake.opened.get(channel)
        if members is not None:
            names = sorted(self.name(m) for m in members if m != BOT_USER_ID)
            return f"DM with {names[0]}" if len(names) == 1 else f"group DM with {', '.join(names)}"
        if channel.startswith(("U", "W")):  # posting to a user id lands in the DM with the bot
            return f"DM with {self.name(channel)}"
        if channel in CHANNEL_NAMES:
            return f"#{CHANNEL_NAMES[channel]}"
        return f"conversation {channel}"

    def recipient(self, method: str, args: dict[str, Any]) -> str:
        if method == "chat.postEphemeral":
            where, who = self.conversation(str(args.get("channel", ""))), self.name(str(args.get("user")))
            return f"{where}{', in the thread' if args.get('thread_ts') else ''}, only {who} sees this"
        if method == "views.publish":
            return f"App Home of {self.name(str(args.get('user_id')))}"
        if method in ("views.open", "views.update"):
            return "a form opens"
        where = self.conversation(str(args.get("channel", "")))
        if method == "chat.update":
            return f"{where}, a message changed"
        return f"{where}, in the thread" if args.get("thread_ts") else where

    # ---- what they see

    def mrkdwn(self, text: str) -> str:
        """Mentions and links as the client shows them, then Slack's &amp; &lt; &gt; undone."""
        def shown(match: re.Match[str]) -> str:
            sigil, target, label = match.groups()
            if sigil == "@":
                return f"@{label or self.name(target)}"
            if sigil == "#":
                return f"#{label or CHANNEL_NAMES.get(target, target)}"
            return f"@{label or target}" if sigil == "!" else match.group(0)

        return html.unescape(MENTION.sub(shown, text))

    def _text(self, obj: dict[str, Any] | None) -> str:
        if not obj:
            return ""
        return self.mrkdwn(obj.get("text", "")) if obj.get("type") == "mrkdwn" else obj.get("text", "")

    def block_lines(self, block: dict[str, Any]) -> list[str]:
        kind = block.get("type")
        if kind in ("section", "header"):
            lines = [self._text(block.get("text"))] + [self._text(f) for f in block.get("fields", [])]
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines[-1] += f"   [ {self._text(accessory.get('text'))} ]"
            return [line.upper() if kind == "header" else line for line in lines]
        if kind == "context":
            return ["(" + " ".join(self._text(e) for e in block.get("elements", []) if "text" in e) + ")"]
        if kind == "actions":
            return _button_rows([f"[ {self._text(e.get('text'))} ]" for e in block.get("elements", [])
                                 if e.get("type") == "button"])
        if kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            return [f"{self._text(block.get('label'))}{optional}: ____"]
        if kind == "divider":
            return ["-" * 20]
        return [f"<{kind} block>"]

    def message_lines(self, args: dict[str, Any]) -> list[str]:
        view = args.get("view")
        if isinstance(view, dict):
            title = self._text(view.get("title")) or view.get("type", "view")
            lines = [f"== {title} =="]
            for block in view.get("blocks", []):
                lines += self.block_lines(block)
            if view.get("submit"):
                lines.append(f"[ {self._text(view['submit'])} ]")
            return lines
        blocks = args.get("blocks")
        if isinstance(blocks, list) and blocks:
            return [line for block in blocks for line in self.block_lines(block)]
        return [self.mrkdwn(str(args.get("text", "")))]

    def show(self, where: str, lines: list[str]) -> None:
        print(f"    -> {where}:")
        for line in lines:
            for paragraph in line.split("\n"):
                print(_wrapped(paragraph, INDENT, INDENT) if paragraph.strip() else "")


def narrate(text: str) -> None:
    """A line about what happened (not a message in Slack), under the step it belongs to."""
    print(_wrapped(text, "    -- ", INDENT))


def _wrapped(text: str, first: str, rest: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_long_words=False,
                         break_on_hyphens=False)


# ---- what Slack delivers, and how


@dataclass(frozen=True)
class Delivery:
    """One request as Slack delivers it: over HTTP a signed POST of ``body``, in Socket Mode an envelope."""

    kind: str  # Socket Mode's envelope type: "slash_commands", "interactive" or "events_api"
    body: str  # as tests/e2e/slack_requests builds it: a form body, or an event's JSON

    @property
    def content_type(self) -> str:
        return sr.JSON if self.kind == "events_api" else sr.FORM


# Delivers a request to the bot; how it was answered, as the title's "(...)": "HTTP 200", "acked in 0.05 s".
Send = Callable[[Delivery], Awaitable[str]]


def over_http(session: aiohttp.ClientSession, url: str, secret: str = SECRET) -> Send:
    async def send(delivery: Delivery) -> str:
        status, _, _ = await sr.post_signed(session, f"{url}/slack/events", delivery.body, secret=secret,
                                            content_type=delivery.content_type)
        return f"HTTP {status}"

    return send


def over_socket(socket: FakeSocketMode) -> Send:
    async def send(delivery: Delivery) -> str:
        push = {"slash_commands": socket.command, "interactive": socket.interaction,
                "events_api": socket.event}[delivery.kind]
        envelope_id = await push(delivery.body)
        await socket.wait_for_ack(envelope_id)
        return f"acked in {socket.ack_seconds(envelope_id):.2f} s"

    return send


def command(fake: FakeSlack, who: str, text: str, name: str, team: str = TEAM) -> Delivery:
    return Delivery("slash_commands", sr.slash_command(text, user_id=USERS[who], user_name=who, team_id=team,
                                                       enterprise_id=None, response_url=fake.response_url(name)))


def press(fake: FakeSlack, who: str, action_id: str, value: str, name: str) -> Delivery:
    return Delivery("interactive", sr.block_action(action_id, value, user_id=USERS[who], user_name=who,
                                                   response_url=fake.response_url(name)))


def event(body: dict[str, Any], event_id: str) -> Delivery:
    return Delivery("events_api", sr.event_callback(body, team_id=TEAM, event_id=event_id))


# ---- the step runner, the same for every mode


class Steps:
    """Plays a step through ``send`` and prints it, then what "Slack" received since the step before."""

    def __init__(self, fake: FakeSlack, send: Send) -> None:
        self.fake, self.send, self.view = fake, send, SlackView(fake)
        self._seen = self._answered = 0

    async def step(self, title: str, actor: str | None, delivery: Delivery, send: Send | None = None) -> None:
        """``actor``: whose request it is (the user id its response_url answer is shown to); ``send``:
        another way in than this mode's (a forged signature, the HTTP route in Socket Mode)."""
        status = await (send or self.send)(delivery)
        print(f"{title}  ({status})")
        await asyncio.sleep(1.0)
        who = self.view.name(actor or "")
        for post in self.fake.responses()[self._answered:]:
            reply = post.body if isinstance(post.body, dict) else {"text": str(post.body)}
            self.view.show(f"reply to {who}'s request, only {who} sees this", self.view.message_lines(reply))
        self._answered = len(self.fake.responses())
        for call in self.fake.calls()[self._seen:]:
            if call.method in SHOWN:
                self.view.show(self.view.recipient(call.method, call.args), self.view.message_lines(call.args))
        self._seen = len(self.fake.calls())


async def ask_one_question(steps: Steps, workdir: Path) -> None:
    """The journey every mode plays: Sanne asks Anna, Anna tags it werk and answers in the thread, Sanne
    says her own assessment was right."""
    fake, sanne, anna = steps.fake, USERS["sanne"], USERS["anna"]
    await steps.step("sanne: /vraag <@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja", sanne,
                     command(fake, "sanne", "<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja", "ask"))
    question = next((c for c in fake.calls("chat.postMessage") if "Vraag #" in c.args.get("text", "")), None)
    if question is None:
        raise SystemExit("the question did not reach Anna: see vraagbot's log above")
    await steps.step("anna presses [ Hoort bij mijn werk ]", anna, press(fake, "anna", "tag_werk", "1", "tag"))
    reply = sr.thread_reply_event("Klopt, dat mag. Goed dat je het checkt!", user=anna,
                                  channel=question.args["channel"], thread_ts=_thread_ts(workdir),
                                  ts=f"{time.time():.6f}")
    await steps.step("anna answers in the thread: 'Klopt, dat mag. Goed dat je het checkt!'", anna,
                     event(reply, "Ev0001"))
    await steps.step("sanne presses [ Mijn inschatting klopte ]", sanne,
                     press(fake, "sanne", "outcome_confirmed", "1", "outcome"))


# ---- the modes


@asynccontextmanager
async def vraagbot_serve(session: aiohttp.ClientSession, env: dict[str, str]) -> AsyncIterator[tuple[str, Path]]:
    """`vraagbot serve` with only ``env``'s Slack settings (none of the caller's own), in a fresh directory
    (so a fresh SQLite file); its URL and that directory."""
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="vraagbot-try-"))
    own = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VRAAGBOT_", "MICROSOFT_"))}
    command = [str(Path(sys.executable).parent / "vraagbot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {**own, "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.5", **env}
    server = subprocess.Popen(command, cwd=workdir, env=env)  # noqa: ASYNC220 - returns at once
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(session, url)
        yield url, workdir
    finally:
        server.terminate()  # and wait without blocking: the fakes in this loop must answer while it stops
        await asyncio.to_thread(server.wait, 20)


async def try_http(fake: FakeSlack, session: aiohttp.ClientSession) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-try", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url}
    async with vraagbot_serve(session, env) as (url, workdir):
        steps = Steps(fake, over_http(session, url))
        await ask_one_question(steps, workdir)
        await steps.step("a forged request (signed with the wrong secret) is refused", USERS["sanne"],
                         command(fake, "sanne", "help", "forged"), send=over_http(session, url, secret="forged"))


async def try_socket(fake: FakeSlack, session: aiohttp.ClientSession) -> None:
    async with FakeSocketMode(fake) as socket:
        # No SLACK_SIGNING_SECRET: in Socket Mode nothing from Slack arrives over HTTP.
        env = {"SLACK_BOT_TOKEN": "xoxb-try", "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.base_url}
        async with vraagbot_serve(session, env) as (url, workdir):
            first = await socket.wait_for_connection()
            print("vraagbot serve opened a websocket to Slack (Socket Mode)")
            narrate(f"connection #{first.number}; every request below comes over it as an envelope")
            steps = Steps(fake, over_socket(socket))
            await ask_one_question(steps, workdir)
            await steps.step("a correctly signed POST /slack/events, as in HTTP mode: there is no such route",
                             USERS["sanne"], command(fake, "sanne", "help", "over-http"), send=over_http(session, url))
            await socket.disconnect()
            second = await socket.wait_for_connection(count=2)
            for _ in range(200):  # the client leaves the old connection once the new one is open
                if first.closed_at is not None:
                    break
                await asyncio.sleep(0.05)
            print("Slack sends `disconnect`: the bot must move to a new connection")
            narrate(f"the bot opened connection #{second.number}"
                    f"{f' and closed #{first.number}' if first.closed_at is not None else ''}")
            await steps.step("sanne: /vraag <@UANNA|anna> Kan dit ook na het herverbinden?", USERS["sanne"],
                             command(fake, "sanne", "<@UANNA|anna> Kan dit ook na het herverbinden?", "after"))


async def try_oauth(fake: FakeSlack, session: aiohttp.ClientSession) -> None:
    env = {"SLACK_CLIENT_ID": fake.client_id, "SLACK_CLIENT_SECRET": fake.client_secret,
           "SLACK_SIGNING_SECRET": SECRET, "VRAAGBOT_SLACK_TOKEN_KEY": Fernet.generate_key().decode(),
           "SLACK_API_URL": fake.base_url}
    async with vraagbot_serve(session, env) as (url, workdir):
        # The admin's browser: the install page, and the state cookie it sets.
        async with session.get(f"{url}/slack/install", allow_redirects=False) as response:
            status, page, cookie = response.status, await response.text(), response.headers.get("Set-Cookie", "")
        [link] = re.findall(r'href="(https://[^"]+/oauth/v2/authorize\?[^"]+)"', page)
        link = urlparse(html.unescape(link))
        query = parse_qs(link.query)
        print(f"an admin opens GET /slack/install  (HTTP {status})")
        narrate(f"[ Add to Slack ] goes to {link.scheme}://{link.netloc}{link.path}, asking for the scopes: "
                f"{', '.join(query['scope'][0].split(','))}")
        narrate("the browser keeps the install's state in a cookie: only this browser can finish this install")
        # Slack's side: the admin allows it, and Slack sends the browser back with a code and the state.
        fake.add_install("code-try", token="xoxb-try-demo", team_id=TEAM, team_name="Demo")
        headers = {"Cookie": cookie.split(";", 1)[0]}
        async with session.get(f"{url}/slack/oauth_redirect", params={"code": "code-try", "state": query["state"][0]},
                               headers=headers, allow_redirects=False) as response:
            status, page = response.status, await response.text()
        print(f"the admin allows it, Slack sends the browser back: GET /slack/oauth_redirect  (HTTP {status})")
        narrate(f"the page says: {_first_line(page)}")
        narrate("the redirect carried Slack's code and the state, the browser sent the cookie along")
        installations = _rows(workdir, "SELECT bot_token FROM slack_installations")
        encrypted = all("xoxb-" not in token for (token,) in installations)
        narrate(f"{_count(len(installations), 'row')} in slack_installations"
                f"{', the token encrypted' if encrypted else ', THE TOKEN IN THE CLEAR'}")

        steps = Steps(fake, over_http(session, url))
        await ask_one_question(steps, workdir)
        fake.add_user(USERS["kees"], "kees", real_name="Kees")
        await steps.step(f"kees, in a workspace that never installed the app ({OTHER_TEAM}): /vraag help",
                         USERS["kees"], command(fake, "kees", "help", "stranger", team=OTHER_TEAM))
        await steps.step(f"the app is removed from the workspace {TEAM}: Slack sends app_uninstalled", None,
                         event({"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}, "Ev0002"))
        [(left,)] = _rows(workdir, "SELECT count(*) FROM slack_installations")
        narrate(f"{_count(left, 'row')} in slack_installations: {'the tokens are gone' if not left else 'TOKENS LEFT'}")
        [(questions,)] = _rows(workdir, "SELECT count(*) FROM questions")
        [(people,)] = _rows(workdir, "SELECT count(*) FROM people")
        narrate(f"kept: {_count(questions, 'question')} and {_count(people, 'person', 'people')} (texts go after "
                f"VRAAGBOT_TEXT_RETENTION_DAYS), so a reinstall carries on")
        await steps.step("sanne, after the uninstall: /vraag help", USERS["sanne"],
                         command(fake, "sanne", "help", "after-uninstall"))


MODES = {"http": try_http, "socket": try_socket, "oauth": try_oauth}


async def main(mode: str = "http") -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as session:
        fake.add_user(USERS["sanne"], "sanne", real_name="Sanne")
        fake.add_user(USERS["anna"], "anna", real_name="Anna")
        await MODES[mode](fake, session)


def _rows(workdir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(workdir / "vraagbot.db") as connection:
        return connection.execute(sql).fetchall()


def _thread_ts(workdir: Path) -> str:
    [(thread_ref,)] = _rows(workdir, "SELECT thread_ref FROM questions")
    return thread_ref.split(":", 1)[1]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _first_line(page: str) -> str:
    """The first line of text a browser shows of an HTML page (its body, the tags taken off)."""
    body = re.search(r"<body[^>]*>(.*)</body>", page, re.DOTALL | re.IGNORECASE)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", body.group(1) if body else page))
    return next((line.strip() for line in text.splitlines() if line.strip()), "(an empty page)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.try_slack", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=list(MODES), default="http",
                        help="http: one workspace over /slack/events (the default); socket: Socket Mode; "
                             "oauth: OAuth distribution, installed by an admin")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args().mode))
