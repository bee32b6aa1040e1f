"""Issue 11, finding 11 (Teams half), over HTTP: text people typed reaches Teams escaped, in message text and
in Adaptive Card TextBlocks, so it cannot become a link, formatting or a tag."""

from __future__ import annotations

import json
import re

import pytest

from bot.teams.escape import card_text, message_text
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import running_teams_bot
from tests.e2e.test_teams_files import accept_the_file

CARD_KEY = "vraagbot_action"
HOSTILE = "Zie [click](https://evil.example) en **vet** <at>Anna</at> <img src=x> `code`"


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def test_the_escapes_leave_no_markup():
    for escaped in (message_text(HOSTILE), card_text(HOSTILE)):
        assert "[click](" not in escaped and "**vet**" not in escaped and "`code`" not in escaped
        assert not re.search(r"(?<!\\)<", escaped)  # every < is an entity or backslash-escaped
    assert message_text("a < b & c") == "a &lt; b &amp; c"
    assert card_text("Vraag (#1) staat bij Anna.") == "Vraag (#1) staat bij Anna."  # plain text stays readable


async def test_a_hostile_question_and_answer_reach_the_connector_escaped(bot):
    await bot.say("anna", "help")
    await bot.submit("sanne", {CARD_KEY: "ask_form", "expert": "@anna", "question": HOSTILE, "urgent": "false"})
    question = await until(lambda: [s for s in bot.fake.delivered(bot.chat("anna"))
                                    if "answer" in json.dumps(FakeConnector.card_of(s.body) or {})])
    blocks = FakeConnector.card_texts(question[0].body, types=("TextBlock",))
    assert any(card_text(HOSTILE) in b for b in blocks)
    assert not any("[click](" in b or "<at>" in b or "**vet**" in b for b in blocks)

    qid = bot.rows("SELECT id FROM questions")[0][0]
    await bot.submit("anna", {CARD_KEY: "answer", "value": str(qid), "answer": "Lees [dit](https://evil.example)"})
    relay = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))
                                 if "evil.example" in FakeConnector.all_text(s.body)])
    for sent in relay:
        text = FakeConnector.all_text(sent.body)
        assert "[dit](" not in text and "\\[dit\\](https://evil.example)" in text

    await bot.say("sanne", "mijn gegevens")
    summary = await until(lambda: [s for s in bot.fake.delivered(bot.chat("sanne"))
                                   if "export_data" in json.dumps(FakeConnector.card_of(s.body) or {})])
    value = next(a["data"]["value"] for a in FakeConnector.card_of(summary[-1].body)["actions"])
    await bot.submit("sanne", {CARD_KEY: "export_data", "value": value})
    exported = await accept_the_file(bot, "sanne")  # a file now (consent card), not text Teams renders
    assert exported["questions"][0]["text"] == HOSTILE  # and the export still says exactly what is stored
