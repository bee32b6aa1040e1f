"""The real vraagbot web app (the `vraagbot serve` code path) on a local port, wired to FakeSlack."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any

import aiohttp

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import serving

SECRET = "test-signing-secret"
TEAM = "T0001"
USERS = {"sanne": "USANNE", "anna": "UANNA", "lotte": "ULOTTE", "bram": "UBRAM"}


@dataclass
class SlackBot:
    url: str
    fake: FakeSlack
    db_path: str
    session: aiohttp.ClientSession
    runtime: Runtime | None = None
    _ids = count(1)

    async def post(self, body: str, content_type: str, *, secret: str = SECRET,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
        status, text, _ = await sr.post_signed(self.session, f"{self.url}/slack/events", body, secret=secret,
                                               content_type=content_type, extra_headers=headers)
        return status, text

    async def command(self, who: str, text: str) -> tuple[int, str]:
        name = f"cmd{next(self._ids)}"
        body = sr.slash_command(text, user_id=USERS[who], user_name=who, response_url=self.fake.response_url(name),
                                trigger_id=f"trigger-{name}", enterprise_id=None)
        return await self.post(body, sr.FORM)

    async def press(self, who: str, action_id: str, value: str, *, channel: str = "C0001") -> tuple[int, str]:
        name = f"act{next(self._ids)}"
        body = sr.block_action(action_id, value, user_id=USERS[who], user_name=who, channel_id=channel,
                               response_url=self.fake.response_url(name), trigger_id=f"trigger-{name}")
        return await self.post(body, sr.FORM)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> tuple[int, str]:
        body = sr.event_callback(event, event_id=event_id or f"Ev{next(self._ids):04d}")
        return await self.post(body, sr.JSON, headers=headers)

    async def thread_reply(self, who: str, question_id: int, text: str, **kwargs: Any) -> tuple[int, str]:
        """``who`` writes in the thread of the question's message, as Slack's message event."""
        [(thread_ref,)] = self.rows("SELECT thread_ref FROM questions WHERE id = ?", question_id)
        channel, thread_ts = thread_ref.split(":", 1)
        event = sr.thread_reply_event(text, user=USERS[who], channel=channel, thread_ts=thread_ts,
                                      ts=f"{time.time():.6f}")
        return await self.event(event, **kwargs)

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, args).fetchall()

    def counts(self) -> dict[str, int]:
        tables = ("people", "questions", "replies", "signals", "outbox", "processed_events", "expert_topics")
        return {t: self.rows(f"SELECT count(*) FROM {t}")[0][0] for t in tables}

    def texts_to(self, who: str) -> list[str]:
        """Every chat.postMessage text that went to this person's DM with the bot."""
        dm = {channel for channel, users in self.fake.opened.items() if users == [USERS[who]]}
        return [c.args.get("text", "") for c in self.fake.calls("chat.postMessage") if c.args.get("channel") in dm]


@asynccontextmanager
async def running_slack_bot(database_url: str, db_path: str, **settings: Any) -> AsyncIterator[SlackBot]:
    async with FakeSlack() as fake:
        for handle, user_id in USERS.items():
            fake.add_user(user_id, handle, real_name=handle.title(), locale="en-US" if handle == "bram" else "nl-NL")
        config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url, **settings)
        runtime = build_runtime(config)
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield SlackBot(url, fake, db_path, session, runtime)
