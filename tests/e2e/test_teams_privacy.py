"""Issue 11, finding 4, over HTTP with the real botbuilder stack: personal data (overview, export, forget-me,
role) asked for in a channel or group chat goes to the person's own 1:1 chat with the bot; the channel
gets one short line and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, running_teams_bot
from tests.e2e.test_teams_files import accept_the_file
from tests.unit.world import CATALOG

CARD_KEY = "vraagbot_action"
SENT_PRIVATELY = CATALOG.text("nl", "teams.sent_privately")
QUESTION = "Mag ik deze offerte goedkeuren?"


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def in_channel(bot, who: str, text: str) -> dict[str, Any]:
    return ta.channel_mention(text, user_id=USERS[who], user_name=NAMES[who], service_url=bot.fake.service_url)


def channel_submit(bot, who: str, value: dict[str, Any]) -> dict[str, Any]:
    """An Action.Submit on a card in a channel: a message with the card's data as value, no text."""
    activity = in_channel(bot, who, "")
    for key in ("text", "attachments", "textFormat"):
        activity.pop(key, None)
    activity["entities"] = [e for e in activity["entities"] if e["type"] != "mention"]
    activity["value"] = value
    activity["replyToId"] = ta.next_activity_id()
    return activity


def as_group_chat(activity: dict[str, Any]) -> dict[str, Any]:
    activity["conversation"] = {"isGroup": True, "conversationType": "groupChat", "tenantId": ta.TENANT_ID,
                                "id": "19:group-chat-1@thread.v2"}
    activity["channelData"] = {"tenant": {"id": ta.TENANT_ID}}
    return activity


def shared_posts(bot) -> list[str]:
    """Everything the bot posted in the channel (any thread) or the group chat."""
    return [FakeConnector.all_text(s.body) for s in bot.fake.sent()
            if (s.conversation_id or "").startswith((ta.CHANNEL_ID, "19:group-chat-1"))]


def card_actions(body: dict) -> list[str]:
    card = FakeConnector.card_of(body) or {}
    return [a["data"].get(CARD_KEY) for a in card.get("actions", [])]


async def sanne_asked_anna(bot) -> None:
    """Sanne and Anna both talked to the bot in their personal chats; Sanne asked Anna a question."""
    await bot.say("anna", "help")
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> {QUESTION}", user_id=USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    activity["entities"].append({"type": "mention", "mentioned": {"id": USERS["anna"], "name": NAMES["anna"]},
                                 "text": f"<at>{NAMES['anna']}</at>"})
    assert (await bot.post(activity))[0] == 201
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))


async def test_my_data_typed_in_a_channel_goes_to_the_personal_chat(bot):
    await sanne_asked_anna(bot)
    before = len(bot.fake.delivered(bot.chat("sanne")))
    status, _ = await bot.post(in_channel(bot, "sanne", "mijn gegevens"))
    assert status == 201
    summary = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))[before:]
                                   if "export_data" in card_actions(s.body)])
    assert "vragen die je stelde: 1" in FakeConnector.all_text(summary[0].body)
    assert shared_posts(bot) == [SENT_PRIVATELY]
    assert bot.fake.created() == []  # her stored personal chat was used


async def test_export_pressed_in_a_channel_is_sent_to_the_personal_chat_only(bot):
    await sanne_asked_anna(bot)
    [sanne_id] = bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["sanne"])[0]
    status, _ = await bot.post(channel_submit(bot, "sanne", {CARD_KEY: "export_data", "value": str(sanne_id)}))
    assert status == 201
    exported = await accept_the_file(bot, "sanne")  # the consent card came to her personal chat
    assert exported["questions"][0]["text"] == QUESTION
    assert shared_posts(bot) == [SENT_PRIVATELY]
    assert not any(QUESTION in t for t in shared_posts(bot))


async def test_export_by_action_execute_in_a_channel_answers_the_card_with_the_short_line_only(bot):
    await sanne_asked_anna(bot)
    [sanne_id] = bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["sanne"])[0]
    invoke = ta.invoke_action_execute("export_data", {"value": str(sanne_id)}, user_id=USERS["sanne"],
                                      user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    invoke["conversation"] = in_channel(bot, "sanne", "")["conversation"]
    status, body = await bot.post(invoke)
    assert status == 200
    card = json.loads(body)["value"]
    assert [block["text"] for block in card["body"]] == [SENT_PRIVATELY]
    await accept_the_file(bot, "sanne")
    assert shared_posts(bot) == []


async def test_forget_me_typed_and_confirmed_in_a_channel_stays_private(bot):
    await sanne_asked_anna(bot)
    before = len(bot.fake.delivered(bot.chat("sanne")))
    await bot.post(in_channel(bot, "sanne", "vergeet-mij"))
    prompt = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))[before:]
                                  if "forget_confirm" in card_actions(s.body)])
    value = next(a["data"]["value"] for a in FakeConnector.card_of(prompt[0].body)["actions"]
                 if a["data"][CARD_KEY] == "forget_confirm")
    assert shared_posts(bot) == [SENT_PRIVATELY]

    await bot.post(channel_submit(bot, "sanne", {CARD_KEY: "forget_confirm", "value": value}))
    await until(lambda: not bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["sanne"]))
    done = CATALOG.text("nl", "forget.done")
    # Her stored chat went with her data, so the bot opened her 1:1 chat again (and did not store it).
    await until(lambda: any(done in FakeConnector.all_text(s.body) for s in bot.fake.delivered()
                            if s.conversation_id.startswith("a:new-")))
    assert [c["members"] for c in bot.fake.created()] == [[{"id": USERS["sanne"]}]]
    assert shared_posts(bot) == [SENT_PRIVATELY, SENT_PRIVATELY]
    assert bot.rows("SELECT count(*) FROM conversation_refs WHERE external_id = ?", USERS["sanne"]) == [(0,)]


async def test_someone_without_a_stored_personal_chat_gets_one_opened(bot):
    status, _ = await bot.post(in_channel(bot, "lotte", "rol contracten"))
    assert status == 201
    added = CATALOG.text("nl", "topics.added", added="#contracten", current="#contracten")
    await until(lambda: any(added in FakeConnector.all_text(s.body) for s in bot.fake.delivered()
                            if s.conversation_id.startswith("a:new-")))
    [created] = bot.fake.created()
    assert created["members"] == [{"id": USERS["lotte"]}] and created["isGroup"] is False
    assert created["bot"]["id"] == ta.BOT_ID and created["tenantID"] == ta.TENANT_ID
    assert shared_posts(bot) == [SENT_PRIVATELY]


@pytest.mark.parametrize("text", ["mijn gegevens", "rol", "erkenning uit"])
async def test_the_rule_holds_in_group_chats_too(bot, text):
    await bot.say("sanne", "help")
    before = len(bot.fake.delivered(bot.chat("sanne")))
    status, _ = await bot.post(as_group_chat(in_channel(bot, "sanne", text)))
    assert status == 201
    await until(lambda: len(bot.fake.delivered(bot.chat("sanne"))) > before)
    assert shared_posts(bot) == [SENT_PRIVATELY]


async def test_an_unreachable_personal_chat_is_said_in_one_line_without_the_data(bot):
    await sanne_asked_anna(bot)
    bot.fake.block(bot.chat("sanne"))
    await bot.post(in_channel(bot, "sanne", "mijn gegevens"))
    unreachable = CATALOG.text("nl", "teams.private_unreachable")
    await until(lambda: shared_posts(bot) == [unreachable])
    assert not any("vragen die je stelde" in t for t in shared_posts(bot))


async def test_help_and_questions_typed_in_a_channel_are_still_answered_there(bot):
    await bot.post(in_channel(bot, "sanne", "help"))
    await until(lambda: shared_posts(bot))
    assert shared_posts(bot)[0].startswith(CATALOG.text("nl", "help").strip()[:20])
    assert bot.fake.created() == []
