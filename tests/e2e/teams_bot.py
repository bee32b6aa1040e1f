"""The real vraagbot web app with its Teams side, wired to a FakeConnector (serviceUrl).

Teams runs the way a developer runs it locally: VRAAGBOT_TEAMS_LOCAL_TESTING on (no app id, so no
Authorization header is needed) and the fake connector's origin as the only Bot Framework
service URL the bot may contact. Tests of the authenticated mode pass MICROSOFT_APP_ID (and
teams_local_testing=False to leave the switch off)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import serving

USERS = {"sanne": "29:sanne", "anna": "29:anna", "lotte": "29:lotte"}
NAMES = {"sanne": "Sanne Jansen", "anna": "Anna de Vries", "lotte": "Lotte Bakker"}


@dataclass
class TeamsBot:
    url: str
    fake: FakeConnector
    db_path: str
    session: aiohttp.ClientSession
    runtime: Runtime | None = None

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, str]:
        return await ta.post_activity(self.session, f"{self.url}/api/messages", activity, headers=headers)

    async def say(self, who: str, text: str, **kwargs: Any) -> tuple[int, str]:
        return await self.post(ta.personal_message(text, user_id=USERS[who], user_name=NAMES[who],
                                                   service_url=self.fake.service_url, **kwargs))

    async def submit(self, who: str, value: dict[str, Any]) -> tuple[int, str]:
        return await self.post(ta.personal_message("", user_id=USERS[who], user_name=NAMES[who],
                                                   service_url=self.fake.service_url, value=value))

    def chat(self, who: str) -> str:
        return ta.personal_conversation_id(USERS[who])

    def texts(self, conversation_id: str) -> list[str]:
        return [FakeConnector.all_text(s.body) for s in self.fake.delivered(conversation_id)]

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, args).fetchall()


def origin_of(service_url: str) -> str:
    """scheme://host:port of a service URL: the form VRAAGBOT_TEAMS_SERVICE_URLS lists."""
    parts = urlsplit(service_url)
    return f"{parts.scheme}://{parts.netloc}"


def teams_settings(database_url: str, connector: FakeConnector | None = None, **overrides: Any) -> Any:
    """Settings for a bot whose Teams side talks to `connector`: the local-testing switch on and the
    connector's origin as the only allowed service URL (both can be overridden)."""
    teams: dict[str, Any] = {"teams_local_testing": True}
    if connector is not None:
        teams["teams_service_urls"] = origin_of(connector.service_url)
    return load_settings(database_url=database_url, outbox_tick_seconds=0.2, **{**teams, **overrides})


@asynccontextmanager
async def running_teams_bot(database_url: str, db_path: str, fake: FakeConnector | None = None,
                            **overrides: Any) -> AsyncIterator[TeamsBot]:
    async with _connector(fake) as connector:
        runtime = build_runtime(teams_settings(database_url, connector, **overrides))
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield TeamsBot(url, connector, db_path, session, runtime)


@asynccontextmanager
async def _connector(fake: FakeConnector | None) -> AsyncIterator[FakeConnector]:
    if fake is not None:
        yield fake
        return
    async with FakeConnector() as connector:
        yield connector
