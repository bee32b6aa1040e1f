"""The ask card's people picker, end to end: the real botbuilder stack over HTTP against the fake Bot
Connector. Teams submits the picked person's Microsoft Entra object id; the bot finds them (someone who used
the bot, else the member roster of a team channel it knows), registers them and reaches them, opening their
personal chat when there is none yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import MEMBERS, FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, TeamsBot, running_teams_bot

CARD_KEY = "vraagbot_action"
LOTTE_AAD = ta.aad_id_for(USERS["lotte"])
ANNA_AAD = ta.aad_id_for(USERS["anna"])
WAIT = 30.0


@pytest.fixture
async def bot(database_url) -> AsyncIterator[TeamsBot]:
    db_path = database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""
    async with running_teams_bot(database_url, db_path) as running:
        yield running


def ask(picked: str, question: str = "Welke versie van het contract is actueel?", **extra: Any) -> dict[str, Any]:
    return {CARD_KEY: "ask_form", "expert_picked": picked, "expert": "", "topic": "", "question": question,
            "assessment": "", "urgent": "false", **extra}


async def questions(bot: TeamsBot) -> list[tuple[str, str]]:
    """(expert's Teams id, delivered?) per question."""
    assert bot.runtime is not None
    async with bot.runtime.uow() as uow:
        sanne = await uow.people.by_platform_ids("teams", ta.TENANT_ID, USERS["sanne"])
        asked = await uow.questions.asked_by(sanne.id) if sanne else []
        found = []
        for question in asked:
            expert = await uow.people.get(question.expert_id)
            found.append((expert.external_id, question.delivered_at is not None))
        return found


async def wait_for(check: Any, seconds: float = WAIT) -> Any:
    """Poll an async condition (loopback.until takes coroutine functions too)."""
    return await until(check, seconds)


async def delivered(bot: TeamsBot) -> list[tuple[str, str]]:
    return [q for q in await questions(bot) if q[1]]


def member_lookups(fake: FakeConnector) -> list[str]:
    return [s.path for s in fake.requests() if s.kind == MEMBERS]


async def test_the_ask_form_offers_the_people_picker_and_keeps_a_name_field(bot):
    await bot.say("sanne", "vraag")
    [sent] = await bot.fake.wait_for(conversation_id=bot.chat("sanne"))
    card = FakeConnector.card_of(sent.body)
    inputs = {i["id"]: i for i in card["body"] if i["type"].startswith("Input")}
    picker = inputs["expert_picked"]
    assert picker["type"] == "Input.ChoiceSet" and picker["isMultiSelect"] is False
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert inputs["expert"]["type"] == "Input.Text"  # the free-text fallback


async def test_a_colleague_picked_from_the_team_roster_gets_the_question_in_a_new_personal_chat(bot):
    # The bot is in a team channel (Sanne mentioned it there), whose roster has Lotte, who never used the bot.
    status, _ = await bot.post(ta.channel_mention("help", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                                  service_url=bot.fake.service_url))
    assert status == 201
    bot.fake.set_roster(ta.CHANNEL_ID, [{"id": USERS["lotte"], "name": NAMES["lotte"], "aadObjectId": LOTTE_AAD,
                                         "tenantId": ta.TENANT_ID}])
    status, _ = await bot.submit("sanne", ask(LOTTE_AAD))
    assert status == 201
    assert await wait_for(lambda: delivered(bot)) == [(USERS["lotte"], True)]
    [created] = bot.fake.created()
    assert [m["id"] for m in created["members"]] == [USERS["lotte"]]
    [chat] = {s.conversation_id for s in bot.fake.delivered() if "Welke versie" in FakeConnector.all_text(s.body)}
    assert chat not in (bot.chat("sanne"), bot.chat("lotte"))  # the chat the connector just created
    assert any(path.endswith(f"/members/{LOTTE_AAD}") for path in member_lookups(bot.fake))
    assert any("Lotte Bakker" in t for t in bot.texts(bot.chat("sanne")))  # the roster's name, in the confirmation
    async with bot.runtime.uow() as uow:
        lotte = await uow.people.by_platform_ids("teams", ta.TENANT_ID, USERS["lotte"])
        assert (lotte.display_name, lotte.aad_object_id) == ("Lotte Bakker", LOTTE_AAD)  # for presence later


async def test_someone_who_used_the_bot_is_found_by_object_id_without_a_roster_call(bot):
    await bot.say("anna", "help")  # from.aadObjectId is stored with her
    await bot.fake.wait_for(conversation_id=bot.chat("anna"))
    before = len(member_lookups(bot.fake))
    status, _ = await bot.submit("sanne", ask(ANNA_AAD))
    assert status == 201
    assert await wait_for(lambda: delivered(bot)) == [(USERS["anna"], True)]
    assert any("Welke versie" in t for t in bot.texts(bot.chat("anna")))
    assert len(member_lookups(bot.fake)) == before
    assert bot.fake.created() == []


async def test_a_pick_nobody_can_find_is_refused_and_nothing_is_stored(bot):
    status, _ = await bot.submit("sanne", ask("3f0c7a4e-0000-4000-8000-000000000000"))
    assert status == 201
    text = await until(lambda: [t for t in bot.texts(bot.chat("sanne")) if "niet verstuurd" in t], WAIT)
    assert "@naam" in text[0]
    assert await questions(bot) == []


async def test_a_submit_cannot_name_the_expert_by_teams_id_itself(bot):
    await bot.say("anna", "help")
    status, _ = await bot.submit("sanne", ask("", expert_id=USERS["anna"]))  # not something our card sends
    assert status == 201
    await until(lambda: len(bot.texts(bot.chat("sanne"))) >= 1, WAIT)
    assert await questions(bot) == []


async def test_the_typed_name_still_works_when_nobody_is_picked(bot):
    await bot.say("anna", "help")
    status, _ = await bot.submit("sanne", ask("", expert="@anna"))
    assert status == 201
    assert await wait_for(lambda: delivered(bot)) == [(USERS["anna"], True)]
