"""Issue 11, finding 10, over HTTP: in Teams a person's name and handle come from the roster or from their
own messages, never from someone else's @mention; mentions per activity are capped; a handle that fits
more than one person is refused as ambiguous."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.teams.bot import MAX_MENTIONS
from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS, running_teams_bot
from tests.unit.world import CATALOG


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


def with_mention(activity: dict[str, Any], user_id: str, name: str, then: str = "") -> dict[str, Any]:
    """Mention `name` with the id `user_id` (nothing in an activity ties the two together), then `then`."""
    activity["text"] = f"{activity['text']} <at>{name}</at> {then}".strip()
    activity["entities"].append({"type": "mention", "mentioned": {"id": user_id, "name": name},
                                 "text": f"<at>{name}</at>"})
    return activity


def personal(bot, who: str, text: str) -> dict[str, Any]:
    return ta.personal_message(text, user_id=USERS[who], user_name=NAMES[who], service_url=bot.fake.service_url)


async def test_a_mention_cannot_squat_someone_elses_handle(bot):
    # Lotte mentions a made-up id under Anna's name, and her own id under Anna's name too.
    await bot.post(with_mention(personal(bot, "lotte", "vraag"), "29:fake", NAMES["anna"], "hoi"))
    await bot.post(with_mention(personal(bot, "lotte", "vraag"), USERS["lotte"], NAMES["anna"], "hoi"))
    await bot.say("anna", "help")  # the real Anna, in her own chat
    await bot.say("sanne", "vraag @anna Wie tekent de offerte?")
    await until(lambda: bot.rows("SELECT q.id FROM questions q JOIN people p ON p.id = q.expert_id "
                                 "WHERE q.text = 'Wie tekent de offerte?' AND q.delivered_at IS NOT NULL"))
    assert bot.rows("SELECT p.external_id FROM questions q JOIN people p ON p.id = q.expert_id "
                    "WHERE q.text = 'Wie tekent de offerte?'") == [(USERS["anna"],)]
    assert any("Wie tekent de offerte?" in t for t in bot.texts(bot.chat("anna")))
    assert bot.rows("SELECT external_id FROM people WHERE handle = 'anna' OR display_name = ?", NAMES["anna"]) == [
        (USERS["anna"],)]
    assert bot.rows("SELECT display_name FROM people WHERE external_id = ?", USERS["lotte"]) == [(NAMES["lotte"],)]


async def test_a_mention_flood_creates_at_most_the_cap(bot, caplog):
    activity = personal(bot, "sanne", "vraag")
    for n in range(2000):
        with_mention(activity, f"29:flood-{n}", f"Anna{n}")
    activity["text"] += " hoi"
    activity.pop("attachments")  # keep the activity under the bot's size limit, as in the finding (236 KB)
    with caplog.at_level(logging.WARNING, logger="bot.teams.bot"):
        status, _ = await bot.post(activity)
    assert status == 201
    assert bot.rows("SELECT count(*) FROM people")[0][0] <= 1 + MAX_MENTIONS
    assert len([r for r in caplog.records if "mentions" in r.getMessage()]) == 1


async def test_an_ambiguous_handle_is_refused_and_a_mention_still_works(bot):
    await bot.say("anna", "help")
    other = ta.personal_message("help", user_id="29:anna2", user_name="Anna Jansen", service_url=bot.fake.service_url)
    await bot.post(other)
    await bot.say("sanne", "vraag @anna Wie tekent?")
    refusal = CATALOG.text("nl", "error.ambiguous_person", name="anna")
    await until(lambda: any(refusal in t for t in bot.texts(bot.chat("sanne"))))
    assert bot.rows("SELECT count(*) FROM questions") == [(0,)]

    await bot.post(with_mention(personal(bot, "sanne", "vraag"), "29:anna2", "Anna Jansen", "Wie tekent echt?"))
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    assert bot.rows("SELECT p.external_id FROM questions q JOIN people p ON p.id = q.expert_id") == [("29:anna2",)]


async def test_a_colleague_first_mentioned_in_a_channel_gets_the_roster_name(bot):
    bot.fake.set_roster(ta.CHANNEL_ID, [{"id": USERS["lotte"], "name": NAMES["lotte"], "tenantId": ta.TENANT_ID,
                                         "aadObjectId": ta.aad_id_for(USERS["lotte"])}])
    activity = ta.channel_mention("vraag", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                  service_url=bot.fake.service_url)
    with_mention(activity, USERS["lotte"], "Boze Heks", "Welke versie?")
    await bot.post(activity)
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    assert bot.rows("SELECT handle, display_name FROM people WHERE external_id = ?", USERS["lotte"]) == [
        ("lotte", NAMES["lotte"])]
    assert [s.path for s in bot.fake.requests() if s.kind == "members"] == [
        f"/v3/conversations/{activity['conversation']['id']}/members/{USERS['lotte']}"]


async def test_a_name_the_roster_does_not_know_waits_for_the_persons_own_message(bot):
    await bot.post(with_mention(personal(bot, "sanne", "vraag"), USERS["lotte"], "Boze Heks", "Welke versie?"))
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [(handle, name)] = bot.rows("SELECT handle, display_name FROM people WHERE external_id = ?", USERS["lotte"])
    assert "boze" not in handle and "Boze" not in name
    assert name == CATALOG.text("nl", "teams.unnamed_colleague")
    await bot.say("lotte", "help")  # her own message: her own name
    assert bot.rows("SELECT handle, display_name FROM people WHERE external_id = ?", USERS["lotte"]) == [
        ("lotte", NAMES["lotte"])]
    renamed = ta.personal_message("help", user_id=USERS["lotte"], user_name="Lotte de Groot",
                                  service_url=bot.fake.service_url)
    await bot.post(renamed)
    assert bot.rows("SELECT handle, display_name FROM people WHERE external_id = ?", USERS["lotte"]) == [
        ("lotte", "Lotte de Groot")]
    assert FakeConnector.all_text(bot.fake.sent()[-1].body)  # she was answered
