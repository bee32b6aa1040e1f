"""Teams end to end: real-shaped activities into the real botbuilder CloudAdapter over HTTP, with
serviceUrl pointing at a fake Bot Connector that records every reply and proactive message."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, running_teams_bot
from tests.e2e.test_teams_files import accept_the_file

CARD_KEY = "vraagbot_action"


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def mention(activity: dict, who: str) -> dict:
    """Add an @mention of a colleague, as Teams does: <at>Name</at> in the text plus an entity."""
    at = f"<at>{NAMES[who]}</at>"
    activity["entities"].append({"type": "mention", "mentioned": {"id": USERS[who], "name": NAMES[who]},
                                 "text": at})
    return activity


async def ask_anna(bot, text="Mag ik deze offerte goedkeuren?", *, greet: bool = True) -> int:
    if greet:
        await bot.say("anna", "help")  # anna talked to the bot before: her chat reference is stored
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> {text}", user_id=USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    status, _ = await bot.post(mention(activity, "anna"))
    assert status == 201
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    return bot.rows("SELECT max(id) FROM questions")[0][0]


def invoke_text(response_body: str) -> str:
    """The text of the card an adaptiveCard/action invoke answered with."""
    answer = json.loads(response_body)
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    return " ".join(block["text"] for block in answer["value"]["body"])


def card_actions(sent_body: dict) -> list[str]:
    card = FakeConnector.card_of(sent_body) or {}
    return [a["data"].get(CARD_KEY) for a in card.get("actions", [])]


async def test_vraag_opens_the_ask_form_card(bot):
    status, _ = await bot.say("sanne", "vraag")
    assert status == 201
    [sent] = await bot.fake.wait_for(conversation_id=bot.chat("sanne"))
    card = FakeConnector.card_of(sent.body)
    assert [i["id"] for i in card["body"] if i["type"].startswith("Input")] == [
        "expert_picked", "expert", "topic", "question", "assessment", "kind", "share_kind", "urgent"]
    assert card_actions(sent.body) == ["ask_form"]


@pytest.mark.parametrize("typed", ["/vraag help", "/ask help", "vraag help"])
async def test_the_slack_form_of_a_command_works_in_teams_too(bot, typed):
    """Help and the data summary name commands as `/vraag ...`: typed so in Teams they must work, not be refused."""
    status, _ = await bot.say("sanne", typed)
    assert status == 201
    [sent] = await bot.fake.wait_for(conversation_id=bot.chat("sanne"))
    text = FakeConnector.all_text(sent.body)
    assert "ken ik niet" not in text and "mijn-gegevens" in text, text


async def test_form_submit_asks_and_the_expert_gets_a_card_with_werk_gunst_and_an_answer_field(bot):
    await bot.say("anna", "help")
    await bot.submit("sanne", {CARD_KEY: "ask_form", "expert": "@anna", "topic": "inkoop",
                               "question": "Mag dit zonder tweede handtekening?", "assessment": "ja",
                               "kind": "doubt", "urgent": "false"})
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    assert bot.rows("SELECT topic, first_assessment, kind, urgent FROM questions") == [("inkoop", "ja", "doubt", 0)]
    question = next(s for s in bot.fake.delivered(bot.chat("anna")) if "Vraag #1" in FakeConnector.all_text(s.body))
    assert card_actions(question.body) == ["tag_werk", "tag_werk_remember", "tag_gunst", "answer"]
    assert any("staat bij Anna" in t for t in bot.texts(bot.chat("sanne")))


async def test_quick_ask_creates_the_chat_of_an_expert_who_never_talked_to_the_bot(bot):
    activity = ta.personal_message(f"vraag <at>{NAMES['lotte']}</at> Welke versie is actueel?",
                                   user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                   service_url=bot.fake.service_url)
    await bot.post(mention(activity, "lotte"))
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [created] = bot.fake.created()
    assert created["members"] == [{"id": USERS["lotte"]}] and created["tenantID"] == ta.TENANT_ID
    new_chat = next(s.conversation_id for s in bot.fake.delivered() if "Vraag #1" in FakeConnector.all_text(s.body))
    assert new_chat.startswith("a:new-")
    assert bot.rows("SELECT kind, external_id FROM conversation_refs WHERE external_id = ?", USERS["lotte"]) == [
        ("person", USERS["lotte"])]


async def test_werk_gunst_submit_by_the_expert(bot):
    qid = await ask_anna(bot)
    await bot.submit("anna", {CARD_KEY: "tag_gunst", "value": str(qid)})
    await until(lambda: bot.rows("SELECT tag FROM questions WHERE tag = 'gunst'"))
    assert bot.rows("SELECT tag_source FROM questions") == [("expert",)]
    refused_before = bot.rows("SELECT tag, tag_source FROM questions")
    await bot.submit("lotte", {CARD_KEY: "tag_werk", "value": str(qid)})
    await until(lambda: any("Alleen de expert" in t for t in bot.texts(bot.chat("lotte"))))
    assert bot.rows("SELECT tag, tag_source FROM questions") == refused_before


async def test_the_experts_answer_is_relayed_and_the_asker_gets_the_outcome_card(bot):
    qid = await ask_anna(bot)
    await bot.submit("anna", {CARD_KEY: "answer", "value": str(qid), "answer": "Klopt, dat mag. Goed gecheckt!"})
    await until(lambda: bot.rows("SELECT id FROM replies"))
    outcome = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))
                                   if "outcome_confirmed" in card_actions(s.body)])
    assert outcome
    assert any("Antwoord van Anna de Vries op je vraag #1" in t and "Klopt, dat mag" in t
               for t in bot.texts(bot.chat("sanne")))
    assert bot.rows("SELECT curt FROM replies") == [(0,)]


async def test_curt_answer_reframes_privately_and_confirmation_via_action_execute(bot):
    qid = await ask_anna(bot)
    await bot.submit("anna", {CARD_KEY: "answer", "value": str(qid),
                              "answer": "Staat gewoon in de handleiding, had je zelf kunnen lezen. Zoals ik al zei."})
    await until(lambda: bot.rows("SELECT kind FROM signals"))
    await until(lambda: any("drukte" in t or "timing" in t or "oordeel" in t for t in bot.texts(bot.chat("sanne"))))
    assert not any("drukte" in t or "oordeel" in t for t in bot.texts(bot.chat("anna")))
    invoke = ta.invoke_action_execute("outcome_confirmed", {"value": str(qid)}, user_id=USERS["sanne"],
                                      user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    status, text = await bot.post(invoke)
    assert status == 200 and "bevestigde je inschatting" in invoke_text(text)
    await until(lambda: ("confirmation_only",) in bot.rows("SELECT kind FROM signals"))
    await until(lambda: any("Je inschatting klopte" in t or "bevestiging" in t.lower()
                            for t in bot.texts(bot.chat("sanne"))))


async def test_unknown_invokes_are_answered_cleanly(bot):
    unknown = ta.invoke_action_execute("launch_rockets", {}, user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                       service_url=bot.fake.service_url)
    status, text = await bot.post(unknown)
    assert status == 200 and "ken ik niet" in invoke_text(text)
    other = dict(unknown, name="composeExtension/query")
    status, _ = await bot.post(other)
    assert status == 400  # botbuilder's 501 "no handler" would be a 5xx for a request the bot cannot serve
    assert bot.rows("SELECT count(*) FROM questions") == [(0,)]


async def test_data_export_and_deletion(bot):
    await ask_anna(bot)
    await bot.say("sanne", "mijn gegevens")
    summary = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))
                                   if "export_data" in card_actions(s.body)])
    export_value = next(a["data"]["value"] for a in FakeConnector.card_of(summary[-1].body)["actions"])
    await bot.submit("sanne", {CARD_KEY: "export_data", "value": export_value})
    data = await accept_the_file(bot, "sanne")  # a file, through the consent card (tests/e2e/test_teams_files.py)
    assert data["person"]["platform_user_id"] == USERS["sanne"]
    assert data["questions"][0]["text"] == "Mag ik deze offerte goedkeuren?"
    assert data["personal_chat_reference_stored"] is True

    await bot.say("sanne", "vergeet mij")
    prompt = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))
                                  if "forget_confirm" in card_actions(s.body)])
    value = next(a["data"]["value"] for a in FakeConnector.card_of(prompt[-1].body)["actions"]
                 if a["data"][CARD_KEY] == "forget_confirm")
    await bot.submit("sanne", {CARD_KEY: "forget_confirm", "value": value})
    await until(lambda: not bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["sanne"]))
    assert bot.rows("SELECT count(*) FROM questions") == [(0,)]
    assert bot.rows("SELECT count(*) FROM conversation_refs WHERE external_id = ?", USERS["sanne"]) == [(0,)]


async def test_bot_added_to_a_team_stores_the_channel_and_greets(bot):
    status, _ = await bot.post(ta.bot_added_to_team(service_url=bot.fake.service_url, team_name="Inkoop"))
    assert status == 201
    [greeting] = await bot.fake.wait_for(conversation_id=ta.CHANNEL_ID)
    assert "Hallo team" in FakeConnector.all_text(greeting.body)
    assert bot.rows("SELECT kind, external_id, name FROM conversation_refs") == [("channel", ta.CHANNEL_ID, "Inkoop")]


async def test_a_proactive_message_after_an_app_restart(sqlite_database_url):
    db_path = sqlite_database_url.split("///", 1)[1]
    async with FakeConnector() as fake:
        async with running_teams_bot(sqlite_database_url, db_path, fake=fake) as first:
            await first.say("anna", "help")  # her reference is stored by the first process
        async with running_teams_bot(sqlite_database_url, db_path, fake=fake) as second:
            activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> Na de herstart?", user_id=USERS["sanne"],
                                           user_name=NAMES["sanne"], service_url=fake.service_url)
            await second.post(mention(activity, "anna"))
            await until(lambda: second.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
            assert any("Na de herstart?" in t for t in second.texts(second.chat("anna")))
            assert fake.created() == []  # the stored reference was used, no new chat


async def test_throttled_send_is_retried_with_backoff_and_delivered_once(bot):
    await bot.say("anna", "help")
    bot.fake.throttle(times=1, retry_after=1, conversation_id=bot.chat("anna"))
    qid = await ask_anna(bot, greet=False)
    attempts = [s for s in bot.fake.sent(bot.chat("anna")) if "Vraag #" in FakeConnector.all_text(s.body)]
    assert [s.status for s in attempts] == [429, 201]
    assert bot.rows("SELECT status FROM outbox WHERE kind = 'question' AND question_id = ?", qid) == [("sent",)]


async def test_blocked_expert_is_marked_unreachable_and_the_asker_is_told(bot):
    await bot.say("anna", "help")
    bot.fake.block(bot.chat("anna"))
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> Ben je er?", user_id=USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    await bot.post(mention(activity, "anna"))
    await until(lambda: any("niet bereikbaar" in t for t in bot.texts(bot.chat("sanne"))))
    assert bot.rows("SELECT status, attempts FROM outbox WHERE kind = 'question'") == [("failed", 1)]
    assert bot.rows("SELECT unreachable FROM people WHERE external_id = ?", USERS["anna"]) == [(1,)]
    assert len([s for s in bot.fake.sent(bot.chat("anna")) if s.status == 403]) == 1  # not retried


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Content-Type": "text/plain"}, "hello", 415),
        ({"Content-Type": "application/json"}, "{not json", 400),
        ({"Content-Type": "application/json"}, "[1, 2]", 400),
        ({"Content-Type": "application/json"}, '{"text": "no type"}', 400),
    ],
)
async def test_malformed_requests_get_a_clear_4xx(bot, headers, body, status):
    async with bot.session.post(f"{bot.url}/api/messages", data=body, headers=headers) as response:
        assert response.status == status
        assert "error" in await response.json()
    assert bot.rows("SELECT count(*) FROM people") == [(0,)]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic abc"])
async def test_with_an_app_id_unauthenticated_requests_get_401_and_store_nothing(sqlite_database_url, authorization):
    db_path = sqlite_database_url.split("///", 1)[1]
    async with running_teams_bot(sqlite_database_url, db_path, MICROSOFT_APP_ID="00000000-app",
                                 MICROSOFT_APP_PASSWORD="secret") as secured:
        activity = ta.personal_message("help", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                       service_url=secured.fake.service_url)
        headers = {"Authorization": authorization} if authorization else None
        status, _ = await secured.post(activity, headers=headers)
        assert status == 401
        await asyncio.sleep(0.2)
        assert secured.rows("SELECT count(*) FROM people") == [(0,)]
        assert secured.fake.requests() == []


async def test_commands_work_in_a_channel_when_the_bot_is_mentioned(bot):
    await bot.say("anna", "rol contracten")
    activity = ta.channel_mention("vraag #contracten Klopt deze termijn?", user_id=USERS["sanne"],
                                  user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    status, _ = await bot.post(activity)
    assert status == 201
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    assert bot.rows("SELECT topic, tag_source FROM questions") == [("contracten", "topic_rule")]
    [reply] = await bot.fake.wait_for(conversation_id=activity["conversation"]["id"])
    assert "staat bij Anna" in FakeConnector.all_text(reply.body)  # answered in the channel thread
    assert ("channel", ta.CHANNEL_ID) in bot.rows("SELECT kind, external_id FROM conversation_refs")


async def test_a_member_added_whom_the_roster_does_not_know_is_no_server_error(bot):
    """Someone else joined a team the bot is in: only whether the bot itself was added matters, so no member
    look-up is made (botbuilder's own look-up failed the turn with a 5xx when the roster did not know them)."""
    activity = ta.bot_added_to_team(service_url=bot.fake.service_url)
    activity["membersAdded"] = [{"id": "29:not-in-the-roster"}]
    activity["conversation"]["id"] = "19:a-channel-the-connector-does-not-know@thread.tacv2"
    status, _ = await bot.post(activity)
    assert status < 300, status


async def test_an_invoke_no_handler_can_answer_is_a_400_not_a_5xx(bot):
    """Found by the fuzz test: a messaging-extension query with a value of the wrong shape failed inside
    botbuilder, which then answered 501."""
    activity = ta.personal_message("x", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                   service_url=bot.fake.service_url)
    activity.update(type="invoke", name="composeExtension/query", value=[])
    activity.pop("text", None)
    status, _ = await bot.post(activity)
    assert status == 400, status
