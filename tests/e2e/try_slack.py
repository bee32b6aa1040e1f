"""Try the Slack integration without Slack: `python -m tests.e2e.try_slack`.

Starts the fake Slack Web API, runs `vraagbot serve` against it exactly as README says (SLACK_*
variables, a fresh SQLite file), plays one question through signed requests as Slack would send
them, and prints every call the bot made to "Slack". Stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack

SECRET = "try-it-secret"
USERS = {"sanne": "USANNE", "anna": "UANNA"}


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


def _show(fake: FakeSlack, seen: int) -> int:
    for call in fake.calls()[seen:]:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "views.open", "views.publish"):
            text = call.args.get("text") or call.args.get("view", {}).get("callback_id", "")
            print(f"    slack <- {call.method:<20} {call.args.get('channel', call.args.get('user_id', ''))}: "
                  f"{str(text)[:100]!r}")
    return len(fake.calls())


async def main() -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as session:
        fake.add_user(USERS["sanne"], "sanne", real_name="Sanne")
        fake.add_user(USERS["anna"], "anna", real_name="Anna")
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

            async def step(title: str, body: str, content_type: str, secret: str = SECRET) -> None:
                nonlocal seen, answered
                status, _, _ = await sr.post_signed(session, f"{url}/slack/events", body, secret=secret,
                                                    content_type=content_type)
                print(f"{title}  (HTTP {status})")
                await asyncio.sleep(1.0)
                for post in fake.responses()[answered:]:
                    print(f"    slack <- response_url        : {post.body.get('text', '')[:100]!r}")
                answered = len(fake.responses())
                seen = _show(fake, seen)

            await step("sanne: /vraag <@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja",
                       sr.slash_command("<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja",
                                        user_id=USERS["sanne"], user_name="sanne", enterprise_id=None,
                                        response_url=fake.response_url("ask")), sr.FORM)
            question = next(c for c in fake.calls("chat.postMessage") if "Vraag #" in c.args.get("text", ""))
            await step("anna presses [Hoort bij mijn werk]",
                       sr.block_action("tag_werk", "1", user_id=USERS["anna"], user_name="anna",
                                       response_url=fake.response_url("tag")), sr.FORM)
            thread_ts = _thread_ts(workdir)
            await step("anna answers in the thread: 'Klopt, dat mag. Goed dat je het checkt!'",
                       sr.event_callback(sr.thread_reply_event("Klopt, dat mag. Goed dat je het checkt!",
                                                               user=USERS["anna"], channel=question.args["channel"],
                                                               thread_ts=thread_ts, ts=f"{time.time():.6f}")),
                       sr.JSON)
            await step("sanne presses [Mijn inschatting klopte]",
                       sr.block_action("outcome_confirmed", "1", user_id=USERS["sanne"], user_name="sanne",
                                       response_url=fake.response_url("outcome")), sr.FORM)
            await step("a forged request (signed with the wrong secret) is refused",
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
