"""Issue 13, item 4, end to end: after a one-shot button took effect, the message or card that carried it
is updated in place, on Slack (chat.update, or the response_url of an ephemeral message) and on Teams
(PUT .../activities/{replyToId}): the choice shown, the pressed buttons gone. A failing update keeps the
recorded choice; a refused press updates nothing."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlencode

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import UPDATE, FakeConnector
from tests.e2e.loopback import until
from tests.e2e.slack_bot import USERS, running_slack_bot
from tests.e2e.teams_bot import NAMES, running_teams_bot
from tests.e2e.teams_bot import USERS as TEAMS_USERS
from tests.e2e.test_held_question_buttons import FocusFor
from tests.e2e.test_teams import CARD_KEY, card_actions, mention

# ------------------------------------------------------------------ Slack


@pytest.fixture
async def slack(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def actions_of(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def context_lines(blocks: list[dict]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def section_text(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


async def press_on(bot, who: str, channel: str, message: dict, action_id: str, value: str) -> str:
    """Press a button on a message the bot posted, as Slack sends it: the message itself comes along."""
    name = f"press-{action_id}-{time.monotonic_ns()}"
    body = sr.block_action(action_id, value, user_id=USERS[who], user_name=who, channel_id=channel,
                           message_ts=message["ts"], response_url=bot.fake.response_url(name), message=message)
    status, _ = await bot.post(body, sr.FORM)
    assert status == 200
    return name


async def press_ephemeral(bot, who: str, action_id: str, value: str) -> str:
    """Press a button on an ephemeral message: Slack marks the container so and sends no ``message``."""
    name = f"eph-{action_id}-{time.monotonic_ns()}"
    form = sr.block_action(action_id, value, user_id=USERS[who], user_name=who,
                           response_url=bot.fake.response_url(name))
    payload = json.loads(parse_qs(form)["payload"][0])
    payload["container"]["is_ephemeral"] = True
    del payload["message"]
    status, _ = await bot.post(urlencode({"payload": json.dumps(payload)}), sr.FORM)
    assert status == 200
    return name


def posted_with(bot, action_id: str) -> tuple[str, dict]:
    """The channel and the current form of the (one) posted message that has this button."""
    for call in bot.fake.calls("chat.postMessage"):
        channel = call.args["channel"]
        for message in bot.fake.posted(channel):
            if action_id in actions_of(message.get("blocks") or []):
                return channel, message
    raise AssertionError(f"no posted message with {action_id}")


async def slack_question(bot, text: str = "<@UANNA|anna> #offertes Mag ik deze offerte goedkeuren?") -> int:
    await bot.command("sanne", text)
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    await until(lambda: bot.fake.posted() and posted_with(bot, "tag_werk"))
    return bot.rows("SELECT max(id) FROM questions")[0][0]


async def slack_answered(bot) -> int:
    qid = await slack_question(bot)
    await bot.thread_reply("anna", qid, "Ja, dat mag. Goed dat je het checkt.")
    await until(lambda: [m for m in bot.fake.posted() if "outcome_confirmed" in actions_of(m.get("blocks") or [])])
    return qid


@pytest.mark.parametrize(("action", "tag", "line"), [
    ("tag_werk", "werk", "Gemarkeerd als werk door Anna."),
    ("tag_werk_remember", "werk", "Gemarkeerd als werk door Anna. Vragen over dit onderwerp"),
    ("tag_gunst", "gunst", "Gemarkeerd als gunst door Anna."),
])
async def test_slack_werk_gunst_updates_the_question_in_the_group_dm(slack, action, tag, line):
    qid = await slack_question(slack)
    channel, question = posted_with(slack, action)
    await press_on(slack, "anna", channel, question, action, str(qid))
    [update] = await slack.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (channel, question["ts"])
    blocks = update.args["blocks"]
    assert actions_of(blocks) == []
    assert context_lines(blocks)[0].startswith(line)
    assert "Mag ik deze offerte goedkeuren?" in section_text(blocks)  # the question itself stays readable
    assert slack.rows("SELECT tag, tag_source FROM questions") == [(tag, "expert")]


@pytest.mark.parametrize(("action", "line"), [
    ("outcome_confirmed", "Je gaf aan dat je eigen inschatting klopte."),
    ("outcome_new_info", "Je gaf aan dat je nieuwe informatie kreeg."),
])
async def test_slack_outcome_then_curt_report_each_take_their_own_buttons_away(slack, action, line):
    qid = await slack_answered(slack)
    channel, prompt = posted_with(slack, "outcome_confirmed")
    await press_on(slack, "sanne", channel, prompt, action, str(qid))
    [first] = await slack.fake.wait_for("chat.update")
    assert actions_of(first.args["blocks"]) == ["felt_curt"]  # the curt report is still open
    assert context_lines(first.args["blocks"]) == [line]

    _, updated = posted_with(slack, "felt_curt")  # the message as it now is in Slack
    await press_on(slack, "sanne", channel, updated, "felt_curt", str(qid))
    second = (await slack.fake.wait_for("chat.update", count=2))[1]
    assert actions_of(second.args["blocks"]) == []
    assert context_lines(second.args["blocks"]) == [line, "Je gaf aan dat het antwoord kortaf voelde."]
    assert slack.rows("SELECT outcome FROM questions") == [(action.removeprefix("outcome_"),)]


@pytest.mark.parametrize(("action", "line", "status"), [
    ("withdraw_question", "Je hebt vraag #1 ingetrokken.", "withdrawn"),
    ("send_held_now", "Je koos ervoor vraag #1 nu als urgent te versturen.", "delivered"),
])
async def test_slack_held_question_buttons_replace_the_ephemeral_notice(slack, action, line, status):
    now = int(time.time())
    slack.fake.set_dnd(USERS["anna"], now - 60, now + 3600)
    await slack.command("sanne", "<@UANNA|anna> Kan dit wachten?")
    [told] = await slack.fake.wait_for_response()
    assert actions_of(told.body["blocks"]) == ["send_held_now", "withdraw_question"]
    name = await press_ephemeral(slack, "sanne", action, "1")
    await until(lambda: slack.rows("SELECT id FROM questions WHERE status = ?", status))
    replaced = await until(lambda: [r for r in slack.fake.responses(name) if r.body.get("replace_original")])
    assert actions_of(replaced[0].body["blocks"]) == []
    assert context_lines(replaced[0].body["blocks"]) == [line]
    assert slack.fake.calls("chat.update") == []  # an ephemeral message cannot be updated that way


@pytest.mark.parametrize(("action", "line"), [
    ("forget_cancel", "Je koos ervoor alles te laten staan."),
    ("forget_confirm", "Je koos ervoor alles te laten verwijderen."),
])
async def test_slack_forget_confirmation_is_replaced_by_the_choice(slack, action, line):
    await slack_question(slack)
    await slack.command("sanne", "vergeet-mij")
    prompt = (await slack.fake.wait_for_response(2))[-1]
    [value] = {e["value"] for b in prompt.body["blocks"] if b["type"] == "actions" for e in b["elements"]}
    name = await press_ephemeral(slack, "sanne", action, value)
    replaced = await until(lambda: [r for r in slack.fake.responses(name) if r.body.get("replace_original")])
    assert context_lines(replaced[0].body["blocks"]) == [line]
    assert actions_of(replaced[0].body["blocks"]) == []


async def test_slack_a_failing_update_keeps_the_outcome_and_logs_one_line(slack, caplog):
    qid = await slack_answered(slack)
    channel, prompt = posted_with(slack, "outcome_confirmed")
    slack.fake.error("chat.update", "message_not_found", times=5)
    with caplog.at_level(logging.WARNING, logger="bot.slack.message_updates"):
        name = await press_on(slack, "sanne", channel, prompt, "outcome_confirmed", str(qid))
        await slack.fake.wait_for("chat.update")
        thanks = await until(lambda: slack.fake.responses(name))
        await until(lambda: [r for r in caplog.records if r.name == "bot.slack.message_updates"])
    assert slack.rows("SELECT outcome, status FROM questions") == [("confirmed", "closed")]
    assert "bevestigde je inschatting" in thanks[0].body["text"]
    [logged] = [r for r in caplog.records if r.name == "bot.slack.message_updates"]
    assert "message_not_found" in logged.getMessage() and "recorded" in logged.getMessage()


async def test_slack_a_refused_press_leaves_the_message_as_it_is(slack):
    qid = await slack_question(slack)
    channel, question = posted_with(slack, "tag_werk")
    name = await press_on(slack, "lotte", channel, question, "tag_gunst", str(qid))  # not her question
    await until(lambda: slack.fake.responses(name))
    assert slack.fake.calls("chat.update") == []
    assert slack.rows("SELECT tag_source FROM questions") == [("default",)]


# ------------------------------------------------------------------ Teams


@pytest.fixture
async def teams(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def card_with(bot, who: str, action: str):
    """The (latest) card delivered to ``who`` that has this action, as the fake connector recorded it."""
    found = [s for s in bot.fake.delivered(bot.chat(who)) if action in card_actions(s.body)]
    return found[-1] if found else None


async def submit_on(bot, who: str, card, value: dict) -> None:
    """An Action.Submit on ``card``: Teams names the card's activity id in replyToId."""
    activity = ta.personal_message("", user_id=TEAMS_USERS[who], user_name=NAMES[who],
                                   service_url=bot.fake.service_url, value=value, reply_to_id=card.answered_id)
    status, _ = await bot.post(activity)
    assert status in (200, 201)


async def updates_of(bot, who: str, count: int = 1) -> list:
    return await until(lambda: len(bot.fake.updated(bot.chat(who))) >= count and bot.fake.updated(bot.chat(who)))


def inputs_of(card: dict) -> list[str]:
    return [e["id"] for e in card["body"] if e["type"].startswith("Input.")]


async def teams_question(bot, text: str = "#offertes Mag ik deze offerte goedkeuren?") -> int:
    await bot.say("anna", "help")  # anna's chat reference is stored
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> {text}", user_id=TEAMS_USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    await bot.post(mention(activity, "anna"))
    await until(lambda: card_with(bot, "anna", "tag_werk"))
    return bot.rows("SELECT max(id) FROM questions")[0][0]


async def teams_answered(bot) -> int:
    qid = await teams_question(bot)
    await bot.submit("anna", {CARD_KEY: "answer", "value": str(qid), "answer": "Ja, dat mag. Goed gecheckt!"})
    await until(lambda: card_with(bot, "sanne", "outcome_confirmed"))
    return qid


@pytest.mark.parametrize(("action", "tag", "line"), [
    ("tag_werk", "werk", "Gemarkeerd als werk door Anna de Vries."),
    ("tag_werk_remember", "werk", "Gemarkeerd als werk door Anna de Vries. Vragen over dit onderwerp"),
    ("tag_gunst", "gunst", "Gemarkeerd als gunst door Anna de Vries."),
])
async def test_teams_werk_gunst_updates_the_question_card_and_keeps_the_answer_field(teams, action, tag, line):
    qid = await teams_question(teams)
    card = card_with(teams, "anna", action)
    await submit_on(teams, "anna", card, {CARD_KEY: action, "value": str(qid)})
    [update] = await updates_of(teams, "anna")
    assert update.activity_id == card.answered_id and update.status == 200
    assert card_actions(update.body) == ["answer"]  # werk and gunst gone, answering still possible
    texts = FakeConnector.card_texts(update.body)
    assert any(t.startswith(line) for t in texts)
    assert any("Mag ik deze offerte goedkeuren?" in t for t in texts)
    assert inputs_of(FakeConnector.card_of(update.body)) == ["answer"]
    assert teams.rows("SELECT tag, tag_source FROM questions") == [(tag, "expert")]


@pytest.mark.parametrize(("action", "line"), [
    ("outcome_confirmed", "Je gaf aan dat je eigen inschatting klopte."),
    ("outcome_new_info", "Je gaf aan dat je nieuwe informatie kreeg."),
])
async def test_teams_outcome_card_shows_what_was_marked_and_keeps_what_is_open(teams, action, line):
    qid = await teams_answered(teams)
    prompt = card_with(teams, "sanne", "outcome_confirmed")
    await submit_on(teams, "sanne", prompt, {CARD_KEY: action, "value": str(qid)})
    [first] = await updates_of(teams, "sanne")
    assert first.activity_id == prompt.answered_id
    assert card_actions(first.body) == ["felt_curt"]
    assert line in FakeConnector.card_texts(first.body)

    await submit_on(teams, "sanne", prompt, {CARD_KEY: "felt_curt", "value": str(qid)})
    second = (await updates_of(teams, "sanne", 2))[1]
    assert card_actions(second.body) == []
    assert {line, "Je gaf aan dat het antwoord kortaf voelde."} <= set(FakeConnector.card_texts(second.body))
    assert teams.rows("SELECT outcome FROM questions") == [(action.removeprefix("outcome_"),)]


@pytest.mark.parametrize(("action", "line", "status"), [
    ("withdraw_question", "Je hebt vraag #1 ingetrokken.", "withdrawn"),
    ("send_held_now", "Je koos ervoor vraag #1 nu als urgent te versturen.", "delivered"),
])
async def test_teams_held_question_card_shows_the_choice(teams, action, line, status):
    teams.runtime.platforms.get("teams").presence = FocusFor("anna")
    await teams.say("anna", "help")
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> Kan dit wachten?", user_id=TEAMS_USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=teams.fake.service_url)
    await teams.post(mention(activity, "anna"))
    held = await until(lambda: card_with(teams, "sanne", "send_held_now"))
    await submit_on(teams, "sanne", held, {CARD_KEY: action, "value": "1"})
    await until(lambda: teams.rows("SELECT id FROM questions WHERE status = ?", status))
    [update] = await updates_of(teams, "sanne")
    assert update.activity_id == held.answered_id
    assert card_actions(update.body) == [] and FakeConnector.card_texts(update.body) == [line]


@pytest.mark.parametrize(("action", "line"), [
    ("forget_cancel", "Je koos ervoor alles te laten staan."),
    ("forget_confirm", "Je koos ervoor alles te laten verwijderen."),
])
async def test_teams_forget_confirmation_card_shows_the_choice(teams, action, line):
    await teams.say("sanne", "vergeet mij")
    prompt = await until(lambda: card_with(teams, "sanne", "forget_confirm"))
    value = FakeConnector.card_of(prompt.body)["actions"][0]["data"]["value"]
    await submit_on(teams, "sanne", prompt, {CARD_KEY: action, "value": value})
    [update] = await updates_of(teams, "sanne")
    assert update.activity_id == prompt.answered_id
    assert card_actions(update.body) == [] and FakeConnector.card_texts(update.body) == [line]


async def test_teams_a_failing_update_keeps_the_outcome_and_logs_one_line(teams, caplog):
    qid = await teams_answered(teams)
    prompt = card_with(teams, "sanne", "outcome_confirmed")
    teams.fake.fail(500, times=5, kinds=(UPDATE,))
    before = len(teams.fake.delivered(teams.chat("sanne")))
    with caplog.at_level(logging.WARNING, logger="bot.teams.card_updates"):
        await submit_on(teams, "sanne", prompt, {CARD_KEY: "outcome_confirmed", "value": str(qid)})
        await updates_of(teams, "sanne")
        await until(lambda: [r for r in caplog.records if r.name == "bot.teams.card_updates"])
    assert teams.rows("SELECT outcome, status FROM questions") == [("confirmed", "closed")]
    assert all(u.status == 500 for u in teams.fake.updated(teams.chat("sanne")))
    thanks = await until(lambda: [t for t in teams.texts(teams.chat("sanne"))[before:]
                                  if "bevestigde je inschatting" in t])
    assert thanks
    [logged] = [r for r in caplog.records if r.name == "bot.teams.card_updates"]
    assert "not updated" in logged.getMessage() and "recorded" in logged.getMessage()


async def test_teams_a_refused_press_or_a_channel_submit_updates_nothing(teams):
    qid = await teams_question(teams)
    card = card_with(teams, "anna", "tag_werk")
    await submit_on(teams, "lotte", card, {CARD_KEY: "tag_gunst", "value": str(qid)})  # not her question
    await until(lambda: any("Alleen de expert" in t for t in teams.texts(teams.chat("lotte"))))
    channel = ta.channel_mention("", user_id=TEAMS_USERS["anna"], user_name=NAMES["anna"],
                                 service_url=teams.fake.service_url)
    channel.update(value={CARD_KEY: "tag_werk", "value": str(qid)}, replyToId="some-channel-message")
    await teams.post(channel)
    await until(lambda: teams.rows("SELECT tag_source FROM questions WHERE tag_source = 'expert'"))
    assert [s for s in teams.fake.requests() if s.kind == UPDATE] == []
