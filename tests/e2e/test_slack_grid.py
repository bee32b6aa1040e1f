"""Enterprise Grid end to end (issue 16, item 3): one org-wide install serving two workspaces of the org.

On Grid a user id is the same in every workspace of the org, so vraagbot keys the org's people by the org:
someone acting from either workspace is one person, and a question goes from one workspace to a colleague
who answers from another. Every call carries the org's one token. A workspace of a Grid org that installed
the app by itself (not org-wide) stays a workspace of its own, as outside Grid."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import pytest

from bot.nudges_cli import gather_report
from tests.e2e import slack_requests as sr
from tests.e2e.loopback import until
from tests.e2e.test_slack_oauth import OAuthBot, running_oauth_bot

ORG, ORG_TOKEN = "E0001", "xoxb-org-0001"
SALES, LEGAL = "T0001", "T0002"  # two workspaces of the org
# Grid user ids (W...): wendy works in both workspaces, kees only in Legal.
PEOPLE = {"wendy": ("WWENDY", SALES), "kees": ("WKEES", LEGAL)}
ORG_WIDE = [{"enterprise_id": ORG, "team_id": None, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": True}]


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_oauth_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 users=PEOPLE) as running:
        status, page = await running.install("code-org", token=ORG_TOKEN, team_id=None, enterprise_id=ORG,
                                             is_enterprise_install=True)
        assert status == 200, page
        yield running


async def command(bot: OAuthBot, who: str, text: str, *, team: str, channel: str = "C0001") -> None:
    """A slash command in ``team``, as Slack sends it for an org-wide install."""
    user_id, _ = PEOPLE[who]
    name = f"cmd-{who}-{time.monotonic_ns()}"
    body = sr.slash_command(text, user_id=user_id, user_name=who, team_id=team, enterprise_id=ORG,
                            channel_id=channel, response_url=bot.fake.response_url(name),
                            trigger_id=f"trigger-{name}")
    status, _ = await bot.post(body + "&is_enterprise_install=true", sr.FORM)
    assert status == 200


async def press(bot: OAuthBot, who: str, action_id: str, value: str, *, team: str) -> None:
    user_id, _ = PEOPLE[who]
    form = sr.block_action(action_id, value, user_id=user_id, user_name=who, team_id=team,
                           response_url=bot.fake.response_url(f"press-{who}"))
    payload = json.loads(parse_qs(form)["payload"][0])
    payload.update(enterprise={"id": ORG, "name": "Org"}, is_enterprise_install=True)
    status, _ = await bot.post(urlencode({"payload": json.dumps(payload)}), sr.FORM)
    assert status == 200


async def thread_reply(bot: OAuthBot, who: str, question_id: int, text: str, *, team: str) -> None:
    [(thread_ref,)] = bot.rows("SELECT thread_ref FROM questions WHERE id = ?", question_id)
    channel, thread_ts = thread_ref.split(":", 1)
    event = sr.thread_reply_event(text, user=PEOPLE[who][0], channel=channel, thread_ts=thread_ts,
                                  ts=f"{time.time():.6f}", team_id=team)
    envelope: dict[str, Any] = json.loads(sr.event_callback(event, team_id=team, event_id=f"Ev{time.monotonic_ns()}"))
    envelope.update(enterprise_id=ORG, authorizations=ORG_WIDE)
    status, _ = await bot.post(json.dumps(envelope), sr.JSON)
    assert status == 200


async def test_an_org_wide_install_serves_two_workspaces_as_one_org(bot):
    [(key, team, org_wide)] = bot.rows("SELECT workspace_key, team_id, is_enterprise_install FROM slack_installations")
    assert (key, team, org_wide) == (ORG, None, 1)
    # wendy, in Sales, asks kees, who works in Legal: allowed within the org.
    await command(bot, "wendy", "<@WKEES|kees> Mag deze clausule erin?", team=SALES)
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [(question_id,)] = bot.rows("SELECT id FROM questions")
    # kees tags it and answers it from his own workspace.
    await press(bot, "kees", "tag_gunst", str(question_id), team=LEGAL)
    await until(lambda: bot.rows("SELECT 1 FROM questions WHERE tag = 'gunst' AND tag_source = 'expert'"))
    await thread_reply(bot, "kees", question_id, "Ja, dat kan zo, de tekst klopt.", team=LEGAL)
    await until(lambda: bot.rows("SELECT id FROM replies"))
    # wendy, now from Legal, is the same person: her question is hers there too.
    await command(bot, "wendy", "mijn", team=LEGAL)
    await until(lambda: len(bot.fake.responses()) >= 2)
    assert bot.rows("SELECT p.external_id, w.external_id FROM people p JOIN workspaces w ON w.id = p.workspace_id "
                    "ORDER BY 1") == [("WKEES", ORG), ("WWENDY", ORG)]
    assert bot.rows("SELECT count(*) FROM workspaces") == [(1,)]
    # Every call to Slack carried the org's token (authorize's auth.test, users.info, the sends).
    tokens = {c.headers.get("authorization") for c in bot.fake.calls() if c.method != "oauth.v2.access"}
    assert tokens == {f"Bearer {ORG_TOKEN}"}


async def test_focus_time_is_read_with_the_org_token_for_the_requests_workspace(bot):
    """dnd.info takes an org token only with a team_id (the fake refuses it without, as Slack does)."""
    now = int(time.time())
    bot.fake.set_dnd("WKEES", now - 60, now + 3600)
    await command(bot, "wendy", "<@WKEES|kees> Kan dit na je focusblok?", team=SALES)
    await until(lambda: bot.rows("SELECT status FROM questions"))
    assert bot.rows("SELECT status FROM questions") == [("held",)]
    assert [c.args.get("team_id") for c in bot.fake.calls("dnd.info")] == [SALES]


async def test_each_workspace_of_an_org_wide_install_is_its_own_team_for_figures(sqlite_database_url):
    """The org's people are one set, but a workspace's weekly message and report count the questions asked
    in that workspace only, wherever the expert works."""
    async with running_oauth_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1], users=PEOPLE,
                                 nudge_plan_seconds=0.2) as bot:
        status, _ = await bot.install("code-org", token=ORG_TOKEN, team_id=None, enterprise_id=ORG,
                                      is_enterprise_install=True)
        assert status == 200
        await command(bot, "wendy", "team-nudge maandag 09:00 Europe/Amsterdam nl", team=SALES, channel="CSALES")
        await command(bot, "kees", "team-nudge maandag 09:00 Europe/Amsterdam nl", team=LEGAL, channel="CLEGAL")
        for n in range(2):  # two questions asked in Sales (to kees, of Legal), one in Legal
            await command(bot, "wendy", f"<@WKEES|kees> Vraag {n} uit verkoop?", team=SALES)
        await command(bot, "kees", "<@WWENDY|wendy> Vraag uit juridisch?", team=LEGAL)
        await until(lambda: len(bot.rows("SELECT id FROM questions")) == 3 and
                    len(bot.rows("SELECT id FROM team_schedules")) == 2)
        assert sorted(bot.rows("SELECT org_workspace, count(*) FROM questions GROUP BY 1")) == [(SALES, 2), (LEGAL, 1)]
        assert sorted(bot.rows("SELECT channel, org_workspace FROM team_schedules")) == [
            ("slack:CLEGAL", LEGAL), ("slack:CSALES", SALES)]

        # Last week's questions, and both channels' message due a minute ago (set long before).
        due = datetime.now(ZoneInfo("Europe/Amsterdam")) - timedelta(minutes=1)
        asked = (due - timedelta(days=7)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        await asyncio.to_thread(bot.rows, "UPDATE questions SET asked_at = ?", asked)
        await asyncio.to_thread(bot.rows, "UPDATE team_schedules SET weekday=?, hour=?, minute=?, "
                                "updated_at='2020-01-01 00:00:00.000000'", due.weekday(), due.hour, due.minute)
        await until(lambda: len(bot.rows("SELECT id FROM outbox WHERE kind='weekly_team' AND status='sent'")) == 2)
        assert sorted(bot.rows("SELECT org_workspace, asked, people FROM team_week_figures")) == [
            (SALES, 2, 2), (LEGAL, 1, 2)]

        settings = bot.runtime.settings
        for team, asked_there in ((SALES, 2), (LEGAL, 1)):
            report = await gather_report(bot.runtime.uow, settings, f"slack:{ORG}/{team}", 2, None,
                                         datetime.now(UTC))
            assert report is not None and report.name.endswith(f"({team})")
            assert report.history[-1].figures.asked == asked_there
        whole = await gather_report(bot.runtime.uow, settings, f"slack:{ORG}", 2, None, datetime.now(UTC))
        assert whole is not None and whole.history[-1].figures.asked == 3  # the org as a whole


async def test_a_workspace_of_an_org_installed_on_its_own_stays_its_own_workspace(sqlite_database_url):
    async with running_oauth_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 users=PEOPLE) as bot:
        for code, team, token in (("c1", SALES, "xoxb-sales-1"), ("c2", LEGAL, "xoxb-legal-2")):
            status, _ = await bot.install(code, token=token, team_id=team, enterprise_id=ORG)
            assert status == 200
        for who, team in (("wendy", SALES), ("wendy", LEGAL)):
            user_id, _ = PEOPLE[who]
            body = sr.slash_command("rol contracten", user_id=user_id, user_name=who, team_id=team, enterprise_id=ORG,
                                    response_url=bot.fake.response_url(f"{who}-{team}"),
                                    trigger_id=f"trigger-{who}-{team}")
            status, _ = await bot.post(body + "&is_enterprise_install=false", sr.FORM)
            assert status == 200
        await until(lambda: len(bot.fake.responses()) >= 2)
        assert sorted(bot.rows("SELECT workspace_key FROM slack_installations")) == [(SALES,), (LEGAL,)]
        info = {(c.headers["authorization"]) for c in bot.fake.calls("users.info")}
        assert info == {"Bearer xoxb-sales-1", "Bearer xoxb-legal-2"}
        # Each workspace keeps its own people, as outside Grid: the org did not install the app org-wide.
        assert bot.rows("SELECT w.external_id FROM people p JOIN workspaces w ON w.id = p.workspace_id "
                        "ORDER BY 1") == [(SALES,), (LEGAL,)]
