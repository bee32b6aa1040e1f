"""Finding 15 (issue 11): a button value that cannot be an id of ours (beyond PostgreSQL's integer, beyond
SQLite's, negative, or not plain decimal digits) is refused with the "this button no longer works" line
and one warning in the log: no "internal error", no traceback, on both databases and both platforms."""

from __future__ import annotations

import logging

import pytest

from nudges.texts.catalog import load_catalog
from tests.e2e.slack_bot import running_slack_bot
from tests.e2e.teams_bot import running_teams_bot

CARD_KEY = "vraagbot_action"
OUT_OF_RANGE = [str(2**31), str(2**63), str(10**30), "-1"]
NOT_DECIMAL = ["+1", " 1", "1_0", "\u0661"]  # int() takes each of them; the last is an Arabic-Indic 1
NOT_AN_ID = OUT_OF_RANGE + NOT_DECIMAL
ID_ACTIONS = ["tag_werk", "tag_werk_remember", "tag_gunst", "outcome_confirmed", "outcome_new_info", "felt_curt",
              "forget_confirm", "export_data"]
CATALOG = load_catalog()
REFUSED = CATALOG.text("nl", "error.unknown_action")


def _db_path(database_url: str) -> str:
    return database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""


def _assert_refused_quietly(caplog: pytest.LogCaptureFixture, presses: int) -> None:
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info]
    assert tracebacks == []
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "handlers.dispatch" and r.levelno >= logging.WARNING]
    assert len(warnings) == presses, warnings
    assert all(line.startswith("refused:") and "\n" not in line for line in warnings), warnings


@pytest.mark.parametrize("value", NOT_AN_ID)
async def test_slack_button_with_a_value_that_is_no_id_is_refused(database_url, value, caplog):
    caplog.set_level(logging.INFO)
    async with running_slack_bot(database_url, _db_path(database_url)) as bot:
        status, _ = await bot.command("sanne", "help")  # sanne exists, so forget_confirm reaches the id check
        assert status == 200
        await bot.fake.wait_for_response()
        caplog.clear()
        for pressed, action in enumerate(ID_ACTIONS, start=1):
            status, _ = await bot.press("sanne", action, value)
            assert status == 200
            answers = await bot.fake.wait_for_response(1 + pressed)
            assert answers[-1].body["text"] == REFUSED, (action, answers[-1].body["text"])
        _assert_refused_quietly(caplog, len(ID_ACTIONS))


async def _teams_refuses(database_url: str, submits: list[dict], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_teams_bot(database_url, _db_path(database_url)) as bot:
        status, _ = await bot.say("sanne", "help")
        assert status == 201
        await bot.fake.wait_for(conversation_id=bot.chat("sanne"))
        caplog.clear()
        for pressed, data in enumerate(submits, start=2):
            status, _ = await bot.submit("sanne", data)
            assert status in (200, 201)
            await bot.fake.wait_for(pressed, conversation_id=bot.chat("sanne"))
            assert bot.texts(bot.chat("sanne"))[pressed - 1:] == [REFUSED], data
        _assert_refused_quietly(caplog, len(submits))


@pytest.mark.parametrize("value", NOT_AN_ID)
async def test_teams_card_submit_with_a_value_that_is_no_id_is_refused(database_url, value, caplog):
    await _teams_refuses(database_url, [{CARD_KEY: action, "value": value} for action in ID_ACTIONS], caplog)


@pytest.mark.parametrize("value", NOT_AN_ID)
async def test_teams_answer_card_with_a_value_that_is_no_id_is_refused(database_url, value, caplog):
    await _teams_refuses(database_url, [{CARD_KEY: "answer", "value": value, "answer": "Ja, dat mag."}], caplog)
