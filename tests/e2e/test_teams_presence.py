"""Focus time in Teams, end to end: the real botbuilder stack over HTTP against the fake Bot Connector, and
Graph presence from a fake Graph (with its token endpoint, over HTTPS) whose answers change while the test
runs. A non-urgent question for someone in focus or in a call waits, is looked at again, and goes out when
they are free or once the bound has passed; whatever goes wrong at Graph, it goes out at once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from bot.teams.presence import HOLDING_ACTIVITIES
from tests.e2e import teams_activities as ta
from tests.e2e.fake_graph import FakeGraph
from tests.e2e.log_capture import captured_logs
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, TeamsBot, running_teams_bot

ANNA_AAD = ta.aad_id_for(USERS["anna"])
HELD = "Teams zegt niet tot wanneer"  # from ask.held_open
SENT = "staat bij Anna"  # from ask.sent
DELIVERED_NOW = "Je vraag is nu bij Anna de Vries bezorgd."  # ask.delivered_after_busy
WAIT = 60.0  # generous: the machine is busy; the condition is the test, not the time


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as fake:
        yield fake


@asynccontextmanager
async def teams_bot(database_url: str, graph: FakeGraph, **overrides: Any) -> AsyncIterator[TeamsBot]:
    db_path = database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""
    settings = {"teams_focus_recheck_minutes": 1 / 60, "teams_focus_max_hold_minutes": 10.0,
                **graph.settings(), **overrides}
    async with running_teams_bot(database_url, db_path, **settings) as bot:
        status, _ = await bot.say("anna", "help")  # Anna used the bot: her chat and Entra object id are stored
        assert status == 201
        await until(lambda: aad_stored(bot), WAIT)
        yield bot


def aad_stored(bot: TeamsBot) -> bool:
    if not bot.db_path:
        return True  # PostgreSQL: the ask below waits for what it needs anyway
    return bool(bot.rows("SELECT 1 FROM people WHERE aad_object_id = ?", ANNA_AAD))


async def ask_anna(bot: TeamsBot, text: str = "Mag ik deze offerte goedkeuren?") -> None:
    at = f"<at>{NAMES['anna']}</at>"
    activity = ta.personal_message(f"vraag {at} {text}", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                   service_url=bot.fake.service_url)
    activity["entities"].append({"type": "mention", "mentioned": {"id": USERS["anna"], "name": NAMES["anna"]},
                                 "text": at})
    status, _ = await bot.post(activity)
    assert status == 201


async def questions(bot: TeamsBot) -> list[Any]:
    assert bot.runtime is not None
    async with bot.runtime.uow() as uow:
        sanne = await uow.people.by_platform_ids("teams", ta.TENANT_ID, USERS["sanne"])
        return await uow.questions.asked_by(sanne.id) if sanne else []


async def wait_for(check: Any, seconds: float = WAIT) -> Any:
    """Poll an async condition (loopback.until takes coroutine functions too)."""
    return await until(check, seconds)


async def delivered(bot: TeamsBot) -> list[Any]:
    return [q for q in await questions(bot) if q.delivered_at is not None]


def texts(bot: TeamsBot, who: str) -> list[str]:
    return bot.texts(bot.chat(who))


def question_posts(bot: TeamsBot) -> list[Any]:
    return [s for s in bot.fake.delivered(bot.chat("anna")) if "Mag ik deze offerte" in bot.fake.all_text(s.body)]


async def test_a_question_waits_while_the_expert_is_in_focus_and_goes_out_when_they_are_free(database_url, graph):
    graph.set_presence(ANNA_AAD, "DoNotDisturb", "Focusing")
    async with teams_bot(database_url, graph) as bot:
        await ask_anna(bot)
        [question] = await wait_for(lambda: questions(bot))
        assert question.status == "held"
        assert any(HELD in t for t in texts(bot, "sanne"))  # the asker is told it waits, and until when at most
        await until(lambda: len(graph.presence_calls(ANNA_AAD)) >= 3, WAIT)  # asked, and looked at again twice
        assert not await delivered(bot) and not question_posts(bot)  # still in focus: still waiting

        graph.set_presence(ANNA_AAD, "Available", "Available")
        [question] = await wait_for(lambda: delivered(bot))
        assert question.delivered_at - question.asked_at < timedelta(minutes=10)  # because she was free, not the bound
        [post] = question_posts(bot)
        notice = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))
                                      if DELIVERED_NOW in bot.fake.all_text(s.body)], WAIT)
        assert notice[0].at >= post.at  # the asker hears it was delivered only once it was
        assert all(c.status == 200 for c in graph.presence_calls())
        assert len(graph.token_calls()) == 1  # MSAL's cache answered every later call


async def test_a_question_for_someone_still_busy_goes_out_after_the_bound(database_url, graph):
    graph.set_presence(ANNA_AAD, "Busy", "InAConferenceCall")
    async with teams_bot(database_url, graph, teams_focus_recheck_minutes=0.5 / 60,
                         teams_focus_max_hold_minutes=3 / 60) as bot:
        await ask_anna(bot)
        [question] = await wait_for(lambda: delivered(bot))
        assert question.delivered_at - question.asked_at >= timedelta(seconds=3)  # held for the whole bound
        assert len(graph.presence_calls(ANNA_AAD)) >= 2  # looked at again before giving up waiting
        assert len(question_posts(bot)) == 1
        await until(lambda: any(DELIVERED_NOW in t for t in texts(bot, "sanne")), WAIT)


@pytest.mark.parametrize("availability, activity, held", [
    ("DoNotDisturb", "DoNotDisturb", True), ("Busy", "Presenting", True), ("Busy", "InACall", True),
    ("Busy", "InAMeeting", False), ("Away", "Away", False), ("Available", "Available", False)])
async def test_which_presence_holds_a_question(sqlite_database_url, graph, availability, activity, held):
    graph.set_presence(ANNA_AAD, availability, activity)
    async with teams_bot(sqlite_database_url, graph) as bot:
        await ask_anna(bot)
        [question] = await wait_for(lambda: questions(bot))
        assert (question.status == "held") is held
        reply = await until(lambda: [t for t in texts(bot, "sanne") if HELD in t or SENT in t], WAIT)
        assert (HELD in reply[0]) is held
    assert {"Presenting", "InACall", "InAConferenceCall", "Focusing"} <= HOLDING_ACTIVITIES


async def test_a_question_asked_in_a_channel_does_not_tell_the_channel_about_focus_time(sqlite_database_url, graph):
    """That Anna is in focus is hers, and the held notice's buttons are the asker's: both go to the 1:1 chat."""
    graph.set_presence(ANNA_AAD, "DoNotDisturb", "Focusing")
    async with teams_bot(sqlite_database_url, graph) as bot:
        at = f"<at>{NAMES['anna']}</at>"
        activity = ta.channel_mention(f"vraag {at} Mag ik deze offerte goedkeuren?", user_id=USERS["sanne"],
                                      user_name=NAMES["sanne"], service_url=bot.fake.service_url)
        activity["entities"].append({"type": "mention", "mentioned": {"id": USERS["anna"], "name": NAMES["anna"]},
                                     "text": at})
        status, _ = await bot.post(activity)
        assert status == 201
        [question] = await wait_for(lambda: questions(bot))
        assert question.status == "held"
        def sent(in_channel: bool) -> list[str]:
            return [bot.fake.all_text(s.body) for s in bot.fake.sent()
                    if (s.conversation_id or "").startswith(ta.CHANNEL_ID) is in_channel]

        await until(lambda: any(HELD in t for t in sent(in_channel=False)), WAIT)  # she hears it, privately
        in_channel = sent(in_channel=True)
        assert in_channel and not any(HELD in t or "focus" in t.lower() for t in in_channel), in_channel


async def test_an_urgent_question_goes_through_focus_time(sqlite_database_url, graph):
    graph.set_presence(ANNA_AAD, "DoNotDisturb", "Focusing")
    async with teams_bot(sqlite_database_url, graph) as bot:
        await ask_anna(bot, "Mag ik deze offerte goedkeuren? | urgent")
        [question] = await wait_for(lambda: delivered(bot))
        assert question.urgent and question.interrupted_focus


async def test_graph_429_is_respected_and_the_question_goes_out_at_once(database_url, graph):
    graph.set_presence(ANNA_AAD, "DoNotDisturb", "Focusing")
    graph.throttle(retry_after="120")
    async with teams_bot(database_url, graph) as bot:
        await ask_anna(bot)
        await wait_for(lambda: delivered(bot))
        assert [c.status for c in graph.presence_calls()] == [429]
        await ask_anna(bot, "Mag ik deze offerte ook goedkeuren?")  # within Retry-After: Graph is not asked
        await wait_for(lambda: _count_delivered(bot, 2))
        assert [c.status for c in graph.presence_calls()] == [429]
        assert sum(SENT in t for t in texts(bot, "sanne")) == 2


async def _count_delivered(bot: TeamsBot, n: int) -> bool:
    return len(await delivered(bot)) >= n


async def test_without_the_permission_it_says_so_once_and_delivers_at_once(database_url, graph):
    graph.set_presence(ANNA_AAD, "DoNotDisturb", "Focusing")
    graph.forbid()
    with captured_logs("INFO") as logs:
        async with teams_bot(database_url, graph) as bot:
            await ask_anna(bot)
            await wait_for(lambda: delivered(bot))
            await ask_anna(bot, "Mag ik deze offerte ook goedkeuren?")
            await wait_for(lambda: _count_delivered(bot, 2))
            assert sum(SENT in t for t in texts(bot, "sanne")) == 2
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]
    consent = [line for line in lines if "Presence.Read.All" in line.get("message", line.get("event", ""))]
    assert len(consent) == 1, consent
    assert consent[0]["level"].lower() == "warning"


@pytest.mark.parametrize("fault", ["timeout", "server error", "malformed"])
async def test_a_graph_failure_delivers_at_once(database_url, graph, fault):
    graph.set_presence(ANNA_AAD, "DoNotDisturb", "Focusing")
    {"timeout": lambda: graph.hang(10), "server error": lambda: graph.fail(503),
     "malformed": graph.malformed}[fault]()
    async with teams_bot(database_url, graph, graph_timeout_seconds=0.5) as bot:
        await ask_anna(bot)
        [question] = await wait_for(lambda: delivered(bot))
        assert not question.urgent and question.deliver_after is None
        assert len(question_posts(bot)) == 1
        await until(lambda: any(SENT in t for t in texts(bot, "sanne")), WAIT)
