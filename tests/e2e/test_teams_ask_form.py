"""The Teams ask form, sent (everyday use): Teams leaves a card's Send button clickable after a submit, so the
form carries an id of its own and a form sent twice asks once; once sent, the form in the person's chat is
replaced by a line saying so. Real botbuilder over HTTP against the fake Bot Connector."""

from __future__ import annotations

import pytest

from nudges.texts.catalog import load_catalog
from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, TeamsBot, running_teams_bot
from tests.e2e.test_teams import CARD_KEY

CATALOG = load_catalog()


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        await running.say("anna", "help")  # anna has talked to the bot: a chat to deliver to
        yield running


def _is_form(sent) -> bool:
    actions = (FakeConnector.card_of(sent.body) or {}).get("actions", [])
    return any(action["data"].get(CARD_KEY) == "ask_form" for action in actions)


async def opened_form(bot: TeamsBot):
    """sanne types `vraag`: the form card, as delivered, and the data its Send button submits."""
    assert (await bot.say("sanne", "vraag"))[0] == 201
    sent = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne")) if _is_form(s)])
    [form] = sent
    [send] = FakeConnector.card_of(form.body)["actions"]
    return form, dict(send["data"])


async def send_form(bot: TeamsBot, form, data: dict, question: str) -> int:
    value = {**data, "expert": "@anna", "question": question, "urgent": "false"}
    activity = ta.personal_message("", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                   service_url=bot.fake.service_url, value=value, reply_to_id=form.answered_id)
    status, _ = await bot.post(activity)
    return status


async def test_a_form_sent_twice_asks_once_and_says_it_had_it_already(bot):
    form, data = await opened_form(bot)
    assert isinstance(data.get("form"), str) and len(data["form"]) >= 12  # an id of its own
    assert await send_form(bot, form, data, "Mag ik dit contract tekenen?") == 201
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    assert await send_form(bot, form, data, "Mag ik dit contract tekenen?") == 201  # Send clicked again
    already = CATALOG.text("nl", "teams.already_received")
    await until(lambda: any(already in t for t in bot.texts(bot.chat("sanne"))))
    assert bot.rows("SELECT count(*) FROM questions") == [(1,)]
    # Another form is another question.
    second, second_data = await opened_form_again(bot)
    assert second_data["form"] != data["form"]
    assert await send_form(bot, second, second_data, "En dit addendum?") == 201
    await until(lambda: bot.rows("SELECT count(*) FROM questions") == [(2,)])


async def opened_form_again(bot: TeamsBot):
    before = len(bot.fake.delivered(bot.chat("sanne")))
    assert (await bot.say("sanne", "vraag"))[0] == 201
    await until(lambda: len(bot.fake.delivered(bot.chat("sanne"))) > before)
    forms = [s for s in bot.fake.delivered(bot.chat("sanne"))[before:] if _is_form(s)]
    [form] = forms
    [send] = FakeConnector.card_of(form.body)["actions"]
    return form, dict(send["data"])


async def test_the_sent_form_is_replaced_by_a_line_saying_so(bot):
    form, data = await opened_form(bot)
    assert await send_form(bot, form, data, "Klopt deze berekening?") == 201
    [update] = await until(lambda: bot.fake.updated(bot.chat("sanne")))
    assert update.activity_id == form.answered_id
    card = FakeConnector.card_of(update.body)
    assert CATALOG.text("nl", "teams.form_sent") in FakeConnector.all_text(update.body)
    assert not card.get("actions") and not [e for e in card["body"] if e["type"].startswith("Input.")]


async def test_a_form_that_was_refused_stays_to_be_corrected(bot):
    form, data = await opened_form(bot)
    value = {**data, "expert": "@niemand", "question": "Wie weet dit?", "urgent": "false"}
    activity = ta.personal_message("", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                   service_url=bot.fake.service_url, value=value, reply_to_id=form.answered_id)
    assert (await bot.post(activity))[0] == 201
    await until(lambda: len(bot.texts(bot.chat("sanne"))) >= 2)  # the refusal
    assert bot.fake.updated(bot.chat("sanne")) == []
    assert bot.rows("SELECT count(*) FROM questions") == [(0,)]
    # Corrected and sent again, the same form asks: a refusal did not use it up.
    assert await send_form(bot, form, data, "Wie weet dit?") == 201
    await until(lambda: bot.rows("SELECT count(*) FROM questions") == [(1,)])
