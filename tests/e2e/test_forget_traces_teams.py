"""Issue 11, finding 7, Teams side: conversation references are stored without the person who
spoke (id, name, aadObjectId), and proactive sends through them still arrive, both in a personal
chat (the question relayed to the expert) and in a team channel (the weekly message)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import eventually
from tests.e2e.teams_bot import NAMES, USERS, running_teams_bot
from tests.e2e.test_teams import ask_anna

AAD = "aad-3f6c1d2e-sanne"


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 nudge_plan_seconds=0.2) as running:
        yield running


def stored_references(bot) -> list[tuple[str, dict]]:
    return [(kind, json.loads(reference)) for kind, reference in
            bot.rows("SELECT kind, reference FROM conversation_refs ORDER BY id")]


async def test_references_keep_no_user_and_proactive_sends_still_arrive(bot):
    await ask_anna(bot)  # relayed to Anna's personal chat through her stored reference
    assert any("Mag ik deze offerte goedkeuren?" in FakeConnector.all_text(s.body)
               for s in bot.fake.delivered(bot.chat("anna")))

    activity = ta.channel_mention("team-nudge maandag 09:00 Europe/Amsterdam nl", user_id=USERS["sanne"],
                                  user_name=NAMES["sanne"], aad_id=AAD, service_url=bot.fake.service_url)
    status, _ = await bot.post(activity)
    assert status == 201
    await eventually(lambda: bot.rows("SELECT id FROM team_schedules"))

    references = stored_references(bot)
    assert {kind for kind, _ in references} == {"person", "channel"}
    for _, reference in references:
        assert "user" not in reference
        assert reference["conversation"]["id"] and reference["serviceUrl"] and reference["bot"]["id"]
    everything = json.dumps([r for _, r in references])
    assert USERS["sanne"] not in everything and NAMES["sanne"] not in everything and AAD not in everything

    # The weekly message goes to the channel through the stored (user-less) channel reference.
    local = datetime.now(ZoneInfo("Europe/Amsterdam")) - timedelta(minutes=1)
    await asyncio.to_thread(bot.rows, "UPDATE team_schedules SET weekday=?, hour=?, minute=?, "
                            "updated_at='2020-01-01 00:00:00.000000'", local.weekday(), local.hour, local.minute)
    [weekly] = await eventually(lambda: [s for s in bot.fake.delivered(ta.CHANNEL_ID)
                                    if "weekbericht" in FakeConnector.all_text(s.body)])
    assert weekly.body.get("recipient") is None  # addressed by the conversation alone
    # The connector has the message; the outbox records that a moment later, after the send returned.
    await eventually(lambda: bot.rows("SELECT status FROM outbox WHERE kind='weekly_team'") == [("sent",)])
