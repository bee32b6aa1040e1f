"""Issue 13, item 5, over HTTP with the real botbuilder stack: names and roles from Teams itself.

Names: an activity without the sender's name (a card's invoke, an install) takes it from the Bot Connector's
member roster, refreshed when it is due; the look-up is asynchronous, so a slow roster holds up nobody else.
Roles: the Bot Connector's roster only says user/guest/anonymous, so a team's owners come from Microsoft
Graph (team members' ``roles``); with VRAAGBOT_TEAM_NUDGE_ADMINS_ONLY on, an owner may change the channel's
weekly message and a plain member may not. A fake Graph (tests/e2e/fake_graph.py) with a team members
endpoint added here answers for the roles."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import MEMBERS, TEAM
from tests.e2e.fake_graph import FakeGraph
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, TeamsBot, running_teams_bot
from tests.unit.world import CATALOG

WAIT = 30.0  # generous: the machine is busy; the condition is the test, not the time
GROUP_ID = "6f1d1a2e-3b4c-4d5e-8f90-a1b2c3d4e5f6"  # the team's Entra group id
USER_FILTER = re.compile(r"userId eq '([0-9a-f-]+)'")


class TeamsGraph(FakeGraph):
    """The fake Graph with ``GET /v1.0/teams/{group id}/members?$filter=...userId eq '<id>'`` as well."""

    def __init__(self) -> None:
        super().__init__()
        self.roles: dict[str, list[str]] = {}  # Entra object id -> roles in GROUP_ID
        self.refuse_members = False  # TeamMember.Read.Group not granted: 403

    def member_calls(self) -> list[Any]:
        return [c for c in self.calls if c.kind == "team_members"]

    async def _unknown(self, request: web.Request) -> web.Response:
        if request.method != "GET" or request.path != f"/v1.0/teams/{GROUP_ID}/members":
            return await super()._unknown(request)
        call = await self._record(request, "team_members")
        found = USER_FILTER.search(request.query.get("$filter", ""))
        call.user_id = found.group(1) if found else None
        if not (call.authorization or "").startswith("Bearer graph-token-"):
            return self._answer(call, 401, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}})
        if self.refuse_members:
            return self._answer(call, 403, {"error": {"code": "Forbidden", "message": "Missing role permissions"}})
        members = [] if call.user_id not in self.roles else [{
            "@odata.type": "#microsoft.graph.aadUserConversationMember", "id": f"m-{call.user_id}",
            "roles": self.roles[call.user_id], "userId": call.user_id, "tenantId": ta.TENANT_ID}]
        return self._answer(call, 200, {"value": members})


def db_path_of(database_url: str) -> str:
    return database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""


async def stored_name(bot: TeamsBot, who: str) -> tuple[str | None, str | None] | None:
    async with bot.runtime.uow() as uow:
        person = await uow.people.by_platform_ids("teams", ta.TENANT_ID, USERS[who])
    return (person.display_name, person.handle) if person is not None else None


def nameless_invoke(bot: TeamsBot, who: str) -> dict[str, Any]:
    """A card click whose activity has no name on `from` (Teams does not promise one on invokes)."""
    invoke = ta.invoke_action_execute("forget_cancel", {"value": "0"}, user_id=USERS[who],
                                      service_url=bot.fake.service_url)
    invoke["from"].pop("name", None)
    return invoke


def lookups(bot: TeamsBot, who: str) -> list[str]:
    return [s.path for s in bot.fake.requests() if s.kind == MEMBERS and s.path.endswith(USERS[who])]


# ------------------------------------------------------------------ names


async def test_a_nameless_activity_takes_the_roster_name_and_it_is_refreshed_when_due(database_url):
    async with running_teams_bot(database_url, db_path_of(database_url), teams_roster_refresh_minutes=0) as bot:
        chat = bot.chat("lotte")
        bot.fake.set_roster(chat, [{"id": USERS["lotte"], "name": NAMES["lotte"], "tenantId": ta.TENANT_ID,
                                    "aadObjectId": ta.aad_id_for(USERS["lotte"]), "userRole": "user"}])
        status, _ = await bot.post(nameless_invoke(bot, "lotte"))
        assert status == 200
        assert await stored_name(bot, "lotte") == (NAMES["lotte"], "lotte")
        assert lookups(bot, "lotte") == [f"/v3/conversations/{chat}/members/{USERS['lotte']}"]

        bot.fake.set_roster(chat, [{"id": USERS["lotte"], "name": "Lotte de Groot", "tenantId": ta.TENANT_ID}])
        await bot.post(nameless_invoke(bot, "lotte"))  # due again at once (refresh 0 minutes)
        assert await stored_name(bot, "lotte") == ("Lotte de Groot", "lotte")
        assert len(lookups(bot, "lotte")) == 2


async def test_the_roster_is_asked_only_when_a_refresh_is_due(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, db_path_of(sqlite_database_url)) as bot:  # default: hours
        chat = bot.chat("lotte")
        bot.fake.set_roster(chat, [{"id": USERS["lotte"], "name": NAMES["lotte"], "tenantId": ta.TENANT_ID}])
        await bot.post(nameless_invoke(bot, "lotte"))
        bot.fake.set_roster(chat, [{"id": USERS["lotte"], "name": "Lotte de Groot", "tenantId": ta.TENANT_ID}])
        await bot.post(nameless_invoke(bot, "lotte"))
        assert await stored_name(bot, "lotte") == (NAMES["lotte"], "lotte")
        assert len(lookups(bot, "lotte")) == 1
        await bot.say("sanne", "help")  # a message carries its sender's name: no look-up for it
        assert lookups(bot, "sanne") == []


async def test_a_slow_roster_holds_up_nobody_else(sqlite_database_url):
    """The look-up is awaited on the event loop (the async connector client), so another person's message is
    answered while one roster call hangs."""
    async with running_teams_bot(sqlite_database_url, db_path_of(sqlite_database_url)) as bot:
        bot.fake.hang(4.5, status=404, kinds=(MEMBERS,))
        slow = asyncio.create_task(bot.post(nameless_invoke(bot, "lotte")))
        await until(lambda: lookups(bot, "lotte"), WAIT)
        status, _ = await bot.say("sanne", "help")
        assert status == 201
        assert not slow.done()  # Sanne was answered while Lotte's roster call was still waiting
        status, _ = await slow
        assert status == 200


# ------------------------------------------------------------------ team owners


@pytest.fixture
async def graph() -> AsyncIterator[TeamsGraph]:
    async with TeamsGraph() as fake:
        yield fake


@asynccontextmanager
async def admins_only_bot(database_url: str, graph: TeamsGraph, **overrides: Any) -> AsyncIterator[TeamsBot]:
    settings = {"team_nudge_admins_only": True, "teams_presence": False, **graph.settings(), **overrides}
    async with running_teams_bot(database_url, db_path_of(database_url), **settings) as bot:
        bot.fake.set_team(ta.TEAM_ID, GROUP_ID)  # channel messages carry only the team's Teams id
        yield bot


def in_channel(bot: TeamsBot, who: str, text: str) -> dict[str, Any]:
    return ta.channel_mention(text, user_id=USERS[who], user_name=NAMES[who], service_url=bot.fake.service_url)


async def channel_answers(bot: TeamsBot, before: int) -> list[str]:
    return await until(lambda: [t for s in bot.fake.delivered()[before:]
                                if s.conversation_id and s.conversation_id.startswith(ta.CHANNEL_ID)
                                for t in [bot.fake.all_text(s.body)]], WAIT)


async def schedules(bot: TeamsBot) -> list[tuple[int, int]]:
    async with bot.runtime.uow() as uow:
        stored = await uow.team_schedules.enabled()
    return [(s.weekday, s.hour) for s in stored]


async def test_a_team_owner_counts_as_admin_and_a_member_does_not(database_url, graph):
    graph.roles = {ta.aad_id_for(USERS["sanne"]): ["owner"], ta.aad_id_for(USERS["lotte"]): []}
    async with admins_only_bot(database_url, graph) as bot:
        refused = CATALOG.text("nl", "error.team_nudge_admins_only")
        before = len(bot.fake.delivered())
        status, _ = await bot.post(in_channel(bot, "lotte", "team-nudge maandag 09:00"))
        assert status == 201
        assert any(refused in t for t in await channel_answers(bot, before))
        assert await schedules(bot) == []

        before = len(bot.fake.delivered())
        status, _ = await bot.post(in_channel(bot, "sanne", "team-nudge maandag 09:00"))
        assert status == 201
        answers = await channel_answers(bot, before)
        assert not any(refused in t for t in answers)
        assert await schedules(bot) == [(0, 9)]

        assert [c.user_id for c in graph.member_calls()] == [ta.aad_id_for(USERS["lotte"]),
                                                             ta.aad_id_for(USERS["sanne"])]
        assert [s.path for s in bot.fake.requests() if s.kind == TEAM] == [f"/v3/teams/{ta.TEAM_ID}"]  # kept


async def test_without_the_graph_permission_nobody_is_admin_and_it_is_said_once(sqlite_database_url, graph, caplog):
    graph.roles = {ta.aad_id_for(USERS["sanne"]): ["owner"]}
    graph.refuse_members = True
    async with admins_only_bot(sqlite_database_url, graph) as bot:
        refused = CATALOG.text("nl", "error.team_nudge_admins_only")
        with caplog.at_level(logging.WARNING, logger="bot.teams.graph"):
            for _ in range(2):
                before = len(bot.fake.delivered())
                await bot.post(in_channel(bot, "sanne", "team-nudge maandag 09:00"))
                assert any(refused in t for t in await channel_answers(bot, before))
        assert await schedules(bot) == []
        assert len([r for r in caplog.records if "TeamMember.Read.Group" in r.getMessage()]) == 1


async def test_owners_are_not_asked_when_admins_only_is_off(sqlite_database_url, graph):
    async with admins_only_bot(sqlite_database_url, graph, team_nudge_admins_only=False) as bot:
        before = len(bot.fake.delivered())
        await bot.post(in_channel(bot, "lotte", "team-nudge maandag 09:00"))
        await channel_answers(bot, before)
        assert await schedules(bot) == [(0, 9)]
        assert graph.member_calls() == [] and graph.token_calls() == []
