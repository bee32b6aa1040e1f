"""Issue 11, finding 14: a channel id seen from two workspaces (a Slack Connect channel, or a request
naming another team's channel) has a weekly-message setting per workspace. Through the real Slack
stack: workspace B's `team-nudge` in channel C0001 leaves workspace A's setting alone, and each
workspace gets its own weekly message there."""

from __future__ import annotations

from itertools import count

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e.loopback import eventually
from tests.e2e.slack_bot import USERS, running_slack_bot
from tests.e2e.test_slack_team_nudges import channel_posts, make_due_a_minute_ago

A, B = "T0001", "T0002"
_names = count(1)


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 nudge_plan_seconds=0.2) as running:
        yield running


async def team_nudge(bot, team: str, who: str, text: str) -> str:
    name = f"nudge{next(_names)}"
    body = sr.slash_command(text, user_id=USERS[who], user_name=who, team_id=team, channel_id="C0001",
                            response_url=bot.fake.response_url(name), enterprise_id=None)
    status, _ = await bot.post(body, sr.FORM)
    assert status == 200
    [reply] = await bot.fake.wait_for_response(name=name, timeout=30)
    return reply.body["text"]


def settings(bot) -> list[tuple]:
    return bot.rows("SELECT w.external_id, s.channel, s.weekday, s.hour, s.minute, s.language, s.enabled "
                    "FROM team_schedules s JOIN workspaces w ON w.id = s.workspace_id ORDER BY w.external_id")


async def test_the_other_workspace_cannot_change_or_stop_a_channels_setting(bot):
    await team_nudge(bot, A, "anna", "team-nudge maandag 09:00 Europe/Amsterdam nl")
    await team_nudge(bot, B, "bram", "team-nudge friday 16:30 Europe/Amsterdam en")
    assert settings(bot) == [(A, "slack:C0001", 0, 9, 0, "nl", 1), (B, "slack:C0001", 4, 16, 30, "en", 1)]

    # B switching "its" channel off, and asking what is set, concern B's own setting only.
    assert "off" in await team_nudge(bot, B, "bram", "team-nudge off")
    assert settings(bot) == [(A, "slack:C0001", 0, 9, 0, "nl", 1), (B, "slack:C0001", 4, 16, 30, "en", 0)]
    shown = await team_nudge(bot, A, "anna", "team-nudge")
    assert "maandag" in shown and "09:00" in shown


async def test_each_workspace_gets_its_own_weekly_message_in_the_shared_channel(bot):
    await team_nudge(bot, A, "anna", "team-nudge maandag 09:00 Europe/Amsterdam nl")
    await team_nudge(bot, B, "bram", "team-nudge monday 09:00 Europe/Amsterdam en")
    await make_due_a_minute_ago(bot)  # both settings: due a minute ago

    posts = await eventually(lambda: (found := channel_posts(bot)) and len(found) == 2 and found)
    texts = sorted(p.args["text"] for p in posts)
    assert texts[0].startswith("Het weekbericht van vraagbot")  # A's, in Dutch
    assert texts[1].startswith("vraagbot's weekly message")  # B's, in English
    rows = bot.rows("SELECT w.external_id, o.dedupe_key, o.status FROM outbox o JOIN workspaces w "
                    "ON o.dedupe_key LIKE '%:w' || w.id WHERE o.kind = 'weekly_team' ORDER BY w.external_id")
    assert [(team, status) for team, _, status in rows] == [(A, "sent"), (B, "sent")]
