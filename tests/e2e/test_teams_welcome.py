"""Issue 13, item 6, over HTTP with the real botbuilder stack: a person who installs the app is welcomed in
their personal chat, in their language, once: Teams sends a conversationUpdate and an installationUpdate for
one install, and either may come again."""

from __future__ import annotations

from typing import Any

import pytest

from bot.teams.escape import message_text
from tests.e2e import teams_activities as ta
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, TeamsBot, running_teams_bot
from tests.unit.world import CATALOG

WAIT = 30.0  # generous: the machine is busy; the condition is the test, not the time
RETENTION_DAYS = 90  # the default VRAAGBOT_TEXT_RETENTION_DAYS, which the welcome names


def welcome(locale: str) -> str:
    return message_text(CATALOG.text(locale, "teams.greeting_personal", days=RETENTION_DAYS))


def welcomes(bot: TeamsBot, who: str, locale: str = "nl") -> list[str]:
    return [t for t in bot.texts(bot.chat(who)) if t == welcome(locale)]


def lotte_in_roster(bot: TeamsBot) -> None:
    bot.fake.set_roster(bot.chat("lotte"), [{"id": USERS["lotte"], "name": NAMES["lotte"], "tenantId": ta.TENANT_ID,
                                             "aadObjectId": ta.aad_id_for(USERS["lotte"]), "userRole": "user"}])


async def post_ok(bot: TeamsBot, activity: dict[str, Any]) -> None:
    status, _ = await bot.post(activity)
    assert status in (200, 201)


async def test_an_install_is_welcomed_once_in_dutch(database_url):
    db_path = database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""
    async with running_teams_bot(database_url, db_path) as bot:
        lotte_in_roster(bot)
        added = ta.bot_added_personal(USERS["lotte"], service_url=bot.fake.service_url, locale="nl-NL")
        installed = ta.installation_update(USERS["lotte"], service_url=bot.fake.service_url, locale="nl-NL")
        await post_ok(bot, added)
        await until(lambda: welcomes(bot, "lotte"), WAIT)
        async with bot.runtime.uow() as uow:  # stored with her name from the roster: the install has none
            person = await uow.people.by_platform_ids("teams", ta.TENANT_ID, USERS["lotte"])
            chat = await uow.conversations.get(person.workspace_id, "person", USERS["lotte"])
        assert person.display_name == NAMES["lotte"] and chat is not None
        await post_ok(bot, installed)  # the same install, told the other way
        await post_ok(bot, added)  # and the first one sent again
        await post_ok(bot, installed)
        await bot.say("lotte", "help")  # the turns above are done once this one is answered
        assert len(welcomes(bot, "lotte")) == 1
        text = welcomes(bot, "lotte")[0]
        assert "mijn-gegevens" in text and "vergeet-mij" in text and f"{RETENTION_DAYS} dagen" in text


@pytest.mark.parametrize("first", ["conversationUpdate", "installationUpdate"])
async def test_an_install_in_english_is_welcomed_in_english(sqlite_database_url, first):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as bot:
        lotte_in_roster(bot)
        added = ta.bot_added_personal(USERS["lotte"], service_url=bot.fake.service_url, locale="en-US")
        installed = ta.installation_update(USERS["lotte"], service_url=bot.fake.service_url, locale="en-US")
        for activity in (added, installed) if first == "conversationUpdate" else (installed, added):
            await post_ok(bot, activity)
        await until(lambda: welcomes(bot, "lotte", "en"), WAIT)
        await bot.say("lotte", "help", locale="en-US")
        assert len(welcomes(bot, "lotte", "en")) == 1 and welcomes(bot, "lotte", "nl") == []
        assert "my-data" in welcomes(bot, "lotte", "en")[0]


async def test_removing_the_app_says_nothing(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as bot:
        await post_ok(bot, ta.installation_update(USERS["lotte"], service_url=bot.fake.service_url, action="remove"))
        assert bot.fake.sent() == []
