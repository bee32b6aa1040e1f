"""Issue 13, item 3, over HTTP with the real botbuilder stack: a data export reaches Teams as a real file through
the file consent flow of the personal chat. The bot sends a consent card (no data on it); on accept it makes the
export afresh for whoever accepted, PUTs it to the upload URL Teams gave (a OneDrive upload session, here the
fake connector's) and shows a file info card; a decline is answered kindly with how to get the file later.
Each takes effect once, also when the Bot Connector sends the invoke again."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.teams.files import FILE_CONSENT, FILE_INFO
from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import UPLOAD, FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, TeamsBot, running_teams_bot
from tests.unit.world import CATALOG

CARD_KEY = "vraagbot_action"
QUESTION = "Mag ik deze offerte goedkeuren?"
WAIT = 30.0  # generous: the machine is busy; the condition is the test, not the time


@asynccontextmanager
async def teams_bot(database_url: str):
    db_path = database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""
    async with running_teams_bot(database_url, db_path) as bot:
        yield bot


def card_actions(sent_body: dict[str, Any]) -> list[str]:
    card = FakeConnector.card_of(sent_body) or {}
    return [a["data"].get(CARD_KEY) for a in card.get("actions", [])]


async def ask_anna(bot: TeamsBot, text: str) -> None:
    """Sanne asks Anna something (on either database: watched at the connector, not in the tables)."""
    await bot.say("anna", "help")
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> {text}", user_id=USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=bot.fake.service_url)
    activity["entities"].append({"type": "mention", "mentioned": {"id": USERS["anna"], "name": NAMES["anna"]},
                                 "text": f"<at>{NAMES['anna']}</at>"})
    status, _ = await bot.post(activity)
    assert status == 201
    await until(lambda: any(text in t for t in bot.texts(bot.chat("anna"))), WAIT)


def attachments(bot: TeamsBot, who: str, content_type: str) -> list[dict[str, Any]]:
    return [a for s in bot.fake.delivered(bot.chat(who)) for a in s.body.get("attachments") or []
            if a.get("contentType") == content_type]


async def ask_for_the_file(bot: TeamsBot, who: str = "sanne") -> dict[str, Any]:
    """'mijn gegevens', then the export button on the summary: the consent card that came of it."""
    await bot.say(who, "mijn gegevens")
    summary = await until(lambda: [s for s in bot.fake.delivered(bot.chat(who))
                                   if "export_data" in card_actions(s.body)], WAIT)
    value = next(a["data"]["value"] for a in FakeConnector.card_of(summary[-1].body)["actions"])
    before = len(attachments(bot, who, FILE_CONSENT))
    await bot.submit(who, {CARD_KEY: "export_data", "value": value})
    cards = await until(lambda: attachments(bot, who, FILE_CONSENT)[before:], WAIT)
    return cards[0]


def consent(bot: TeamsBot, action: str, card: dict[str, Any], who: str = "sanne", **kwargs: Any) -> dict[str, Any]:
    context = card["content"]["acceptContext" if action == "accept" else "declineContext"]
    return ta.file_consent_invoke(action, user_id=USERS[who], service_url=bot.fake.service_url, context=context,
                                  upload_url=bot.fake.upload_url(card["name"]), name=card["name"], **kwargs)


async def accept_the_file(bot: TeamsBot, who: str = "sanne", conversation_id: str | None = None) -> dict[str, Any]:
    """Accept the newest consent card in the person's chat (the export button was pressed); the JSON file that
    was uploaded. For other tests that need the export's content too."""
    cards = await until(lambda: [a for s in bot.fake.delivered(conversation_id or bot.chat(who))
                                 for a in s.body.get("attachments") or [] if a.get("contentType") == FILE_CONSENT],
                        WAIT)
    card = cards[-1]
    before = len(bot.fake.uploads())
    status, _ = await bot.post(consent(bot, "accept", card, who))
    assert status == 200
    [uploaded] = await until(lambda: bot.fake.uploads()[before:], WAIT)
    return uploaded.body


async def test_accepting_uploads_the_export_as_a_file_and_shows_it(database_url):
    async with teams_bot(database_url) as bot:
        await ask_anna(bot, QUESTION)
        card = await ask_for_the_file(bot)
        assert card["name"] == "vraagbot-gegevens.json"
        assert card["content"]["sizeInBytes"] > 0
        assert QUESTION not in json.dumps(card)  # the card carries no data, only a marker
        prompt = CATALOG.text("nl", "teams.export_consent")
        assert any(prompt in t for t in bot.texts(bot.chat("sanne")))
        assert not any(t.startswith("Je gegevens (deel") for t in bot.texts(bot.chat("sanne")))  # no JSON as text

        invoke = consent(bot, "accept", card)
        status, _ = await bot.post(invoke)
        assert status == 200
        [upload] = await until(lambda: bot.fake.uploads(), WAIT)
        assert upload.method == "PUT" and upload.status == 201
        size = int(upload.headers["content-length"])
        assert upload.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        data = upload.body
        assert data["person"]["platform_user_id"] == USERS["sanne"]
        assert data["questions"][0]["text"] == QUESTION

        [info] = await until(lambda: attachments(bot, "sanne", FILE_INFO), WAIT)
        sent_info = invoke["value"]["uploadInfo"]
        assert info["name"] == sent_info["name"] and info["contentUrl"] == sent_info["contentUrl"]
        assert info["content"]["uniqueId"] == sent_info["uniqueId"] and info["content"]["fileType"] == "json"
        done = CATALOG.text("nl", "teams.export_uploaded")
        await until(lambda: any(done in t for t in bot.texts(bot.chat("sanne"))), WAIT)

        # The Bot Connector sends the same invoke again: nothing is uploaded or shown twice.
        posts = len(bot.fake.sent(bot.chat("sanne")))
        status, _ = await bot.post(invoke)
        assert status == 200
        assert len(bot.fake.uploads()) == 1 and len(bot.fake.sent(bot.chat("sanne"))) == posts


async def test_the_file_holds_only_the_data_of_who_accepted(sqlite_database_url):
    """Anna gets hold of Sanne's consent context and accepts it from her own chat: she gets her own file."""
    async with teams_bot(sqlite_database_url) as bot:
        await ask_anna(bot, QUESTION)
        card = await ask_for_the_file(bot, "sanne")
        status, _ = await bot.post(consent(bot, "accept", card, "anna"))
        assert status == 200
        [upload] = await until(lambda: bot.fake.uploads(), WAIT)
        assert upload.body["person"]["platform_user_id"] == USERS["anna"]
        assert USERS["sanne"] not in json.dumps(upload.body)
        assert attachments(bot, "sanne", FILE_INFO) == []


async def test_declining_uploads_nothing_and_says_how_to_get_it_later(database_url):
    async with teams_bot(database_url) as bot:
        await ask_anna(bot, QUESTION)
        card = await ask_for_the_file(bot)
        invoke = consent(bot, "decline", card)
        status, _ = await bot.post(invoke)
        assert status == 200
        declined = CATALOG.text("nl", "teams.export_declined")
        await until(lambda: any(declined in t for t in bot.texts(bot.chat("sanne"))), WAIT)
        assert "mijn-gegevens" in declined
        status, _ = await bot.post(invoke)  # sent again: said once
        assert status == 200
        assert [t for t in bot.texts(bot.chat("sanne")) if declined in t] == [declined]
        assert bot.fake.uploads() == [] and attachments(bot, "sanne", FILE_INFO) == []


async def test_a_failed_upload_is_said_and_shows_no_file(sqlite_database_url):
    async with teams_bot(sqlite_database_url) as bot:
        await ask_anna(bot, QUESTION)
        card = await ask_for_the_file(bot)
        bot.fake.fail(500, kinds=(UPLOAD,))
        status, _ = await bot.post(consent(bot, "accept", card))
        assert status == 200
        failed = CATALOG.text("nl", "teams.export_upload_failed")
        await until(lambda: any(failed in t for t in bot.texts(bot.chat("sanne"))), WAIT)
        assert [u.status for u in bot.fake.uploads()] == [500]
        assert attachments(bot, "sanne", FILE_INFO) == []


@pytest.mark.parametrize("upload_url", ["http://203.0.113.7/upload/x.json", "ftp://127.0.0.1/x.json", ""])
async def test_an_upload_url_that_is_not_https_gets_nothing(sqlite_database_url, upload_url):
    async with teams_bot(sqlite_database_url) as bot:
        await ask_anna(bot, QUESTION)
        card = await ask_for_the_file(bot)
        invoke = consent(bot, "accept", card)
        invoke["value"]["uploadInfo"]["uploadUrl"] = upload_url
        status, _ = await bot.post(invoke)
        assert status == 200
        failed = CATALOG.text("nl", "teams.export_upload_failed")
        await until(lambda: any(failed in t for t in bot.texts(bot.chat("sanne"))), WAIT)
        assert bot.fake.uploads() == []
