"""Try the Slack integration without Slack: `python -m tests.e2e.try_slack`.

Starts the fake Slack Web API, runs `vraagbot serve` against it exactly as README says (SLACK_*
variables, a fresh SQLite file), plays one question through signed requests as Slack would send
them, and prints what each person would see in Slack: to whom each message went, its whole text
(wrapped, not cut) and its blocks as text, buttons as `[ label ]`. Stops by itself.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import BOT_USER_ID, FakeSlack

SECRET = "try-it-secret"
USERS = {"sanne": "USANNE", "anna": "UANNA"}
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
                print(textwrap.fill(paragraph, WIDTH, initial_indent=INDENT, subsequent_indent=INDENT,
                                    break_long_words=False, break_on_hyphens=False) if paragraph.strip() else "")


async def main() -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as session:
        fake.add_user(USERS["sanne"], "sanne", real_name="Sanne")
        fake.add_user(USERS["anna"], "anna", real_name="Anna")
        view = SlackView(fake)
        port = _free_port()
        workdir = Path(tempfile.mkdtemp(prefix="vraagbot-try-"))
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-try", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.base_url, "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.5"}
        command = [str(Path(sys.executable).parent / "vraagbot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, cwd=workdir, env=env)  # noqa: ASYNC220 - returns at once
        url = f"http://127.0.0.1:{port}"
        try:
            await _wait_healthy(session, url)
            seen = answered = 0

            async def step(title: str, actor: str, body: str, content_type: str, secret: str = SECRET) -> None:
                nonlocal seen, answered
                status, _, _ = await sr.post_signed(session, f"{url}/slack/events", body, secret=secret,
                                                    content_type=content_type)
                print(f"{title}  (HTTP {status})")
                await asyncio.sleep(1.0)
                for post in fake.responses()[answered:]:
                    reply = post.body if isinstance(post.body, dict) else {"text": str(post.body)}
                    view.show(f"reply to {view.name(actor)}'s request, only {view.name(actor)} sees this",
                              view.message_lines(reply))
                answered = len(fake.responses())
                for call in fake.calls()[seen:]:
                    if call.method in SHOWN:
                        view.show(view.recipient(call.method, call.args), view.message_lines(call.args))
                seen = len(fake.calls())

            await step("sanne: /vraag <@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja", USERS["sanne"],
                       sr.slash_command("<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja",
                                        user_id=USERS["sanne"], user_name="sanne", enterprise_id=None,
                                        response_url=fake.response_url("ask")), sr.FORM)
            question = next(c for c in fake.calls("chat.postMessage") if "Vraag #" in c.args.get("text", ""))
            await step("anna presses [ Hoort bij mijn werk ]", USERS["anna"],
                       sr.block_action("tag_werk", "1", user_id=USERS["anna"], user_name="anna",
                                       response_url=fake.response_url("tag")), sr.FORM)
            thread_ts = _thread_ts(workdir)
            await step("anna answers in the thread: 'Klopt, dat mag. Goed dat je het checkt!'", USERS["anna"],
                       sr.event_callback(sr.thread_reply_event("Klopt, dat mag. Goed dat je het checkt!",
                                                               user=USERS["anna"], channel=question.args["channel"],
                                                               thread_ts=thread_ts, ts=f"{time.time():.6f}")),
                       sr.JSON)
            await step("sanne presses [ Mijn inschatting klopte ]", USERS["sanne"],
                       sr.block_action("outcome_confirmed", "1", user_id=USERS["sanne"], user_name="sanne",
                                       response_url=fake.response_url("outcome")), sr.FORM)
            await step("a forged request (signed with the wrong secret) is refused", USERS["sanne"],
                       sr.slash_command("help", user_id=USERS["sanne"], user_name="sanne", enterprise_id=None,
                                        response_url=fake.response_url("forged")), sr.FORM, secret="forged")
        finally:
            server.terminate()
            server.wait(timeout=20)


def _thread_ts(workdir: Path) -> str:
    import sqlite3

    with sqlite3.connect(workdir / "vraagbot.db") as connection:
        [(thread_ref,)] = connection.execute("SELECT thread_ref FROM questions").fetchall()
    return thread_ref.split(":", 1)[1]


if __name__ == "__main__":
    asyncio.run(main())
