"""Issue 11, finding 7, end to end over HTTP with the real Slack stack: Lotte asks, answers (tagging
the question werk), is recognised in the channel's weekly message, and then forgets herself with
the buttons. Afterwards no text or JSON column of any table (found from storage.tables) holds her
Slack id, name, handle, question or answer, while the weekly message is not sent a second time."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import JSON, String

from storage.tables import Base
from tests.e2e.loopback import eventually
from tests.e2e.slack_bot import USERS, running_slack_bot
from tests.e2e.test_slack_team_nudges import channel_posts, make_due_a_minute_ago

QUESTION = "Mag ik de offerte van leverancier Kwispelstaart al tekenen?"
REPLY = "Ja, dat valt binnen het budget van de afdeling Flonkerbaai."
NEEDLES = (USERS["lotte"], "Lotte", "lotte", QUESTION, REPLY)


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 nudge_plan_seconds=0.2) as running:
        yield running


def traces(db_path: str) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    with sqlite3.connect(db_path) as connection:
        for table in Base.metadata.sorted_tables:
            for column in (c for c in table.columns if isinstance(c.type, String | JSON)):
                for (value,) in connection.execute(f'SELECT "{column.name}" FROM "{table.name}"'):
                    text = json.dumps(json.loads(value), ensure_ascii=False) if isinstance(
                        column.type, JSON) and value else str(value or "")
                    found |= {(table.name, column.name, n) for n in NEEDLES if n.casefold() in text.casefold()}
    return found


def last_week(now: datetime) -> str:
    """Wednesday noon (Amsterdam) of the ISO week before ``now``'s, as SQLite stores a UTC moment."""
    local = now.astimezone(ZoneInfo("Europe/Amsterdam"))
    wednesday = (local - timedelta(days=local.weekday() + 5)).replace(hour=12, minute=0, second=0, microsecond=0)
    return wednesday.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def test_after_forget_me_no_trace_of_the_person_is_left(bot):
    await bot.command("lotte", f"<@UANNA|anna> {QUESTION}")
    await bot.command("sanne", "<@ULOTTE|lotte> Hoe ziet de planning voor januari eruit?")
    await eventually(lambda: len(bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL")) == 2)
    [(asked,)] = bot.rows("SELECT q.id FROM questions q JOIN people p ON p.id = q.expert_id WHERE p.handle='lotte'")
    await bot.press("lotte", "tag_werk", str(asked))
    await bot.thread_reply("lotte", asked, REPLY)
    await eventually(lambda: bot.rows("SELECT id FROM outbox WHERE kind='answer_relay' AND status='sent'"))

    # The weekly message in the team channel, about last week, in which Lotte answered.
    await bot.command("sanne", "team-nudge maandag 09:00 Europe/Amsterdam nl")
    moment = last_week(datetime.now(UTC) - timedelta(minutes=1))  # the send moment is a minute ago
    await asyncio.to_thread(bot.rows, "UPDATE questions SET asked_at=?, delivered_at=?, first_reply_at=?",
                            moment, moment, moment)
    await make_due_a_minute_ago(bot)
    [weekly] = await eventually(lambda: channel_posts(bot))
    assert "Lotte" in weekly.args["text"]  # recognised by name
    assert {t for t, _, _ in traces(bot.db_path)} >= {"people", "questions", "replies", "outbox"}

    await bot.command("lotte", "vergeet-mij")
    prompt = await eventually(lambda: [r for r in bot.fake.responses() if "forget_confirm" in json.dumps(r.body)])
    [confirm] = [e for b in prompt[-1].body["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "forget_confirm"]
    await bot.press("lotte", "forget_confirm", confirm["value"])
    await eventually(lambda: not bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["lotte"]))

    assert traces(bot.db_path) == set()
    # Sanne's question stays hers (without an expert); the weekly message's row stays, without its
    # text: its key keeps the planner from sending that week's message again
    # (tests/integration/test_forget_traces.py plans again to show it).
    assert bot.rows("SELECT expert_id, thread_ref FROM questions WHERE id = ?", asked) == [(None, None)]
    assert bot.rows("SELECT status, text_redacted_at IS NOT NULL FROM outbox WHERE kind='weekly_team'") == [
        ("sent", 1)]
